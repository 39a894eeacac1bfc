# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One generic renderer for every catalog entry: tenant + module + options -> Kustomize base and overlays.

Nothing here knows a module by name: what differs between modules (images, ports, probes, storage, GPUs,
dependencies, auth settings) is data in ``entries/``; the object shapes are the templates below, chosen by
the workload's ``kind`` (Deployment, StatefulSet, CronJob). The output is byte-stable: the same input gives
the same bytes (sorted keys, fixed YAML formatting, no timestamps, no random values). Secrets are never
rendered: workloads read them from the Secret ``<module>-credentials`` (External Secrets or the tenant's admins
create it; its keys are the entry's ``secret_keys``).
"""

from __future__ import annotations

import copy
import functools
import re

from ansible_collections.aphex.platform.plugins.module_utils.organization.objects import network_policy
from . import quantity
from .entries import ENTRIES

LABEL_TENANT = "orchestr8.platform/tenant"
LABEL_MODULE = "orchestr8.platform/module"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "aphex-platform"

# The tenant.yaml field that allows GPUs; named in the refusal message.
TENANT_GPU_FIELD = "gpu.enabled"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_RUNTIME_CLASS = "nvidia"

ENVIRONMENTS = ("dev", "staging", "production")
# Per environment: host prefix, TLS, log level and how far limits grow over the base (dev-sized) limits.
ENVIRONMENT_PROFILES = {
    "dev": {"host_prefix": "dev.", "tls": False, "log_level": "debug", "limits_factor": 1},
    "staging": {"host_prefix": "staging.", "tls": True, "log_level": "info", "limits_factor": 1},
    "production": {"host_prefix": "", "tls": True, "log_level": "warn", "limits_factor": 2},
}

DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"
DEFAULT_INGRESS_CLASS = "nginx"
DEFAULT_AUTH_NAMESPACE = "keycloak"
DNS_NAMESPACE = "kube-system"
QUOTA_NAME = "module-quota"
LIMIT_RANGE_NAME = "module-limits"
_PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*[a-zA-Z0-9_.-]+$")
_CRON = re.compile(r"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")
_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")

OPTION_KEYS = ("image", "replicas", "resources", "config", "auth", "roles", "gpu", "storage", "port",
               "health_path", "schedule", "environments")
ENVIRONMENT_OPTION_KEYS = ("replicas", "resources", "config")


class CatalogError(ValueError):
    """Invalid module request; ``errors`` is the list of "field: message" strings."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# --- catalog -------------------------------------------------------------------------------------------

CATALOG_NAMES = tuple(sorted(ENTRIES))


def _entry(module: str) -> dict:
    if module not in ENTRIES:
        raise CatalogError([f"module: unknown module {module!r}; the catalog has {', '.join(CATALOG_NAMES)}"])
    return ENTRIES[module]


def _workload_name(module: str, workload: dict) -> str:
    return f"{module}-{workload['name']}" if workload["name"] else module


def _pods(workload: dict, replicas: int) -> int:
    """Pods a workload may run at once: a Deployment rolls with one surge pod, a CronJob forbids overlap."""
    if workload["kind"] == "Deployment":
        return replicas + 1
    if workload["kind"] == "CronJob":
        return 1
    return replicas


def catalog_entry(name: str) -> dict:
    """What tenant validation needs to know about a module without rendering it.

    ``requests``/``limits``/``pods`` are the totals of the production environment (the largest) with default
    options, including the rolling-update surge pod; ``per_environment`` has them for each environment.
    """
    entry = _entry(name)
    plan = _plan({"name": "t", "domain": "example.com", "gpu": {"enabled": True}}, name, {}, check_image=False)
    ports = [{"workload": _workload_name(name, w), "name": p["name"], "port": p["port"], "protocol": "TCP"}
             for w in entry["workloads"] for p in w.get("ports", [])]
    auth = entry.get("auth")
    per_env = {env: _totals(plan, env) for env in ENVIRONMENTS}
    gpu = entry.get("gpu")
    return {
        "name": name,
        "version": entry["version"],
        "description": entry["description"],
        "category": entry["category"],
        "dependencies": [{"name": d["name"], "optional": bool(d.get("optional", False))}
                         for d in entry["dependencies"]],
        "auth": auth is not None,
        "roles": list(auth["roles"]) if auth else [],
        "default_roles": list(auth["default_roles"]) if auth else [],
        "oidc_client_id": name,
        "gpu": {"supported": gpu is not None, "count": gpu["count"] if gpu else 0,
                "required": bool(gpu and gpu["required"])},
        "ports": ports,
        "exposed": entry.get("expose") is not None,
        "secrets": list(entry.get("secret_keys", [])),
        "image_required": any(w["image"] is None for w in entry["workloads"]),
        "workloads": [{"name": _workload_name(name, w), "kind": w["kind"]} for w in entry["workloads"]],
        "requests": per_env["production"]["requests"],
        "limits": per_env["production"]["limits"],
        "pods": per_env["production"]["pods"],
        "per_environment": per_env,
    }


def module_usage(tenant: dict, module: str, options: dict | None = None, env: str = "production") -> dict:
    """What one module takes in one environment with these options: {requests, limits, pods,
    persistentvolumeclaims} (rolling-update surge pods included), the same figures as its ResourceQuota.

    For sizing only: it does not validate (validate_module does). A GPU the tenant does not allow counts as none;
    options that cannot be sized at all (e.g. a quantity that is no quantity) fall back to the entry's defaults.
    Only an unknown module or environment raises CatalogError."""
    _entry(module)
    if env not in ENVIRONMENTS:
        raise CatalogError([f"environment: unknown environment {env!r}; allowed: {', '.join(ENVIRONMENTS)}"])
    options = dict(options) if isinstance(options, dict) else {}
    sizing_tenant = {"name": "tenant", "domain": "example.com", "gpu": {"enabled": _tenant_allows_gpu(tenant or {})}}
    if not sizing_tenant["gpu"]["enabled"] or not isinstance(options.get("gpu"), int) or options["gpu"] < 0:
        options.pop("gpu", None)
    try:
        return _totals(_plan(sizing_tenant, module, options, check_image=False), env)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ZeroDivisionError):
        return _totals(_plan(sizing_tenant, module, {}, check_image=False), env)


