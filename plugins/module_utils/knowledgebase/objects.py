# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired objects of one KnowledgeBase, built from a normalised spec with no API call (§8.3).

The ConfigMap ``<kb>-repos`` records what to track; with ``spec.mcp`` the MCP server runs as Deployment and
Service ``mcp-server-<kb>``, hardened for Pod Security ``restricted`` (non-root, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, read-only root filesystem with a writable /tmp, no service
account token). Every object carries the knowledge base's labels and, once the record exists, a controller
owner reference to it, so deleting the record (self-service offboarding) lets the garbage collector remove them.
"""

from __future__ import annotations

import copy

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import MANAGED_BY

from . import naming


def owner_reference(record: dict | None) -> list:
    """The controller reference to the KnowledgeBase record; none while it has no uid (check mode, first run)."""
    meta = (record or {}).get("metadata") or {}
    if not meta.get("uid"):
        return []
    return [{"apiVersion": naming.KB_API_VERSION, "kind": naming.KB_KIND, "name": meta["name"], "uid": meta["uid"],
             "controller": True}]


def _meta(name: str, namespace: str, labels: dict, owners: list) -> dict:
    meta = {"name": name, "namespace": namespace, "labels": labels}
    if owners:
        meta["ownerReferences"] = copy.deepcopy(owners)
    return meta


def record(name: str, namespace: str, spec: dict) -> dict:
    """The KnowledgeBase itself, when the module is given its spec (the spec as given: the CRD defaults it)."""
    return {"apiVersion": naming.KB_API_VERSION, "kind": naming.KB_KIND,
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
            "spec": copy.deepcopy(spec)}


def config_map(kb: str, namespace: str, spec: dict, owners: list) -> dict:
    data = {"displayName": spec["displayName"], "repositoryCount": str(len(spec["repositories"]))}
    if spec["description"]:
        data["description"] = spec["description"]
    for index, repo in enumerate(spec["repositories"]):
        data[f"repo.{index}.url"] = repo["url"]
        data[f"repo.{index}.branch"] = repo["branch"]
        data[f"repo.{index}.paths"] = ",".join(repo["paths"])
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(naming.names(kb)["config_map"], namespace,
                              naming.labels(kb, "config", "knowledgebase-config"), owners),
            "data": data}


def _probe(period: int, initial: int) -> dict:
    return {"httpGet": {"path": "/health", "port": "http"}, "initialDelaySeconds": initial, "periodSeconds": period,
            "failureThreshold": 3}


def deployment(kb: str, namespace: str, mcp: dict, resources: dict, owners: list) -> dict:
    labels = {**naming.labels(kb, "mcp", "mcp-server"), **naming.mcp_selector(kb)}
    pod_labels = {k: v for k, v in labels.items() if k not in MANAGED_BY}
    container = {
        "name": "mcp-server",
        "image": mcp["image"],
        "ports": [{"name": "http", "containerPort": mcp["port"], "protocol": "TCP"}],
        "env": [{"name": "QUERY_SERVICE_URL", "value": mcp["queryServiceURL"]}],
        "resources": copy.deepcopy(resources),
        "livenessProbe": _probe(30, 10),
        "readinessProbe": _probe(10, 5),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(naming.names(kb)["mcp"], namespace, labels, owners),
        "spec": {
            "replicas": mcp["replicas"],
            "selector": {"matchLabels": naming.mcp_selector(kb)},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": naming.MCP_RUN_AS_USER,
                        "runAsGroup": naming.MCP_RUN_AS_USER,
                        "fsGroup": naming.MCP_RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def service(kb: str, namespace: str, mcp: dict, owners: list) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(naming.names(kb)["mcp"], namespace, naming.labels(kb, "mcp", "mcp-server"), owners),
        "spec": {
            "type": "ClusterIP",
            "selector": naming.mcp_selector(kb),
            "ports": [{"name": "http", "port": mcp["port"], "targetPort": "http", "protocol": "TCP"}],
        },
    }


def derived_objects(kb: str, namespace: str, spec: dict, resources: dict, owner: dict | None) -> list:
    """ConfigMap, and the MCP Deployment and Service when ``spec['mcp']`` is set (normalised spec)."""
    owners = owner_reference(owner)
    objects = [config_map(kb, namespace, spec, owners)]
    if spec["mcp"]:
        objects.append(deployment(kb, namespace, spec["mcp"], resources, owners))
        objects.append(service(kb, namespace, spec["mcp"], owners))
    return objects


def merged_resources(override: dict | None) -> dict:
    """The reference's requests/limits with ``override`` (per section) on top."""
    resources = copy.deepcopy(naming.DEFAULT_MCP_RESOURCES)
    for section, values in (override or {}).items():
        resources.setdefault(section, {}).update(values)
    return resources
