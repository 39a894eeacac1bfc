# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The RepoBinding's status subresource, computed from the outcome of a run.

Phase stays in the CRD enum; ``webhookURL`` is the organization's (the reference wrote one built from the
GitHub owner, and never persisted it: §12.2); the webhook secret is never written. Condition timestamps move
only when a condition flips, so a converged re-run writes nothing.
"""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.organization.status import _condition

from . import naming

READY_MESSAGE = "Repository resources are applied"
# The reference's progress flags (upstream CRD), all true once everything is applied.
PROGRESS_FLAGS = ("namespaceCreated", "serviceAccountCreated", "rbacCreated", "pipelineCreated",
                  "triggerBindingCreated", "triggerTemplateCreated", "triggerCreated")


def binding_status(spec: dict | None, generation, now: str, webhook_url: str | None = None,
                   error: str | None = None, invalid: bool = False, previous: dict | None = None) -> dict:
    """Desired ``status``: Ready, or Failed with ``error`` (``invalid``: the spec itself was rejected)."""
    previous_conditions = {c.get("type"): c for c in (previous or {}).get("conditions") or [] if isinstance(c, dict)}
    if error:
        reason = "InvalidSpec" if invalid else "ProvisioningFailed"
        conditions = [_condition("Ready", False, reason, error, generation, previous_conditions, now),
                      _condition("Validated", not invalid, reason if invalid else "Valid",
                                 error if invalid else "The spec is valid", generation, previous_conditions, now)]
        status = {"phase": "Failed", "message": error}
    else:
        conditions = [_condition("Ready", True, "Provisioned", READY_MESSAGE, generation, previous_conditions, now),
                      _condition("Validated", True, "Valid", "The spec is valid", generation, previous_conditions, now)]
        status = {"phase": "Ready", "message": READY_MESSAGE, **{flag: True for flag in PROGRESS_FLAGS}}
    status.update(observedGeneration=generation, conditions=conditions)
    if spec and not invalid:
        status["pipelineNamespace"] = spec["pipelineName"]
    if webhook_url and not invalid:
        status["webhookURL"] = webhook_url
    return status


def organization_webhook_url(record: dict | None) -> str | None:
    return ((record or {}).get("status") or {}).get("webhookURL") or None


def record_ref(name: str, namespace: str) -> dict:
    return {"apiVersion": naming.API_VERSION, "kind": naming.KIND, "metadata": {"name": name, "namespace": namespace}}