# --- validation ----------------------------------------------------------------------------------------

def _check_resources(value, field: str, errors: list) -> None:
    if not isinstance(value, dict) or set(value) - {"requests", "limits"}:
        errors.append(f"{field}: must be a mapping with 'requests' and/or 'limits'")
        return
    parsed = {}
    for part, amounts in value.items():
        if not isinstance(amounts, dict) or set(amounts) - {"cpu", "memory"}:
            errors.append(f"{field}.{part}: must be a mapping of cpu and/or memory")
            continue
        for key, amount in amounts.items():
            try:
                parsed[(part, key)] = quantity.parse(amount)
            except ValueError as exc:
                errors.append(f"{field}.{part}.{key}: {exc}")
    for key in ("cpu", "memory"):
        if ("requests", key) in parsed and ("limits", key) in parsed and \
                parsed[("requests", key)] > parsed[("limits", key)]:
            errors.append(f"{field}.requests.{key}: {value['requests'][key]} exceeds the limit "
                          f"{value['limits'][key]}")


def _check_replicas(value, field: str, entry: dict, errors: list) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append(f"{field}: must be an integer >= 1")
    elif value > 1 and entry["workloads"][0]["kind"] != "Deployment":
        errors.append(f"{field}: {entry['name']} runs a single {entry['workloads'][0]['kind']} replica "
                      "(no clustering in the catalog); only 1 is allowed")


def _check_config(value, field: str, errors: list) -> None:
    if not isinstance(value, dict):
        errors.append(f"{field}: must be a mapping of environment variable names to strings")
        return
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            errors.append(f"{field}.{key}: not a valid environment variable name")
        elif not isinstance(item, (str, int, float)) or isinstance(item, bool):
            errors.append(f"{field}.{key}: must be a string or number")


def _tenant_allows_gpu(tenant: dict) -> bool:
    gpu = tenant.get("gpu")
    if isinstance(gpu, dict):
        return gpu.get("enabled") is True
    return gpu is True


