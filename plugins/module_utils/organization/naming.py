# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names, labels and defaults shared by the organization builders, planners and the role.

Names follow the reference controller (aphex-reference.md §6.3) unless a bug in its §12 says otherwise.
"""

from __future__ import annotations

import hashlib

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import FIELD_MANAGER
PLATFORM_NAMESPACE = "platform-system"

ORG_API_VERSION = "aphex.io/v1alpha1"
ORG_KIND = "Organization"

WEBHOOK_SECRET_NAME = "github-webhook-secret"
WEBHOOK_SECRET_KEY = "secret"
ORG_SECRETS_NAME = "org-secrets"  # the Secret ESO may read; created by the org's admins, not by us
ESO_READER_NAME = "eso-secrets-reader"
ADMIN_ROLE_NAME = "organization-admin"
EVENTLISTENER_SA_NAME = "eventlistener"
EVENTLISTENER_ROLE_NAME = "eventlistener"
EVENTLISTENER_CLUSTER_ROLE = "eventlistener-access"
EVENTLISTENER_NAME = "github-listener"
EVENTLISTENER_SERVICE = "el-github-listener"  # Tekton Triggers names the Service el-<listener>
EVENTLISTENER_PORT = 8080
TRIGGER_GROUP_NAME = "github-webhooks"
TRIGGER_BINDING_NAME = "github-push-binding"
TUNNEL_TOKEN_SECRET_NAME = "cloudflared-tunnel-token"
TUNNEL_TOKEN_SECRET_KEY = "token"
CLOUDFLARED_METRICS_PORT = 2000
WEBHOOK_INGRESS_NAME = "github-webhook"
QUOTA_NAME = "org-quota"
LIMIT_RANGE_NAME = "org-limits"

DEFAULT_CLOUDFLARED_IMAGE = "cloudflare/cloudflared:2026.8.2"
DEFAULT_EVENTS = ("push",)
DEFAULT_EXPOSURE = "cloudflare"
EXPOSURES = ("cloudflare", "ingress", "none")

# Every object we create carries these; the owner pair is what pruning selects on.
LABEL_ORG = "aphex.dev/org"
LABEL_REF_ORG = "platform.aphex/organization"
LABEL_REF_MANAGED_BY = "platform.aphex/managed-by"
LABEL_OWNER_KIND = "platform.aphex/owner-kind"
LABEL_OWNER_NAME = "platform.aphex/owner-name"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_ADMIN_USER = "aphex.dev/admin-user"

DEFAULT_QUOTAS = {
    "requests.cpu": "2",
    "requests.memory": "4Gi",
    "limits.cpu": "4",
    "limits.memory": "8Gi",
    "pods": "20",
    "services": "10",
    "persistentvolumeclaims": "5",
    "secrets": "50",
    "configmaps": "50",
}

DEFAULT_NETWORK = {
    "dns_namespace": "kube-system",
    "interceptors_namespace": "tekton-pipelines",
    "ingress_controller_namespace": "ingress-nginx",
    "api_server_cidrs": ["0.0.0.0/0"],
    "api_server_ports": [443, 6443],
}

DEFAULT_CLOUDFLARED_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


def namespace_name(org: str) -> str:
    return f"org-{org}"


def cluster_secret_store_name(org: str) -> str:
    return f"org-{org}-store"


def eventlistener_binding_name(org: str) -> str:
    return f"eventlistener-{org}"


def cloudflared_deployment_name(org: str) -> str:
    return f"cloudflared-{org}"


def tunnel_name(org: str) -> str:
    return f"webhooks-{org}"


def webhook_hostname(org: str, domain: str) -> str:
    return f"{org}.{domain}"


def webhook_url(spec: dict) -> str | None:
    """The public URL GitHub delivers to; None when the organization is not exposed."""
    exposure = spec.get("exposure")
    if exposure == "cloudflare" and spec.get("domain"):
        return f"https://{webhook_hostname(spec['name'], spec['domain'])}"
    if exposure == "ingress" and spec.get("ingress_host"):
        return f"https://{spec['ingress_host']}/{spec['name']}"
    return None


def names(spec: dict) -> dict:
    """Every name derived from a normalised organization, so that roles never rebuild one in YAML."""
    org = spec["name"]
    return {
        "namespace": namespace_name(org),
        "webhook_secret": WEBHOOK_SECRET_NAME,
        "webhook_secret_key": WEBHOOK_SECRET_KEY,
        "eventlistener": EVENTLISTENER_NAME,
        "eventlistener_service": EVENTLISTENER_SERVICE,
        "listener_url": f"http://{EVENTLISTENER_SERVICE}:{EVENTLISTENER_PORT}",
        "webhook_hostname": webhook_hostname(org, spec["domain"]) if spec.get("domain") else None,
        "webhook_url": webhook_url(spec),
        "tunnel": tunnel_name(org),
        "tunnel_token_secret": TUNNEL_TOKEN_SECRET_NAME,
        "cloudflared_deployment": cloudflared_deployment_name(org),
        "cluster_secret_store": cluster_secret_store_name(org),
        "eventlistener_binding": eventlistener_binding_name(org),
        "owner_selector": owner_selector(org),
    }


def admin_binding_name(email: str) -> str:
    """RBAC names may contain '@', but a hash is DNS-safe, short and stable for the same address."""
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:10]
    return f"{ADMIN_ROLE_NAME}-{digest}"


def org_labels(org: str) -> dict:
    return {
        LABEL_ORG: org,
        LABEL_REF_ORG: org,
        LABEL_REF_MANAGED_BY: "organization-controller",
        LABEL_OWNER_KIND: ORG_KIND,
        LABEL_OWNER_NAME: org,
        LABEL_MANAGED_BY: FIELD_MANAGER,
    }


def owner_selector(org: str) -> str:
    """Label selector for everything the organization module created for `org`."""
    return f"{LABEL_OWNER_KIND}={ORG_KIND},{LABEL_OWNER_NAME}={org}"
