# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks of a gate: built from the module's options, split by whether the component runs, and evaluated
through a *reader* (``get``, ``list``, ``dry_run_create``; see ``k8s.reader.ClusterReader``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError
from ansible_collections.aphex.platform.plugins.module_utils.readiness.predicates import (
    api_service_available,
    crd_established,
    daemonset_ready,
    deployment_available,
    resource_status,
    service_ready,
    statefulset_ready,
    webhook_ca_bundle,
    webhook_services,
)

CATEGORIES = (
    "crds", "deployments", "statefulsets", "daemonsets", "services",
    "webhook_endpoints", "webhook_ca_bundle", "api_services", "resources", "admission_probes",
)
# Shorthands accepted in requires_controller.
CATEGORY_ALIASES = {"webhooks": ("webhook_endpoints", "webhook_ca_bundle")}
# What only pods that really run make true (rollouts, endpoints): skipped for a component that does not run when
# its pods cannot become Ready either (the gate's not_running_pods_ready=false, clusters with real nodes).
POD_CATEGORIES = ("deployments", "statefulsets", "daemonsets", "services", "webhook_endpoints")
DEFAULT_REQUIRES_CONTROLLER = ("webhook_ca_bundle", "api_services", "resources", "admission_probes")

WEBHOOK_KINDS = {"validating": "ValidatingWebhookConfiguration", "mutating": "MutatingWebhookConfiguration"}
ADMISSION_API = "admissionregistration.k8s.io/v1"


class ReadinessError(K8sError):
    """Invalid gate input, an API error that waiting cannot fix (401/403), or checks that did not pass in time."""


# Checks
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
    for key, value in not_running.items():
        if not isinstance(value, str) or not value.strip():
            raise ReadinessError(f"not_running[{key}]: the reason must be a non-empty string (got {value!r})")
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