def validate_module(tenant: dict, module: str, options: dict | None = None) -> list:
    """Every problem with rendering ``module`` for ``tenant`` with ``options``, as "field: message" strings."""
    options = {} if options is None else options
    errors = []
    if module not in ENTRIES:
        return [f"module: unknown module {module!r}; the catalog has {', '.join(CATALOG_NAMES)}"]
    entry = ENTRIES[module]
    name = tenant.get("name") if isinstance(tenant, dict) else None
    if not isinstance(name, str) or not _DNS_LABEL.match(name):
        errors.append("name: the tenant name must be a DNS label (lower-case letters, digits, '-')")
    elif len(f"{name}-{module}") > 63:
        errors.append(f"name: namespace {name}-{module} would be longer than 63 characters")
    domain = tenant.get("domain") if isinstance(tenant, dict) else None
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        errors.append("domain: must be a lower-case DNS domain such as example.com")
    if not isinstance(options, dict):
        return errors + ["options: must be a mapping"]
    for key in sorted(set(options) - set(OPTION_KEYS)):
        errors.append(f"options.{key}: unknown option; allowed: {', '.join(OPTION_KEYS)}")
    primary = entry["workloads"][0]

    image = options.get("image")
    if image is not None and (not isinstance(image, str) or not _IMAGE.match(image)):
        errors.append("options.image: must be an image reference such as registry.example.com/team/app:1.2.3")
    if image is None and primary["image"] is None:
        errors.append(f"options.image: required for the {module} template (the team's own image)")
    if "replicas" in options:
        _check_replicas(options["replicas"], "options.replicas", entry, errors)
    if "resources" in options:
        _check_resources(options["resources"], "options.resources", errors)
    if "config" in options:
        _check_config(options["config"], "options.config", errors)

    auth = entry.get("auth")
    if "auth" in options and not isinstance(options["auth"], bool):
        errors.append("options.auth: must be true or false")
    if options.get("auth") and auth is None:
        errors.append(f"options.auth: {module} has no login to connect to Keycloak")
    if "roles" in options:
        roles = options["roles"]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            errors.append("options.roles: must be a list of role names")
        elif auth is None:
            errors.append(f"options.roles: {module} has no roles (no Keycloak login)")
        else:
            for role in roles:
                if role not in auth["roles"]:
                    errors.append(f"options.roles: unknown role {role!r} for {module}; "
                                  f"allowed: {', '.join(auth['roles'])}")
            if len(set(roles)) != len(roles):
                errors.append("options.roles: a role is listed twice")

    gpu_entry = entry.get("gpu")
    if "gpu" in options:
        count = options["gpu"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            errors.append("options.gpu: must be an integer >= 0")
        elif count > 0 and gpu_entry is None:
            errors.append(f"options.gpu: {module} does not use GPUs")
        elif count > 0 and not _tenant_allows_gpu(tenant):
            errors.append(f"{TENANT_GPU_FIELD}: options.gpu asks for {count} {GPU_RESOURCE} but tenant "
                          f"{name!r} does not allow GPUs (set {TENANT_GPU_FIELD}: true in tenant.yaml)")
    elif gpu_entry and gpu_entry["required"] and not _tenant_allows_gpu(tenant):
        errors.append(f"{TENANT_GPU_FIELD}: {module} is a GPU module ({gpu_entry['count']} {GPU_RESOURCE}, "
                      f"runtimeClassName {GPU_RUNTIME_CLASS}) but tenant {name!r} does not allow GPUs: set "
                      f"{TENANT_GPU_FIELD}: true in tenant.yaml, or options.gpu: 0 to run it on CPU only")

    if "storage" in options:
        if not any(w.get("storage") for w in entry["workloads"]):
            errors.append(f"options.storage: {module} keeps no data on a volume")
        else:
            try:
                if quantity.parse(options["storage"]) <= 0:
                    raise ValueError("must be more than 0")
            except ValueError as exc:
                errors.append(f"options.storage: {exc}")
    if "port" in options:
        port = options["port"]
        if not primary.get("ports"):
            errors.append(f"options.port: {module} serves no port")
        elif isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
            errors.append("options.port: must be an unprivileged port number (1024-65535)")
    if "health_path" in options:
        if (primary.get("probe") or {}).get("type") != "http":
            errors.append(f"options.health_path: {module} has no HTTP health check")
        elif not isinstance(options["health_path"], str) or not options["health_path"].startswith("/"):
            errors.append("options.health_path: must be a path starting with '/'")
    if "schedule" in options:
        if primary["kind"] != "CronJob":
            errors.append(f"options.schedule: {module} is not a scheduled job")
        elif not isinstance(options["schedule"], str) or not _CRON.match(options["schedule"].strip()):
            errors.append("options.schedule: must be a cron schedule such as '0 3 * * *'")

    envs = options.get("environments")
    if envs is not None:
        if not isinstance(envs, dict):
            errors.append("options.environments: must be a mapping of dev/staging/production to overrides")
        else:
            for env in sorted(envs, key=str):
                field = f"options.environments.{env}"
                if env not in ENVIRONMENTS:
                    errors.append(f"{field}: unknown environment; allowed: {', '.join(ENVIRONMENTS)}")
                    continue
                overrides = envs[env]
                if not isinstance(overrides, dict):
                    errors.append(f"{field}: must be a mapping")
                    continue
                for key in sorted(set(overrides) - set(ENVIRONMENT_OPTION_KEYS)):
                    errors.append(f"{field}.{key}: unknown option; allowed: {', '.join(ENVIRONMENT_OPTION_KEYS)}")
                if "replicas" in overrides:
                    _check_replicas(overrides["replicas"], f"{field}.replicas", entry, errors)
                if "resources" in overrides:
                    _check_resources(overrides["resources"], f"{field}.resources", errors)
                if "config" in overrides:
                    _check_config(overrides["config"], f"{field}.config", errors)
    return errors


# --- plan: the entry with options and tenant applied ---------------------------------------------------

def _substitute(value, variables: dict):
    """``${name}`` placeholders in strings (recursively); an unknown name is a catalog bug and raises."""
    if isinstance(value, str):
        def replace(match):
            if match.group(1) not in variables:
                raise KeyError(f"catalog placeholder ${{{match.group(1)}}} is not defined")
            return variables[match.group(1)]
        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    return value


def _merge_resources(base: dict, override: dict | None) -> dict:
    merged = copy.deepcopy(base)
    for part, amounts in (override or {}).items():
        merged.setdefault(part, {}).update({k: str(v) for k, v in amounts.items()})
    return merged


def _scaled_limits(resources: dict, factor: int) -> dict:
    scaled = copy.deepcopy(resources)
    for key, value in resources.get("limits", {}).items():
        if key != GPU_RESOURCE:
            scaled["limits"][key] = quantity.format_resource(key, quantity.parse(value) * factor)
    return scaled


def _plan(tenant: dict, module: str, options: dict, check_image: bool = True) -> dict:
    entry = _entry(module)
    tenant_name, domain = tenant["name"], tenant["domain"]
    namespace = f"{tenant_name}-{module}"
    host = f"{module}.{domain}"
    variables = {
        "tenant": tenant_name, "module": module, "namespace": namespace, "domain": domain, "host": host,
        "oidc_issuer": tenant.get("oidc_issuer") or f"https://auth.{domain}/realms/{tenant_name}",
        "oidc_client_id": module,
    }
    for dep in entry["dependencies"]:
        variables[f"{dep['name']}_host"] = f"{dep['name']}.{tenant_name}-{dep['name']}.svc.cluster.local"

    gpu_entry = entry.get("gpu")
    if "gpu" in options:
        gpu_count = options["gpu"]
    elif gpu_entry and _tenant_allows_gpu(tenant):
        gpu_count = gpu_entry["count"]
    else:
        gpu_count = 0

    auth_enabled = bool(options.get("auth")) and entry.get("auth") is not None
    config = dict(entry.get("config", {}))
    if auth_enabled:
        config.update(entry["auth"]["config"])
    config = _substitute(config, variables)
    # The tenant's own values are taken as written (a '${' in them is theirs, not a catalog placeholder).
    config.update({k: str(v) for k, v in (options.get("config") or {}).items()})

    env_options = options.get("environments") or {}
    workloads = []
    for index, source in enumerate(entry["workloads"]):
        primary = index == 0
        workload = _substitute(copy.deepcopy(source), variables)
        workload["resource_name"] = _workload_name(module, source)
        if primary and options.get("image"):
            workload["image"] = options["image"]
        if check_image and not workload["image"]:
            raise CatalogError([f"options.image: required for the {module} template"])
        workload["image"] = workload["image"] or "registry.invalid/required:0"
        if primary and "resources" in options:
            workload["resources"] = _merge_resources(workload["resources"], options["resources"])
        if primary and "port" in options and workload.get("ports"):
            workload["ports"][0]["port"] = options["port"]
        if primary and "health_path" in options:
            workload["probe"]["path"] = options["health_path"]
        if primary and "schedule" in options:
            workload["schedule"] = options["schedule"].strip()
        if "storage" in options and workload.get("storage"):
            workload["storage"]["size"] = str(options["storage"])
        secret_env = dict(workload.get("secret_env", {}))
        if auth_enabled:
            secret_env.update(entry["auth"].get("secret_env", {}))
        workload["secret_env"] = secret_env
        workload["gpu_count"] = gpu_count if workload.get("gpu") else 0
        if workload["gpu_count"]:
            for part in ("requests", "limits"):
                workload["resources"].setdefault(part, {})[GPU_RESOURCE] = str(workload["gpu_count"])
        per_env = {}
        for env in ENVIRONMENTS:
            overrides = env_options.get(env) or {}
            replicas = (workload.get("replicas") or {}).get(env, 1)
            if primary and "replicas" in options:
                replicas = options["replicas"]
            if primary and "replicas" in overrides:
                replicas = overrides["replicas"]
            resources = _scaled_limits(workload["resources"], ENVIRONMENT_PROFILES[env]["limits_factor"])
            if primary and "resources" in overrides:
                resources = _merge_resources(resources, overrides["resources"])
            per_env[env] = {"replicas": replicas if workload["kind"] != "CronJob" else None,
                            "resources": resources}
        workload["per_env"] = per_env
        workloads.append(workload)

    env_config = {}
    for env in ENVIRONMENTS:
        literals = {"ENVIRONMENT": env, "LOG_LEVEL": ENVIRONMENT_PROFILES[env]["log_level"]}
        literals.update({k: str(v) for k, v in ((env_options.get(env) or {}).get("config") or {}).items()})
        env_config[env] = literals

    return {
        "entry": entry, "tenant": tenant_name, "module": module, "namespace": namespace, "domain": domain,
        "host": host, "config": config, "env_config": env_config, "workloads": workloads,
        "gpu_count": gpu_count, "auth": auth_enabled,
        "ingress_class": tenant.get("ingress_class") or DEFAULT_INGRESS_CLASS,
        "ingress_namespace": tenant.get("ingress_namespace") or DEFAULT_INGRESS_NAMESPACE,
        "auth_namespace": tenant.get("auth_namespace") or DEFAULT_AUTH_NAMESPACE,
        "tls_cluster_issuer": tenant.get("tls_cluster_issuer"),
    }


def _totals(plan: dict, env: str) -> dict:
    """Requests, limits and pod/volume counts of one environment: what its ResourceQuota must admit."""
    sums = {}
    pods = claims = 0
    for workload in plan["workloads"]:
        replicas = workload["per_env"][env]["replicas"] or 1
        count = _pods(workload, replicas)
        pods += count
        for part in ("requests", "limits"):
            for key, value in workload["per_env"][env]["resources"].get(part, {}).items():
                sums[(part, key)] = sums.get((part, key), 0) + quantity.parse(value) * count
        volumes = ([workload["storage"]] if workload.get("storage") else []) * replicas + workload.get("claims", [])
        claims += len(volumes)
        for volume in volumes:
            sums[("requests", "storage")] = sums.get(("requests", "storage"), 0) + quantity.parse(volume["size"])
    totals = {"requests": {}, "limits": {}, "pods": pods, "persistentvolumeclaims": claims}
    for (part, key), value in sorted(sums.items()):
        totals[part][key] = quantity.format_resource(key, value)
    return totals


# --- object templates ----------------------------------------------------------------------------------

def _labels(plan: dict, name: str | None = None) -> dict:
    labels = {LABEL_TENANT: plan["tenant"], LABEL_MODULE: plan["module"], LABEL_PART_OF: plan["module"],
              LABEL_MANAGED_BY: MANAGED_BY}
    if name:
        labels[LABEL_NAME] = name
    return labels


def _selector(plan: dict, workload: dict) -> dict:
    return {LABEL_TENANT: plan["tenant"], LABEL_MODULE: plan["module"], LABEL_NAME: workload["resource_name"]}


def _meta(plan: dict, name: str, namespaced: bool = True, extra: dict | None = None) -> dict:
    meta = {"name": name, "labels": {**_labels(plan), **(extra or {})}}
    if namespaced:
        meta["namespace"] = plan["namespace"]
    return meta


def _namespace(plan: dict) -> dict:
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(plan, plan["namespace"], False, pss)}


