# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a gate that timed out reports: events, pods that are not ready, endpoints and webhook configurations of
everything involved, read through the reader and summarised as plain data and text."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError
from ansible_collections.aphex.platform.plugins.module_utils.readiness.checks import (
    ADMISSION_API,
    WEBHOOK_KINDS,
    namespaces_of,
)
from ansible_collections.aphex.platform.plugins.module_utils.readiness.predicates import conditions, webhook_services

EVENTS_PER_NAMESPACE = 15


# Diagnostics
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
        ready = conditions(pod).get("Ready")
        if ready and ready.get("status") == "True":
            continue
        reasons = []
        for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            state = container.get("state") or {}
            for key in ("waiting", "terminated"):
                if state.get(key) and state[key].get("reason"):
                    reasons.append(f"{container.get('name')}: {state[key]['reason']}")
        scheduled = conditions(pod).get("PodScheduled")
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
