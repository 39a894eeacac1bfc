#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: organization
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Onboard or offboard one Aphex organization on a Kubernetes cluster
version_added: 0.1.0
description:
  - Reconciles everything one organization needs through one API client with server-side apply (field
    manager C(aphex-platform)) and reports C(changed) only when the content of an object changed.
  - Creates the C(Organization) record (C(aphex.io/v1alpha1)) in O(platform_namespace); the namespace
    C(org-<name>) labelled C(aphex.dev/org=<name>) with Pod Security C(restricted); the Secret
    C(github-webhook-secret); the External Secrets reader RBAC and ClusterSecretStore C(org-<name>-store);
    the C(organization-admin) Role with one RoleBinding per admin; the EventListener service account, Role and
    ClusterRoleBinding C(eventlistener-<name>); the Tekton EventListener C(github-listener) whose C(github)
    interceptor verifies GitHub's HMAC signature and accepts only O(events); the TriggerBinding
    C(github-push-binding); a ResourceQuota, a LimitRange and default-deny NetworkPolicies with the flows the
    organization needs; and, depending on O(exposure), a cloudflared Deployment or an Ingress path.
  - Objects it created earlier and no longer wants (the RoleBinding of a removed admin, the cloudflared
    Deployment after a switch to O(exposure=ingress)) are deleted.
  - The webhook secret is 256 random bits generated once and stored in the Secret; later runs read it back
    and never change it unless O(rotate_webhook_secret=true) or O(webhook_secret) is given. Its value is never
    returned.
  - Writes C(status) through the status subresource (phase C(Ready) or C(Failed), namespace, webhook URL,
    conditions and observed generation).
  - With O(state=absent) deletes the cluster-scoped objects, then the namespace (waiting until it is gone),
    then the C(Organization) record. The Cloudflare tunnel and DNS record are removed by
    M(aphex.platform.cloudflare_dns_record) and M(aphex.platform.cloudflare_tunnel) before this runs.
attributes:
  check_mode:
    support: full
    description:
      - Every apply and delete is a server-side dry run, so the API server validates the objects. Objects in a
        namespace the run would create, and kinds whose CustomResourceDefinition is not installed yet, are
        reported as created with a warning.
  diff_mode:
    support: full
    description: Returns before and after of every changed object; Secret values are shown as C(<redacted>).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - aphex.platform.k8s