def _service_account(plan: dict) -> dict:
    # No Role is bound: the module's pods need nothing from the API (tokens are not even mounted).
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(plan, plan["module"]),
            "automountServiceAccountToken": False}


def _quota(plan: dict, env: str) -> dict:
    totals = _totals(plan, env)
    hard = {f"{part}.{key}" if key != "storage" else "requests.storage": value
            for part in ("requests", "limits") for key, value in totals[part].items()
            if not (part == "limits" and key == GPU_RESOURCE)}
    hard["pods"] = str(totals["pods"])
    hard["persistentvolumeclaims"] = str(totals["persistentvolumeclaims"])
    hard.setdefault(f"requests.{GPU_RESOURCE}", "0")  # no GPU for a module that was not given one
    hard.setdefault("requests.storage", "0")
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(plan, QUOTA_NAME),
            "spec": {"hard": dict(sorted(hard.items()))}}


def _limit_range(plan: dict) -> dict:
    # Defaults for containers we did not render (e.g. Argo CD hooks), so the quota never blocks them outright.
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(plan, LIMIT_RANGE_NAME),
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "250m", "memory": "256Mi"},
                                 "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]}}


def _ports(ports) -> list:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _module_ports(workloads) -> list:
    return sorted({p["port"] for w in workloads for p in w.get("ports", [])})


