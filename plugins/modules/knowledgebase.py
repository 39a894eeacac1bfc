#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: knowledgebase
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Reconcile one Aphex KnowledgeBase (its repositories ConfigMap and optional MCP server)
version_added: 0.1.0
description:
  - Reconciles one C(KnowledgeBase) (C(aphex.io/v1alpha1)) through one API client with server-side apply (field
    manager C(aphex-platform)) and reports C(changed) only when the content of an object changed.
  - Validates the spec before any change, each error naming the field; the reference's controller rules and its
    admission webhook's rules both apply (display name, GitHub repository URLs without duplicates, git branch
    names, documentation paths under O(allowed_path_prefixes) without C(..), MCP image, port, replicas and query
    service URL).
  - Creates the ConfigMap C(<name>-repos) that lists the repositories, branches and paths to track.
  - With C(spec.mcp) also the MCP server Deployment and Service C(mcp-server-<name>), with a restricted security
    context (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, read-only root
    file system), liveness and readiness probes on C(/health), and requests and limits from O(mcp_resources).
    Without C(spec.mcp) they are deleted.
  - Every object carries a controller owner reference to the C(KnowledgeBase), so deleting the record also
    removes them (self-service offboarding).
  - Writes C(status) through the status subresource (phase C(Ready) or C(Failed), message, C(mcp), conditions,
    observed generation, last reconcile time); a spec that fails validation gets phase C(Failed) and the message.
  - With O(spec) the module also applies the C(KnowledgeBase) itself; without it the object is read from the
    cluster, as committed by a team (self-service).
  - With O(state=absent) deletes the MCP server, the ConfigMap and the C(KnowledgeBase).
attributes:
  check_mode:
    support: full
    description:
      - Every apply and delete is a server-side dry run, so the API server validates the objects; the rollout is
        not waited for.
  diff_mode:
    support: full
    description: Returns before and after of every changed object.
extends_documentation_fragment:
  - aphex.platform.k8s
  - kubernetes.core.k8s_auth_options
