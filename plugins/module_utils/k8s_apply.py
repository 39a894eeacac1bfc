# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one adapter to the Kubernetes API, built on kubernetes.core's module_utils.

Modules build plain manifests with pure functions and hand the whole list to :class:`ObjectApplier`, which
server-side applies them through one client and one field manager, predicts changes in check mode with a
server-side dry run, deletes and waits, writes status subresources, keeps Secret values out of results and
diffs, and turns every API or client failure into :class:`K8sApplyError`. Modules subclass
:class:`AphexK8sModule` and call ``fail_json`` in exactly one place.
"""

from __future__ import annotations

import copy
import json
import traceback

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import decode_response
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import get_waiter

    HAS_KUBERNETES_COLLECTION = True
    KUBERNETES_COLLECTION_ERROR = None
except ImportError:
    HAS_KUBERNETES_COLLECTION = False
    KUBERNETES_COLLECTION_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {}
    AnsibleK8SModule = object  # the module reports the missing collection before using this base

    class CoreException(Exception):  # type: ignore[no-redef]
        pass

try:
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError, ResourceNotUniqueError
except ImportError:  # AnsibleK8SModule reports the missing library before any of this runs
    class NotFoundError(Exception):  # type: ignore[no-redef]
        pass

    class ResourceNotFoundError(Exception):  # type: ignore[no-redef]
        pass

    class ResourceNotUniqueError(Exception):  # type: ignore[no-redef]
        pass


DEFAULT_FIELD_MANAGER = "aphex-platform"
REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"
# Server-maintained metadata that changes without anyone changing the object's content.
NOISE_METADATA = ("resourceVersion", "managedFields", "generation")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class K8sApplyError(Exception):
    """Any failure talking to the cluster; ``status`` is the HTTP status when the API answered."""

    def __init__(self, msg: str, status: int | None = None, obj: str | None = None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.obj = obj


def describe(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def _api_message(exc: Exception) -> tuple:
    """(message, status) of an API error, preferring the server's own Status.message."""
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
    if isinstance(exc, CoreException) and cause is not None and cause is not exc:
        return _api_message(cause)
    return str(exc) or exc.__class__.__name__, status


def _error(action: str, obj: dict | str, exc: Exception) -> K8sApplyError:
    what = obj if isinstance(obj, str) else describe(obj)
    message, status = _api_message(exc)
    if status == 409 and action == "apply":
        message += " (another field manager owns these fields; force_conflicts takes them over)"
    return K8sApplyError(f"Failed to {action} {what}: {message}", status=status, obj=what)


def comparable(obj: dict | None) -> dict:
    """The object without server bookkeeping and without status (apply never writes status)."""
    if not obj:
        return {}
    result = copy.deepcopy(obj)
    result.pop("status", None)
    meta = result.get("metadata") or {}
    for key in NOISE_METADATA:
        meta.pop(key, None)
    return result


def _set_path(obj: dict, path: str, value) -> None:
    node = obj
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict) and keys[-1] in node:
        node[keys[-1]] = value


def _get_path(obj: dict, path: str):
    node = obj
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def redact(obj: dict | None, hidden_fields: dict | None = None, previous: dict | None = None) -> dict | None:
    """Copy of ``obj`` with Secret values and ``hidden_fields[kind]`` (dotted paths) masked.

    Masked values that differ from ``previous`` (the object before the change) read ``<redacted, changed>``,
    so a diff still shows that a secret changed without showing it.
    """
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    kind = result.get("kind")

    def marker(value, old) -> str:
        return REDACTED_CHANGED if previous is not None and value != old else REDACTED

    paths = list((hidden_fields or {}).get(kind, ()))
    if kind == "Secret":
        for field in ("data", "stringData"):
            values = result.get(field)
            if isinstance(values, dict):
                old_values = ((previous or {}).get(field) or {})
                for key, value in values.items():
                    values[key] = marker(value, old_values.get(key))
        annotations = (result.get("metadata") or {}).get("annotations") or {}
        if LAST_APPLIED in annotations:
            # client-side apply copies the whole Secret, values included, into this annotation
            annotations[LAST_APPLIED] = REDACTED
    for path in paths:
        current = _get_path(result, path)
        if current is not None:
            _set_path(result, path, marker(current, _get_path(previous or {}, path)))
    return result