def _network_policies(plan: dict) -> list:
    """Default deny both ways; in: same tenant (+ ingress controller when exposed); out: DNS, own tenant's
    dependencies, optionally Keycloak and the public internet. Other tenants' namespaces match no selector."""
    tenant, module = plan["tenant"], plan["module"]
    same_tenant = {"namespaceSelector": {"matchLabels": {LABEL_TENANT: tenant}}}
    policies = [
        network_policy(_meta(plan, "default-deny-all"), {}, ingress=[], egress=[]),
        network_policy(_meta(plan, "allow-dns-egress"), {}, egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": DNS_NAMESPACE}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
    ]
    ports = _module_ports(plan["workloads"])
    if ports:
        policies.append(network_policy(_meta(plan, "allow-same-tenant-ingress"), {}, ingress=[
            {"from": [same_tenant], "ports": _ports(ports)}]))
    expose = plan["entry"].get("expose")
    if expose:
        workload = next(w for w in plan["workloads"] if w["name"] == expose["workload"])
        port = next(p["port"] for p in workload["ports"] if p["name"] == expose["port"])
        policies.append(network_policy(
            _meta(plan, "allow-ingress-controller"), {"matchLabels": _selector(plan, workload)}, ingress=[{
                "from": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": plan["ingress_namespace"]}}}],
                "ports": _ports([port])}]))
    egress = [{"to": [{"namespaceSelector": {"matchLabels": {LABEL_TENANT: tenant, LABEL_MODULE: module}}}]}]
    for dep in plan["entry"]["dependencies"]:
        dep_ports = _module_ports(ENTRIES[dep["name"]]["workloads"])
        rule = {"to": [{"namespaceSelector": {"matchLabels": {LABEL_TENANT: tenant, LABEL_MODULE: dep["name"]}}}]}
        if dep_ports:
            rule["ports"] = _ports(dep_ports)
        egress.append(rule)
    policies.append(network_policy(_meta(plan, "allow-tenant-egress"), {}, egress=egress))
    if plan["auth"]:
        policies.append(network_policy(_meta(plan, "allow-keycloak-egress"), {}, egress=[
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": plan["auth_namespace"]}}}],
             "ports": _ports([8080, 8443])},
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(_PRIVATE_RANGES)}}], "ports": _ports([443])},
        ]))
    if plan["entry"].get("internet_egress"):
        policies.append(network_policy(_meta(plan, "allow-internet-egress"), {}, egress=[
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(_PRIVATE_RANGES)}}], "ports": _ports([443])},
        ]))
    return policies