options:
  name:
    description:
      - Name of the C(KnowledgeBase), a DNS label of at most 52 characters (C(mcp-server-<name>) must fit 63).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the C(KnowledgeBase) and of its objects, normally the organization's C(org-<name>). It must
        exist.
    type: str
    required: true
  state:
    description: V(present) reconciles the knowledge base, V(absent) removes it and everything created for it.
    type: str
    choices: [present, absent]
    default: present
  spec:
    description:
      - The C(KnowledgeBase) spec as in the CRD (camelCase) - C(displayName), C(description), C(repositories)
        (C(url), C(branch), C(paths)) and C(mcp) (C(image), C(port), C(queryServiceURL), C(replicas)).
      - A repository without C(branch) tracks C(mainline) (the CRD's default), without C(paths) C(.kiro/docs).
        C(mcp.queryServiceURL) defaults to C(http://query.<namespace>:8080), C(mcp.replicas) to 1.
      - If not set, the C(KnowledgeBase) is read from the cluster (self-service) and must exist.
    type: dict
  allowed_path_prefixes:
    description:
      - Documentation paths must lie under one of these (the reference allows only C(.kiro/docs)).
      - An empty list allows any relative path without C(..).
    type: list
    elements: str
    default: [.kiro/docs]
  mcp_resources:
    description:
      - Requests and limits of the MCP server container, merged over C(requests) C(cpu=50m), C(memory=128Mi) and
        C(limits) C(cpu=200m), C(memory=256Mi).
    type: dict
  wait:
    description: Wait until the MCP server Deployment is available before writing the status.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout, and for the C(KnowledgeBase) to be gone with O(state=absent).
    type: int
    default: 300
  force_conflicts:
    description: Take over fields another field manager owns instead of failing on the conflict.
    type: bool
    default: false
notes:
  - The C(KnowledgeBase) CRD (with the optional C(status.conditions) and C(status.observedGeneration) the collection
    adds) must be installed; the C(aphex.platform.organization) role ships it.
  - The MCP server container runs as user 65532 unless its image is built for another non-root user; the
    restricted Pod Security profile does not allow root.
  - Ingestion of the documents is done by the query service, not by this module (as in the reference).
seealso:
  - module: aphex.platform.organization
"""

EXAMPLES = r"""
- name: A knowledge base for two repositories, with an MCP server
  aphex.platform.knowledgebase:
    name: platform-docs
    namespace: org-acme
    spec:
      displayName: Platform documentation
      repositories:
        - url: https://github.com/acme-corp/platform
          branch: main
        - url: https://github.com/acme-corp/runbooks
          branch: main
          paths: [.kiro/docs/runbooks]
      mcp:
        image: ghcr.io/acme-corp/archon-mcp-server:1.4.2
        port: 8090
  delegate_to: localhost

- name: Reconcile a KnowledgeBase a team committed (self-service)
  aphex.platform.knowledgebase:
    name: team-docs
    namespace: org-acme
  delegate_to: localhost

- name: Show what would change, without changing anything
  aphex.platform.knowledgebase:
    name: platform-docs
    namespace: org-acme
    spec:
      displayName: Platform documentation
      repositories: [{url: https://github.com/acme-corp/platform, branch: main}]
  check_mode: true
  diff: true
  delegate_to: localhost

- name: Remove it, using one kubeconfig for every platform module
  module_defaults:
    group/aphex.platform.k8s:
      kubeconfig: /etc/aphex/admin.kubeconfig
  block:
    - name: Remove the knowledge base
      aphex.platform.knowledgebase:
        name: platform-docs
        namespace: org-acme
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
objects:
  description:
    - One entry per object handled, in order, with what was done to it (in check mode, what would be done).
    - The C(KnowledgeBase) record appears only when O(spec) was given; its status write as C(KnowledgeBase/status).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(unchanged), V(delete), V(absent).
      type: str
      returned: always
      sample: create
    kind:
      description: The object's kind.
      type: str
      returned: always
      sample: ConfigMap
    name:
      description: The object's name.
      type: str
      returned: always
      sample: platform-docs-repos
    namespace:
      description: The object's namespace (O(namespace)).
      type: str
      returned: always
      sample: org-acme
    apiVersion:
      description: The object's API version.
      type: str
      returned: always
      sample: v1
status:
  description: The C(status) written to (or, in check mode, predicted for) the C(KnowledgeBase); null when absent.
  returned: always
  type: dict
  sample:
    phase: Ready
    message: Tracking 2 repositories
    observedGeneration: 1
    mcp: {deployed: true, serviceName: mcp-server-platform-docs,
          serviceURL: "http://mcp-server-platform-docs.org-acme:8090", readyReplicas: 1}
config_map:
  description: Name of the ConfigMap listing the repositories; null with O(state=absent).
  returned: always
  type: str
  sample: platform-docs-repos
mcp_service_url:
  description: In-cluster URL of the MCP server; null without C(spec.mcp) or with O(state=absent).
  returned: always
  type: str
  sample: http://mcp-server-platform-docs.org-acme:8090
diff:
  description: For every object that changed, the fields that differ, before and after; keys read C(<Kind> <namespace>/<name>).
  returned: when diff mode is on
  type: dict
  sample: {before: {"ConfigMap org-acme/platform-docs-repos": {data: {repositoryCount: "1"}}},
           after: {"ConfigMap org-acme/platform-docs-repos": {data: {repositoryCount: "2"}}}}
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase import naming
from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase.reconcile import run


def argument_spec() -> dict:
    """The module's own options; AphexK8sModule adds kubernetes.core's connection options."""
    spec = {
        "name": {"type": "str", "required": True},
        "namespace": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "spec": {"type": "dict"},
        "allowed_path_prefixes": {"type": "list", "elements": "str", "default": list(naming.DEFAULT_PATHS)},
        "mcp_resources": {"type": "dict"},
    }
    spec.update(wait={"type": "bool", "default": True}, wait_timeout={"type": "int", "default": 300},
                force_conflicts={"type": "bool", "default": False})
    return spec


def main() -> None:
    AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True).execute(run)


if __name__ == "__main__":
    main()
