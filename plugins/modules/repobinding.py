#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: repobinding
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Bind one GitHub repository to an Aphex organization's pipelines on Kubernetes
version_added: 0.1.0
description:
  - Reconciles one C(RepoBinding) (C(aphex.io/v1alpha1)) through one API client with server-side apply (field
    manager C(aphex-platform)) and reports C(changed) only when the content of an object changed.
  - Validates everything before any change, each error naming its field. Checked without the cluster
    (before any API call) are the GitHub owner and repository names, C(pipelineName) (a DNS label, no
    platform namespace name or C(<name>-) prefix of one, no C(org-) or C(kube-) prefix), C(pipelineSpec) (one
    C(tekton.dev/v1) Pipeline, or its bare spec), the branches, quotas, limits and network settings. Checked
    against the cluster, still before any change, C(aphexOrg) names an existing, C(Ready) Organization in
    O(platform_namespace); the owner is in the organization's allow-list (O(allowed_owners), else the
    Organization's C(spec.githubOwners); none means no owner is allowed); C(pipelineName) and C(aphexOrg) did not
    change since the binding was created and the pipeline namespace is not another binding's (found by label);
    C(templateRef) is a built-in dispatcher template (C(run-pipeline-v1)) or a TriggerTemplate in the
    organization's namespace; C(catalogPipeline) exists; the API server accepts the Pipeline (server-side dry run).
  - Creates the pipeline namespace C(<pipelineName>) (labelled for the organization, Pod Security
    C(restricted)) with a ResourceQuota, a LimitRange and default-deny NetworkPolicies that allow DNS and git
    egress only; the ServiceAccount C(pipeline-runner) with a Role (run pipelines, read their pods and logs; no
    Secrets), the read-only ClusterRole C(pipeline-runner-<pipelineName>) Tekton Triggers needs, a Role letting the
    organization's EventListener create PipelineRuns there, and the Argo CD access Role for Applications in
    the pipeline namespace; the Argo CD AppProject C(<pipelineName>) (destinations C(<pipelineName>) and
    C(<pipelineName>-*) only, source repositories only this repository, no cluster-scoped resources, Applications
    only from the pipeline namespace); the Tekton Pipeline; and in the organization's namespace the
    TriggerTemplate and the Trigger (label C(platform.aphex/organization), selected by the organization's
    EventListener) whose CEL filter matches this repository and the configured branches.
  - Every object carries the owner labels C(platform.aphex/owner-kind=RepoBinding),
    C(platform.aphex/owner-name) and C(platform.aphex/owner-namespace), and C(platform.aphex/pipeline). Objects
    the binding created earlier and no longer wants are deleted, so a spec change after C(Ready) changes only
    the affected objects.
  - Writes C(status) through the status subresource (phase, message, the organization's webhook URL,
    conditions, observed generation; never the webhook secret). A rejected binding that exists in the
    cluster gets phase C(Failed) and the message.
  - Without O(spec) the module reconciles the RepoBinding object found in the cluster (self-service, a
    team commits it and Argo CD applies it). It adds the finalizer C(platform.aphex/repobinding-finalizer), so a
    deleted binding stays until the next run offboards it.
  - With O(state=absent), or for a binding being deleted, removes everything labelled for it (the Trigger
    and TriggerTemplate, Argo CD Applications labelled C(platform.aphex/pipeline=<pipelineName>), the
    AppProject, the cluster-scoped RBAC, then the namespace, waiting until it is gone) and then the
    C(RepoBinding) itself.
attributes:
  check_mode:
    support: full
    description:
      - Every apply and delete is a server-side dry run. Objects in the pipeline namespace the run would
        create are reported as created with a warning.
  diff_mode:
    support: full
    description: Returns before and after of every changed object.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - aphex.platform.k8s