def _volume_name(path: str) -> str:
    return "w" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-")


def _probes(workload: dict) -> dict:
    probe = workload.get("probe")
    if not probe:
        return {}
    handler = {
        "http": lambda: {"httpGet": {"path": probe.get("path", "/"), "port": probe["port"]}},
        "tcp": lambda: {"tcpSocket": {"port": probe["port"]}},
        "exec": lambda: {"exec": {"command": list(probe["command"])}},
    }[probe["type"]]
    probes = {
        "livenessProbe": {**handler(), "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "readinessProbe": {**handler(), "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
    }
    if probe.get("startup_seconds"):
        probes["startupProbe"] = {**handler(), "periodSeconds": 10, "timeoutSeconds": 5,
                                  "failureThreshold": max(1, probe["startup_seconds"] // 10)}
    return probes


def _container(plan: dict, workload: dict, resources: dict) -> dict:
    container = {
        "name": workload["name"] or plan["module"],
        "image": workload["image"],
        "imagePullPolicy": "IfNotPresent",
        "envFrom": [{"configMapRef": {"name": f"{plan['module']}-config"}}],
        "resources": copy.deepcopy(resources),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        **_probes(workload),
    }
    for key in ("command", "args"):
        if workload.get(key):
            container[key] = list(workload[key])
    if workload.get("ports"):
        container["ports"] = [{"name": p["name"], "containerPort": p["port"], "protocol": "TCP"}
                              for p in workload["ports"]]
    if workload["secret_env"]:
        container["env"] = [{"name": name, "valueFrom": {"secretKeyRef": {
            "name": f"{plan['module']}-credentials", "key": key}}}
            for name, key in sorted(workload["secret_env"].items())]
    mounts = [{"name": _volume_name(path), "mountPath": path} for path in workload.get("writable", [])]
    if workload.get("storage"):
        mounts.append({"name": "data", "mountPath": workload["storage"]["path"]})
    mounts += [{"name": claim["name"], "mountPath": claim["path"]} for claim in workload.get("claims", [])]
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _pod_template(plan: dict, workload: dict, env: str = "base") -> dict:
    resources = workload["resources"] if env == "base" else workload["per_env"][env]["resources"]
    user = workload.get("user", 65532)
    spec = {
        "serviceAccountName": plan["module"],
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "fsGroup": user,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(plan, workload, resources)],
    }
    volumes = [{"name": _volume_name(path), "emptyDir": {}} for path in workload.get("writable", [])]
    volumes += [{"name": claim["name"], "persistentVolumeClaim": {
        "claimName": f"{workload['resource_name']}-{claim['name']}"}} for claim in workload.get("claims", [])]
    if volumes:
        spec["volumes"] = volumes
    if workload["gpu_count"]:
        spec["runtimeClassName"] = GPU_RUNTIME_CLASS
        spec["tolerations"] = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    return {"metadata": {"labels": {**_labels(plan, workload["resource_name"]), **_selector(plan, workload)}},
            "spec": spec}


def _deployment(plan: dict, workload: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _meta(plan, workload["resource_name"], extra={LABEL_NAME: workload["resource_name"]}),
            "spec": {"replicas": 1, "revisionHistoryLimit": 3,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "selector": {"matchLabels": _selector(plan, workload)},
                     "template": _pod_template(plan, workload)}}


def _statefulset(plan: dict, workload: dict) -> dict:
    spec = {"replicas": 1, "serviceName": workload["resource_name"], "revisionHistoryLimit": 3,
            "selector": {"matchLabels": _selector(plan, workload)},
            "template": _pod_template(plan, workload)}
    if workload.get("storage"):
        spec["volumeClaimTemplates"] = [{
            "metadata": {"name": "data", "labels": _labels(plan, workload["resource_name"])},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": workload["storage"]["size"]}}},
        }]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": _meta(plan, workload["resource_name"], extra={LABEL_NAME: workload["resource_name"]}),
            "spec": spec}


def _cronjob(plan: dict, workload: dict) -> dict:
    template = _pod_template(plan, workload)
    template["spec"]["restartPolicy"] = "OnFailure"
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": _meta(plan, workload["resource_name"], extra={LABEL_NAME: workload["resource_name"]}),
            "spec": {"schedule": workload["schedule"], "concurrencyPolicy": "Forbid",
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
                     "jobTemplate": {"metadata": {"labels": _labels(plan, workload["resource_name"])},
                                     "spec": {"backoffLimit": 2,
                                              "activeDeadlineSeconds": workload.get("deadline_seconds", 3600),
                                              "template": template}}}}


