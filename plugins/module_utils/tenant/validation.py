# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of a tenant configuration: the JSON Schema first, then the constraints between fields.

``validate(document)`` returns ``{"tenant": <normalised dict or None>, "errors": ["<field>: <message>", ...]}``.
Nothing is generated from a tenant with errors. The constraints between fields use the module catalog
(``tenant_catalog.catalog_entry``): the tier decides quota, container limits, replicas, module count and GPUs;
the enabled modules' requests (summed) must fit the tier's quota; every required dependency must be enabled;
roles a module asks for must be tenant roles.
"""

from __future__ import annotations

import copy

from ..organization.validation import email_errors, privileged_match
from . import quantity
from .schema import ENVIRONMENTS, schema_errors
from .tiers import TIERS

API_VERSION = "orchestr8.io/v1"
KIND = "Tenant"
DEFAULTS = {
    "environment": "production",
    "ingress_class": "nginx",
    "ingress_namespace": "ingress-nginx",
    "gitops": {"revision": "main", "argocd_namespace": "argocd"},
}
# Quota keys the module requests are summed over (requests from catalog entries, as ResourceQuota names).
FIT_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "requests.nvidia.com/gpu",
            "requests.storage", "pods", "persistentvolumeclaims")


def catalog():
    """The module catalog (T2's tenant_catalog package), imported late so this module loads without it."""
    from .. import tenant_catalog  # pylint: disable=import-outside-toplevel
    return tenant_catalog


def load_yaml(text: str, source: str = "tenant.yaml"):
    """Parse tenant.yaml; returns (document, errors)."""
    # Not at module level: ansible-test's import sanity loads module_utils without PyYAML.
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return None, [f"{source}: is not valid YAML{where}: {getattr(exc, 'problem', exc)}"]
    if not isinstance(document, dict):
        return None, [f"{source}: must be a mapping of tenant fields, not {type(document).__name__}"]
    return document, []


def normalize(document: dict) -> dict:
    """Defaults filled in; the result is what generation and the module catalog read."""
    tenant = copy.deepcopy(document)
    tenant.pop("apiVersion", None)
    tenant.pop("kind", None)
    for key, value in DEFAULTS.items():
        if isinstance(value, dict):
            tenant[key] = {**value, **(tenant.get(key) or {})}
        else:
            tenant.setdefault(key, value)
    tenant.setdefault("display_name", tenant["name"])
    tenant["gpu"] = {"enabled": bool((tenant.get("gpu") or {}).get("enabled", False))}
    auth = tenant.get("auth") or {}
    tenant["auth"] = {"enabled": auth.get("enabled", True), "roles": list(auth.get("roles") or []),
                      "admin_users": list(auth.get("admin_users") or [])}
    tenant.setdefault("oidc_issuer", f"https://auth.{tenant['domain']}/realms/{tenant['name']}")
    tenant["modules"] = {name: dict(options or {}) for name, options in sorted((tenant.get("modules") or {}).items())}
    tier = TIERS[tenant["tier"]]
    tenant["quota"] = dict(tier["quota"])
    tenant["limit_range"] = copy.deepcopy(tier["limit_range"])
    return tenant


def source_document(tenant: dict) -> dict:
    """tenant.yaml as written to the repository: the given fields in a fixed order, module names sorted."""
    order = ("name", "display_name", "tier", "domain", "organization", "environment", "gpu", "auth",
             "ingress_class", "ingress_namespace", "oidc_issuer", "tls_cluster_issuer", "gitops", "modules")
    document = {"apiVersion": API_VERSION, "kind": KIND}
    for key in order:
        if key in tenant and tenant[key] is not None:
            document[key] = copy.deepcopy(tenant[key])
    if isinstance(document.get("modules"), dict):
        document["modules"] = {name: document["modules"][name] or {} for name in sorted(document["modules"])}
    return document


def module_usage(cat, tenant: dict, module: str, options: dict) -> dict:
    """What one module takes of the tenant's quota in the tenant's environment, as ResourceQuota keys.

    The catalog's totals for these options (its per-module ResourceQuota: replicas x pods incl. the rolling-update
    surge, requests, limits, volumes); the catalog's default totals when it cannot compute them for the options.
    """
    env = tenant["environment"]
    try:
        totals = cat.module_usage(tenant, module, options, env)
    except cat.CatalogError:  # bad options: validate_module names them; count the module's defaults meanwhile
        totals = None
    if totals is None:
        entry = cat.catalog_entry(module)
        totals = (entry.get("per_environment") or {}).get(env) or \
            {"requests": entry.get("requests") or {}, "limits": entry.get("limits") or {}, "pods": entry.get("pods")}
    usage = {}
    for part in ("requests", "limits"):
        for key, value in (totals.get(part) or {}).items():
            name = "requests.storage" if key == "storage" else f"{part}.{key}"
            usage[name] = quantity.parse(value)
    for key in ("pods", "persistentvolumeclaims"):
        if totals.get(key) is not None:
            usage[key] = quantity.parse(totals[key])
    return usage


def _auth_errors(tenant: dict, name: str, options: dict, entry: dict) -> list[str]:
    errors = []
    field = f"modules.{name}"
    roles = options.get("roles") or []
    if options.get("auth") and not tenant["auth"]["enabled"]:
        errors.append(f"{field}.auth: the tenant's auth.enabled is false, so no Keycloak client can be generated")
    if roles and not options.get("auth"):
        errors.append(f"{field}.roles: roles need auth: true (they become roles of the module's Keycloak client)")
    declared = tenant["auth"]["roles"]
    for index, role in enumerate(roles):
        if role not in declared:
            errors.append(f"{field}.roles[{index}]: '{role}' is not a tenant role (auth.roles: "
                          f"{', '.join(declared) or 'none'})")
    known = entry.get("roles")
    if known:
        for index, role in enumerate(roles):
            if role not in known:
                errors.append(f"{field}.roles[{index}]: '{role}' is not a role module {name} defines "
                              f"({', '.join(known)})")
    return errors


def _limits_errors(tenant: dict, name: str, options: dict) -> list[str]:
    tier_name = tenant["tier"]
    tier = TIERS[tier_name]
    errors = []
    places = [(f"modules.{name}", options)]
    places += [(f"modules.{name}.environments.{env}", opts)
               for env, opts in sorted((options.get("environments") or {}).items()) if isinstance(opts, dict)]
    for field, opts in places:
        replicas = opts.get("replicas")
        if isinstance(replicas, int) and replicas > tier["max_replicas"]:
            errors.append(f"{field}.replicas: {replicas} is more than tier '{tier_name}' allows "
                          f"({tier['max_replicas']})")
        resources = opts.get("resources") or {}
        for res in ("cpu", "memory"):
            request = (resources.get("requests") or {}).get(res)
            limit = (resources.get("limits") or {}).get(res)
            maximum = tier["limit_range"]["max"][res]
            for kind, value in (("requests", request), ("limits", limit)):
                if value is not None and quantity.is_quantity(value) and \
                        quantity.parse(value) > quantity.parse(maximum):
                    errors.append(f"{field}.resources.{kind}.{res}: {value} is more than tier '{tier_name}' "
                                  f"allows per container ({maximum})")
            if request is not None and limit is not None and quantity.is_quantity(request) and \
                    quantity.is_quantity(limit) and quantity.parse(request) > quantity.parse(limit):
                errors.append(f"{field}.resources.requests.{res}: {request} is more than "
                              f"resources.limits.{res} ({limit})")
    return errors


def constraint_errors(tenant: dict, cat=None) -> list[str]:
    """The checks between fields, on a normalised tenant that passed the schema."""
    cat = cat or catalog()
    errors = []
    name, tier_name = tenant["name"], tenant["tier"]
    tier = TIERS[tier_name]
    entry_name = privileged_match(name)
    if entry_name:
        errors.append(f"name: '{name}' is a platform namespace name (matches '{entry_name}')")
    if tenant.get("organization") and privileged_match(tenant["organization"]):
        errors.append(f"organization: '{tenant['organization']}' is a platform namespace name")
    for index, user in enumerate(tenant["auth"]["admin_users"]):
        errors.extend(email_errors(user, f"auth.admin_users[{index}]"))
    if tenant["gpu"]["enabled"] and not tier["gpu"]:
        allowing = ", ".join(t for t, spec in TIERS.items() if spec["gpu"])
        errors.append(f"gpu.enabled: tier '{tier_name}' does not allow GPUs (tiers with GPUs: {allowing})")
    modules = tenant["modules"]
    if len(modules) > tier["max_modules"]:
        errors.append(f"modules: {len(modules)} modules enabled, tier '{tier_name}' allows at most "
                      f"{tier['max_modules']}")
    known = list(cat.CATALOG_NAMES)
    totals = {key: quantity.parse(0) for key in FIT_KEYS}
    shares = {key: [] for key in FIT_KEYS}
    for module, options in modules.items():
        field = f"modules.{module}"
        if module not in known:
            errors.append(f"{field}: unknown module (catalog: {', '.join(known)})")
            continue
        namespace = f"{name}-{module}"
        if len(namespace) > 63:
            errors.append(f"name: namespace '{namespace}' of module {module} is longer than 63 characters")
        host = f"{module}.{tenant['domain']}"
        if len(host) > 253:
            errors.append(f"domain: host '{host}' is longer than 253 characters")
        entry = cat.catalog_entry(module)
        for dep in entry.get("dependencies") or []:
            dep_name = dep["name"] if isinstance(dep, dict) else dep
            if not (isinstance(dep, dict) and dep.get("optional")) and dep_name not in modules:
                errors.append(f"{field}: needs module {dep_name}, which is not enabled (add modules.{dep_name})")
        errors.extend(_auth_errors(tenant, module, options, entry))
        errors.extend(_limits_errors(tenant, module, options))
        gpu_info = entry.get("gpu") or {}
        if gpu_info.get("required") and not tenant["gpu"]["enabled"]:
            errors.append(f"{field}: needs GPUs, but the tenant's gpu.enabled is false")
        for message in cat.validate_module(tenant, module, options):
            # The catalog names its options "options.<x>"; in tenant.yaml they are "modules.<module>.<x>".
            errors.append(message.replace("options.", f"{field}."))
        for key, value in module_usage(cat, tenant, module, options).items():
            if key in totals:
                totals[key] += value
                if value:
                    shares[key].append(f"{module} {quantity.fmt(value, key)}")
    for key in FIT_KEYS:
        hard = tenant["quota"].get(key)
        if hard is None or totals[key] <= quantity.parse(hard):
            continue
        errors.append(f"modules: {key} of the enabled modules in {tenant['environment']} is "
                      f"{quantity.fmt(totals[key], key)} ({', '.join(shares[key])}), more than tier '{tier_name}' "
                      f"quota {hard}")
    return errors


def validate(document, cat=None) -> dict:
    """Schema, then constraints between fields; ``tenant`` is the normalised configuration when there is no error."""
    if not isinstance(document, dict):
        return {"tenant": None, "errors": [f"tenant: must be a mapping of tenant fields, not {type(document).__name__}"]}
    errors = schema_errors(document)
    if errors:
        return {"tenant": None, "errors": errors}
    tenant = normalize(document)
    errors = constraint_errors(tenant, cat)
    # Deduplicate, keeping order (a GPU refusal may come from both the tier check and the catalog).
    errors = list(dict.fromkeys(errors))
    return {"tenant": None if errors else tenant, "errors": errors}


def add_module(document: dict, module: str, options: dict | None = None, with_dependencies: bool = True,
               cat=None) -> tuple:
    """``document`` with ``module`` enabled (options merged over any existing ones), its roles added to
    ``auth.roles``, and, with ``with_dependencies``, its missing required dependencies enabled with default
    options (the CLI's ``o8 tenant add-module``). Returns (new document, names of the modules added)."""
    cat = cat or catalog()
    document = copy.deepcopy(document)
    modules = document.setdefault("modules", {}) or {}
    document["modules"] = modules
    added = []
    merged = {**(modules.get(module) or {}), **(options or {})}
    if module not in modules:
        added.append(module)
    modules[module] = merged
    roles = merged.get("roles") or []
    if roles:
        auth = document.setdefault("auth", {}) or {}
        document["auth"] = auth
        declared = list(auth.get("roles") or [])
        auth["roles"] = declared + [role for role in roles if role not in declared]
    if with_dependencies and module in cat.CATALOG_NAMES:
        pending = [module]
        while pending:
            current = pending.pop(0)
            if current not in cat.CATALOG_NAMES:
                continue
            for dep in cat.catalog_entry(current).get("dependencies") or []:
                dep_name = dep["name"] if isinstance(dep, dict) else dep
                if isinstance(dep, dict) and dep.get("optional"):
                    continue
                if dep_name not in modules:
                    modules[dep_name] = {}
                    added.append(dep_name)
                    pending.append(dep_name)
    return document, added


__all__ = ["ENVIRONMENTS", "validate", "normalize", "add_module", "load_yaml", "source_document"]
