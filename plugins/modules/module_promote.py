#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: module_promote
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Promote a module from one environment to the next as a git commit in the GitOps repository
version_added: 0.2.0
description:
  - A module in the GitOps repository is a Kustomize C(base/) plus C(overlays/dev), C(overlays/staging) and
    C(overlays/production). Promotion copies the release (the C(images) field of the source overlay's
    C(kustomization.yaml)) into the next environment's overlay and commits that file; replicas, limits, config
    and hosts of the target environment stay as they are.
  - Promotion goes one step at a time, C(dev) to C(staging) to C(production).
  - It refuses, before writing anything, when the module's C(o8-module.yaml) (if it has one) is invalid, when the
    source overlay or the promoted target overlay does not build with Kustomize (C(kustomize build) or
    C(kubectl kustomize)), or when a built workload lacks resources, probes or the restricted security context.
  - A second promotion without a change in the source writes nothing and makes no commit.
attributes:
  check_mode:
    support: full
    description: Builds and validates as usual and reports whether a commit would be made; writes nothing.
  diff_mode:
    support: full
    description: Before and after of the target overlay's kustomization.yaml.
requirements:
  - git
  - kustomize or kubectl
  - jsonschema
  - semantic_version
options:
  repo:
    description: Path of the GitOps repository's git work tree.
    type: path
    required: true
  path:
    description:
      - The module's directory relative to O(repo), e.g. C(modules/my-service).
      - Give either O(path) or O(tenant) with O(module) (then the path is C(tenants/<tenant>/modules/<module>)).
    type: str
  tenant:
    description: Tenant whose module is promoted (with O(module)).
    type: str
  module:
    description: Name of the module (with O(tenant)).
    type: str
  from_environment:
    description: Environment promoted from.
    type: str
    required: true
    choices: [dev, staging]
  to_environment:
    description: Environment promoted to; must be the next one after O(from_environment). Defaults to it.
    type: str
    choices: [staging, production]
  kustomize_binary:
    description: The C(kustomize) or C(kubectl) program to build with; defaults to C(kustomize), else C(kubectl), on PATH.
    type: path
  author_name:
    description: Commit author name; defaults to the repository's git configuration, else C(aphex-platform).
    type: str
  author_email:
    description: Commit author e-mail; defaults like O(author_name).
    type: str
"""

EXAMPLES = r"""
- name: Promote my-service from dev to staging
  aphex.platform.module_promote:
    repo: /srv/gitops
    path: modules/my-service
    from_environment: dev
    to_environment: staging

- name: Promote a tenant's langfuse to production
  aphex.platform.module_promote:
    repo: /srv/gitops
    tenant: test-company
    module: langfuse
    from_environment: staging
"""

RETURN = r"""
commit:
  description: The commit made, or null when nothing changed (or in check mode).
  type: str
  returned: always
promoted:
  description: The fields copied into the target overlay (C(images)).
  type: dict
  returned: success
files:
  description: Plan per file (create, update, unchanged).
  type: dict
  returned: success
from_environment:
  description: Source environment.
  type: str
  returned: success
to_environment:
  description: Target environment.
  type: str
  returned: success
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils import gitops_repo
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import promote, validation, versions

LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo=dict(type="path", required=True),
            path=dict(type="str"),
            tenant=dict(type="str"),
            module=dict(type="str"),
            from_environment=dict(type="str", required=True, choices=["dev", "staging"]),
            to_environment=dict(type="str", choices=["staging", "production"]),
            kustomize_binary=dict(type="path"),
            author_name=dict(type="str"),
            author_email=dict(type="str"),
        ),
        mutually_exclusive=[("path", "tenant"), ("path", "module")],
        required_one_of=[("path", "module")],
        required_together=[("tenant", "module")],
        supports_check_mode=True,
    )
    if not validation.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if not validation.HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(validation.JSONSCHEMA_IMPORT_ERROR))
    if not versions.HAS_SEMANTIC_VERSION:
        module.fail_json(msg=missing_required_lib("semantic_version"),
                         exception=str(versions.SEMANTIC_VERSION_IMPORT_ERROR))
    params = module.params
    path = params["path"]
    if not path:
        for field in ("tenant", "module"):
            if not re.match(LABEL, params[field] or ""):
                module.fail_json(msg=f"{field}: {params[field]!r} must be a DNS label")
        path = f"tenants/{params['tenant']}/modules/{params['module']}"
    try:
        result = promote.promote(params["repo"], path, params["from_environment"], params["to_environment"] or "",
                                 check_mode=module.check_mode, kustomize_binary=params["kustomize_binary"] or "",
                                 author_name=params["author_name"] or "", author_email=params["author_email"] or "",
                                 diff=module._diff)
    except (promote.PromotionError, gitops_repo.GitOpsRepoError) as exc:
        module.fail_json(msg=f"promotion refused: {exc}", commit=None)
    result["from_environment"] = result.pop("from")
    result["to_environment"] = result.pop("to")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