# The templates, by workload kind (the only dispatch in the renderer).
WORKLOAD_TEMPLATES = {"Deployment": _deployment, "StatefulSet": _statefulset, "CronJob": _cronjob}
WORKLOAD_FILES = {"Deployment": "deployment.yaml", "StatefulSet": "statefulset.yaml", "CronJob": "cronjob.yaml"}


def _service(plan: dict, workload: dict) -> dict:
    spec = {"selector": _selector(plan, workload),
            "ports": [{"name": p["name"], "port": p["port"], "targetPort": p["name"], "protocol": "TCP"}
                      for p in workload["ports"]]}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(plan, workload["resource_name"], extra={LABEL_NAME: workload["resource_name"]}),
            "spec": spec}


def _claims(plan: dict, workload: dict) -> list:
    return [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": _meta(plan, f"{workload['resource_name']}-{claim['name']}"),
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": claim["size"]}}}}
            for claim in workload.get("claims", [])]


def _ingress_spec(plan: dict, env: str | None) -> dict:
    expose = plan["entry"]["expose"]
    workload = next(w for w in plan["workloads"] if w["name"] == expose["workload"])
    prefix = ENVIRONMENT_PROFILES[env]["host_prefix"] if env else ""
    host = f"{plan['module']}.{prefix}{plan['domain']}"
    spec = {"ingressClassName": plan["ingress_class"],
            "rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": workload["resource_name"], "port": {"name": expose["port"]}}},
            }]}}]}
    if env and ENVIRONMENT_PROFILES[env]["tls"]:
        spec["tls"] = [{"hosts": [host], "secretName": f"{plan['module']}-tls"}]
    return spec


def _ingress(plan: dict) -> dict:
    meta = _meta(plan, plan["module"])
    if plan["tls_cluster_issuer"]:
        meta["annotations"] = {"cert-manager.io/cluster-issuer": plan["tls_cluster_issuer"]}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": _ingress_spec(plan, None)}


# --- files ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _dumper():
    """Block style, no anchors/aliases (shared sub-dicts must not become &id001), multi-line strings as |."""
    import yaml  # pylint: disable=import-outside-toplevel  # PyYAML ships with ansible-core

    class Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        def ignore_aliases(self, data):
            return True

    def represent_str(dumper, data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)

    Dumper.add_representer(str, represent_str)
    return yaml, Dumper