options:
  name:
    description:
      - Name of the organization, a DNS label of at most 59 characters so that C(org-<name>) fits 63.
      - Names of platform namespaces (C(kube-system), C(argocd), C(platform-system), ...) and names starting
        with one of them followed by C(-) are rejected.
    type: str
    required: true
  state:
    description: V(present) onboards or updates the organization, V(absent) offboards it.
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description: Human-readable name (1 to 256 characters). Required with O(state=present).
    type: str
  admin_users:
    description:
      - E-mail addresses of the organization's admins; each gets a RoleBinding to the C(organization-admin) Role.
      - Addresses are compared case-insensitively for duplicates. Required with O(state=present).
    type: list
    elements: str
  exposure:
    description:
      - How GitHub reaches the EventListener.
      - V(cloudflare) runs cloudflared with the tunnel token O(cloudflare_tunnel_token); the webhook URL is
        C(https://<name>.<domain>).
      - V(ingress) adds the path C(/<name>) on the shared host O(ingress_host).
      - V(none) keeps the listener cluster-internal.
    type: str
    choices: [cloudflare, ingress, none]
    default: cloudflare
  domain:
    description: DNS domain of the webhook host C(<name>.<domain>). Required with O(exposure=cloudflare).
    type: str
  ingress_host:
    description: Shared webhook host name. Required with O(exposure=ingress).
    type: str
  ingress_class_name:
    description: IngressClass of the webhook Ingress with O(exposure=ingress).
    type: str
    default: nginx
  events:
    description: GitHub webhook events the EventListener accepts; others are rejected by the interceptor.
    type: list
    elements: str
    default: [push]
  quotas:
    description:
      - Hard limits of the namespace's ResourceQuota, merged over the defaults (C(requests.cpu=2),
        C(requests.memory=4Gi), C(limits.cpu=4), C(limits.memory=8Gi), C(pods=20), C(services=10),
        C(persistentvolumeclaims=5), C(secrets=50), C(configmaps=50)).
    type: dict
  github_owners:
    description:
      - GitHub users or organizations whose repositories the organization may bind (stored as
        C(spec.githubOwners) of the C(Organization); M(aphex.platform.repobinding) checks C(repoOrg) against it).
      - Leave unset to allow none (a repository binding then needs its own C(allowed_owners)).
    type: list
    elements: str
  cloudflare_tunnel_id:
    description: Id of the tunnel; a new id restarts the cloudflared pods so they pick up the new token.
    type: str
  cloudflare_tunnel_token:
    description:
      - Token of the remotely managed tunnel, as returned by M(aphex.platform.cloudflare_tunnel).
      - Required with O(exposure=cloudflare), except in check mode, where a tunnel that does not exist yet has
        no token.
    type: str
  cloudflared_image:
    description: Pinned cloudflared image (a tag other than C(latest), or a digest).
    type: str
    default: cloudflare/cloudflared:2026.8.2
  cloudflared_replicas:
    description: Number of cloudflared replicas serving the tunnel.
    type: int
    default: 2
  webhook_secret:
    description:
      - Store this webhook secret (at least 32 characters) instead of generating one.
      - Leave unset to keep the stored secret, or to generate one on the first run.
    type: str
  rotate_webhook_secret:
    description: Replace the stored webhook secret with a newly generated one. Reports a change every time.
    type: bool
    default: false
  network:
    description: Where the flows the NetworkPolicies allow go to.
    type: dict
    suboptions:
      dns_namespace:
        description: Namespace of the cluster DNS pods (label C(k8s-app=kube-dns)).
        type: str
        default: kube-system
      interceptors_namespace:
        description: Namespace of the Tekton Triggers core interceptors (port 8443).
        type: str
        default: tekton-pipelines
      ingress_controller_namespace:
        description: Namespace of the ingress controller allowed to reach the listener with O(exposure=ingress).
        type: str
        default: ingress-nginx
      api_server_cidrs:
        description: CIDRs of the API server endpoints the listener may reach.
        type: list
        elements: str
        default: [0.0.0.0/0]
      api_server_ports:
        description: TCP ports of the API server endpoints.
        type: list
        elements: int
        default: [443, 6443]
  platform_namespace:
    description: Namespace holding the C(Organization) records.
    type: str
    default: platform-system
  force_conflicts:
    description: Take over fields another field manager owns instead of failing on the conflict.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the namespace and the record to be gone with O(state=absent).
    type: int
    default: 300
notes:
  - The C(Organization) CRD and the ClusterRole C(eventlistener-access) ship with the C(aphex.platform.organization)
    role, which applies them before calling this module.
  - Tekton Triggers' and External Secrets' CRDs must be installed, except in check mode.
  - The namespace selector of the trigger group is owned by the repository bindings; this module keeps what it
    finds there.
seealso:
  - module: aphex.platform.cloudflare_tunnel
  - module: aphex.platform.cloudflare_dns_record
  - name: Aphex organization role
    description: Validates every organization, then runs the tunnel, DNS and organization steps in order.
    link: https://github.com/aphex-platform/aphex.platform/tree/main/roles/organization
"""

EXAMPLES = r"""
- name: Onboard an organization without external exposure
  aphex.platform.organization:
    name: acme
    display_name: Acme Corp
    admin_users: [alice@acme.example]
    exposure: none
  delegate_to: localhost

- name: Onboard an organization behind its Cloudflare tunnel
  aphex.platform.organization:
    name: acme
    display_name: Acme Corp
    admin_users: [alice@acme.example, bob@acme.example]
    domain: hooks.example.com
    cloudflare_tunnel_id: "{{ tunnel.tunnel.id }}"
    cloudflare_tunnel_token: "{{ tunnel.token }}"
    events: [push, pull_request]
    quotas:
      pods: 40
  delegate_to: localhost

- name: Show what would change, without changing anything
  aphex.platform.organization:
    name: acme
    display_name: Acme Corp
    admin_users: [alice@acme.example]
    exposure: ingress
    ingress_host: webhooks.example.com
  check_mode: true
  diff: true
  delegate_to: localhost

- name: Rotate the webhook secret (then update the GitHub webhook)
  aphex.platform.organization:
    name: acme
    display_name: Acme Corp
    admin_users: [alice@acme.example]
    exposure: none
    rotate_webhook_secret: true
  delegate_to: localhost

