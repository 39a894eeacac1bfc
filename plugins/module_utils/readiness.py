# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Readiness gates: pure predicates, the polling loop and the timeout diagnostic.

Nothing here imports the kubernetes client. The cluster is reached through a *reader* with three methods
(``get``, ``list``, ``dry_run_create``; see ``k8s.reader.ClusterReader``), so the whole gate,
timeouts included, runs in unit tests against plain dicts.

A gate is a list of checks. Each check belongs to a *category* (``crds``, ``deployments``, ...). Categories
listed in ``requires_controller`` need a container that really runs (cainjector writing a caBundle, a webhook
answering, a controller setting a condition); when the gate's component does not run on this cluster
(``not_running``) those checks are reported as skipped with the reason, never waited for nor reported as passed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError

CATEGORIES = (
    "crds", "deployments", "statefulsets", "daemonsets", "services",
    "webhook_endpoints", "webhook_ca_bundle", "api_services", "resources", "admission_probes",
)
# Shorthands accepted in requires_controller.
CATEGORY_ALIASES = {"webhooks": ("webhook_endpoints", "webhook_ca_bundle")}
DEFAULT_REQUIRES_CONTROLLER = ("webhook_ca_bundle", "api_services", "resources", "admission_probes")

WEBHOOK_KINDS = {"validating": "ValidatingWebhookConfiguration", "mutating": "MutatingWebhookConfiguration"}
ADMISSION_API = "admissionregistration.k8s.io/v1"

EVENTS_PER_NAMESPACE = 15
FATAL_STATUSES = (401, 403)


class ReadinessError(K8sError):
    """Invalid gate input, an API error that waiting cannot fix (401/403), or checks that did not pass in time."""


# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------
def _conditions(obj: dict) -> dict:
    return {c.get("type"): c for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict)}


def _explain(cond: dict | None) -> str:
    if not cond:
        return "unknown (no such condition yet)"
    text = str(cond.get("status"))
    details = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
    return f"{text} ({details})" if details else text


def _generation_pending(obj: dict) -> str | None:
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


# ---------------------------------------------------------------------------------------------------------
# Pure predicates: each returns (ok, detail)
# ---------------------------------------------------------------------------------------------------------
def crd_established(crd: dict | None) -> tuple:
    if not crd:
        return False, "CustomResourceDefinition not found"
    conds = _conditions(crd)
    names = conds.get("NamesAccepted")
    if names and names.get("status") == "False":
        return False, f"NamesAccepted={_explain(names)}"
    established = conds.get("Established")
    if established and established.get("status") == "True":
        return True, "Established"
    return False, f"Established={_explain(established)}"


def deployment_available(dep: dict | None) -> tuple:
    """Rollout complete and Available, the way ``kubectl rollout status`` decides it."""
    if not dep:
        return False, "Deployment not found"
    pending = _generation_pending(dep)
    if pending:
        return False, pending
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    conds = _conditions(dep)
    progressing = conds.get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return False, f"rollout stuck: Progressing={_explain(progressing)}"
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
        return False, f"Available={_explain(condition)}"
    return True, f"Available ({available}/{wanted} replicas)"


def statefulset_ready(sts: dict | None) -> tuple:
    if not sts:
        return False, "StatefulSet not found"
    pending = _generation_pending(sts)
    if pending:
        return False, pending
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
    if not ds:
        return False, "DaemonSet not found"
    pending = _generation_pending(ds)
    if pending:
        return False, pending
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
    condition = _conditions(api_service).get("Available")
    if condition and condition.get("status") == "True":
        return True, "Available"
    return False, f"Available={_explain(condition)}"


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
    if (obj.get("status") or {}).get("observedGeneration") is not None and _generation_pending(obj):
        return False, _generation_pending(obj)
    condition_type = spec.get("condition") or "Ready"
    wanted = spec.get("status") or "True"
    condition = _conditions(obj).get(condition_type)
    seen = (condition or {}).get("observedGeneration")
    if seen is not None and generation is not None and seen < generation:
        return False, f"{condition_type} describes generation {seen}, not the current {generation}"
    if condition and str(condition.get("status")) == wanted:
        return True, f"{condition_type}={wanted}"
    return False, f"{condition_type}={_explain(condition)}, waiting for {wanted}"


