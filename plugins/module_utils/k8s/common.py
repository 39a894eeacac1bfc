# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every part of the Kubernetes adapter shares: the one error type, the field manager, naming objects.

No imports of kubernetes or kubernetes.core, so pure module_utils can raise :class:`K8sError` too.
"""

from __future__ import annotations

import json

FIELD_MANAGER = "aphex-platform"
MANAGED_BY = {"app.kubernetes.io/managed-by": FIELD_MANAGER}


class K8sError(Exception):
    """Why a Kubernetes module fails: invalid input, or a failed API call.

    ``status`` is the HTTP status when the API server answered, ``obj`` the object concerned (``Kind ns/name``),
    ``result`` what the module reports along with the message (e.g. the objects applied before the failure).
    """

    def __init__(self, msg: str, status: int | None = None, obj: str | None = None, result: dict | None = None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.obj = obj
        self.result = result or {}


def describe(obj: dict) -> str:
    """``Kind namespace/name`` of a manifest, the way messages and diffs name objects."""
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def api_message(exc: Exception) -> tuple:
    """(message, status) of an API error, preferring the server's own Status.message (never a request body)."""
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    if body:
        try:
            decoded = json.loads(body.decode() if isinstance(body, bytes) else body)
            if isinstance(decoded, dict) and decoded.get("message"):
                return decoded["message"], status
        except (ValueError, AttributeError):
            pass
        return str(body), status
    cause = exc.__cause__
    if status is None and cause is not None and cause is not exc:  # kubernetes.core's CoreException wraps it
        return api_message(cause)
    return str(exc) or exc.__class__.__name__, status


def api_error(action: str, what: str, exc: Exception) -> K8sError:
    """``K8sError`` for a failed ``action`` on ``what`` (``Kind ns/name``), with the API's message and status."""
    message, status = api_message(exc)
    if status == 409 and action == "apply":
        message += " (another field manager owns these fields; force_conflicts takes them over)"
    return K8sError(f"Failed to {action} {what}: {message}", status=status, obj=what)
