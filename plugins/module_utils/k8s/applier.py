# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Server-side apply, delete and status writes of plain manifests through one kubernetes.core client.

Modules build manifests with pure functions and hand them to :class:`ObjectApplier`, which applies them with
one field manager, predicts changes in check mode with a server-side dry run, deletes and waits, writes status
subresources, keeps Secret values out of results and diffs, and turns every failure into :class:`K8sError`.
"""

from __future__ import annotations

import copy

from ansible.module_utils.common.dict_transformations import recursive_diff

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import (
    FIELD_MANAGER,
    K8sError,
    api_error,
    describe,
)
from ansible_collections.aphex.platform.plugins.module_utils.k8s.reader import ClusterReader, NotFoundError

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import decode_response
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import get_waiter
except ImportError:  # AphexK8sModule reports the missing collection before any of this runs
    class CoreException(Exception):  # type: ignore[no-redef]
        pass

REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"
# Server-maintained metadata that changes without anyone changing the object's content, and display noise.
NOISE_METADATA = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


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


def _get_path(obj: dict, path: str):
    node = obj
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def redact(obj: dict | None, hidden_fields: dict | None = None, previous: dict | None = None) -> dict | None:
    """Copy of ``obj`` with Secret values and ``hidden_fields[kind]`` (dotted paths) masked.

    Masked values that differ from ``previous`` (the object before the change) read ``<redacted, changed>``.
    """
    # Not kubernetes.core's hide_fields: it deletes the fields, so a diff could not show that a secret changed.
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    kind = result.get("kind")

    def marker(value, old) -> str:
        return REDACTED_CHANGED if previous is not None and value != old else REDACTED

    if kind == "Secret":
        for field in ("data", "stringData"):
            values = result.get(field)
            if isinstance(values, dict):
                old_values = (previous or {}).get(field) or {}
                for key, value in values.items():
                    values[key] = marker(value, old_values.get(key))
        annotations = (result.get("metadata") or {}).get("annotations") or {}
        if LAST_APPLIED in annotations:
            # client-side apply copies the whole Secret, values included, into this annotation
            annotations[LAST_APPLIED] = REDACTED
    for path in (hidden_fields or {}).get(kind, ()):
        *parents, leaf = path.split(".")
        node = _get_path(result, ".".join(parents)) if parents else result
        if isinstance(node, dict) and node.get(leaf) is not None:
            node[leaf] = marker(node[leaf], _get_path(previous or {}, path))
    return result


def diff_pair(before: dict | None, after: dict | None) -> tuple:
    """Only the parts that differ, as (before, after); both empty when nothing differs."""
    return recursive_diff(comparable(before), comparable(after)) or ({}, {})


class ObjectApplier(ClusterReader):
    """Applies, deletes and status-patches manifests; reads as :class:`ClusterReader` does.

    Every call appends one entry to :attr:`results` (``kind``, ``apiVersion``, ``name``, ``namespace``,
    ``action`` = create/update/unchanged/delete/absent); :attr:`diffs` holds redacted before/after pairs.
    In check mode nothing is persisted: applies and deletes are server-side dry runs, and what the server
    cannot dry-run (a kind whose CRD is not installed yet, objects in a namespace this run creates) is
    reported as a create with a warning instead of failing.
    """

    def __init__(self, client, check_mode: bool = False, field_manager: str = FIELD_MANAGER,
                 force_conflicts: bool = False, hidden_fields: dict | None = None, warn=None):
        super().__init__(client)
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
        self.planned_namespaces: set = set()

    @property
    def changed(self) -> bool:
        return any(entry["action"] not in ("unchanged", "absent") for entry in self.results)

    def expect_namespaces(self, objects: list) -> None:
        """Check mode: namespaces that neither exist nor are in ``objects`` come from an earlier step of the run.

        Their objects cannot be dry-run (the server answers 404); they are reported as created, with a warning.
        """
        if not self.check_mode:
            return
        in_set = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
        for name in sorted({o["metadata"].get("namespace") for o in objects} - in_set - {None}):
            if self.get("v1", "Namespace", name) is None:
                self.warn(f"namespace {name} does not exist yet (an earlier step of this run creates it): its "
                          "objects are reported as created without a server-side dry run")
                self.planned_namespaces.add(name)

    # -- bookkeeping -----------------------------------------------------------------------------------
    def record(self, obj: dict, action: str, before: dict | None = None, after: dict | None = None,
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

    def _not_served(self, definition: dict, cause: Exception | None = None) -> dict:
        kind, api_version = definition["kind"], definition["apiVersion"]
        if not self.check_mode:
            raise K8sError(f"Failed to apply {describe(definition)}: the cluster does not serve {kind} "
                           f"({api_version}); install its CustomResourceDefinition first",
                           obj=describe(definition)) from cause
        return self.record(definition, "create", None, definition,
                           warning=f"{describe(definition)}: {kind} ({api_version}) is not installed yet; "
                                   "reporting a create that the server could not validate")

    # -- apply -----------------------------------------------------------------------------------------
    def apply(self, definition: dict) -> dict:
        """Server-side apply one manifest; ``changed`` only when content (not bookkeeping) changed."""
        api_version, kind = definition["apiVersion"], definition["kind"]
        meta = definition["metadata"]
        namespace = meta.get("namespace")
        resource = self.resource(api_version, kind)
        if resource is None:
            return self._not_served(definition)
        if self.check_mode and namespace in self.planned_namespaces:
            return self.record(definition, "create", None, definition)

        before = self.read(resource, meta["name"], namespace)
        try:
            response = self.client.apply(
                resource, definition, namespace=namespace, server_side=True, serialize=False,
                field_manager=self.field_manager, force_conflicts=self.force_conflicts,
            )
            after, warnings = decode_response(response)
        except Exception as exc:
            if getattr(exc, "status", None) == 404 and before is None and self.rediscover(api_version, kind) is None:
                return self._not_served(definition, exc)  # the kind came from a stale discovery cache
            raise api_error("apply", describe(definition), exc) from exc
        for warning in warnings:
            self.warn(f"{describe(definition)}: {warning}")
        self.live[describe(definition)] = after

        if before is None:
            if kind == "Namespace" and self.check_mode:
                self.planned_namespaces.add(meta["name"])
            return self.record(definition, "create", None, after)
        if comparable(before) == comparable(after):
            return self.record(definition, "unchanged")
        return self.record(definition, "update", before, after)

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
            current = self.read(resource, meta["name"], meta.get("namespace"))
        before_status = (current or {}).get("status") or {}
        if self.check_mode or resource is None:
            merged = {**before_status, **status}
            action = "unchanged" if merged == before_status else ("create" if current is None else "update")
            return self.record(label, action, {"status": before_status}, {"status": merged})
        if "status" not in (getattr(resource, "subresources", None) or {}):
            raise K8sError(f"{kind} ({api_version}) has no status subresource", obj=describe(obj))
        try:
            response = self.client.client.server_side_apply(
                resource.subresources["status"], body={**ref, "status": status}, name=meta["name"],
                namespace=meta.get("namespace"), field_manager=self.field_manager, force_conflicts=True,
                serialize=False,
            )
            after, _warnings = decode_response(response)
        except Exception as exc:
            raise api_error("write the status of", describe(obj), exc) from exc
        after_status = after.get("status") or {}
        action = "unchanged" if after_status == before_status else "update"
        return self.record(label, action, {"status": before_status}, {"status": after_status})

    # -- delete ----------------------------------------------------------------------------------------
    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               wait: bool = False, wait_timeout: int = 300, wait_sleep: int = 2) -> dict:
        """Delete one object (absent is fine); with ``wait``, return only once it is gone."""
        ref = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        if namespace:
            ref["metadata"]["namespace"] = namespace
        resource = self.resource(api_version, kind)
        before = None if resource is None else self.read(resource, name, namespace)
        if before is None:
            return self.record(ref, "absent")
        params = {"name": name}
        if namespace:
            params["namespace"] = namespace
        try:
            self.client.delete(resource, **params)
        except NotFoundError:
            return self.record(ref, "absent")
        except Exception as exc:
            raise api_error("delete", describe(ref), exc) from exc
        if wait and not self.check_mode:
            try:
                gone, instance, waited = get_waiter(self.client, resource, state="absent").wait(
                    timeout=wait_timeout, sleep=wait_sleep, name=name, namespace=namespace)
            except CoreException as exc:
                raise api_error("wait for the deletion of", describe(ref), exc) from exc
            if not gone:
                phase = ((instance or {}).get("status") or {}).get("phase")
                raise K8sError(f"Timed out after {waited}s waiting for {describe(ref)} to be deleted"
                               + (f" (still {phase})" if phase else ""), obj=describe(ref))
        return self.record(ref, "delete", before, None)

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

    def outcome(self, work, diff_mode: bool = False) -> dict:
        """The tail every reconciling module shares: run ``work()`` (a dict of module-specific results), add
        ``changed`` and ``objects`` (and ``diff`` in diff mode); on K8sError attach ``objects`` to the error's
        result, so a failed run still reports what it already changed."""
        try:
            result = dict(work() or {})
        except K8sError as exc:
            exc.result = {**exc.result, "objects": self.results}
            raise
        result.update(changed=self.changed, objects=self.results)
        if diff_mode:
            result["diff"] = self.diff()
        return result
