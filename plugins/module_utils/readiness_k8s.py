# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The readiness gate's only contact with the cluster: a reader over kubernetes.core's client.

Reads return plain dicts (None / [] when the object or its kind does not exist); every API failure becomes
``readiness.ReadError`` with the HTTP status, so the pure gate logic decides what is fatal and what is
worth another round.
"""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k8s_apply import (
    NotFoundError,
    ResourceNotFoundError,
    ResourceNotUniqueError,
    _api_message,
)
from ansible_collections.aphex.platform.plugins.module_utils.readiness import ReadError

class ClusterReader:
    def __init__(self, client):
        self.client = client
        self._resources: dict = {}

    def _resource(self, api_version: str, kind: str):
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self.client.resource(kind, api_version)
            except (ResourceNotFoundError, ResourceNotUniqueError):
                # Not served (yet): forget it, so that a CRD established later is discovered then.
                self._invalidate()
                return None
            except Exception as exc:
                raise ReadError(f"discover {kind} ({api_version}): {_api_message(exc)[0]}",
                                _api_message(exc)[1]) from exc
        return self._resources[key]

    def _invalidate(self) -> None:
        try:
            self.client.client.resources.invalidate_cache()
        except Exception:  # older clients have no cache to drop; discovery then simply runs again
            pass

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None):
        resource = self._resource(api_version, kind)
        if resource is None:
            return None
        params = {"name": name}
        if namespace and resource.namespaced:
            params["namespace"] = namespace
        try:
            return self.client.get(resource, **params).to_dict()
        except NotFoundError:
            return None
        except Exception as exc:
            message, status = _api_message(exc)
            raise ReadError(f"read {kind} {namespace + '/' if namespace else ''}{name}: {message}", status) from exc

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None):
        resource = self._resource(api_version, kind)
        if resource is None:
            return []
        params = {}
        if namespace:
            params["namespace"] = namespace
        if label_selector:
            params["label_selector"] = label_selector
        try:
            return self.client.get(resource, **params).to_dict().get("items") or []
        except NotFoundError:
            return []
        except Exception as exc:
            message, status = _api_message(exc)
            raise ReadError(f"list {kind} in {namespace or 'all namespaces'}: {message}", status) from exc

    def dry_run_create(self, obj: dict):
        """None when admission accepts a server-side dry-run create of ``obj``, else the server's message."""
        resource = self._resource(obj["apiVersion"], obj["kind"])
        if resource is None:
            return f"the cluster does not serve {obj['kind']} ({obj['apiVersion']}) yet"
        namespace = (obj.get("metadata") or {}).get("namespace")
        try:
            resource.create(body=obj, namespace=namespace if resource.namespaced else None, dry_run="All")
        except Exception as exc:
            message, status = _api_message(exc)
            if status == 409:  # AlreadyExists is decided by storage, after every admission webhook said yes
                return None
            if status in (401, 403):
                raise ReadError(f"dry-run create {obj['kind']}: {message}", status) from exc
            return message
        return None
