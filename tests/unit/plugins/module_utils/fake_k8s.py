# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An in-memory stand-in for kubernetes.core's K8SClient, just enough API server for the adapter's unit tests.

It behaves like the parts of a real server the adapter relies on: 404 for a missing object or namespace,
server-side apply that bumps resourceVersion/generation only on a real change and records the field manager,
dry runs that change nothing, status through a subresource, and deletion of a namespace's content with it.
The integration target runs the same code against a real kube-apiserver.
"""

from __future__ import annotations

import copy
import json

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError, UnprocessibleEntityError
from kubernetes.dynamic.resource import ResourceInstance

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterSecretStore",
                  "CustomResourceDefinition"}
DEFAULT_KINDS = {
    ("v1", "Namespace"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "ResourceQuota"), ("v1", "LimitRange"),
    ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"), ("apps/v1", "Deployment"),
    ("triggers.tekton.dev/v1beta1", "EventListener"), ("triggers.tekton.dev/v1beta1", "TriggerBinding"),
    ("external-secrets.io/v1", "ClusterSecretStore"), ("aphex.io/v1alpha1", "Organization"),
}


def api_error(cls, status: int, message: str):
    exc = ApiException(status=status, reason="error")
    exc.body = json.dumps({"kind": "Status", "message": message})
    exc.headers = {"Content-Type": "application/json"}
    return cls(exc)


def Instance(data: dict):  # noqa: N802 - stands in for the class the real client returns
    return ResourceInstance(None, copy.deepcopy(data))


class Response:
    def __init__(self, data: dict, warnings=None):
        self.data = json.dumps(data).encode()
        self.headers = {"warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else None


class FakeResource:
    def __init__(self, api_version: str, kind: str):
        self.group_version = api_version
        self.kind = kind
        self.namespaced = kind not in CLUSTER_SCOPED
        self.subresources = {"status": FakeSubresource(self)} if kind not in ("Namespace", "Secret") else {}


class FakeSubresource:
    def __init__(self, parent):
        self.parent = parent


class FakeDynamicClient:
    """What the adapter reaches as ``client.client`` (status writes)."""

    def __init__(self, owner):
        self.owner = owner

    def server_side_apply(self, subresource, body=None, name=None, namespace=None, **params):
        return self.owner._apply_status(subresource.parent, body, name, namespace, params)


class FakeDiscoverer:
    def __init__(self, owner):
        self.owner = owner

    def invalidate_cache(self):
        self.owner.invalidations += 1


class FakeK8sClient:
    def __init__(self, kinds=None, dry_run: bool = False):
        self.kinds = set(DEFAULT_KINDS if kinds is None else kinds)
        self.dry_run = dry_run
        self.store: dict = {}
        self.calls: list = []
        self.client = FakeDynamicClient(self)
        self.resources = FakeDiscoverer(self)
        self.invalidations = 0
        self.fail_on: dict = {}  # (verb, kind, name) -> exception to raise
        self._version = 0

    # -- helpers for tests ---------------------------------------------------------------------------
    def key(self, api_version, kind, name, namespace=None):
        return (api_version.split("/")[0] if "/" in api_version else "", kind, namespace or "", name)

    def put(self, obj: dict, manager: str = "someone-else", operation: str = "Update") -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        self._version += 1
        meta.setdefault("uid", f"uid-{self._version}")
        meta["resourceVersion"] = str(self._version)
        meta.setdefault("generation", 1)
        meta["managedFields"] = [{"manager": manager, "operation": operation}]
        self.store[self.key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))] = obj
        return obj

    def object(self, api_version, kind, name, namespace=None):
        return self.store.get(self.key(api_version, kind, name, namespace))

    def mutating_calls(self):
        return [c for c in self.calls if c[0] in ("apply", "delete", "status") and not c[-1]]

    # -- K8SClient surface ---------------------------------------------------------------------------
    def resource(self, kind, api_version):
        if (api_version, kind) not in self.kinds:
            raise ResourceNotFoundError(f"No matches found for {{'api_version': '{api_version}', 'kind': '{kind}'}}")
        return FakeResource(api_version, kind)

    def _check_failure(self, verb, kind, name):
        exc = self.fail_on.get((verb, kind, name))
        if exc:
            raise exc

    def get(self, resource, name=None, namespace=None, label_selector=None, **params):
        self.calls.append(("get", resource.kind, name, namespace, False))
        if name:
            obj = self.store.get(self.key(resource.group_version, resource.kind, name, namespace))
            if obj is None:
                raise api_error(NotFoundError, 404, f'{resource.kind.lower()}s "{name}" not found')
            return Instance(obj)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",")) if label_selector else {}
        items = [
            {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
            for (_group, kind, ns, _name), obj in sorted(self.store.items())
            if kind == resource.kind and (not namespace or ns == namespace)
            and all((obj["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]
        return Instance({"apiVersion": resource.group_version, "kind": f"{resource.kind}List", "items": items})

    def apply(self, resource, definition, namespace=None, server_side=False, field_manager=None,
              force_conflicts=None, serialize=True, **params):
        assert server_side and field_manager, "the adapter must always server-side apply with a field manager"
        meta = definition["metadata"]
        self.calls.append(("apply", resource.kind, meta["name"], namespace, self.dry_run))
        self._check_failure("apply", resource.kind, meta["name"])
        if resource.namespaced and not self.store.get(self.key("v1", "Namespace", namespace)):
            raise api_error(NotFoundError, 404, f'namespaces "{namespace}" not found')
        key = self.key(resource.group_version, resource.kind, meta["name"], namespace)
        current = self.store.get(key)
        merged = copy.deepcopy(current) if current else {"metadata": {}}
        for field, value in definition.items():
            if field == "metadata":
                merged["metadata"].update(copy.deepcopy(value))
            else:
                merged[field] = copy.deepcopy(value)
        content_changed = current is None or {k: v for k, v in merged.items() if k != "metadata"} != \
            {k: v for k, v in current.items() if k != "metadata"} or \
            merged["metadata"].get("labels") != current["metadata"].get("labels") or \
            merged["metadata"].get("annotations") != current["metadata"].get("annotations")
        if content_changed:
            self._version += 1
            merged["metadata"]["resourceVersion"] = str(self._version)
            merged["metadata"].setdefault("uid", f"uid-{self._version}")
            merged["metadata"]["creationTimestamp"] = merged["metadata"].get("creationTimestamp",
                                                                             "2026-01-01T00:00:00Z")
            spec_changed = current is None or merged.get("spec") != current.get("spec")
            merged["metadata"]["generation"] = (current or {}).get("metadata", {}).get("generation", 0) + \
                (1 if spec_changed else 0)
            managers = [m for m in merged["metadata"].get("managedFields", []) if m["manager"] != field_manager]
            merged["metadata"]["managedFields"] = managers + [{"manager": field_manager, "operation": "Apply"}]
        if not self.dry_run:
            self.store[key] = merged
        return Response(merged)

    def delete(self, resource, name=None, namespace=None, **params):
        self.calls.append(("delete", resource.kind, name, namespace, self.dry_run))
        self._check_failure("delete", resource.kind, name)
        key = self.key(resource.group_version, resource.kind, name, namespace)
        if key not in self.store:
            raise api_error(NotFoundError, 404, "not found")
        if self.dry_run:
            return Instance(self.store[key])
        removed = self.store.pop(key)
        if resource.kind == "Namespace":
            for other in [k for k in self.store if k[2] == name]:
                del self.store[other]
        return Instance(removed)

    def _apply_status(self, resource, body, name, namespace, params):
        self.calls.append(("status", resource.kind, name, namespace, False))
        self._check_failure("status", resource.kind, name)
        key = self.key(resource.group_version, resource.kind, name, namespace)
        if key not in self.store:
            raise api_error(NotFoundError, 404, f'{resource.kind.lower()}s "{name}" not found')
        obj = self.store[key]
        if obj.get("status") != body["status"]:
            obj["status"] = copy.deepcopy(body["status"])
            self._version += 1
            obj["metadata"]["resourceVersion"] = str(self._version)
        return Response(obj)


def unprocessable(message: str):
    return api_error(UnprocessibleEntityError, 422, message)
