# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Kubernetes object one organization needs, built from a validated spec (no API calls here).

The list is returned in apply order: the Organization record first (so a missing CRD stops the run before
anything else exists), then the namespace and its guard rails (quota, limits, network policies) before
anything that runs pods.
"""

from __future__ import annotations

import base64
import copy

from . import naming

_PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]

DEFAULT_SETTINGS = {
    "platform_namespace": naming.PLATFORM_NAMESPACE,
    "cloudflared_image": naming.DEFAULT_CLOUDFLARED_IMAGE,
    "cloudflared_replicas": 2,
    "cloudflared_resources": naming.DEFAULT_CLOUDFLARED_RESOURCES,
    "ingress_class_name": "nginx",
    "network": naming.DEFAULT_NETWORK,
    # Namespaces whose Triggers the listener serves; owned by the repository bindings, carried over here
    # so re-applying the organization never drops them.
    "trigger_namespaces": [],
}


def effective_settings(settings: dict | None) -> dict:
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    for key, value in (settings or {}).items():
        if value is None:
            continue
        if key == "network":
            merged["network"].update({k: v for k, v in value.items() if v is not None})
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _meta(name: str, org: str, namespace: str | None = None, extra_labels: dict | None = None) -> dict:
    meta = {"name": name, "labels": {**naming.org_labels(org), **(extra_labels or {})}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def organization_resource(spec: dict, settings: dict) -> dict:
    org_spec = {
        "displayName": spec["display_name"],
        "adminUsers": list(spec["admin_users"]),
        "exposure": spec["exposure"],
        "events": list(spec["events"]),
        "quotas": dict(spec["quotas"]),
    }
    if spec.get("domain"):
        org_spec["domain"] = spec["domain"]
    if spec.get("github_owners") is not None:
        org_spec["githubOwners"] = list(spec["github_owners"])
    return {
        "apiVersion": naming.ORG_API_VERSION,
        "kind": naming.ORG_KIND,
        "metadata": _meta(spec["name"], spec["name"], settings["platform_namespace"]),
        "spec": org_spec,
    }


def namespace(org: str) -> dict:
    labels = {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    meta = _meta(naming.namespace_name(org), org, extra_labels=labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def resource_quota(org: str, quotas: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta(naming.QUOTA_NAME, org, naming.namespace_name(org)),
        "spec": {"hard": {key: str(value) for key, value in sorted(quotas.items())}},
    }


def limit_range(org: str) -> dict:
    # Defaults let pods without resources pass a quota that counts limits/requests.
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta(naming.LIMIT_RANGE_NAME, org, naming.namespace_name(org)),
        "spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "50m", "memory": "64Mi"},
        }]},
    }


def network_policy(metadata: dict, pod_selector: dict, ingress=None, egress=None) -> dict:
    """A NetworkPolicy whose policyTypes are the directions given (an empty list denies that direction).

    An empty rule list is left out, not sent as ``[]``: the API server stores it as absent, so sending ``[]``
    would make every server-side apply a real write (a new generation) that reads back unchanged."""
    policy_types, spec = [], {"podSelector": pod_selector}
    if ingress is not None:
        policy_types.append("Ingress")
        if ingress:
            spec["ingress"] = ingress
    if egress is not None:
        policy_types.append("Egress")
        if egress:
            spec["egress"] = egress
    spec["policyTypes"] = policy_types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def _netpol(org: str, name: str, pod_selector: dict, ingress=None, egress=None) -> dict:
    return network_policy(_meta(name, org, naming.namespace_name(org)), pod_selector, ingress, egress)


def _ns_selector(name: str) -> dict:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


def _ports(protocol_ports) -> list:
    return [{"protocol": protocol, "port": port} for protocol, port in protocol_ports]


EVENTLISTENER_PODS = {"matchLabels": {"eventlistener": naming.EVENTLISTENER_NAME}}
CLOUDFLARED_POD_LABELS = {"app.kubernetes.io/name": "cloudflared"}


def network_policies(org: str, exposure: str, network: dict) -> list:
    """Default deny in both directions, then only the flows the organization needs."""
    policies = [
        _netpol(org, "default-deny-all", {}, ingress=[], egress=[]),
        _netpol(org, "allow-dns-egress", {}, egress=[{
            "to": [{"namespaceSelector": _ns_selector(network["dns_namespace"]),
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": _ports([("UDP", 53), ("TCP", 53)]),
        }]),
        # The listener talks to the API server (informers) and to the github ClusterInterceptor service.
        _netpol(org, "allow-eventlistener-egress", EVENTLISTENER_PODS, egress=[
            {"to": [{"ipBlock": {"cidr": cidr}} for cidr in network["api_server_cidrs"]],
             "ports": _ports(("TCP", port) for port in network["api_server_ports"])},
            {"to": [{"namespaceSelector": _ns_selector(network["interceptors_namespace"])}],
             "ports": _ports([("TCP", 8443)])},
        ]),
    ]
    listener_port = _ports([("TCP", naming.EVENTLISTENER_PORT)])
    if exposure == "cloudflare":
        cloudflared = {"matchLabels": dict(CLOUDFLARED_POD_LABELS)}
        policies.append(_netpol(org, "allow-cloudflared-egress", cloudflared, egress=[
            # Cloudflare's edge: 7844 (QUIC/HTTP2 tunnel) and 443 (API); private ranges stay closed.
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(_PRIVATE_RANGES)}}],
             "ports": _ports([("TCP", 443), ("TCP", 7844), ("UDP", 7844)])},
            {"to": [{"podSelector": EVENTLISTENER_PODS}], "ports": listener_port},
        ]))
        policies.append(_netpol(org, "allow-cloudflared-to-eventlistener", EVENTLISTENER_PODS, ingress=[
            {"from": [{"podSelector": cloudflared}], "ports": listener_port},
        ]))
    elif exposure == "ingress":
        policies.append(_netpol(org, "allow-ingress-controller-to-eventlistener", EVENTLISTENER_PODS, ingress=[
            {"from": [{"namespaceSelector": _ns_selector(network["ingress_controller_namespace"])}],
             "ports": listener_port},
        ]))
    return policies


def webhook_secret(org: str, value: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(naming.WEBHOOK_SECRET_NAME, org, naming.namespace_name(org)),
        "type": "Opaque",
        "data": {naming.WEBHOOK_SECRET_KEY: _b64(value)},
    }


def _role(org: str, name: str, rules: list) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": _meta(name, org, naming.namespace_name(org)), "rules": rules}


def _role_binding(org: str, name: str, role: str, subjects: list, annotations: dict | None = None) -> dict:
    meta = _meta(name, org, naming.namespace_name(org))
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": subjects}


def _service_account(org: str, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, org, naming.namespace_name(org))}


def external_secrets(org: str) -> list:
    ns = naming.namespace_name(org)
    store_meta = _meta(naming.cluster_secret_store_name(org), org)
    return [
        _service_account(org, naming.ESO_READER_NAME),
        _role(org, naming.ESO_READER_NAME, [
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [naming.ORG_SECRETS_NAME], "verbs": ["get"]},
        ]),
        _role_binding(org, naming.ESO_READER_NAME, naming.ESO_READER_NAME,
                      [{"kind": "ServiceAccount", "name": naming.ESO_READER_NAME, "namespace": ns}]),
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": store_meta,
            "spec": {
                "conditions": [{"namespaceSelector": {"matchLabels": {naming.LABEL_ORG: org}}}],
                "provider": {"kubernetes": {
                    "remoteNamespace": ns,
                    "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt",
                                              "namespace": ns}},
                    "auth": {"serviceAccount": {"name": naming.ESO_READER_NAME, "namespace": ns}},
                }},
            },
        },
    ]


# Org admins run pipelines and manage repository bindings; they read (not rewrite) the objects this module
# owns, may read the webhook secret to configure GitHub, and manage only the org-secrets Secret.
ADMIN_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "configmaps", "events", "serviceaccounts",
                                      "resourcequotas", "limitranges"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [naming.ORG_SECRETS_NAME],
     "verbs": ["get", "update", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [naming.WEBHOOK_SECRET_NAME], "verbs": ["get"]},
    {"apiGroups": ["tekton.dev"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": ["triggers.tekton.dev"],
     "resources": ["eventlisteners", "triggers", "triggerbindings", "triggertemplates"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["aphex.io"], "resources": ["repobindings"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]


def admin_rbac(org: str, admin_users: list) -> list:
    objects = [_role(org, naming.ADMIN_ROLE_NAME, copy.deepcopy(ADMIN_RULES))]
    for user in admin_users:
        objects.append(_role_binding(
            org, naming.admin_binding_name(user), naming.ADMIN_ROLE_NAME,
            [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
            annotations={naming.ANNOTATION_ADMIN_USER: user},
        ))
    return objects


def eventlistener_rbac(org: str) -> list:
    ns = naming.namespace_name(org)
    subject = [{"kind": "ServiceAccount", "name": naming.EVENTLISTENER_SA_NAME, "namespace": ns}]
    return [
        _service_account(org, naming.EVENTLISTENER_SA_NAME),
        # In its own namespace the listener reads its logging ConfigMaps and records events; PipelineRun
        # creation is granted per pipeline namespace by the repository bindings, not cluster-wide.
        _role(org, naming.EVENTLISTENER_ROLE_NAME, [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        ]),
        _role_binding(org, naming.EVENTLISTENER_ROLE_NAME, naming.EVENTLISTENER_ROLE_NAME, subject),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(naming.eventlistener_binding_name(org), org),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": naming.EVENTLISTENER_CLUSTER_ROLE},
            "subjects": subject,
        },
    ]


def triggers(org: str, events: list, trigger_namespaces: list) -> list:
    ns = naming.namespace_name(org)
    selector = {"labelSelector": {"matchLabels": {naming.LABEL_REF_ORG: org}}}
    if trigger_namespaces:
        selector["namespaceSelector"] = {"matchNames": list(trigger_namespaces)}
    return [
        {
            "apiVersion": "triggers.tekton.dev/v1beta1",
            "kind": "TriggerBinding",
            "metadata": _meta(naming.TRIGGER_BINDING_NAME, org, ns),
            "spec": {"params": [
                {"name": "git-url", "value": "$(body.repository.clone_url)"},
                {"name": "git-revision", "value": "$(body.after)"},
            ]},
        },
        {
            "apiVersion": "triggers.tekton.dev/v1beta1",
            "kind": "EventListener",
            "metadata": _meta(naming.EVENTLISTENER_NAME, org, ns),
            "spec": {
                "serviceAccountName": naming.EVENTLISTENER_SA_NAME,
                "triggerGroups": [{
                    "name": naming.TRIGGER_GROUP_NAME,
                    # The github interceptor checks X-Hub-Signature-256 against the webhook secret and drops
                    # every event type not listed (reference bug §12.4: no secretRef, nothing verified).
                    "interceptors": [{
                        "name": "github",
                        "ref": {"name": "github", "kind": "ClusterInterceptor"},
                        "params": [
                            {"name": "secretRef", "value": {"secretName": naming.WEBHOOK_SECRET_NAME,
                                                            "secretKey": naming.WEBHOOK_SECRET_KEY}},
                            {"name": "eventTypes", "value": list(events)},
                        ],
                    }],
                    "triggerSelector": selector,
                }],
            },
        },
    ]


def cloudflared(org: str, tunnel: dict, settings: dict) -> list:
    ns = naming.namespace_name(org)
    pod_labels = {**CLOUDFLARED_POD_LABELS, naming.LABEL_ORG: org}
    probe = {"httpGet": {"path": "/ready", "port": "metrics"}}
    container = {
        "name": "cloudflared",
        "image": settings["cloudflared_image"],
        # The token comes from TUNNEL_TOKEN (what `run --token` reads) so it never shows in the process list.
        "args": ["tunnel", "--no-autoupdate", "--metrics", f"0.0.0.0:{naming.CLOUDFLARED_METRICS_PORT}", "run"],
        "env": [{"name": "TUNNEL_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": naming.TUNNEL_TOKEN_SECRET_NAME, "key": naming.TUNNEL_TOKEN_SECRET_KEY}}}],
        "ports": [{"name": "metrics", "containerPort": naming.CLOUDFLARED_METRICS_PORT, "protocol": "TCP"}],
        "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
        "resources": copy.deepcopy(settings["cloudflared_resources"]),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod_annotations = {}
    if tunnel.get("id"):
        # A new tunnel (new token) rolls the pods; env from a Secret is read only at start.
        pod_annotations["aphex.dev/tunnel-id"] = tunnel["id"]
    template_meta = {"labels": pod_labels}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(naming.TUNNEL_TOKEN_SECRET_NAME, org, ns),
            "type": "Opaque",
            "data": {naming.TUNNEL_TOKEN_SECRET_KEY: _b64(tunnel["token"])},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(naming.cloudflared_deployment_name(org), org, ns, CLOUDFLARED_POD_LABELS),
            "spec": {
                "replicas": settings["cloudflared_replicas"],
                "selector": {"matchLabels": dict(pod_labels)},
                "template": {
                    "metadata": template_meta,
                    "spec": {
                        "automountServiceAccountToken": False,
                        # The image's user is the named 'nonroot'; runAsNonRoot needs the numeric id.
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [container],
                    },
                },
            },
        },
    ]


def webhook_ingress(spec: dict, settings: dict) -> dict:
    org = spec["name"]
    ingress_spec = {
        "rules": [{"host": spec["ingress_host"], "http": {"paths": [{
            "path": f"/{org}",
            "pathType": "Exact",
            "backend": {"service": {"name": naming.EVENTLISTENER_SERVICE,
                                    "port": {"number": naming.EVENTLISTENER_PORT}}},
        }]}}],
    }
    if settings.get("ingress_class_name"):
        ingress_spec["ingressClassName"] = settings["ingress_class_name"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(naming.WEBHOOK_INGRESS_NAME, org, naming.namespace_name(org)),
        "spec": ingress_spec,
    }


def desired_objects(spec: dict, webhook_secret_value: str, tunnel: dict | None = None,
                    settings: dict | None = None) -> list:
    """All objects for one organization, in apply order.

    ``webhook_secret_value`` is passed in (the module generates or reads it) so building stays deterministic;
    ``tunnel`` is ``{"id": ..., "token": ...}`` from aphex.platform.cloudflare_tunnel when exposure is cloudflare.
    """
    settings = effective_settings(settings)
    org = spec["name"]
    exposure = spec["exposure"]
    objects = [
        organization_resource(spec, settings),
        namespace(org),
        resource_quota(org, spec["quotas"]),
        limit_range(org),
        *network_policies(org, exposure, settings["network"]),
        webhook_secret(org, webhook_secret_value),
        *external_secrets(org),
        *admin_rbac(org, spec["admin_users"]),
        *eventlistener_rbac(org),
        *triggers(org, spec["events"], settings["trigger_namespaces"]),
    ]
    if exposure == "cloudflare":
        if not tunnel or not tunnel.get("token"):
            raise ValueError("exposure 'cloudflare' needs the tunnel token")
        objects.extend(cloudflared(org, tunnel, settings))
    elif exposure == "ingress":
        objects.append(webhook_ingress(spec, settings))
    return objects


def current_trigger_namespaces(eventlistener: dict | None) -> list:
    """The namespaceSelector the repository bindings wrote into our trigger group, if any."""
    if not eventlistener:
        return []
    for group in (eventlistener.get("spec") or {}).get("triggerGroups") or []:
        if group.get("name") == naming.TRIGGER_GROUP_NAME:
            names = ((group.get("triggerSelector") or {}).get("namespaceSelector") or {}).get("matchNames")
            return list(names or [])
    return []
