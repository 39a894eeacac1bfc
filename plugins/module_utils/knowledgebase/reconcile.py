# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one KnowledgeBase: the pure validation, builders and status of ``knowledgebase/`` driven through the
Kubernetes adapter (``k8s``). The module file only declares options."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError, api_error, describe
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import DNS_LABEL_RE

from . import naming, objects, status, validation

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import get_waiter
except ImportError:  # AphexK8sModule reports the missing collection before any of this runs
    class CoreException(Exception):  # type: ignore[no-redef]
        pass

# Kinds this module creates for a knowledge base (pruning and offboarding list exactly these).
DERIVED_KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"))


class KnowledgeBaseInputError(K8sError):
    """Invalid module arguments or KnowledgeBase spec; raised before any object is changed."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def argument_errors(params: dict) -> list:
    """Problems of the module arguments themselves (no API call needed)."""
    errors = validation.name_errors(params.get("name"))
    namespace = params.get("namespace")
    if not isinstance(namespace, str) or not DNS_LABEL_RE.match(namespace):
        errors.append(f"namespace: {namespace!r} is not a namespace name (DNS label)")
    errors.extend(validation.resources_errors(params.get("mcp_resources")))
    for index, prefix in enumerate(params.get("allowed_path_prefixes") or []):
        if not prefix or prefix.startswith("/") or ".." in prefix:
            errors.append(f"allowed_path_prefixes[{index}]: {prefix!r} must be a relative path without '..'")
    if params.get("spec") is not None and params.get("state") != "absent":
        errors.extend(validation.spec_errors(params["spec"], params.get("allowed_path_prefixes") or ()))
    return errors


def _ref(name: str, namespace: str) -> dict:
    return {"apiVersion": naming.KB_API_VERSION, "kind": naming.KB_KIND,
            "metadata": {"name": name, "namespace": namespace}}


class Reconciler:
    def __init__(self, module, applier):
        self.module = module
        self.applier = applier
        self.params = module.params
        self.name = self.params["name"]
        self.namespace = self.params["namespace"]

    # -- status ----------------------------------------------------------------------------------------
    def write_status(self, record: dict | None, spec: dict | None, error: str | None = None,
                     ready_replicas: int | None = None) -> dict | None:
        """Write (or in check mode predict) the status; None when there is no record to write it to."""
        current = self.applier.get(naming.KB_API_VERSION, naming.KB_KIND, self.name, self.namespace)
        live = record or current
        if live is None:
            return None
        generation = (live.get("metadata") or {}).get("generation") or 1
        desired = status.knowledgebase_status(self.name, self.namespace, spec, generation, _now(),
                                              (current or {}).get("status"), changed=self.applier.changed,
                                              error=error, ready_replicas=ready_replicas)
        self.applier.apply_status(_ref(self.name, self.namespace), desired, current=current)
        return desired

    def fail(self, error: K8sError, record: dict | None):
        """Record the failure in the status when the record exists, then raise ``error``."""
        try:
            self.write_status(record, None, error=error.msg)
        except K8sError:
            pass  # the record itself may be what failed; the original error is the one to report
        raise error

    # -- present ---------------------------------------------------------------------------------------
    def wait_for_rollout(self, deployment: dict) -> dict | None:
        resource = self.applier.resource(deployment["apiVersion"], deployment["kind"])
        try:
            ready, instance, waited = get_waiter(self.applier.client, resource, state="present").wait(
                timeout=self.params["wait_timeout"], sleep=2, name=deployment["metadata"]["name"],
                namespace=self.namespace)
        except CoreException as exc:
            raise api_error("wait for the rollout of", describe(deployment), exc) from exc
        if not ready:
            raise K8sError(f"Timed out after {waited}s waiting for {describe(deployment)} to become available",
                           obj=describe(deployment))
        return instance

    def prune(self, desired: list) -> None:
        wanted = {(o["kind"], o["metadata"]["name"]) for o in desired}
        for api_version, kind in DERIVED_KINDS:
            keep = [name for wanted_kind, name in wanted if wanted_kind == kind]
            self.applier.delete_by_label(api_version, kind, naming.owner_selector(self.name), self.namespace,
                                         keep=keep)

    def present(self) -> dict:
        spec_given = self.params.get("spec")
        self.applier.expect_namespaces([_ref(self.name, self.namespace)])
        current = self.applier.get(naming.KB_API_VERSION, naming.KB_KIND, self.name, self.namespace)
        if spec_given is None:
            if current is None:
                raise KnowledgeBaseInputError(
                    f"spec: KnowledgeBase {self.namespace}/{self.name} does not exist; give its spec, or create it first")
            errors = validation.spec_errors(current.get("spec"), self.params["allowed_path_prefixes"])
            if errors:
                self.fail(KnowledgeBaseInputError("Invalid KnowledgeBase: " + "; ".join(errors)), current)
            record = current
        else:
            wanted = objects.record(self.name, self.namespace, spec_given)
            self.applier.apply(wanted)
            record = self.applier.live.get(describe(wanted)) or current
        # The stored spec, with the API server's defaults (branch, replicas), is what the objects reflect.
        spec = validation.normalize_spec((record or {}).get("spec") or spec_given, self.namespace)
        desired = objects.derived_objects(self.name, self.namespace, spec,
                                          objects.merged_resources(self.params.get("mcp_resources")), record)
        ready_replicas = None
        try:
            self.applier.apply_all(desired)
            self.prune(desired)
            if spec["mcp"]:
                deployment = desired[1]
                live = self.applier.live.get(describe(deployment)) or {}
                if self.params["wait"] and not self.module.check_mode:
                    live = self.wait_for_rollout(deployment) or live
                ready_replicas = (live.get("status") or {}).get("readyReplicas") or 0
        except K8sError as exc:
            self.fail(exc, record)
        return {
            "status": self.write_status(record, spec, ready_replicas=ready_replicas),
            "config_map": naming.names(self.name)["config_map"],
            "mcp_service_url": status.mcp_status(self.name, self.namespace, spec, None).get("serviceURL"),
        }

    # -- absent ----------------------------------------------------------------------------------------
    def absent(self) -> dict:
        refs = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": naming.names(self.name)["mcp"]},
                {"apiVersion": "v1", "kind": "Service", "name": naming.names(self.name)["mcp"]},
                {"apiVersion": "v1", "kind": "ConfigMap", "name": naming.names(self.name)["config_map"]}]
        for ref in refs:
            ref["namespace"] = self.namespace
        self.applier.delete_all(refs)
        for api_version, kind in DERIVED_KINDS:
            self.applier.delete_by_label(api_version, kind, naming.owner_selector(self.name), self.namespace,
                                         keep=[r["name"] for r in refs if r["kind"] == kind])
        self.applier.delete(naming.KB_API_VERSION, naming.KB_KIND, self.name, self.namespace, wait=True,
                            wait_timeout=self.params["wait_timeout"])
        return {"status": None, "config_map": None, "mcp_service_url": None}


def run(module) -> dict:
    """The module's whole job; ``module`` is an AphexK8sModule. Raises KnowledgeBaseInputError before any
    change when the arguments or the spec are invalid, K8sError (with ``result``) when the cluster refuses."""
    params = module.params
    errors = argument_errors(params)
    if errors:
        message = "Invalid arguments: " + "; ".join(errors)
        if params.get("spec") is not None and not validation.name_errors(params.get("name")) and \
                DNS_LABEL_RE.match(params.get("namespace") or ""):
            # A KnowledgeBase that exists shows why its new spec was refused.
            Reconciler(module, module.applier()).fail(KnowledgeBaseInputError(message), None)
        raise KnowledgeBaseInputError(message)
    applier = module.applier(force_conflicts=params["force_conflicts"])
    reconciler = Reconciler(module, applier)
    return applier.outcome(reconciler.absent if params["state"] == "absent" else reconciler.present,
                           module.diff_mode)
