# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning helpers: what to prune, what to delete when offboarding and in which order, and reading the stored
webhook secret back. Plain data in, plain data out."""

from __future__ import annotations

import base64
import binascii

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import FIELD_MANAGER

from . import naming

# Namespaced kinds the organization module creates inside org-<name>; pruning lists exactly these.
NAMESPACED_KINDS = (
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
    ("apps/v1", "Deployment"),
    ("triggers.tekton.dev/v1beta1", "EventListener"),
    ("triggers.tekton.dev/v1beta1", "TriggerBinding"),
)
CLUSTER_KINDS = (
    ("external-secrets.io/v1", "ClusterSecretStore"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
)


def ref(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    result = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"]}
    if meta.get("namespace"):
        result["namespace"] = meta["namespace"]
    return result


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _key(obj: dict) -> tuple:
    # Compare by API group, not version: the server may answer with another served version.
    meta = obj.get("metadata") or {}
    return _group(obj["apiVersion"]), obj["kind"], meta.get("namespace") or "", meta["name"]


def applied_by(obj: dict, field_manager: str) -> bool:
    return any(entry.get("manager") == field_manager and entry.get("operation") == "Apply"
               for entry in (obj.get("metadata") or {}).get("managedFields") or [])


def controlled(obj: dict) -> bool:
    return any(owner.get("controller") for owner in (obj.get("metadata") or {}).get("ownerReferences") or [])


def prune_plan(existing: list, desired: list, field_manager: str = FIELD_MANAGER) -> list:
    """Refs of existing objects to delete: ours (applied by ``field_manager``, not controlled by another
    object, e.g. the Deployment Tekton generates for the listener) and no longer desired.

    ``existing`` are objects listed with the owner label selector; e.g. the RoleBinding of an admin removed
    from ``admin_users`` or the cloudflared Deployment after exposure switched to ingress.
    """
    wanted = {_key(obj) for obj in desired}
    stale = [obj for obj in existing
             if _key(obj) not in wanted and applied_by(obj, field_manager) and not controlled(obj)]
    return [ref(obj) for obj in sorted(stale, key=_key)]


def offboarding_refs(org: str, platform_namespace: str = naming.PLATFORM_NAMESPACE) -> list:
    """Cluster objects to delete, in order: cluster-scoped first (a namespace delete would not reach them),
    then the namespace (cascading to everything inside; wait until it is gone), the Organization record last
    so a failed offboarding stays visible."""
    return [
        {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
         "name": naming.cluster_secret_store_name(org)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "name": naming.eventlistener_binding_name(org)},
        {"apiVersion": "v1", "kind": "Namespace", "name": naming.namespace_name(org), "wait": True},
        {"apiVersion": naming.ORG_API_VERSION, "kind": naming.ORG_KIND, "name": org,
         "namespace": platform_namespace, "wait": True},
    ]


def decode_secret_value(secret: dict | None, key: str) -> str | None:
    """The decoded value of ``data[key]`` of a Secret as read from the API, or None when absent/unreadable."""
    encoded = ((secret or {}).get("data") or {}).get(key)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8") or None
    except (binascii.Error, UnicodeDecodeError):
        return None
