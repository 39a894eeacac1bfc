#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: readiness_gate
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Wait until a platform layer is really ready, or say precisely why it is not
version_added: 0.1.0
description:
  - Polls the cluster until every listed check passes, then returns. On timeout it fails with the checks that
    did not pass and a diagnostic gathered at that moment, namely the recent events and the pods that are not
    Ready in the namespaces involved, the endpoints of the Services involved, and for every webhook
    configuration each webhook's Service or URL, whether its C(caBundle) is present, its C(failurePolicy) and
    C(timeoutSeconds).
  - "Checks: CustomResourceDefinitions C(Established) (O(crds)); Deployments rolled out and C(Available)
    (O(deployments)); StatefulSets and DaemonSets rolled out and ready (O(statefulsets), O(daemonsets));
    Services with at least one ready endpoint, read from EndpointSlices, else Endpoints (O(services));
    admission webhooks whose every Service has ready endpoints and whose every webhook has a C(caBundle)
    (O(webhooks)); APIServices C(Available) (O(api_services)); any object's condition or field (O(resources));
    and server-side dry-run creates that admission must accept (O(admission_probes))."
  - Checks whose category is listed in O(requires_controller) need a container that really runs. When
    O(component) does not run on this cluster (it, or V(*), is a key of O(not_running)) they are not waited for;
    they are returned in RV(skipped_checks) with the reason, and a warning names them. The other checks still
    run and must pass. RV(not_running_reason) says why, so later tasks that need a running container can be made
    conditional on the gate's answer.
attributes:
  check_mode:
    support: full
    description:
      - Evaluates the checks once without waiting. Checks not satisfied yet (the objects a real run would
        create are not there) are returned in RV(skipped_checks) with the reason instead of failing.
  diff_mode:
    support: none
    description: Nothing is written.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - aphex.platform.k8s
options:
  crds:
    description: Names of CustomResourceDefinitions that must be C(Established).
    type: list
    elements: str
    default: []
  deployments:
    description:
      - Deployments whose rollout must be complete and that must be C(Available), each a dict with
        C(namespace) and C(name), or a C(namespace/name) string.
    type: list
    elements: raw
    default: []
  statefulsets:
    description: StatefulSets whose replicas must all be ready and updated (C(namespace)/C(name) like O(deployments)).
    type: list
    elements: raw
    default: []
  daemonsets:
    description: DaemonSets whose scheduled pods must all be updated and available (like O(deployments)).
    type: list
    elements: raw
    default: []
  services:
    description: Services that must have at least one ready endpoint (like O(deployments)).
    type: list
    elements: raw
    default: []
  webhooks:
    description:
      - Admission webhook configurations. Each one makes two checks, C(webhook_endpoints) (every Service its
        webhooks call has a ready endpoint) and C(webhook_ca_bundle) (it has at least one webhook and every
        webhook has a non-empty C(clientConfig.caBundle)).
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: V(validating) or V(mutating).
        type: str
        required: true
        choices: [validating, mutating]
      name:
        description: Name of the C(ValidatingWebhookConfiguration) or C(MutatingWebhookConfiguration).
        type: str
        required: true
      ca_bundle:
        description: Whether to require a C(caBundle). Set V(false) for URL webhooks served with a public certificate.
        type: bool
        default: true
  api_services:
    description: Names of APIServices (for example V(v1beta1.metrics.k8s.io)) that must be C(Available).
    type: list
    elements: str
    default: []
  resources:
    description:
      - Any objects whose condition or field must reach a value, for example a ClusterIssuer C(Ready) or an
        Argo CD Application's C(status.health.status).
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: API version of the object.
        type: str
        required: true
      kind:
        description: Kind of the object.
        type: str
        required: true
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Namespace of the object (omit for cluster-scoped objects).
        type: str
      condition:
        description:
          - Type of the condition in C(status.conditions) to check (when O(resources[].field) is not set).
          - The object's C(status.observedGeneration), when it has one, must also have caught up with
            C(metadata.generation).
        type: str
        default: Ready
      status:
        description: Status the condition must have.
        type: str
        default: "True"
      field:
        description: Dotted path of a field to check instead of a condition, for example V(status.sync.status).
        type: str
      value:
        description: Value O(resources[].field) must have (compared as strings); omitted means "set and not empty".
        type: str
  admission_probes:
    description:
      - Full manifests that are created with a server-side dry run (nothing is stored). The check passes when
        admission accepts the request (a conflict with an existing object also proves admission accepted it),
        so it proves that the webhooks answer, as cert-manager's C(startupapicheck) does.
      - Use a name no real object has.
    type: list
    elements: dict
    default: []
  requires_controller:
    description:
      - Check categories that need a running controller or webhook server, skipped when O(component) does not run
        (see O(not_running)).
      - Categories are V(crds), V(deployments), V(statefulsets), V(daemonsets), V(services),
        V(webhook_endpoints), V(webhook_ca_bundle), V(api_services), V(resources), V(admission_probes);
        V(webhooks) stands for both webhook categories.
      - The default skips only what needs a running container. Rollouts, CRDs and endpoints are reported by the
        control plane even when the component's containers do not run (for example on a kwok cluster).
    type: list
    elements: str
    choices: [crds, deployments, statefulsets, daemonsets, services, webhook_endpoints, webhook_ca_bundle,
              api_services, resources, admission_probes, webhooks]
    default: [webhook_ca_bundle, api_services, resources, admission_probes]
  component:
    description: The component this gate checks, for example V(cert-manager) or V(argocd); looked up in O(not_running).
    type: str
  not_running:
    description:
      - Component name -> the reason it does not run on this cluster; the key V(*) means every component.
      - "When O(component) (or V(*)) is a key, the categories of O(requires_controller) are skipped with the reason
        C(<component> does not run on this cluster: <reason>)."
      - Set it once for a whole play through C(module_defaults) from an inventory variable.
    type: dict
    default: {}
  not_running_pods_ready:
    description:
      - Whether the pods of a component that does not run still become Ready. True on a kwok cluster, whose
        simulated pods do.
      - Set V(false) on a cluster whose nodes really run containers (kind). There the pods of a component that
        cannot run (its images cannot be had) never become Ready, so its rollouts, Service endpoints and webhook
        endpoints (V(deployments), V(statefulsets), V(daemonsets), V(services), V(webhook_endpoints)) are skipped
        with the reason too. CRDs are still checked. No effect on a component that runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for all checks before failing with the diagnostic.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two rounds of checks.
    type: int
    default: 3
