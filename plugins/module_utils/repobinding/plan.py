# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a binding owns, by kind, and in which order offboarding deletes it. Plain data in, plain data out."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.organization.plan import prune_plan, ref

from . import naming

# Kinds the module creates in some namespace (pipeline namespace, org namespace, argocd), in offboarding
# order: the Trigger first (no new runs), the AppProject before the RBAC.
NAMESPACED_KINDS = (
    (naming.TRIGGERS_API_VERSION, "Trigger"),
    (naming.TRIGGERS_API_VERSION, "TriggerTemplate"),
    (naming.ARGOCD_API_VERSION, "AppProject"),
    (naming.PIPELINE_API_VERSION, "Pipeline"),
    (naming.RBAC_API_VERSION, "RoleBinding"),
    (naming.RBAC_API_VERSION, "Role"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "LimitRange"),
    ("v1", "ResourceQuota"),
)
CLUSTER_KINDS = (
    (naming.RBAC_API_VERSION, "ClusterRoleBinding"),
    (naming.RBAC_API_VERSION, "ClusterRole"),
)
APPLICATION = (naming.ARGOCD_API_VERSION, "Application")
NAMESPACE = ("v1", "Namespace")
# Everything that can carry the binding's labels, for a leftover check.
ALL_KINDS = NAMESPACED_KINDS + CLUSTER_KINDS + (APPLICATION, NAMESPACE)


def stale(existing: list, desired: list, field_manager: str) -> list:
    """Refs of objects this binding applied earlier and no longer wants (e.g. its Pipeline after a switch
    to catalogPipeline, its TriggerTemplate after templateRef named an existing one)."""
    return prune_plan(existing, desired, field_manager)


def offboarding_refs(found: dict, pipeline_namespaces: list) -> list:
    """Delete order for what was ``found`` by label (``{(apiVersion, kind): [objects]}``): everything outside
    the pipeline namespaces kind by kind (the namespace delete cascades to what is inside), then the
    pipeline namespaces, waiting until they are gone."""
    refs = []
    for key in (APPLICATION,) + NAMESPACED_KINDS + CLUSTER_KINDS:
        for obj in found.get(key, []):
            item = ref(obj)
            if item.get("namespace") not in pipeline_namespaces:
                refs.append(item)
    refs.extend({"apiVersion": "v1", "kind": "Namespace", "name": ns, "wait": True} for ns in pipeline_namespaces)
    return refs


def identity(obj: dict | None) -> dict | None:
    """``{"pipelineName", "aphexOrg"}`` a RepoBinding object (or a namespace labelled for one) names."""
    if not obj:
        return None
    if obj.get("kind") == naming.KIND:
        spec = obj.get("spec") or {}
        if spec.get("pipelineName"):
            return {"pipelineName": spec["pipelineName"], "aphexOrg": spec.get("aphexOrg")}
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {"pipelineName": obj["metadata"]["name"], "aphexOrg": labels.get(naming.LABEL_REF_ORG)}
