# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The only part of platform_secret that talks to the cluster (through kubernetes.core's client).

Errors become PlatformSecretError with the API server's message; request bodies (which hold the
values) are never put into a message.
"""

from __future__ import annotations

import copy
import json
import traceback

from ansible_collections.aphex.platform.plugins.module_utils.platform_secret import (
    FIELD_MANAGER,
    PlatformSecretError,
)

KUBERNETES_CORE_IMPORT_ERROR = None
KUBERNETES_IMPORT_ERROR = None
try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError:
    KUBERNETES_CORE_IMPORT_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {}
try:
    from kubernetes.dynamic.exceptions import NotFoundError
except ImportError:
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()


def auth_arg_spec() -> dict:
    """kubernetes.core's connection options (kubeconfig, context, K8S_AUTH_* fallbacks)."""
    return copy.deepcopy(AUTH_ARG_SPEC)


def _api_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            return json.loads(body).get("message") or str(exc.status)
        except (ValueError, AttributeError, TypeError):
            pass
    status = getattr(exc, "status", None)
    return f"{status} {getattr(exc, 'reason', '')}".strip() if status else f"{type(exc).__name__}: {exc}"


class SecretClient:
    def __init__(self, auth: dict):
        try:
            self._client = get_api_client(**{k: v for k, v in auth.items() if v is not None})
            self._secrets = self._client.resource("Secret", "v1")
        except Exception as exc:  # kubeconfig, TLS and connection errors all end up here
            raise PlatformSecretError(f"cannot reach the Kubernetes API: {_api_message(exc)}") from exc

    def get(self, namespace: str, name: str) -> dict | None:
        try:
            return self._client.get(self._secrets, name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except Exception as exc:
            raise PlatformSecretError(f"reading Secret {namespace}/{name} failed: {_api_message(exc)}") from exc

    def apply(self, definition: dict) -> dict:
        meta = definition["metadata"]
        try:
            # force_conflicts: the module owns the keys it writes, and a rotation must win over a
            # value another manager once applied.
            return self._client.client.server_side_apply(
                self._secrets, body=definition, name=meta["name"], namespace=meta["namespace"],
                field_manager=FIELD_MANAGER, force_conflicts=True,
            ).to_dict()
        except Exception as exc:
            raise PlatformSecretError(
                f"server-side apply of Secret {meta['namespace']}/{meta['name']} failed: {_api_message(exc)}"
            ) from exc
