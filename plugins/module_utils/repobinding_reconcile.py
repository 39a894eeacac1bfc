# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one RepoBinding: the pure validators, builders and planners of ``repobinding/`` driven through the
Kubernetes adapter (``k8s``). The module file only declares options.

Order of a run: the arguments are checked without any API call; then the cluster is read (the RepoBinding
object, the Organization record, what is labelled for the pipeline, the template, a server-side dry run of
the Pipeline) and judged, still without any change; only then is anything applied. A rejected binding that
exists in the cluster gets ``phase: Failed`` and the message naming the field.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import (
    FIELD_MANAGER,
    K8sError,
    api_error,
    describe,
)
from ansible_collections.aphex.platform.plugins.module_utils.organization import naming as org_naming
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import naming, objects, plan, status
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import validation as checks


class RepoBindingInputError(K8sError):
    """The binding was rejected (invalid arguments or spec); raised before any change."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fail(errors: list) -> RepoBindingInputError:
    return RepoBindingInputError("Invalid RepoBinding: " + "; ".join(errors))


class Reconciler:
    def __init__(self, module, applier):
        self.module = module
        self.params = module.params
        self.applier = applier
        self.name = self.params["name"]
        self.namespace = self.params["namespace"]
        self.current = None  # the RepoBinding object as read from the cluster

    # -- reads ------------------------------------------------------------------------------------------
    def read_binding(self) -> dict | None:
        self.current = self.applier.get(naming.API_VERSION, naming.KIND, self.name, self.namespace)
        return self.current

    def owned(self, api_version: str, kind: str, selector: str) -> list:
        return self.applier.list(api_version, kind, None, selector)

    # -- status -----------------------------------------------------------------------------------------
    def write_status(self, spec: dict | None, error: str | None = None, invalid: bool = False,
                     webhook_url: str | None = None) -> dict | None:
        record = status.record_ref(self.name, self.namespace)
        current = self.applier.get(naming.API_VERSION, naming.KIND, self.name, self.namespace) \
            if not self.module.check_mode else self.current
        applied = self.applier.live.get(describe(record)) or current
        if applied is None:
            return None  # nothing to write on (check mode of a binding that does not exist yet)
        generation = (applied.get("metadata") or {}).get("generation") or 1
        desired = status.binding_status(spec, generation, _now(), webhook_url=webhook_url, error=error,
                                        invalid=invalid, previous=(current or {}).get("status"))
        self.applier.apply_status(record, desired, current=current)
        return desired

    def reject(self, spec: dict | None, errors: list, invalid: bool = True):
        error = _fail(errors)
        if self.current is not None:
            try:
                error.result = {"status": self.write_status(spec, error=error.msg, invalid=invalid)}
            except K8sError as exc:
                self.module.warn(f"could not write the Failed status: {exc.msg}")
        raise error

    # -- present ----------------------------------------------------------------------------------------
    def cluster_errors(self, spec: dict, parsed: dict | None) -> tuple:
        """(errors, organization record) from what the cluster holds; reads only.

        In check mode an organization that does not exist (or is not Ready) yet is a warning: an earlier step of
        the same run (onboarding the organization) would create it."""
        platform_ns = self.params["platform_namespace"]
        errors = checks.binding_namespace_errors(spec, self.namespace, platform_ns)
        record = self.applier.get(org_naming.ORG_API_VERSION, org_naming.ORG_KIND, spec["aphexOrg"], platform_ns)
        org_errors = checks.organization_errors(spec["aphexOrg"], record, platform_ns)
        if org_errors and self.module.check_mode:
            for error in org_errors:
                self.module.warn(f"{error}; predicting the binding as if an earlier step of this run onboarded it")
        else:
            errors.extend(org_errors)
        owners = checks.allowed_owners(record, self.params.get("allowed_owners"))
        if record is not None or self.params.get("allowed_owners") is not None:
            errors.extend(checks.repo_owner_errors(spec, owners))
        pipeline = spec["pipelineName"]
        errors.extend(checks.ownership_errors(
            spec, self.name, self.namespace,
            own_namespaces=self.owned("v1", "Namespace", naming.owner_selector(self.name, self.namespace)),
            same_pipeline=self.owned("v1", "Namespace", naming.pipeline_selector(pipeline)),
            pipeline_namespace=self.applier.get("v1", "Namespace", pipeline)))
        for api_version, kind, name, namespace in (
                (naming.ARGOCD_API_VERSION, "AppProject", pipeline, self.params["argocd_namespace"]),
                (naming.RBAC_API_VERSION, "ClusterRole", naming.cluster_role_name(pipeline), None),
                (naming.RBAC_API_VERSION, "ClusterRoleBinding", naming.cluster_role_name(pipeline), None)):
            errors.extend(checks.foreign_object_errors(self.applier.get(api_version, kind, name, namespace),
                                                       self.name, self.namespace))
        org_ns = naming.org_namespace(spec["aphexOrg"])
        if spec["templateRef"] not in naming.BUILTIN_TEMPLATES:
            found = self.applier.get(naming.TRIGGERS_API_VERSION, "TriggerTemplate", spec["templateRef"], org_ns)
            errors.extend(checks.template_errors(spec, found is not None))
        catalog = spec.get("catalogPipeline")
        if catalog:
            found = self.applier.get(naming.PIPELINE_API_VERSION, "Pipeline", catalog["name"], catalog["namespace"])
            errors.extend(checks.catalog_pipeline_errors(spec, found is not None))
        elif parsed is not None and not errors and self.applier.get("v1", "Namespace", org_ns) is not None:
            # The API server's schema for tekton.dev/v1 Pipeline, before anything is applied (in the organization's
            # namespace, which exists unless check mode predicts a binding for an organization still to come).
            probe = {"apiVersion": naming.PIPELINE_API_VERSION, "kind": "Pipeline",
                     "metadata": {"name": spec["pipelineName"], "namespace": org_ns}, "spec": parsed["spec"]}
            message = self.applier.dry_run_create(probe)
            if message:
                errors.append(f"spec.pipelineSpec: the API server rejects the Pipeline: {message}")
        return errors, record

    def binding_object(self, raw_spec: dict | None) -> dict:
        """The RepoBinding object to apply: with the given spec, or (self-service) only our finalizer.

        A binding an earlier run created from its spec (labelled managed-by aphex-platform) keeps that spec and label
        when it is reconciled as self-service (e.g. onboarded with -e org=..., so in no inventory): applying only the
        finalizer with the same field manager would make the API server drop the spec our manager owns."""
        meta = {"name": self.name, "namespace": self.namespace, "finalizers": [naming.FINALIZER]}
        obj = {"apiVersion": naming.API_VERSION, "kind": naming.KIND, "metadata": meta}
        if raw_spec is not None:
            meta["labels"] = {naming.LABEL_MANAGED_BY: FIELD_MANAGER}
            obj["spec"] = raw_spec
        return obj

    def present(self, raw_spec: dict | None) -> dict:
        given = raw_spec is not None
        self.read_binding()
        if self.current is not None and (self.current.get("metadata") or {}).get("deletionTimestamp"):
            # Being deleted (e.g. pruned by Argo CD after the team removed it): offboard, whatever the spec says.
            return self.absent(self.current.get("spec"))
        if not given:
            if self.current is None:
                raise _fail([f"name: RepoBinding {self.namespace}/{self.name} does not exist (give spec to create it)"])
            raw_spec = copy.deepcopy(self.current.get("spec") or {})
            spec = checks.normalize_spec(raw_spec)
            errors = checks.spec_errors(spec)
            if errors:
                self.reject(spec, errors)
        else:
            spec = checks.normalize_spec(raw_spec)
            raw_spec = copy.deepcopy(raw_spec)
            if raw_spec.get("catalogPipeline") is not None and raw_spec.get("pipelineSpec") is None:
                raw_spec["pipelineSpec"] = ""
        parsed = None if spec.get("catalogPipeline") else checks.parse_pipeline(spec["pipelineSpec"])[0]
        errors, record = self.cluster_errors(spec, parsed)
        if errors:
            self.reject(spec, errors)

        webhook_url = status.organization_webhook_url(record)
        admins = ((record or {}).get("spec") or {}).get("adminUsers") or []
        binding = objects.Binding(self.name, self.namespace, spec, self.params["argocd_namespace"], admins)
        desired = objects.desired_objects(binding, parsed)
        try:
            labels = ((self.current or {}).get("metadata") or {}).get("labels") or {}
            ours = labels.get(naming.LABEL_MANAGED_BY) == FIELD_MANAGER
            record = self.binding_object(raw_spec if given or ours else None)
            self.applier.expect_namespaces([record] + desired)
            self.applier.apply_all([record] + desired)
            existing = []
            selector = naming.owner_selector(self.name, self.namespace)
            for api_version, kind in plan.NAMESPACED_KINDS + plan.CLUSTER_KINDS:
                existing.extend(self.owned(api_version, kind, selector))
            self.applier.delete_all(plan.stale(existing, desired, self.applier.field_manager))
        except K8sError as exc:
            try:
                self.write_status(spec, error=exc.msg, webhook_url=webhook_url)
            except K8sError:
                pass  # the binding itself may be what failed; the original error is the one to report
            raise
        return {
            "pipeline_namespace": spec["pipelineName"],
            "webhook_url": webhook_url,
            "status": self.write_status(spec, webhook_url=webhook_url),
        }

    # -- absent -----------------------------------------------------------------------------------------
    def absent(self, raw_spec: dict | None) -> dict:
        if self.current is None:
            self.read_binding()
        selector = naming.owner_selector(self.name, self.namespace)
        found = {key: self.owned(*key, selector) for key in plan.ALL_KINDS}
        # Only pipelines this binding really owns (its namespaces, found by the owner labels): a spec may name
        # another team's pipeline, and must not get that team's Applications deleted.
        pipelines = {ns["metadata"]["name"] for ns in found[plan.NAMESPACE]}
        ident = plan.identity(self.current) or (
            {"pipelineName": raw_spec.get("pipelineName")} if isinstance(raw_spec, dict) else None)
        # Applications labelled for an owned pipeline, whoever created them (a team's app-of-apps included).
        seen = {(a["metadata"].get("namespace"), a["metadata"]["name"]) for a in found[plan.APPLICATION]}
        for pipeline in sorted(pipelines):
            for app in self.owned(*plan.APPLICATION, naming.pipeline_selector(pipeline)):
                if (app["metadata"].get("namespace"), app["metadata"]["name"]) not in seen:
                    found[plan.APPLICATION].append(app)
        owned_namespaces = sorted(ns["metadata"]["name"] for ns in found[plan.NAMESPACE])
        self.applier.delete_all(plan.offboarding_refs(found, owned_namespaces),
                                wait_timeout=self.params["wait_timeout"])
        if self.current is not None:
            self.release_binding()
        return {"pipeline_namespace": (ident or {}).get("pipelineName"), "webhook_url": None}

    def release_binding(self) -> None:
        """Drop our finalizer from the RepoBinding and delete it."""
        meta = self.current.get("metadata") or {}
        finalizers = list(meta.get("finalizers") or [])
        if naming.FINALIZER in finalizers:
            rest = [f for f in finalizers if f != naming.FINALIZER]
            resource = self.applier.resource(naming.API_VERSION, naming.KIND)
            ref = status.record_ref(self.name, self.namespace)
            try:
                self.applier.client.patch(resource, {"metadata": {"finalizers": rest,
                                                                  "resourceVersion": meta.get("resourceVersion")}},
                                          name=self.name, namespace=self.namespace,
                                          content_type="application/merge-patch+json")
            except Exception as exc:
                raise api_error("remove the finalizer of", describe(ref), exc) from exc
            self.applier.record(ref, "update", {"metadata": {"finalizers": finalizers}},
                                {"metadata": {"finalizers": rest}})
        if not meta.get("deletionTimestamp"):
            self.applier.delete(naming.API_VERSION, naming.KIND, self.name, self.namespace)


def run(module) -> dict:
    """The module's whole job; ``module`` is an AphexK8sModule. Raises RepoBindingInputError before any API
    call when the arguments are invalid, before any change when the cluster says the binding is invalid, and
    K8sError (with ``result``) when the cluster refuses."""
    params = dict(module.params)
    raw_spec = params.get("spec")
    spec = checks.normalize_spec(raw_spec) if isinstance(raw_spec, dict) else raw_spec
    if params["state"] == "absent":
        # Offboarding needs only to find the binding: a spec that is no longer valid must not stop it.
        errors = checks.input_errors(params, None, require_namespace=False)
        if params.get("namespace") is None:
            org = spec.get("aphexOrg") if isinstance(spec, dict) else None
            if not isinstance(org, str) or not checks.DNS_LABEL_RE.match(org):
                errors.append("namespace: required unless spec.aphexOrg names the organization (the binding "
                              "then lives in org-<aphexOrg>)")
    else:
        errors = checks.input_errors(params, spec)
    if errors:
        raise _fail(errors)
    if params.get("namespace") is None:
        module.params["namespace"] = naming.default_binding_namespace(spec["aphexOrg"])
    applier = module.applier(force_conflicts=params["force_conflicts"])
    reconciler = Reconciler(module, applier)
    work = reconciler.absent if params["state"] == "absent" else reconciler.present
    return applier.outcome(lambda: work(raw_spec), module.diff_mode)
