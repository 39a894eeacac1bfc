# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The JSON Schema (draft 2020-12) of ``tenants/<tenant>/tenant.yaml``, checked with the ``jsonschema`` library.

The schema covers shape, types, names and value ranges; the constraints between fields (the tier's quota and
limits, the modules' dependencies, GPUs only on tiers that allow them) need the module catalog and are checked
in :mod:`validation`. ``schemas/tenant.schema.json`` in the collection is this schema exported for editors
(a unit test keeps it equal).

Errors are ``"<field>: <message>"`` with the field as a path (``modules.langfuse.roles[1]``); where a pattern
would say little, the schema's ``x-message`` explains the rule instead.
"""

from __future__ import annotations

from .quantity import QUANTITY_PATTERN
from .tiers import TIER_NAMES

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module through missing_required_lib
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = exc

SCHEMA_ID = "https://aphex.platform/schemas/tenant.schema.json"
ENVIRONMENTS = ("dev", "staging", "production")
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HOSTNAME = r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
ROLE_NAME = r"^[a-z][a-z0-9_-]{0,63}$"
ENV_KEY = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Longest catalog module name is "microservice" (12): "<tenant>-<module>" must stay a 63-character DNS label.
MAX_TENANT_NAME = 40

_QUANTITY = {"type": ["string", "number"], "pattern": QUANTITY_PATTERN,
             "x-message": "is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 10Gi)"}
_RESOURCE_LIST = {"type": "object", "additionalProperties": False,
                  "properties": {"cpu": _QUANTITY, "memory": _QUANTITY}}
_RESOURCES = {"type": "object", "additionalProperties": False,
              "properties": {"requests": _RESOURCE_LIST, "limits": _RESOURCE_LIST}}
_CONFIG = {"type": "object", "propertyNames": {"pattern": ENV_KEY},
           "additionalProperties": {"type": ["string", "number", "boolean"]},
           "x-message": "keys must be environment variable names (letters, digits, '_', not starting with a digit)"}
_REPLICAS = {"type": "integer", "minimum": 0, "maximum": 100}
_ROLES = {"type": "array", "uniqueItems": True,
          "items": {"type": "string", "pattern": ROLE_NAME,
                    "x-message": "is not a role name (lower-case letter first, then letters, digits, '_' or '-', "
                                 "at most 64)"}}

MODULE_OPTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string", "minLength": 1, "pattern": r"^[^\s]+$",
                  "x-message": "must be an image reference without spaces"},
        "replicas": _REPLICAS,
        "resources": _RESOURCES,
        "config": _CONFIG,
        "auth": {"type": "boolean"},
        "roles": _ROLES,
        "gpu": {"type": "integer", "minimum": 0, "maximum": 8},
        "storage": _QUANTITY,
        "environments": {
            "type": "object",
            "propertyNames": {"enum": list(ENVIRONMENTS)},
            "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "properties": {"replicas": _REPLICAS, "resources": _RESOURCES, "config": _CONFIG},
            },
        },
    },
}

TENANT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Tenant",
    "description": "tenants/<tenant>/tenant.yaml of an aphex.platform GitOps repository",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tier", "domain"],
    "properties": {
        "apiVersion": {"const": "orchestr8.io/v1"},
        "kind": {"const": "Tenant"},
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_TENANT_NAME, "pattern": DNS_LABEL,
                 "x-message": "is not a DNS label (lower-case letters, digits and '-', starting and ending with a "
                              "letter or digit)"},
        "display_name": {"type": "string", "minLength": 1, "maxLength": 256},
        "tier": {"enum": list(TIER_NAMES)},
        "domain": {"type": "string", "pattern": HOSTNAME,
                   "x-message": "is not a lower-case DNS domain name with at least two labels"},
        "organization": {"type": "string", "pattern": DNS_LABEL, "maxLength": 59,
                         "x-message": "is not an organization name (a DNS label)"},
        "environment": {"enum": list(ENVIRONMENTS)},
        "gpu": {"type": "object", "additionalProperties": False, "properties": {"enabled": {"type": "boolean"}}},
        "auth": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "roles": _ROLES,
                "admin_users": {"type": "array", "uniqueItems": True,
                                "items": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                          "x-message": "is not an e-mail address"}},
            },
        },
        "ingress_class": {"type": "string", "pattern": DNS_LABEL, "x-message": "is not an IngressClass name"},
        "ingress_namespace": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63,
                              "x-message": "is not a namespace name"},
        "oidc_issuer": {"type": "string", "pattern": r"^https://[^\s/]+(/[^\s]*)?$",
                        "x-message": "must be an https URL"},
        "tls_cluster_issuer": {"type": "string", "pattern": DNS_LABEL, "x-message": "is not a ClusterIssuer name"},
        "gitops": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "repo_url": {"type": "string", "minLength": 1, "pattern": r"^(https?|ssh|git|file)://\S+$|^[\w.-]+@[\w.-]+:\S+$",
                             "x-message": "must be a git URL (https://, ssh://, git://, file:// or user@host:path)"},
                "revision": {"type": "string", "minLength": 1, "pattern": r"^\S+$"},
                "argocd_namespace": {"type": "string", "pattern": DNS_LABEL, "x-message": "is not a namespace name"},
            },
        },
        "modules": {
            "type": "object",
            "propertyNames": {"pattern": DNS_LABEL},
            "additionalProperties": MODULE_OPTIONS,
        },
    },
}


def _path(parts) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error) -> str:
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    value = error.instance
    if error.validator == "pattern" and custom:
        return f"{value!r} {custom}"
    if error.validator == "propertyNames":
        return error.message
    if error.validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        names = ", ".join(extra)
        return f"unknown field {names} (allowed: {', '.join(allowed)})" if allowed else f"unknown field {names}"
    if error.validator == "enum":
        return f"{value!r} must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "const":
        return f"{value!r} must be {error.validator_value!r}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "uniqueItems":
        return f"{value!r} has duplicate items"
    if error.validator == "maxLength":
        return f"{value!r} is longer than {error.validator_value} characters"
    return error.message


def schema_errors(document, schema: dict | None = None) -> list[str]:
    """Every schema violation of ``document`` as ``"<field>: <message>"``, sorted by field."""
    if not HAS_JSONSCHEMA:
        raise ImportError(f"the jsonschema Python library is required ({JSONSCHEMA_IMPORT_ERROR})")
    schema = schema or TENANT_SCHEMA
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for error in validator.iter_errors(document):
        parts = list(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "?"
            errors.append(f"{_path(parts + [missing])}: is required")
            continue
        if "propertyNames" in error.schema_path and error.validator != "propertyNames":
            # jsonschema reports a bad key at its parent with the key as instance: name the key.
            key = error.instance
            if error.validator == "pattern" and error.validator_value == ENV_KEY:
                message = "is not an environment variable name"
            elif error.validator == "pattern":
                message = "is not a DNS label"
            elif error.validator == "enum":
                message = f"must be one of {', '.join(error.validator_value)}"
            else:
                message = _message(error)
            errors.append(f"{_path(parts + [key])}: {message}")
            continue
        if error.validator == "propertyNames":
            # The bad key is the field; name it rather than its parent.
            for sub in error.context or []:
                key = sub.instance
                custom = "is not a DNS label" if sub.validator == "pattern" else _message(sub)
                if sub.validator == "pattern" and sub.schema.get("pattern") == ENV_KEY:
                    custom = "is not an environment variable name"
                if sub.validator == "enum":
                    custom = f"must be one of {', '.join(sub.validator_value)}"
                errors.append(f"{_path(parts + [key])}: {custom}")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted((error.schema.get("properties") or {}).keys())
            extra = sorted(set(error.instance) - set(allowed))
            for key in extra:
                errors.append(f"{_path(parts + [key])}: unknown field (allowed: {', '.join(allowed)})")
            continue
        errors.append(f"{_path(parts) or '(document)'}: {_message(error)}")
    return sorted(set(errors))
