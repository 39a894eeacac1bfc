# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only view of the cluster over kubernetes.core's client: discovery, get, list, server-side dry-run create.

Reads return plain dicts (None / [] when the object or its kind does not exist); every API failure becomes a
:class:`K8sError` with the HTTP status, so callers (the readiness gate) decide what is fatal and what is worth
another round. :class:`~.applier.ObjectApplier` builds its writes on the same reads.
"""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError, api_error, api_message

try:
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError, ResourceNotUniqueError
except ImportError:  # AnsibleK8SModule reports the missing library before any of this runs
    class NotFoundError(Exception):  # type: ignore[no-redef]
        pass

    class ResourceNotFoundError(Exception):  # type: ignore[no-redef]
        pass

    class ResourceNotUniqueError(Exception):  # type: ignore[no-redef]
        pass


def refresh_discovery(client) -> None:
    """Drop kubernetes.core's on-disk API discovery cache (the one place that does).

    The cache is keyed by the API server URL only: a cluster recreated at the same address, or a CRD deleted or
    established since, would otherwise be believed (not) served; requests to a kind that is gone answer
    ``404 page not found``. Rediscovery is lazy and cheap.
    """
    try:
        client.resources.invalidate_cache()
    except Exception:  # pylint: disable=broad-except  # no cache to drop: discovery simply runs again
        pass


def _where(kind: str, name: str, namespace: str | None) -> str:
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


class ClusterReader:
    """Reads through one kubernetes.core K8SClient.

    With ``rediscover_missing`` a kind the cluster does not serve drops the discovery cache, so that a CRD
    established later is found by the next call (what a gate that polls needs).
    """

    def __init__(self, client, rediscover_missing: bool = False):
        self.client = client
        self.rediscover_missing = rediscover_missing

    def resource(self, api_version: str, kind: str):
        """The API resource for a kind, or None when the cluster does not serve it (CRD not installed)."""
        try:
            return self.client.resource(kind, api_version)
        except (ResourceNotFoundError, ResourceNotUniqueError):
            if self.rediscover_missing:
                refresh_discovery(self.client)
            return None
        except Exception as exc:
            raise api_error("discover", f"{kind} ({api_version})", exc) from exc

    def rediscover(self, api_version: str, kind: str):
        """The resource after dropping the discovery cache, which can still list a kind whose CRD was removed."""
        refresh_discovery(self.client)
        return self.resource(api_version, kind)

    def read(self, resource, name: str, namespace: str | None = None) -> dict | None:
        """The object ``name`` of an API resource, or None when it does not exist."""
        params = {"name": name}
        if namespace and resource.namespaced:
            params["namespace"] = namespace
        try:
            return self.client.get(resource, **params).to_dict()
        except NotFoundError:
            return None
        except Exception as exc:
            raise api_error("read", _where(resource.kind, name, namespace), exc) from exc

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        resource = self.resource(api_version, kind)
        return None if resource is None else self.read(resource, name, namespace)

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list:
        """Full objects (apiVersion and kind included) of a kind; [] when the kind is not served."""
        resource = self.resource(api_version, kind)
        if resource is None:
            return []
        params = {}
        if namespace:
            params["namespace"] = namespace
        if label_selector:
            params["label_selector"] = label_selector
        try:
            items = self.client.get(resource, **params).to_dict().get("items") or []
        except NotFoundError:
            return []
        except Exception as exc:
            raise api_error("list", f"{kind} in {namespace or 'all namespaces'} ({label_selector or 'all'})",
                            exc) from exc
        # List items carry no apiVersion/kind; put them back so the items are full objects.
        return [{"apiVersion": resource.group_version, "kind": kind, **item} for item in items]

    def dry_run_create(self, obj: dict) -> str | None:
        """None when admission accepts a server-side dry-run create of ``obj``, else the server's message."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        if resource is None:
            return f"the cluster does not serve {obj['kind']} ({obj['apiVersion']}) yet"
        namespace = (obj.get("metadata") or {}).get("namespace")
        try:
            resource.create(body=obj, namespace=namespace if resource.namespaced else None, dry_run="All")
        except Exception as exc:
            message, status = api_message(exc)
            if status == 409:  # AlreadyExists is decided by storage, after every admission webhook said yes
                return None
            if status in (401, 403):
                raise K8sError(f"Failed to dry-run create {obj['kind']}: {message}", status=status) from exc
            return message
        return None