- name: Use one kubeconfig for every platform module
  module_defaults:
    group/aphex.platform.k8s:
      kubeconfig: /etc/aphex/admin.kubeconfig
  block:
    - name: Offboard an organization
      aphex.platform.organization:
        name: acme
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
namespace:
  description: The organization's namespace.
  returned: always
  type: str
  sample: org-acme
webhook_url:
  description: URL to configure in GitHub; null with O(exposure=none) or O(state=absent).
  returned: always
  type: str
  sample: https://acme.hooks.example.com
webhook_secret_ref:
  description: Where the webhook secret is stored (never its value), and what this run did with it.
  returned: when O(state=present)
  type: dict
  contains:
    namespace:
      description: Namespace of the Secret.
      type: str
      returned: always
      sample: org-acme
    name:
      description: Name of the Secret.
      type: str
      returned: always
      sample: github-webhook-secret
    key:
      description: Key holding the secret in the Secret's data.
      type: str
      returned: always
      sample: secret
    action:
      description: V(kept), V(created), V(rotated) or V(provided) (the vocabulary of M(aphex.platform.platform_secret)).
      type: str
      returned: always
      sample: kept
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
      sample: RoleBinding
    apiVersion:
      description: API version of the object.
      type: str
      returned: always
      sample: rbac.authorization.k8s.io/v1
    name:
      description: Name of the object.
      type: str
      returned: always
      sample: organization-admin-3f1c0e2a9b
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
    warning:
      description: Why the server could not validate a predicted create.
      type: str
      returned: when the kind is not installed in check mode
      sample: EventListener is not installed yet
status:
  description: The C(status) written to (or, in check mode, predicted for) the C(Organization).
  returned: when O(state=present)
  type: dict
  sample:
    phase: Ready
    namespace: org-acme
    webhookURL: https://acme.hooks.example.com
    message: Organization resources are applied
    observedGeneration: 1
diff:
  description: Before and after of each changed object, keyed C(<Kind> <namespace>/<name>); Secret values redacted.
  returned: when diff mode is on
  type: dict
  sample: {before: {"RoleBinding org-acme/organization-admin-3f1c0e2a9b": {}}, after: {}}
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.organization import naming
from ansible_collections.aphex.platform.plugins.module_utils.organization_reconcile import run


def argument_spec() -> dict:
    return dict(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        display_name={"type": "str"},
        admin_users={"type": "list", "elements": "str"},
        exposure={"type": "str", "choices": list(naming.EXPOSURES), "default": naming.DEFAULT_EXPOSURE},
        domain={"type": "str"},
        ingress_host={"type": "str"},
        ingress_class_name={"type": "str", "default": "nginx"},
        events={"type": "list", "elements": "str", "default": list(naming.DEFAULT_EVENTS)},
        quotas={"type": "dict"},
        github_owners={"type": "list", "elements": "str"},
        cloudflare_tunnel_id={"type": "str"},
        cloudflare_tunnel_token={"type": "str", "no_log": True},
        cloudflared_image={"type": "str", "default": naming.DEFAULT_CLOUDFLARED_IMAGE},
        cloudflared_replicas={"type": "int", "default": 2},
        webhook_secret={"type": "str", "no_log": True},
        rotate_webhook_secret={"type": "bool", "default": False},
        network={"type": "dict", "options": {
            "dns_namespace": {"type": "str", "default": naming.DEFAULT_NETWORK["dns_namespace"]},
            "interceptors_namespace": {"type": "str", "default": naming.DEFAULT_NETWORK["interceptors_namespace"]},
            "ingress_controller_namespace": {"type": "str",
                                             "default": naming.DEFAULT_NETWORK["ingress_controller_namespace"]},
            "api_server_cidrs": {"type": "list", "elements": "str",
                                 "default": list(naming.DEFAULT_NETWORK["api_server_cidrs"])},
            "api_server_ports": {"type": "list", "elements": "int",
                                 "default": list(naming.DEFAULT_NETWORK["api_server_ports"])},
        }},
        platform_namespace={"type": "str", "default": naming.PLATFORM_NAMESPACE},
        force_conflicts={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 300},
    )


def main() -> None:
    AphexK8sModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_if=[("state", "present", ("display_name", "admin_users"))],
    ).execute(run)


if __name__ == "__main__":
    main()