notes:
  - The skipped checks are returned as RV(skipped_checks), not C(skipped), because Ansible reads a true
    C(skipped) key in a result as "the task was skipped".
  - The module never reports C(changed); it writes nothing.
  - A read that the API server refuses with 401 or 403 fails the task at once; other read errors are retried
    until the timeout.
seealso:
  - name: The local cluster
    description: What the local rehearsal cluster does and does not run.
    link: https://github.com/aphex-platform/aphex.platform/blob/main/docs/local-cluster.md
"""

EXAMPLES = r"""
- name: Wait for the cert-manager CRDs
  aphex.platform.readiness_gate:
    crds:
      - certificates.cert-manager.io
      - clusterissuers.cert-manager.io
    wait_timeout: 60

- name: cert-manager is ready (at least as strict as its PostSync readiness hook)
  aphex.platform.readiness_gate:
    deployments:
      - {namespace: cert-manager, name: cert-manager}
      - {namespace: cert-manager, name: cert-manager-cainjector}
      - cert-manager/cert-manager-webhook
    webhooks:
      - {kind: validating, name: cert-manager-webhook}
      - {kind: mutating, name: cert-manager-webhook}
    admission_probes:
      - apiVersion: cert-manager.io/v1
        kind: Issuer
        metadata: {name: aphex-readiness-probe, namespace: cert-manager}
        spec: {selfSigned: {}}
    component: cert-manager
  register: cert_manager_gate

- name: Tasks that need a running container follow the gate's answer
  ansible.builtin.debug:
    msg: "cert-manager's webhook answers"
  when: cert_manager_gate.not_running_reason | length == 0

- name: An Argo CD Application is synced (a field, not a condition)
  aphex.platform.readiness_gate:
    resources:
      - api_version: argoproj.io/v1alpha1
        kind: Application
        namespace: argocd
        name: platform-root
        field: status.sync.status
        value: Synced
    component: argocd