DISPLAY_NOISE = ("uid", "creationTimestamp")


def diff_pair(before: dict | None, after: dict | None) -> tuple:
    """Only the parts that differ, as (before, after); both empty when nothing differs."""
    before, after = comparable(before), comparable(after)
    for side in (before, after):
        for key in DISPLAY_NOISE:
            (side.get("metadata") or {}).pop(key, None)

    def walk(left, right):
        if isinstance(left, dict) and isinstance(right, dict):
            out_left, out_right = {}, {}
            for key in sorted(set(left) | set(right)):
                if key not in right:
                    out_left[key] = left[key]
                elif key not in left:
                    out_right[key] = right[key]
                elif left[key] != right[key]:
                    out_left[key], out_right[key] = walk(left[key], right[key])
            return out_left, out_right
        return left, right

    return walk(before, after)


class ObjectApplier:
    """Server-side applies, deletes and status-patches plain manifests through one kubernetes.core client.

    Every call appends one entry to :attr:`results` (``kind``, ``apiVersion``, ``name``, ``namespace``,
    ``action`` = create/update/unchanged/delete/absent); :attr:`diffs` holds redacted before/after pairs.
    In check mode nothing is persisted: applies and deletes are server-side dry runs, and what the server
    cannot dry-run (a kind whose CRD is not installed yet, objects in a namespace this run would create) is
    reported as a create with a warning instead of failing.
    """

    def __init__(self, client, check_mode: bool = False, field_manager: str = DEFAULT_FIELD_MANAGER,
                 force_conflicts: bool = False, hidden_fields: dict | None = None, warn=None):
        self.client = client
        self.check_mode = check_mode
        self.field_manager = field_manager
        self.force_conflicts = force_conflicts
        self.hidden_fields = hidden_fields or {}
        self.warn = warn or (lambda message: None)
        self.results: list = []
        self.diffs: list = []
        self.warnings: list = []
        # Objects as the server returned them from apply (dry-run answers in check mode), by describe().
        self.live: dict = {}
        self._planned_namespaces: set = set()

    @property
    def changed(self) -> bool:
        return any(entry["action"] not in ("unchanged", "absent") for entry in self.results)

    # -- lookups ---------------------------------------------------------------------------------------
    def resource(self, api_version: str, kind: str):
        """The API resource for a kind, or None when the cluster does not serve it (CRD not installed)."""
        try:
            return self.client.resource(kind, api_version)
        except (ResourceNotFoundError, ResourceNotUniqueError):
            return None
        except Exception as exc:
            raise _error("discover", f"{kind} ({api_version})", exc) from exc

    def rediscover(self, api_version: str, kind: str):
        """The resource after dropping the discovery cache, which can still list a kind whose CRD was removed.

        kubernetes.core caches API discovery per server in the temp directory; after a CRD is deleted (an
        uninstall, a test's cleanup) the cache still serves the kind and every request to it answers
        ``404 page not found`` until the cache is refreshed.
        """
        try:
            self.client.client.resources.invalidate_cache()
        except Exception:  # pylint: disable=broad-except  # no cache to drop: discovery simply runs again
            pass
        return self.resource(api_version, kind)

    def _read(self, resource, name: str, namespace: str | None, what: str) -> dict | None:
        params = {"name": name}
        if namespace:
            params["namespace"] = namespace
        try:
            return self.client.get(resource, **params).to_dict()
        except NotFoundError:
            return None
        except Exception as exc:
            raise _error("read", what, exc) from exc

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        resource = self.resource(api_version, kind)
        if resource is None:
            return None
        where = f"{namespace}/" if namespace else ""
        return self._read(resource, name, namespace, f"{kind} {where}{name}")

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list:
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
            raise _error("list", f"{kind} ({label_selector or 'all'})", exc) from exc
        # List items carry no apiVersion/kind; put them back so the items are full objects.
        return [{"apiVersion": resource.group_version, "kind": kind, **item} for item in items]

    # -- bookkeeping -----------------------------------------------------------------------------------
    def _record(self, obj: dict, action: str, before: dict | None = None, after: dict | None = None,
                warning: str | None = None) -> dict:
        meta = obj.get("metadata") or {}
        entry = {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"), "name": meta.get("name"),
                 "action": action}
        if meta.get("namespace"):
            entry["namespace"] = meta["namespace"]
        if warning:
            entry["warning"] = warning
            self.warnings.append(warning)
            self.warn(warning)
        self.results.append(entry)
        if action not in ("unchanged", "absent"):
            left, right = diff_pair(redact(before, self.hidden_fields),
                                    redact(after, self.hidden_fields, previous=before))
            self.diffs.append({"object": describe(obj), "before": left, "after": right})
        return entry

    # -- apply -----------------------------------------------------------------------------------------
    def apply(self, definition: dict) -> dict:
        """Server-side apply one manifest; ``changed`` only when content (not bookkeeping) changed."""
        api_version, kind = definition["apiVersion"], definition["kind"]
        meta = definition["metadata"]
        namespace = meta.get("namespace")
        resource = self.resource(api_version, kind)
        if resource is None:
            if not self.check_mode:
                raise K8sApplyError(f"Failed to apply {describe(definition)}: the cluster does not serve {kind} "
                                    f"({api_version}); install its CustomResourceDefinition first",
                                    obj=describe(definition))
            return self._record(definition, "create", None, definition,
                                warning=f"{describe(definition)}: {kind} ({api_version}) is not installed yet; "
                                        "reporting a create that the server could not validate")
        if self.check_mode and namespace in self._planned_namespaces:
            return self._record(definition, "create", None, definition)

        before = self._read(resource, meta["name"], namespace, describe(definition))
        try:
            response = self.client.apply(
                resource, definition, namespace=namespace, server_side=True, serialize=False,
                field_manager=self.field_manager, force_conflicts=self.force_conflicts,
            )
            after, warnings = decode_response(response)
        except Exception as exc:
            if getattr(exc, "status", None) == 404 and before is None and self.rediscover(api_version, kind) is None:
                # The kind came from a stale discovery cache: the cluster does not serve it (any more).
                if not self.check_mode:
                    raise K8sApplyError(f"Failed to apply {describe(definition)}: the cluster does not serve {kind} "
                                        f"({api_version}); install its CustomResourceDefinition first",
                                        obj=describe(definition)) from exc
                return self._record(definition, "create", None, definition,
                                    warning=f"{describe(definition)}: {kind} ({api_version}) is not installed yet; "
                                            "reporting a create that the server could not validate")
            raise _error("apply", definition, exc) from exc
        for warning in warnings:
            self.warn(f"{describe(definition)}: {warning}")
        self.live[describe(definition)] = after

        if before is None:
            if kind == "Namespace" and self.check_mode:
                self._planned_namespaces.add(meta["name"])
            return self._record(definition, "create", None, after)
        if comparable(before) == comparable(after):
            return self._record(definition, "unchanged")
        return self._record(definition, "update", before, after)

    def apply_all(self, definitions: list) -> list:
        return [self.apply(definition) for definition in definitions]

    def apply_status(self, obj: dict, status: dict, current: dict | None = None) -> dict:
        """Server-side apply ``status`` through the status subresource of the object ``obj`` names.

        ``current`` is the object as last read (saves a GET). Status is only ours to write, so conflicts
        are forced. In check mode the change is predicted from ``current`` without a request.
        """
        api_version, kind = obj["apiVersion"], obj["kind"]
        meta = obj["metadata"]
        ref = {"apiVersion": api_version, "kind": kind, "metadata": {"name": meta["name"]}}
        if meta.get("namespace"):
            ref["metadata"]["namespace"] = meta["namespace"]
        label = {**ref, "kind": f"{kind}/status"}
        resource = self.resource(api_version, kind)
        if current is None and resource is not None:
            current = self._read(resource, meta["name"], meta.get("namespace"), describe(obj))
        before_status = (current or {}).get("status") or {}
        if self.check_mode or resource is None:
            merged = {**before_status, **status}
            action = "unchanged" if merged == before_status else ("create" if current is None else "update")
            return self._record(label, action, {"status": before_status}, {"status": merged})
        body = {**ref, "status": status}
        if "status" not in (getattr(resource, "subresources", None) or {}):
            raise K8sApplyError(f"{kind} ({api_version}) has no status subresource", obj=describe(obj))
        try:
            subresource = resource.subresources["status"]
            response = self.client.client.server_side_apply(
                subresource, body=body, name=meta["name"], namespace=meta.get("namespace"),
                field_manager=self.field_manager, force_conflicts=True, serialize=False,
            )
            after, _warnings = decode_response(response)
        except Exception as exc:
            raise _error("write the status of", obj, exc) from exc
        after_status = after.get("status") or {}
        action = "unchanged" if after_status == before_status else "update"
        return self._record(label, action, {"status": before_status}, {"status": after_status})

    # -- delete ----------------------------------------------------------------------------------------
    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               wait: bool = False, wait_timeout: int = 300, wait_sleep: int = 2) -> dict:
        """Delete one object (absent is fine); with ``wait``, return only once it is gone."""
        ref = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        if namespace:
            ref["metadata"]["namespace"] = namespace
        resource = self.resource(api_version, kind)
        if resource is None:
            return self._record(ref, "absent")
        before = self._read(resource, name, namespace, describe(ref))
        if before is None:
            return self._record(ref, "absent")
        params = {"name": name}
        if namespace:
            params["namespace"] = namespace
        try:
            self.client.delete(resource, **params)
        except NotFoundError:
            return self._record(ref, "absent")
        except Exception as exc:
            raise _error("delete", ref, exc) from exc
        if wait and not self.check_mode:
            try:
                gone, instance, waited = get_waiter(self.client, resource, state="absent").wait(
                    timeout=wait_timeout, sleep=wait_sleep, name=name, namespace=namespace)
            except CoreException as exc:
                raise _error("wait for the deletion of", ref, exc) from exc
            if not gone:
                phase = ((instance or {}).get("status") or {}).get("phase")
                raise K8sApplyError(f"Timed out after {waited}s waiting for {describe(ref)} to be deleted"
                                    + (f" (still {phase})" if phase else ""), obj=describe(ref))
        return self._record(ref, "delete", before, None)

    def delete_all(self, refs: list, wait_timeout: int = 300) -> list:
        """Delete refs (``apiVersion``, ``kind``, ``name``, optional ``namespace`` and ``wait``) in order."""
        return [self.delete(r["apiVersion"], r["kind"], r["name"], r.get("namespace"), wait=r.get("wait", False),
                            wait_timeout=wait_timeout) for r in refs]

    def delete_by_label(self, api_version: str, kind: str, label_selector: str, namespace: str | None = None,
                        keep=(), wait: bool = False, wait_timeout: int = 300) -> list:
        """Delete every object of a kind matching ``label_selector``, except names in ``keep``."""
        return [self.delete(api_version, kind, item["metadata"]["name"], item["metadata"].get("namespace"),
                            wait=wait, wait_timeout=wait_timeout)
                for item in self.list(api_version, kind, namespace, label_selector)
                if item["metadata"]["name"] not in keep]

    def diff(self) -> dict:
        """Ansible's diff shape: before/after keyed by object."""
        return {"before": {d["object"]: d["before"] for d in self.diffs},
                "after": {d["object"]: d["after"] for d in self.diffs}}


class AphexK8sModule(AnsibleK8SModule):
    """AnsibleK8SModule with a lazily created client, so modules can validate input before any API call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = get_api_client(module=self)
            except Exception as exc:  # kubeconfig, TLS and configuration errors alike
                raise K8sApplyError(f"Could not create the Kubernetes API client: {_api_message(exc)[0]}") from exc
        return self._client

    def applier(self, **kwargs) -> ObjectApplier:
        return ObjectApplier(self.client, check_mode=self.check_mode, warn=self.warn, **kwargs)


def auth_argument_spec() -> dict:
    """A deep copy of kubernetes.core's connection options (documented by kubernetes.core.k8s_auth_options)."""
    return copy.deepcopy(AUTH_ARG_SPEC)