# ---------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Check:
    category: str
    name: str            # what the user reads: "deployment cert-manager/cert-manager-webhook"
    spec: dict = field(default_factory=dict)
    namespaces: tuple = ()  # namespaces whose events explain a failure


def expand_categories(values) -> set:
    result = set()
    for value in values or ():
        if value in CATEGORY_ALIASES:
            result.update(CATEGORY_ALIASES[value])
        elif value in CATEGORIES:
            result.add(value)
        else:
            raise ReadinessError(f"requires_controller: unknown check category {value!r}; "
                                 f"use {', '.join(CATEGORIES + tuple(CATEGORY_ALIASES))}")
    return result


def _ref(item, what: str) -> dict:
    if isinstance(item, str) and "/" in item:
        namespace, name = item.split("/", 1)
        return {"namespace": namespace, "name": name}
    if not isinstance(item, dict) or not item.get("name") or not item.get("namespace"):
        raise ReadinessError(f"{what}: every entry needs a namespace and a name (got {item!r})")
    return {"namespace": item["namespace"], "name": item["name"]}


def build_checks(params: dict) -> list:
    """The checks a gate runs, in a stable order, from the module's options."""
    checks = []
    for name in params.get("crds") or []:
        checks.append(Check("crds", f"crd {name}", {"name": name}))
    for option, singular in (("deployments", "deployment"), ("statefulsets", "statefulset"),
                             ("daemonsets", "daemonset"), ("services", "service")):
        for item in params.get(option) or []:
            ref = _ref(item, option)
            checks.append(Check(option, f"{singular} {ref['namespace']}/{ref['name']}", ref, (ref["namespace"],)))
    for item in params.get("webhooks") or []:
        if not isinstance(item, dict) or item.get("kind") not in WEBHOOK_KINDS or not item.get("name"):
            raise ReadinessError(f"webhooks: every entry needs kind (validating or mutating) and name (got {item!r})")
        spec = {"kind": item["kind"], "name": item["name"]}
        checks.append(Check("webhook_endpoints", f"webhook endpoints {item['kind']} {item['name']}", spec))
        if item.get("ca_bundle", True):
            checks.append(Check("webhook_ca_bundle", f"webhook caBundle {item['kind']} {item['name']}", spec))
    for name in params.get("api_services") or []:
        checks.append(Check("api_services", f"apiservice {name}", {"name": name}))
    for item in params.get("resources") or []:
        if not isinstance(item, dict) or not item.get("kind") or not item.get("name") or not item.get("api_version"):
            raise ReadinessError(f"resources: every entry needs api_version, kind and name (got {item!r})")
        where = f"{item['namespace']}/" if item.get("namespace") else ""
        if item.get("field"):
            what = f"{item['field']}={item['value']}" if item.get("value") is not None else f"{item['field']} set"
        else:
            what = f"{item.get('condition') or 'Ready'}={item.get('status') or 'True'}"
        checks.append(Check("resources", f"{item['kind']} {where}{item['name']} {what}", dict(item),
                            (item["namespace"],) if item.get("namespace") else ()))
    for obj in params.get("admission_probes") or []:
        if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind") or not (
                obj.get("metadata") or {}).get("name"):
            raise ReadinessError("admission_probes: every entry must be a full manifest (apiVersion, kind, "
                                 f"metadata.name), got {obj!r}")
        meta = obj["metadata"]
        where = f"{meta['namespace']}/" if meta.get("namespace") else ""
        checks.append(Check("admission_probes", f"admission dry-run {obj['kind']} {where}{meta['name']}", obj,
                            (meta["namespace"],) if meta.get("namespace") else ()))
    return checks


