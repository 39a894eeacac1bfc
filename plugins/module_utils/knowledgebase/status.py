# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The KnowledgeBase's status subresource, computed from the outcome of a run (pure).

``lastReconcileTime`` and the Ready condition's ``lastTransitionTime`` move only when something changed, so a
converged re-run writes nothing and reports no change.
"""

from __future__ import annotations

import copy

from ansible_collections.aphex.platform.plugins.module_utils.organization.status import _condition

from . import naming


def ready_message(spec: dict) -> str:
    count = len(spec["repositories"])
    return f"Tracking {count} {'repository' if count == 1 else 'repositories'}"


def mcp_status(kb: str, namespace: str, spec: dict | None, ready_replicas: int | None) -> dict:
    mcp = (spec or {}).get("mcp")
    if not mcp:
        return {"deployed": False}
    return {"deployed": True, "serviceName": naming.names(kb)["mcp"],
            "serviceURL": naming.mcp_service_url(kb, namespace, mcp["port"]), "readyReplicas": ready_replicas or 0}


def knowledgebase_status(kb: str, namespace: str, spec: dict | None, generation, now: str, previous: dict | None,
                         changed: bool, error: str | None = None, ready_replicas: int | None = None) -> dict:
    """Desired ``status`` after a run. ``spec`` is the normalised spec (None when it failed validation),
    ``changed`` whether the run changed any object, ``now`` an RFC 3339 timestamp."""
    previous = previous or {}
    conditions = {c.get("type"): c for c in previous.get("conditions") or [] if isinstance(c, dict)}
    if error:
        phase, message = "Failed", error
        ready = _condition("Ready", False, "ReconcileFailed", error, generation, conditions, now)
        # The objects stay as the last good run left them; so does what the status says about them.
        mcp = copy.deepcopy(previous.get("mcp")) or {"deployed": False}
    else:
        phase, message = "Ready", ready_message(spec)
        ready = _condition("Ready", True, "Reconciled", message, generation, conditions, now)
        mcp = mcp_status(kb, namespace, spec, ready_replicas)
    status = {"phase": phase, "message": message, "observedGeneration": generation, "conditions": [ready],
              "mcp": mcp}
    unchanged = {k: previous.get(k) for k in status} == status
    status["lastReconcileTime"] = previous.get("lastReconcileTime") if unchanged and not changed and \
        previous.get("lastReconcileTime") else now
    return status
