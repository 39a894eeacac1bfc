# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON Schemas of o8-module.yaml: ``kind: Module`` (a module package) and ``kind: ModuleTemplate``.

Shipped as Python data so that it travels with the modules (AnsiballZ carries module_utils .py files only);
``docs/modules.md`` documents every field. Draft 2020-12, checked with the ``jsonschema`` library.
"""

from __future__ import annotations

API_VERSION = "orchestr8.io/v1"
MODULE_FILE = "o8-module.yaml"
ENVIRONMENTS = ("dev", "staging", "production")

# A DNS label: the module name becomes part of namespaces (<tenant>-<module>) and object names.
NAME_PATTERN = r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"
# Semantic version 2.0.0 (major.minor.patch, optional pre-release and build metadata).
SEMVER_PATTERN = (r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                  r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                  r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
VARIABLE_PATTERN = r"^[a-z_][a-z0-9_]*$"

_RESOURCE_LIST = {
    "type": "object",
    "properties": {
        "cpu": {"type": "string", "pattern": QUANTITY_PATTERN},
        "memory": {"type": "string", "pattern": QUANTITY_PATTERN},
        "nvidia.com/gpu": {"type": "string", "pattern": r"^[0-9]+$"},
    },
    "additionalProperties": False,
}

_DEPENDENCY = {
    "oneOf": [
        {"type": "string", "pattern": NAME_PATTERN},
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "version": {"type": "string", "minLength": 1},
                "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                "optional": {"type": "boolean"},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    ],
}

_METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "version": {"type": "string", "pattern": SEMVER_PATTERN},
        "description": {"type": "string", "maxLength": 1024},
    },
    "required": ["name"],
    "additionalProperties": False,
}

MODULE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://aphex.platform/schemas/o8-module.json",
    "title": "Orchestr8 module package (o8-module.yaml, kind Module)",
    "type": "object",
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": "Module"},
        "metadata": {**_METADATA, "required": ["name", "version"]},
        "spec": {
            "type": "object",
            "properties": {
                "team": {"type": "string", "pattern": NAME_PATTERN},
                "owner": {"type": "string", "format": "email"},
                "category": {"enum": ["backend-service", "frontend", "worker", "database", "cache", "ai-ml",
                                      "observability", "platform"]},
                "dependencies": {"type": "array", "items": _DEPENDENCY},
                "security": {
                    "type": "object",
                    "properties": {
                        "podSecurityStandard": {"enum": ["restricted", "baseline"]},
                        "networkIsolation": {"type": "boolean"},
                        "secretsManager": {"enum": ["external-secrets", "sealed-secrets", "kubernetes"]},
                    },
                    "additionalProperties": False,
                },
                "resources": {
                    "type": "object",
                    "properties": {"requests": _RESOURCE_LIST, "limits": _RESOURCE_LIST},
                    "additionalProperties": False,
                },
                "networking": {
                    "type": "object",
                    "properties": {
                        "ports": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string", "pattern": r"^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$"},
                                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                    "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                                },
                                "required": ["name", "port"],
                                "additionalProperties": False,
                            },
                        },
                        "ingress": {
                            "type": "object",
                            "properties": {
                                "enabled": {"type": "boolean"},
                                "host": {"type": "string",
                                         "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$"},
                                "port": {"type": "string"},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
                "monitoring": {
                    "type": "object",
                    "properties": {
                        "metrics": {"type": "boolean"},
                        "healthChecks": {
                            "type": "object",
                            "properties": {
                                "liveness": {"type": "string", "pattern": "^/"},
                                "readiness": {"type": "string", "pattern": "^/"},
                            },
                            "additionalProperties": False,
                        },
                        "alerts": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9]*$"},
                                    "condition": {"type": "string", "minLength": 1},
                                    "severity": {"enum": ["info", "warning", "critical"]},
                                },
                                "required": ["name", "condition", "severity"],
                                "additionalProperties": False,
                            },
                        },
                    },
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
    },
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
}

MODULE_TEMPLATE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://aphex.platform/schemas/o8-module-template.json",
    "title": "Orchestr8 module template (o8-module.yaml, kind ModuleTemplate)",
    "type": "object",
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": "ModuleTemplate"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "properties": {
                "variables": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "pattern": VARIABLE_PATTERN},
                            "description": {"type": "string"},
                            "required": {"type": "boolean"},
                            "default": {"type": ["string", "boolean", "integer", "number"]},
                            "type": {"enum": ["string", "boolean", "integer", "number"]},
                        },
                        "required": ["name"],
                        "additionalProperties": False,
                    },
                },
                "files": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            # Relative paths inside the template / the new module; no way out of either.
                            "source": {"type": "string", "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).+$"},
                            "target": {"type": "string", "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).+$"},
                        },
                        "required": ["source", "target"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["files"],
            "additionalProperties": False,
        },
    },
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
}

SCHEMAS = {"Module": MODULE_SCHEMA, "ModuleTemplate": MODULE_TEMPLATE_SCHEMA}