def not_running_reason(component: str | None, not_running: dict | None) -> str:
    """Why ``component`` does not run on this cluster ('' when it runs); key ``*`` stands for every component."""
    not_running = not_running or {}
    if component and component in not_running:
        return f"{component} does not run on this cluster: {not_running[component]}"
    if "*" in not_running:
        return f"{component or 'the component'} does not run on this cluster: {not_running['*']}"
    return ""


def split_checks(checks: list, reason: str, requires_controller) -> tuple:
    """(to_run, skipped): when the component does not run (``reason``), controller-dependent checks are skipped."""
    if not reason:
        return list(checks), []
    controller = expand_categories(requires_controller)
    run, skipped = [], []
    for check in checks:
        if check.category in controller:
            skipped.append({"check": check.name, "reason": reason})
        else:
            run.append(check)
    return run, skipped


# ---------------------------------------------------------------------------------------------------------
# Evaluation against a reader
# ---------------------------------------------------------------------------------------------------------
class Evaluator:
    """Evaluates checks through a reader; caches nothing between rounds (each round reads the cluster afresh)."""

    def __init__(self, reader):
        self.reader = reader

    def _service(self, namespace: str, name: str) -> tuple:
        service = self.reader.get("v1", "Service", name, namespace)
        slices = self.reader.list("discovery.k8s.io/v1", "EndpointSlice", namespace,
                                  f"kubernetes.io/service-name={name}")
        endpoints = None
        if service and not slices:
            endpoints = self.reader.get("v1", "Endpoints", name, namespace)
        return service_ready(service, slices, endpoints)

    def evaluate(self, check: Check) -> tuple:
        spec, category = check.spec, check.category
        read = self.reader.get
        if category == "crds":
            return crd_established(read("apiextensions.k8s.io/v1", "CustomResourceDefinition", spec["name"]))
        if category == "deployments":
            return deployment_available(read("apps/v1", "Deployment", spec["name"], spec["namespace"]))
        if category == "statefulsets":
            return statefulset_ready(read("apps/v1", "StatefulSet", spec["name"], spec["namespace"]))
        if category == "daemonsets":
            return daemonset_ready(read("apps/v1", "DaemonSet", spec["name"], spec["namespace"]))
        if category == "services":
            return self._service(spec["namespace"], spec["name"])
        if category == "webhook_ca_bundle":
            return webhook_ca_bundle(read(ADMISSION_API, WEBHOOK_KINDS[spec["kind"]], spec["name"]))
        if category == "webhook_endpoints":
            config = read(ADMISSION_API, WEBHOOK_KINDS[spec["kind"]], spec["name"])
            if not config:
                return False, "webhook configuration not found"
            services = webhook_services(config)
            if not services:
                return True, "no in-cluster Service (URL webhooks)"
            waiting, details = [], []
            for namespace, name in services:
                ok, detail = self._service(namespace, name)
                details.append(f"service {namespace}/{name}: {detail}")
                if not ok:
                    waiting.append(f"service {namespace}/{name}: {detail}")
            return (False, "; ".join(waiting)) if waiting else (True, "; ".join(details))
        if category == "api_services":
            return api_service_available(read("apiregistration.k8s.io/v1", "APIService", spec["name"]))
        if category == "resources":
            obj = read(spec["api_version"], spec["kind"], spec["name"], spec.get("namespace"))
            return resource_status(obj, spec)
        if category == "admission_probes":
            error = self.reader.dry_run_create(spec)
            return (True, "accepted by admission (server-side dry run)") if error is None else (False, error)
        raise ReadinessError(f"unknown check category {category!r}")


