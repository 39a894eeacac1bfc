# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Organization's status subresource, computed from the outcome of a run.

The phase stays inside the CRD enum (the reference wrote ``Active``, which its own CRD rejects: §12.1).
Condition timestamps only move when a condition's status flips, so a converged re-run writes nothing.
"""

from __future__ import annotations

from . import naming

PHASES = ("Pending", "Provisioning", "Ready", "Failed")
READY_MESSAGE = "Organization resources are applied"


def _condition(ctype: str, status: bool, reason: str, message: str, generation, previous: dict, now: str) -> dict:
    value = "True" if status else "False"
    old = previous.get(ctype) or {}
    return {
        "type": ctype,
        "status": value,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": old["lastTransitionTime"] if old.get("status") == value and
        old.get("lastTransitionTime") else now,
    }


def organization_status(org: str, generation: int, exposure: str, webhook_url: str | None, now: str,
                        error: str | None = None, previous: dict | None = None, invalid: bool = False) -> dict:
    """Desired ``status`` for the Organization after a run; ``now`` is an RFC 3339 timestamp.

    ``invalid``: the object's spec was rejected (self-service), so nothing was applied: phase ``Failed`` with
    ``error`` and condition ``Ready`` (reason ``InvalidSpec``) only; no namespace, webhook URL or secret ref.
    """
    previous_conditions = {c.get("type"): c for c in (previous or {}).get("conditions") or [] if isinstance(c, dict)}
    if invalid:
        return {
            "phase": "Failed",
            "message": error,
            "observedGeneration": generation,
            "conditions": [_condition("Ready", False, "InvalidSpec", error, generation, previous_conditions, now)],
        }
    if error:
        phase, message = "Failed", error
        ready = _condition("Ready", False, "ProvisioningFailed", error, generation, previous_conditions, now)
    else:
        phase, message = "Ready", READY_MESSAGE
        ready = _condition("Ready", True, "Provisioned", READY_MESSAGE, generation, previous_conditions, now)
    if exposure == "none":
        exposed = _condition("WebhookExposed", False, "NotExposed",
                             "Exposure is 'none': the listener is reachable inside the cluster only",
                             generation, previous_conditions, now)
    else:
        reason = "CloudflareTunnel" if exposure == "cloudflare" else "Ingress"
        exposed = _condition("WebhookExposed", True, reason, f"GitHub delivers to {webhook_url}",
                             generation, previous_conditions, now)
    status = {
        "phase": phase,
        "namespace": naming.namespace_name(org),
        "message": message,
        "observedGeneration": generation,
        "webhookSecretRef": {"namespace": naming.namespace_name(org), "name": naming.WEBHOOK_SECRET_NAME,
                             "key": naming.WEBHOOK_SECRET_KEY},
        "conditions": [ready, exposed],
    }
    if webhook_url:
        status["webhookURL"] = webhook_url
    return status