- name: Predict only (check mode never waits)
  aphex.platform.readiness_gate:
    crds: [ingressclasses.networking.k8s.io]
  check_mode: true

- name: One kubeconfig for every Kubernetes module, and what does not run on this cluster, set once
  module_defaults:
    group/aphex.platform.k8s:
      kubeconfig: "{{ aphex_kubeconfig }}"
    aphex.platform.readiness_gate:
      not_running: "{{ aphex_components_not_running | default({}) }}"
  block:
    - name: ingress-nginx answers
      aphex.platform.readiness_gate:
        deployments: [ingress-nginx/ingress-nginx-controller]
        services: [ingress-nginx/ingress-nginx-controller]
"""

RETURN = r"""
passed:
  description: The checks that passed.
  returned: always
  type: list
  elements: str
  sample: ["crd certificates.cert-manager.io", "deployment cert-manager/cert-manager-webhook"]
skipped_checks:
  description:
    - Checks not waited for, each with the reason (controller-dependent checks of a component that does not run
      on this cluster; in check mode also checks that are not satisfied yet).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check.
      returned: always
      type: str
      sample: webhook caBundle validating cert-manager-webhook
    reason:
      description: Why it was skipped.
      returned: always
      type: str
      sample: "cert-manager does not run on this cluster: the kwok cluster runs no containers"
failed_checks:
  description: On failure, the checks that did not pass and why.
  returned: failure
  type: list
  elements: dict
  sample: [{check: "webhook caBundle validating cert-manager-webhook", reason: "caBundle not injected in 1 of 1 webhook(s): webhook.cert-manager.io"}]
diagnostics:
  description: On failure, what was seen when the gate gave up.
  returned: failure
  type: dict
  contains:
    events:
      description: Recent events per involved namespace, oldest first.
      returned: always
      type: dict
    pods_not_ready:
      description: Pods that are not Ready, per involved namespace, with their waiting reasons.
      returned: always
      type: dict
    endpoints:
      description: Endpoints of every Service involved.
      returned: always
      type: list
      elements: dict
    webhook_configurations:
      description: Every webhook of every configuration involved, with its Service, caBundle presence and failurePolicy.
      returned: always
      type: list
      elements: dict
  sample: {events: {cert-manager: []}, pods_not_ready: {cert-manager: []}, endpoints: [], webhook_configurations: []}
not_running_reason:
  description: Why O(component) does not run on this cluster (from O(not_running)); empty when it runs.
  returned: always
  type: str
  sample: "cert-manager does not run on this cluster: the kwok cluster runs no containers"
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 4.2
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.readiness.checks import (
    CATEGORIES,
    CATEGORY_ALIASES,
    DEFAULT_REQUIRES_CONTROLLER,
)
from ansible_collections.aphex.platform.plugins.module_utils.readiness.gate import run


def argument_spec() -> dict:
    refs = {"type": "list", "elements": "raw", "default": []}
    return dict(
        crds={"type": "list", "elements": "str", "default": []},
        deployments=dict(refs), statefulsets=dict(refs), daemonsets=dict(refs), services=dict(refs),
        webhooks={"type": "list", "elements": "dict", "default": [], "options": {
            "kind": {"type": "str", "required": True, "choices": ["validating", "mutating"]},
            "name": {"type": "str", "required": True},
            "ca_bundle": {"type": "bool", "default": True},
        }},
        api_services={"type": "list", "elements": "str", "default": []},
        resources={"type": "list", "elements": "dict", "default": [], "options": {
            "api_version": {"type": "str", "required": True},
            "kind": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "condition": {"type": "str", "default": "Ready"},
            "status": {"type": "str", "default": "True"},
            "field": {"type": "str"},
            "value": {"type": "str"},
        }},
        admission_probes={"type": "list", "elements": "dict", "default": []},
        requires_controller={"type": "list", "elements": "str", "default": list(DEFAULT_REQUIRES_CONTROLLER),
                             "choices": list(CATEGORIES) + list(CATEGORY_ALIASES)},
        component={"type": "str"},
        not_running={"type": "dict", "default": {}},
        not_running_pods_ready={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
        wait_sleep={"type": "int", "default": 3},
    )


def main() -> None:
    AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True).execute(run)


if __name__ == "__main__":
    main()