def namespaces_of(checks: list, webhook_configs: dict) -> list:
    names = set()
    for check in checks:
        names.update(check.namespaces)
    for config in webhook_configs.values():
        names.update(namespace for namespace, _name in webhook_services(config))
    return sorted(names)


# ---------------------------------------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------------------------------------
def _event_time(event: dict) -> str:
    series = event.get("series") or {}
    return str(event.get("lastTimestamp") or series.get("lastObservedTime") or event.get("eventTime")
               or (event.get("metadata") or {}).get("creationTimestamp") or "")


def summarize_events(events: list, limit: int = EVENTS_PER_NAMESPACE) -> list:
    """The newest events, oldest first, one line each."""
    lines = []
    for event in sorted(events or [], key=_event_time)[-limit:]:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        count = event.get("count") or (event.get("series") or {}).get("count")
        lines.append(f"{_event_time(event)} {event.get('type', '')} {event.get('reason', '')} "
                     f"{involved.get('kind', '')}/{involved.get('name', '')}: "
                     f"{(event.get('message') or event.get('note') or '').strip()}"
                     + (f" (x{count})" if count and count > 1 else ""))
    return lines


def summarize_endpoints(namespace: str, name: str, slices: list, endpoints: dict | None) -> dict:
    entries = []
    for endpoint_slice in slices or []:
        for endpoint in endpoint_slice.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            target = endpoint.get("targetRef") or {}
            entries.append({"addresses": endpoint.get("addresses") or [],
                            "ready": conditions.get("ready"), "serving": conditions.get("serving"),
                            "pod": target.get("name")})
    result = {"service": f"{namespace}/{name}", "endpoint_slices": [
        (s.get("metadata") or {}).get("name") for s in slices or []], "endpoints": entries}
    if not slices:
        subsets = (endpoints or {}).get("subsets") or []
        result["legacy_endpoints"] = {
            "ready": sorted(a.get("ip") for s in subsets for a in s.get("addresses") or []),
            "not_ready": sorted(a.get("ip") for s in subsets for a in s.get("notReadyAddresses") or []),
        } if endpoints else None
    return result


def summarize_webhook_configuration(kind: str, name: str, config: dict | None) -> dict:
    if not config:
        return {"kind": kind, "name": name, "found": False}
    hooks = []
    for hook in config.get("webhooks") or []:
        client = hook.get("clientConfig") or {}
        service = client.get("service")
        hooks.append({
            "name": hook.get("name"),
            "service": (f"{service.get('namespace')}/{service.get('name')}:{service.get('port', 443)}"
                        f"{service.get('path') or ''}") if service else None,
            "url": client.get("url"),
            "caBundle": f"present ({len(client['caBundle'])} characters)" if client.get("caBundle") else "missing",
            "failurePolicy": hook.get("failurePolicy"),
            "timeoutSeconds": hook.get("timeoutSeconds"),
        })
    annotations = (config.get("metadata") or {}).get("annotations") or {}
    inject = {k: v for k, v in annotations.items() if k.startswith("cert-manager.io/inject-ca-from")}
    return {"kind": kind, "name": name, "found": True, "webhooks": hooks, "inject_annotations": inject}


def summarize_pods(pods: list) -> list:
    """Pods that are not Ready, with the reason a human would look for."""
    lines = []
    for pod in pods or []:
        status = pod.get("status") or {}
        ready = _conditions(pod).get("Ready")
        if ready and ready.get("status") == "True":
            continue
        reasons = []
        for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            state = container.get("state") or {}
            for key in ("waiting", "terminated"):
                if state.get(key) and state[key].get("reason"):
                    reasons.append(f"{container.get('name')}: {state[key]['reason']}")
        scheduled = _conditions(pod).get("PodScheduled")
        if scheduled and scheduled.get("status") == "False":
            reasons.append(f"unschedulable: {scheduled.get('message') or scheduled.get('reason')}")
        lines.append(f"{(pod.get('metadata') or {}).get('name')}: phase {status.get('phase')}"
                     + (f" ({'; '.join(reasons)})" if reasons else ""))
    return lines


