# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one organization: the pure builders and planners of ``organization/`` driven through the
Kubernetes adapter (``k8s``). The module file only declares options."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError, describe
from ansible_collections.aphex.platform.plugins.module_utils.organization import (
    naming,
    objects,
    plan,
    selfservice,
    status,
)
from ansible_collections.aphex.platform.plugins.module_utils.platform_secret import KeySpec, keep_or_generate
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
    module_input_errors,
    normalize_organization,
)


class OrganizationInputError(K8sError):
    """Invalid module arguments (raised before any API call), or a self-service Organization object that does not
    exist or whose spec was rejected (raised before any change)."""


# The GitHub webhook secret: 32 random bytes as hex, generated once, kept, rotated on request.
WEBHOOK_SECRET_SPEC = KeySpec(name=naming.WEBHOOK_SECRET_KEY, generator="hex", nbytes=32)


def spec_from_params(params: dict) -> dict:
    keys = ("name", "state", "display_name", "admin_users", "exposure", "domain", "events", "quotas", "ingress_host",
            "github_owners")
    raw = {key: params.get(key) for key in keys}
    return normalize_organization({k: v for k, v in raw.items() if v is not None})


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def onboard(module, applier, spec: dict, self_service: bool = False, provided_secret: str | None = None) -> dict:
    """Apply everything ``spec`` needs. ``self_service``: the Organization object is the team's (read from the
    cluster, applied by Argo CD), so its spec is not applied, only its status written."""
    params = module.params
    org, ns = spec["name"], naming.namespace_name(spec["name"])

    stored = applier.get("v1", "Secret", naming.WEBHOOK_SECRET_NAME, ns)
    secret_value, secret_action = keep_or_generate(
        plan.decode_secret_value(stored, naming.WEBHOOK_SECRET_KEY), WEBHOOK_SECRET_SPEC,
        rotate=params["rotate_webhook_secret"], provided=params["webhook_secret"] or provided_secret)

    tunnel = None
    if spec["exposure"] == "cloudflare":
        token = params["cloudflare_tunnel_token"]
        if not token:  # only possible in check mode: the tunnel does not exist yet
            module.warn("cloudflare_tunnel_token is not known yet; the tunnel token Secret is predicted only")
            token = "<tunnel token, known once the tunnel exists>"
        tunnel = {"id": params["cloudflare_tunnel_id"], "token": token}
    listener = applier.get("triggers.tekton.dev/v1beta1", "EventListener", naming.EVENTLISTENER_NAME, ns)
    settings = {
        "platform_namespace": params["platform_namespace"],
        "cloudflared_image": params["cloudflared_image"],
        "cloudflared_replicas": params["cloudflared_replicas"],
        "ingress_class_name": params["ingress_class_name"],
        "network": params["network"],
        "trigger_namespaces": objects.current_trigger_namespaces(listener),
    }
    desired = objects.desired_objects(spec, secret_value, tunnel, settings)
    record = desired[0]
    url = naming.webhook_url(spec)

    def write_status(error=None):
        current = applier.get(record["apiVersion"], record["kind"], org, params["platform_namespace"])
        # In check mode the dry-run answer carries the generation the record would get.
        applied = applier.live.get(describe(record)) or current or {}
        generation = (applied.get("metadata") or {}).get("generation") or 1
        desired_status = status.organization_status(org, generation, spec["exposure"], url, _now(), error=error,
                                                    previous=(current or {}).get("status"))
        applier.apply_status(record, desired_status, current=current)
        return desired_status

    try:
        applier.apply_all(desired[1:] if self_service else desired)
        existing = []
        for api_version, kind in plan.NAMESPACED_KINDS:
            existing.extend(applier.list(api_version, kind, ns, naming.owner_selector(org)))
        for api_version, kind in plan.CLUSTER_KINDS:
            existing.extend(applier.list(api_version, kind, None, naming.owner_selector(org)))
        applier.delete_all(plan.prune_plan(existing, desired, applier.field_manager))
    except K8sError as exc:
        try:
            write_status(error=exc.msg)
        except K8sError:
            pass  # the record itself may be what failed; the original error is the one to report
        raise
    return {
        "namespace": ns,
        "webhook_url": url,
        "webhook_secret_ref": {"namespace": ns, "name": naming.WEBHOOK_SECRET_NAME,
                               "key": naming.WEBHOOK_SECRET_KEY, "action": secret_action},
        "status": write_status(),
    }


