# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names, labels and defaults of a KnowledgeBase's objects (aphex-reference.md §8.3 unless §12 says otherwise)."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import MANAGED_BY

KB_API_VERSION = "aphex.io/v1alpha1"
KB_KIND = "KnowledgeBase"

# The reference CRD defaults a repository's branch to "mainline" while its controller wrote "main" into the
# ConfigMap (§12.15); the stored object (API server defaulting) is what counts, so the CRD default is used.
DEFAULT_BRANCH = "mainline"
DEFAULT_PATHS = (".kiro/docs",)
DEFAULT_REPLICAS = 1
QUERY_SERVICE_PORT = 8080
# Requests/limits of the MCP server container (the reference's values), overridable per module call.
DEFAULT_MCP_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
# The restricted Pod Security profile needs a non-root user; images that declare none run as this one.
MCP_RUN_AS_USER = 65532

LABEL_KB = "knowledgebase"
PART_OF = "archon"


def names(kb: str) -> dict:
    """Names of what is created for knowledge base ``kb``: the ConfigMap listing what it tracks
    (``config_map``) and the Deployment and Service of its MCP server (``mcp``)."""
    return {"config_map": f"{kb}-repos", "mcp": f"mcp-server-{kb}"}


def query_service_url(namespace: str) -> str:
    """The controller's default for ``spec.mcp.queryServiceURL``."""
    return f"http://query.{namespace}:{QUERY_SERVICE_PORT}"


def mcp_service_url(kb: str, namespace: str, port: int) -> str:
    """In-cluster URL of the MCP server (``status.mcp.serviceURL``)."""
    return f"http://{names(kb)['mcp']}.{namespace}:{port}"


def labels(kb: str, component: str, name: str) -> dict:
    """The reference's labels (knowledgebase, app.kubernetes.io/*) plus the collection's managed-by."""
    return {
        **MANAGED_BY,
        LABEL_KB: kb,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": kb,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/component": component,
    }


def mcp_selector(kb: str) -> dict:
    """Pod selector of the MCP server (the reference's set, without managed-by): fixed once created."""
    return {"app": "mcp-server", LABEL_KB: kb}


def owner_selector(kb: str) -> str:
    """Label selector of every object this module creates for the knowledge base (pruning, offboarding)."""
    key, value = next(iter(MANAGED_BY.items()))
    return f"{key}={value},{LABEL_KB}={kb}"
