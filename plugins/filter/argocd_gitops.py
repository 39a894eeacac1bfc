# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: argocd_gitops
short_description: Render Argo CD's configuration, AppProject, app of apps and one Application per layer
version_added: 0.1.0
description:
  - Renders the data of C(argocd-cm), C(argocd-rbac-cm) and C(argocd-cmd-params-cm) (annotation resource
    tracking, the Application health check that makes app-level sync waves wait, OIDC, RBAC, server-side diff),
    the AppProject, the root Application (app of apps) and one child Application per platform layer, with
    C(argocd.argoproj.io/sync-wave) annotations in bootstrap order.
  - Each child Application's sources are derived from the upstream lock entries the playbook installed from
    (same repository and commit or chart version, exactly the same files, the same Helm release name and values),
    plus the layer's own manifests from the GitOps repository.
  - Also returns the files to commit to the GitOps repository (C(export)), keyed by path below its base path.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description:
      - Settings with the keys C(repo_url), C(revision), C(path), C(namespace), C(project), C(prefix),
        C(layers), C(helm_values), C(automated), C(prune), C(self_heal), C(retry_limit), C(cascade_delete),
        C(host), C(server_insecure), C(admin_enabled), C(oidc), C(rbac), C(cm_extra), C(rbac_extra) and
        C(cmd_params_extra) (see the C(aphex.platform.argocd) role's variables).
    type: dict
    required: true
  lock:
    description: Upstream lock entries of the components the layers name (C(aphex.platform.upstream_lock)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the app of apps
  ansible.builtin.set_fact:
    gitops: "{{ settings | aphex.platform.argocd_gitops(query('aphex.platform.upstream_lock', 'argocd-install')) }}"
  vars:
    settings:
      repo_url: https://github.com/example/platform-gitops.git
      path: platform
      layers:
        - {name: argocd, wave: 50, namespace: argocd, platform_manifests: true}
"""

RETURN = r"""
_value:
  description:
    - C(config_patches), C(project), C(root), C(applications), C(objects) (project, root, children),
      C(application_names) and C(sync_checks) (readiness gate entries).
    - C(install_files), the kustomization the playbook applies (file name -> YAML text); C(export), the objects of
      C(apps/) (path -> object); C(export_text), every file to commit (path -> YAML text).
  type: dict
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.gitops import GitOpsError, render


def argocd_gitops(settings, lock):
    try:
        # Plain dicts, lists and strings (templated values arrive as tagged subclasses PyYAML cannot dump).
        settings, lock = json.loads(json.dumps(settings)), json.loads(json.dumps(lock))
        return render(settings, lock)
    except GitOpsError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"argocd_gitops: malformed settings or lock entry: {exc!r}") from exc


class FilterModule:
    def filters(self):
        return {"argocd_gitops": argocd_gitops}