def offboard(module, applier, spec: dict) -> dict:
    org = spec["name"]
    refs = plan.offboarding_refs(org, module.params["platform_namespace"])
    cluster_kinds = {kind for _api_version, kind in plan.CLUSTER_KINDS}
    cluster_scoped = [r for r in refs if r["kind"] in cluster_kinds]
    applier.delete_all(cluster_scoped)
    # Anything else this module once created cluster-wide for the org (e.g. under an older name).
    for api_version, kind in plan.CLUSTER_KINDS:
        handled = {r["name"] for r in cluster_scoped if r["kind"] == kind}
        applier.delete_by_label(api_version, kind, naming.owner_selector(org), keep=handled)
    applier.delete_all([r for r in refs if r not in cluster_scoped], wait_timeout=module.params["wait_timeout"])
    return {"namespace": naming.namespace_name(org), "webhook_url": None}


def reject_record(module, applier, record: dict, errors: list):
    """Fail for a self-service Organization whose spec is invalid, writing ``phase: Failed`` and the message to it."""
    error = OrganizationInputError("Invalid Organization: " + "; ".join(errors))
    meta = record.get("metadata") or {}
    previous = record.get("status")
    desired = status.organization_status(meta["name"], meta.get("generation") or 1, None, None, _now(),
                                         error=error.msg, previous=previous, invalid=True)
    try:
        applier.apply_status(record, desired, current=record)
        error.result = {"status": desired}
    except K8sError as exc:
        module.warn(f"could not write the Failed status: {exc.msg}")
    raise error


def self_service(module, applier) -> dict:
    """Reconcile the Organization object found in ``platform_namespace`` from its own spec."""
    params = module.params
    name, platform_ns = params["name"], params["platform_namespace"]
    record = applier.get(naming.ORG_API_VERSION, naming.ORG_KIND, name, platform_ns)
    where = f"{naming.ORG_KIND} {platform_ns}/{name}"
    if record is None:
        raise OrganizationInputError(f"name: {where} does not exist (without display_name and admin_users the module "
                                     "reconciles the object a team committed; give them to create it)")
    if (record.get("metadata") or {}).get("deletionTimestamp"):
        raise OrganizationInputError(f"name: {where} is being deleted; offboard it with state=absent")
    spec, provided_secret, errors = selfservice.spec_from_record(name, record.get("spec"), params,
                                                                 check_mode=module.check_mode)
    if provided_secret:
        module.no_log_values.add(provided_secret)  # the object's own secret never reaches a result or log
    if errors:
        reject_record(module, applier, record, errors)
    return onboard(module, applier, spec, self_service=True, provided_secret=provided_secret)


def run(module) -> dict:
    """The module's whole job; ``module`` is an AphexK8sModule. Raises OrganizationInputError before any API
    call when the arguments are invalid (and, self-service, before any change when the Organization object is
    missing or invalid), K8sError (with ``result``) when the cluster refuses."""
    service = selfservice.is_self_service(module.params)
    if service:
        spec, errors = None, selfservice.input_errors(module.params)
    else:
        spec = spec_from_params(module.params)
        errors = module_input_errors(spec, module.params, check_mode=module.check_mode)
    if errors:
        raise OrganizationInputError("Invalid arguments: " + "; ".join(errors))
    applier = module.applier(force_conflicts=module.params["force_conflicts"],
                             hidden_fields={naming.ORG_KIND: ["spec.webhookSecret"]})
    if service:
        return applier.outcome(lambda: self_service(module, applier), module.diff_mode)
    step = offboard if spec["state"] == "absent" else onboard
    return applier.outcome(lambda: step(module, applier, spec), module.diff_mode)