def to_yaml(documents) -> str:
    """Byte-stable YAML: sorted keys, block style, '---' between documents, trailing newline."""
    yaml, dumper = _dumper()
    if isinstance(documents, dict):
        documents = [documents]
    return yaml.dump_all(documents, Dumper=dumper, sort_keys=True, default_flow_style=False,
                         explicit_start=len(documents) > 1, width=4096, allow_unicode=True)


def _literals(config: dict) -> list:
    return [f"{key}={value}" for key, value in sorted(config.items())]


def _base_files(plan: dict) -> dict:
    by_file = {
        "namespace.yaml": [_namespace(plan)],
        "serviceaccount.yaml": [_service_account(plan)],
        "resourcequota.yaml": [_quota(plan, "dev")],
        "limitrange.yaml": [_limit_range(plan)],
        "networkpolicy.yaml": _network_policies(plan),
    }
    for workload in plan["workloads"]:
        by_file.setdefault(WORKLOAD_FILES[workload["kind"]], []).append(
            WORKLOAD_TEMPLATES[workload["kind"]](plan, workload))
        if workload.get("ports"):
            by_file.setdefault("service.yaml", []).append(_service(plan, workload))
        if workload.get("claims"):
            by_file.setdefault("persistentvolumeclaim.yaml", []).extend(_claims(plan, workload))
    if plan["entry"].get("expose"):
        by_file["ingress.yaml"] = [_ingress(plan)]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(by_file),
        "configMapGenerator": [{
            "name": f"{plan['module']}-config",
            "namespace": plan["namespace"],
            "literals": _literals(plan["config"]),
            "options": {"labels": _labels(plan)},
        }],
    }
    files = {name: to_yaml(docs) for name, docs in by_file.items()}
    files["kustomization.yaml"] = to_yaml(kustomization)
    return files


def _patch_workload(plan: dict, workload: dict, env: str) -> dict:
    settings = workload["per_env"][env]
    container = {"name": workload["name"] or plan["module"], "resources": settings["resources"]}
    pod = {"spec": {"containers": [container]}}
    meta = {"name": workload["resource_name"], "namespace": plan["namespace"]}
    api_version = "batch/v1" if workload["kind"] == "CronJob" else "apps/v1"
    if workload["kind"] == "CronJob":
        spec = {"jobTemplate": {"spec": {"template": pod}}}
    else:
        spec = {"replicas": settings["replicas"], "template": pod}
    return {"apiVersion": api_version, "kind": workload["kind"], "metadata": meta, "spec": spec}


def _overlay_files(plan: dict, env: str) -> dict:
    files = {}
    patches = []
    for workload in plan["workloads"]:
        name = f"patches/{workload['kind'].lower()}-{workload['resource_name']}.yaml"
        files[name] = to_yaml(_patch_workload(plan, workload, env))
        patches.append({"path": name})
    quota = _quota(plan, env)
    files["patches/resourcequota.yaml"] = to_yaml({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": plan["namespace"]}, "spec": quota["spec"]})
    patches.append({"path": "patches/resourcequota.yaml"})
    if plan["entry"].get("expose"):
        files["patches/ingress.yaml"] = to_yaml({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": plan["module"], "namespace": plan["namespace"]},
            "spec": _ingress_spec(plan, env)})
        patches.append({"path": "patches/ingress.yaml"})
    files["kustomization.yaml"] = to_yaml({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../base"],
        "patches": sorted(patches, key=lambda p: p["path"]),
        "configMapGenerator": [{
            "name": f"{plan['module']}-config",
            "namespace": plan["namespace"],
            "behavior": "merge",
            "literals": _literals(plan["env_config"][env]),
            "options": {"labels": _labels(plan)},
        }],
    })
    return files


def render_module(tenant: dict, module: str, options: dict | None = None) -> dict:
    """All files of one module, keyed by path relative to the tenant directory:
    ``modules/<module>/base/*.yaml`` (with kustomization.yaml) and
    ``modules/<module>/overlays/<dev|staging|production>/kustomization.yaml`` plus its patches.

    Raises CatalogError (every problem, each naming its field) before anything is rendered."""
    options = {} if options is None else options
    errors = validate_module(tenant, module, options)
    if errors:
        raise CatalogError(errors)
    plan = _plan(tenant, module, options)
    root = f"modules/{module}"
    files = {f"{root}/base/{name}": content for name, content in _base_files(plan).items()}
    for env in ENVIRONMENTS:
        files.update({f"{root}/overlays/{env}/{name}": content
                      for name, content in _overlay_files(plan, env).items()})
    return dict(sorted(files.items()))