def collect_diagnostics(reader, checks: list) -> dict:
    """Events and not-ready pods of the involved namespaces, the Services' endpoints, the webhook configs."""
    configs, webhook_summaries = {}, []
    for check in checks:
        if check.category in ("webhook_endpoints", "webhook_ca_bundle"):
            key = (check.spec["kind"], check.spec["name"])
            if key not in configs:
                configs[key] = _safe(lambda k=key: reader.get(ADMISSION_API, WEBHOOK_KINDS[k[0]], k[1]))
                webhook_summaries.append(summarize_webhook_configuration(WEBHOOK_KINDS[key[0]], key[1], configs[key]))
    services = set()
    for check in checks:
        if check.category == "services":
            services.add((check.spec["namespace"], check.spec["name"]))
    for config in configs.values():
        services.update(webhook_services(config if isinstance(config, dict) else None))
    endpoint_summaries = []
    for namespace, name in sorted(services):
        slices = _safe(lambda: reader.list("discovery.k8s.io/v1", "EndpointSlice", namespace,
                                           f"kubernetes.io/service-name={name}")) or []
        legacy = None if slices else _safe(lambda: reader.get("v1", "Endpoints", name, namespace))
        endpoint_summaries.append(summarize_endpoints(namespace, name, slices if isinstance(slices, list) else [],
                                                      legacy if isinstance(legacy, dict) else None))
    namespaces = namespaces_of(checks, {k: v for k, v in configs.items() if isinstance(v, dict)})
    events, pods = {}, {}
    for namespace in namespaces:
        listed = _safe(lambda: reader.list("v1", "Event", namespace))
        events[namespace] = summarize_events(listed) if isinstance(listed, list) else [str(listed)]
        listed = _safe(lambda: reader.list("v1", "Pod", namespace))
        pods[namespace] = summarize_pods(listed) if isinstance(listed, list) else [str(listed)]
    return {"events": events, "pods_not_ready": pods, "endpoints": endpoint_summaries,
            "webhook_configurations": webhook_summaries}


def _safe(read):
    """Diagnostics must never hide the real failure: a read error becomes a line of text."""
    try:
        return read()
    except K8sError as exc:
        return f"(could not read: {exc.msg})"


def format_diagnostics(diagnostics: dict) -> str:
    lines = []
    for summary in diagnostics.get("webhook_configurations") or []:
        if not summary.get("found"):
            lines.append(f"{summary['kind']} {summary['name']}: not found")
            continue
        lines.append(f"{summary['kind']} {summary['name']}:")
        for hook in summary["webhooks"]:
            lines.append(f"  - {hook['name']}: {hook['service'] or hook['url']}, caBundle {hook['caBundle']}, "
                         f"failurePolicy {hook['failurePolicy']}, timeoutSeconds {hook['timeoutSeconds']}")
        for key, value in (summary.get("inject_annotations") or {}).items():
            lines.append(f"  annotation {key}: {value}")
    for summary in diagnostics.get("endpoints") or []:
        entries = summary["endpoints"]
        if entries:
            listed = ", ".join(f"{'/'.join(e['addresses'])} ready={e['ready']}"
                               + (f" ({e['pod']})" if e.get("pod") else "") for e in entries)
        elif summary.get("legacy_endpoints"):
            listed = f"Endpoints {summary['legacy_endpoints']}"
        else:
            listed = "none"
        lines.append(f"Endpoints of service {summary['service']}: {listed}")
    for namespace, pods in (diagnostics.get("pods_not_ready") or {}).items():
        lines.append(f"Pods not ready in {namespace}: " + ("; ".join(pods) if pods else "none"))
    for namespace, events in (diagnostics.get("events") or {}).items():
        lines.append(f"Recent events in {namespace}:" + ("" if events else " none"))
        lines.extend(f"  {line}" for line in events)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# The gate