options:
  name:
    description: C(metadata.name) of the RepoBinding (at most 63 characters).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the RepoBinding; C(org-<aphexOrg>) when omitted.
      - Required without O(spec). A binding must live in its organization's namespace or in
        O(platform_namespace).
    type: str
  state:
    description: V(present) binds or updates the repository, V(absent) removes everything the binding created.
    type: str
    choices: [present, absent]
    default: present
  spec:
    description:
      - The RepoBinding spec, in the CRD's camelCase. The module applies the RepoBinding object with it.
      - Upstream fields C(aphexOrg), C(repoOrg), C(repoName), C(pipelineName), C(pipelineSpec) (YAML text of a
        C(tekton.dev/v1) Pipeline) and C(templateRef).
      - Optional fields C(branches) (default C([main])), C(catalogPipeline) (C(name), C(namespace) default
        C(pipeline-catalog); run a catalog Pipeline instead of C(pipelineSpec)), C(quotas) (merged over
        C(requests.cpu=4), C(limits.cpu=8), C(requests.memory=8Gi), C(limits.memory=16Gi),
        C(persistentvolumeclaims=5), C(pods=20)), C(limits) (C(default), C(defaultRequest), C(max), C(min) per
        container, merged over 500m/512Mi, 100m/128Mi, 2/4Gi, 50m/64Mi) and C(network) (C(dnsNamespace),
        C(gitEgress) with C(cidrs), C(except) and C(ports); default public addresses on ports 443 and 22).
      - Omit it to reconcile the RepoBinding object that exists in the cluster.
    type: dict
  allowed_owners:
    description:
      - GitHub users or organizations this binding may name in C(repoOrg) (compared case-insensitively).
      - Overrides the organization's C(spec.githubOwners).
    type: list
    elements: str
  argocd_namespace:
    description: Namespace of Argo CD (its AppProjects and Applications).
    type: str
    default: argocd
  platform_namespace:
    description: Namespace holding the C(Organization) records.
    type: str
    default: platform-system
  force_conflicts:
    description: Take over fields another field manager owns instead of failing on the conflict.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the pipeline namespace to be gone with O(state=absent).
    type: int
    default: 300
notes:
  - The C(RepoBinding) CRD ships in the C(aphex.platform.organization) role's C(files/crds); Tekton Pipelines',
    Tekton Triggers' and Argo CD's CRDs must be installed, except in check mode.
  - Argo CD reconciles Applications outside its own namespace only when the pipeline namespaces are listed
    in its C(application.namespaces) setting.
seealso:
  - module: aphex.platform.organization
"""

EXAMPLES = r"""
- name: Bind a repository to organization acme
  aphex.platform.repobinding:
    name: payments
    spec:
      aphexOrg: acme
      repoOrg: acme-corp
      repoName: payments
      pipelineName: acme-payments
      templateRef: run-pipeline-v1
      pipelineSpec: |
        apiVersion: tekton.dev/v1
        kind: Pipeline
        spec:
          tasks:
            - name: hello
              taskSpec:
                steps:
                  - name: hello
                    image: busybox:1.36
                    script: echo hello
  delegate_to: localhost

- name: Run a catalog pipeline on pushes to main and release
  aphex.platform.repobinding:
    name: infra
    allowed_owners: [acme-corp]
    spec:
      aphexOrg: acme
      repoOrg: acme-corp
      repoName: infra
      pipelineName: acme-infra
      templateRef: run-pipeline-v1
      catalogPipeline: {name: cdktf-deploy}
      branches: [main, release]
      quotas: {pods: 40}
  delegate_to: localhost

- name: Reconcile a RepoBinding a team committed (self-service)
  aphex.platform.repobinding:
    name: payments
    namespace: org-acme
  delegate_to: localhost

- name: Offboard a repository
  aphex.platform.repobinding:
    name: payments
    namespace: org-acme
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
pipeline_namespace:
  description: The binding's pipeline namespace (its C(pipelineName)).
  returned: always
  type: str
  sample: acme-payments
webhook_url:
  description: The organization's webhook URL GitHub delivers to; null when it has none or with O(state=absent).
  returned: always
  type: str
  sample: https://acme.hooks.example.com
status:
  description: The C(status) written to (or, in check mode, predicted for) the RepoBinding.
  returned: when O(state=present)
  type: dict
  sample:
    phase: Ready
    message: Repository resources are applied
    webhookURL: https://acme.hooks.example.com
    pipelineNamespace: acme-payments
    observedGeneration: 1
objects:
  description: Every object the run looked at and what happened to it (or would, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the object; C(<Kind>/status) for a status write.
      type: str
      returned: always
      sample: Trigger
    apiVersion:
      description: API version of the object.
      type: str
      returned: always
      sample: triggers.tekton.dev/v1beta1
    name:
      description: Name of the object.
      type: str
      returned: always
      sample: acme-payments-trigger
    namespace:
      description: Namespace of the object, for namespaced objects.
      type: str
      returned: when namespaced
      sample: org-acme
    action:
      description: V(create), V(update), V(unchanged), V(delete) or V(absent).
      type: str
      returned: always
      sample: unchanged
diff:
  description: Before and after of each changed object, keyed C(<Kind> <namespace>/<name>).
  returned: when diff mode is on
  type: dict
  sample: {before: {}, after: {}}
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import naming
from ansible_collections.aphex.platform.plugins.module_utils.repobinding_reconcile import run


def argument_spec() -> dict:
    return dict(
        name={"type": "str", "required": True},
        namespace={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        spec={"type": "dict"},
        allowed_owners={"type": "list", "elements": "str"},
        argocd_namespace={"type": "str", "default": naming.DEFAULT_ARGOCD_NAMESPACE},
        platform_namespace={"type": "str", "default": "platform-system"},
        force_conflicts={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 300},
    )


def main() -> None:
    AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True).execute(run)


if __name__ == "__main__":
    main()
