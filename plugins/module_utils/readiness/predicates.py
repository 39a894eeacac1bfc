# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure readiness predicates: each takes objects as the API server returns them (dicts) and returns
``(ok, detail)``, ``detail`` being what a human reads when the check does not pass."""

from __future__ import annotations


# Small helpers
def conditions(obj: dict) -> dict:
    return {c.get("type"): c for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict)}


def explain(cond: dict | None) -> str:
    if not cond:
        return "unknown (no such condition yet)"
    text = str(cond.get("status"))
    details = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
    return f"{text} ({details})" if details else text


def generation_pending(obj: dict) -> str | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return f"the controller has not observed generation {generation} yet (observed {observed})"
    return None


def get_path(obj, path: str):
    """Value at a dotted path (``status.health.status``); list items by index (``webhooks.0.name``)."""
    node = obj
    for key in path.split("."):
        if isinstance(node, list):
            try:
                node = node[int(key)]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def _not_rolled_out(obj: dict | None, kind: str) -> str | None:
    """Why a workload cannot be judged yet: it does not exist, or its controller has not seen its spec."""
    return generation_pending(obj) if obj else f"{kind} not found"


def crd_established(crd: dict | None) -> tuple:
    if not crd:
        return False, "CustomResourceDefinition not found"
    conds = conditions(crd)
    names = conds.get("NamesAccepted")
    if names and names.get("status") == "False":
        return False, f"NamesAccepted={explain(names)}"
    established = conds.get("Established")
    if established and established.get("status") == "True":
        return True, "Established"
    return False, f"Established={explain(established)}"


def deployment_available(dep: dict | None) -> tuple:
    """Rollout complete and Available, the way ``kubectl rollout status`` decides it."""
    blocked = _not_rolled_out(dep, "Deployment")
    if blocked:
        return False, blocked
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    conds = conditions(dep)
    progressing = conds.get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return False, f"rollout stuck: Progressing={explain(progressing)}"
    wanted = spec.get("replicas", 1)
    updated = status.get("updatedReplicas") or 0
    if updated < wanted:
        return False, f"{updated} of {wanted} replicas updated"
    total = status.get("replicas") or 0
    if total > updated:
        return False, f"{total - updated} old replica(s) pending termination"
    available = status.get("availableReplicas") or 0
    if available < updated:
        return False, f"{available} of {updated} updated replicas available"
    condition = conds.get("Available")
    if not condition or condition.get("status") != "True":
        return False, f"Available={explain(condition)}"
    return True, f"Available ({available}/{wanted} replicas)"


def statefulset_ready(sts: dict | None) -> tuple:
    blocked = _not_rolled_out(sts, "StatefulSet")
    if blocked:
        return False, blocked
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    wanted = spec.get("replicas", 1)
    ready = status.get("readyReplicas") or 0
    if ready < wanted:
        return False, f"{ready} of {wanted} replicas ready"
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
        updated = status.get("updatedReplicas") or 0
        if partition:
            if updated < wanted - partition:
                return False, f"{updated} of {wanted - partition} replicas above the partition updated"
        elif status.get("updateRevision") and status.get("updateRevision") != status.get("currentRevision"):
            return False, f"rolling update in progress ({updated} of {wanted} replicas updated)"
    return True, f"Ready ({ready}/{wanted} replicas)"


def daemonset_ready(ds: dict | None) -> tuple:
    blocked = _not_rolled_out(ds, "DaemonSet")
    if blocked:
        return False, blocked
    status = ds.get("status") or {}
    desired = status.get("desiredNumberScheduled") or 0
    updated = status.get("updatedNumberScheduled") or 0
    available = status.get("numberAvailable") or 0
    if updated < desired:
        return False, f"{updated} of {desired} scheduled pods updated"
    if available < desired:
        return False, f"{available} of {desired} scheduled pods available"
    if desired == 0:
        return True, "Ready (no node matches its node selector and tolerations: 0 pods wanted)"
    return True, f"Ready ({available}/{desired} pods)"


def ready_addresses(slices: list, endpoints: dict | None = None) -> list:
    """Ready endpoint addresses of a Service: from its EndpointSlices, else (none at all) from Endpoints."""
    addresses = []
    for endpoint_slice in slices or []:
        for endpoint in endpoint_slice.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready")
            if ready is None or ready:  # an unset ready condition means ready
                addresses.extend(endpoint.get("addresses") or [])
    if not slices and endpoints:
        for subset in endpoints.get("subsets") or []:
            addresses.extend(a.get("ip") for a in subset.get("addresses") or [] if a.get("ip"))
    return sorted(set(addresses))


def service_ready(service: dict | None, slices: list, endpoints: dict | None = None) -> tuple:
    if not service:
        return False, "Service not found"
    if (service.get("spec") or {}).get("type") == "ExternalName":
        return True, "ExternalName Service (no endpoints needed)"
    addresses = ready_addresses(slices, endpoints)
    if not addresses:
        total = sum(len(s.get("endpoints") or []) for s in slices or [])
        if total:
            return False, f"none of its {total} endpoint(s) is ready"
        return False, "no endpoints (no ready pod matches its selector)"
    return True, f"{len(addresses)} ready endpoint(s): {', '.join(addresses[:5])}"


def webhook_services(config: dict | None) -> list:
    """(namespace, name) of every Service the webhook configuration calls, sorted, without duplicates."""
    services = set()
    for hook in (config or {}).get("webhooks") or []:
        service = (hook.get("clientConfig") or {}).get("service")
        if service and service.get("name"):
            services.add((service.get("namespace") or "default", service["name"]))
    return sorted(services)


def webhook_ca_bundle(config: dict | None) -> tuple:
    """Every webhook of the configuration has a caBundle (what cainjector writes); at least one webhook."""
    if not config:
        return False, "webhook configuration not found"
    hooks = config.get("webhooks") or []
    if not hooks:
        return False, "the configuration has no webhooks"
    missing = [h.get("name") for h in hooks if not (h.get("clientConfig") or {}).get("caBundle")]
    if missing:
        return False, f"caBundle not injected in {len(missing)} of {len(hooks)} webhook(s): {', '.join(missing)}"
    return True, f"caBundle injected in all {len(hooks)} webhook(s)"


def api_service_available(api_service: dict | None) -> tuple:
    if not api_service:
        return False, "APIService not found"
    condition = conditions(api_service).get("Available")
    if condition and condition.get("status") == "True":
        return True, "Available"
    return False, f"Available={explain(condition)}"


def resource_status(obj: dict | None, spec: dict) -> tuple:
    """A condition (``condition``/``status``) or a field (``field``/``value``) of any object."""
    if not obj:
        return False, f"{spec['kind']} not found"
    if spec.get("field"):
        current = get_path(obj, spec["field"])
        wanted = spec.get("value")
        if wanted is None:
            ok = current not in (None, "", [], {})
            return ok, f"{spec['field']} is {current!r}" if ok else f"{spec['field']} is not set"
        if str(current) == str(wanted):
            return True, f"{spec['field']}={current}"
        return False, f"{spec['field']}={current!r}, waiting for {wanted!r}"
    # Objects whose controller reports the generation it saw (in status or in the condition) must have
    # caught up: a Ready=True about an older spec says nothing about the current one.
    generation = (obj.get("metadata") or {}).get("generation")
    if (obj.get("status") or {}).get("observedGeneration") is not None and generation_pending(obj):
        return False, generation_pending(obj)
    condition_type = spec.get("condition") or "Ready"
    wanted = spec.get("status") or "True"
    condition = conditions(obj).get(condition_type)
    seen = (condition or {}).get("observedGeneration")
    if seen is not None and generation is not None and seen < generation:
        return False, f"{condition_type} describes generation {seen}, not the current {generation}"
    if condition and str(condition.get("status")) == wanted:
        return True, f"{condition_type}={wanted}"
    return False, f"{condition_type}={explain(condition)}, waiting for {wanted}"