# ---------------------------------------------------------------------------------------------------------
@dataclass
class GateResult:
    passed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    not_running_reason: str = ""
    elapsed: float = 0.0
    rounds: int = 0
    diagnostics: dict = field(default_factory=dict)
    check_mode: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def message(self, timeout) -> str:
        if self.ok:
            parts = [f"{len(self.passed)} check(s) passed"]
            if self.skipped:
                parts.append(f"{len(self.skipped)} skipped")
            return "; ".join(parts) + f" (after {self.elapsed:.0f}s)"
        failing = "\n".join(f"- {f['check']}: {f['reason']}" for f in self.failed)
        text = (f"Readiness gate timed out after {timeout}s: {len(self.failed)} of "
                f"{len(self.failed) + len(self.passed)} check(s) not satisfied:\n{failing}")
        diagnostic = format_diagnostics(self.diagnostics)
        return text + ("\nDiagnostic:\n" + diagnostic if diagnostic else "")


def run_gate(reader, params: dict, check_mode: bool = False, clock=time.monotonic, sleep=time.sleep) -> GateResult:
    """Poll until every check that is not skipped passes, or until ``wait_timeout`` seconds have passed.

    In check mode the checks are evaluated once: what is not satisfied yet (the run that would install it
    has not happened) is reported as skipped with that reason, not waited for.
    """
    checks = build_checks(params)
    reason = not_running_reason(params.get("component"), params.get("not_running"))
    requires = params.get("requires_controller")
    to_run, skipped = split_checks(checks, reason, DEFAULT_REQUIRES_CONTROLLER if requires is None else requires)
    timeout, interval = params.get("wait_timeout", 300), max(params.get("wait_sleep", 3), 0)
    evaluator = Evaluator(reader)
    result = GateResult(skipped=skipped, check_mode=check_mode, not_running_reason=reason)
    start = clock()
    while True:
        result.rounds += 1
        passed, failed = [], []
        for check in to_run:
            try:
                ok, detail = evaluator.evaluate(check)
            except K8sError as exc:
                if exc.status in FATAL_STATUSES:
                    raise ReadinessError(f"{check.name}: {exc.msg}") from exc
                ok, detail = False, exc.msg
            (passed if ok else failed).append({"check": check.name, "reason": detail})
        result.passed = [p["check"] for p in passed]
        result.elapsed = clock() - start
        if not failed:
            result.failed = []
            return result
        if check_mode:
            result.failed = []
            result.skipped = skipped + [
                {"check": f["check"], "reason": f"check mode: not satisfied yet ({f['reason']}); a real run "
                                                f"waits up to {timeout}s for it"} for f in failed]
            return result
        if result.elapsed >= timeout:
            result.failed = failed
            result.diagnostics = collect_diagnostics(reader, [c for c in to_run if c.name in
                                                              {f["check"] for f in failed}])
            return result
        sleep(min(interval, max(timeout - result.elapsed, 0)) or 0)


def run(module) -> dict:
    """aphex.platform.readiness_gate's whole job; ``module`` is an AphexK8sModule.

    Raises ReadinessError (with the result: failed checks and diagnostics) when the gate times out.
    """
    params = module.params
    gate = run_gate(module.reader(), params, check_mode=module.check_mode)
    result = {"changed": False, "passed": gate.passed, "skipped_checks": gate.skipped,
              "not_running_reason": gate.not_running_reason, "elapsed": round(gate.elapsed, 1),
              "msg": gate.message(params["wait_timeout"])}
    if gate.skipped:
        module.warn("readiness gate skipped " + "; ".join(f"[{s['check']}]: {s['reason']}" for s in gate.skipped))
    if not gate.ok:
        result.update(failed_checks=gate.failed, diagnostics=gate.diagnostics)
        raise ReadinessError(result.pop("msg"), result=result)
    return result
