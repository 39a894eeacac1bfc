# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of o8-module.yaml documents and module directories: a list of ``"field: message"`` errors.

The schema (schema.py) is checked by ``jsonschema``; its errors are reworded to name the field the way the file
spells it (``spec.dependencies[1].version``). Constraints a JSON Schema cannot say (a dependency's version range
parses, requests fit within limits, no duplicate names) follow, so one run reports everything that is wrong.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal

try:
    import yaml
    HAS_YAML = True
except ImportError:  # the modules report it with missing_required_lib
    HAS_YAML = False

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import schema as s
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.versions import (
    VersionError, parse_constraint)

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = exc

PATTERN_MESSAGES = {
    s.NAME_PATTERN: "must be a DNS label: lower-case letters, digits and '-', starting with a letter, "
                    "at most 40 characters",
    s.SEMVER_PATTERN: "must be a semantic version such as 1.0.0",
    s.QUANTITY_PATTERN: "must be a Kubernetes quantity such as 500m or 256Mi",
    s.VARIABLE_PATTERN: "must be a variable name: lower-case letters, digits and '_'",
    "^/": "must be an absolute HTTP path starting with '/'",
}
TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
              "array": "a list", "object": "a mapping", "null": "null"}
_QUANTITY_SUFFIX = {"m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
                    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10,
                    "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50,
                    "Ei": Decimal(2) ** 60}


def field_name(path) -> str:
    """``['spec', 'dependencies', 1, 'version']`` -> ``spec.dependencies[1].version``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _child(path, name) -> str:
    return field_name(list(path) + [name])


def _describe(error) -> list:
    """(field, message) pairs for one jsonschema error, in the file's terms."""
    path = list(error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [(_child(path, name), "is required") for name in missing]
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(_child(path, name), "is not a known field") for name in extra]
    if validator == "oneOf":
        # A dependency is a name or a mapping: explain against the branch of the value's own type.
        branch = 1 if isinstance(error.instance, dict) else 0
        found = [pair for sub in error.context or [] if sub.relative_schema_path[0] == branch
                 for pair in _describe(sub)]
        if found:
            return found
        return [(field_name(path), "must be a module name or a mapping with name, version, namespace, optional")]
    if validator == "const":
        return [(field_name(path), f"must be {error.validator_value!r}")]
    if validator == "enum":
        return [(field_name(path), "must be one of " + ", ".join(str(v) for v in error.validator_value))]
    if validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return [(field_name(path), "must be " + " or ".join(TYPE_NAMES.get(w, w) for w in wanted))]
    if validator == "pattern":
        message = PATTERN_MESSAGES.get(error.validator_value)
        if message is None and "\\.\\." in error.validator_value:
            message = "must be a relative path that stays inside the directory (no leading '/', no '..')"
        return [(field_name(path), f"{message or 'does not match ' + error.validator_value} (got {error.instance!r})")]
    if validator == "format":
        return [(field_name(path), f"must be a valid {error.validator_value} (got {error.instance!r})")]
    if validator in ("minimum", "maximum"):
        return [(field_name(path), f"must be between 1 and 65535 (got {error.instance!r})")]
    if validator == "maxLength":
        return [(field_name(path), f"must be at most {error.validator_value} characters")]
    if validator in ("minLength", "minItems"):
        return [(field_name(path), "must not be empty")]
    return [(field_name(path), error.message)]


def schema_errors(document, kind: str) -> list:
    validator_cls = jsonschema.Draft202012Validator
    validator = validator_cls(s.SCHEMAS[kind], format_checker=validator_cls.FORMAT_CHECKER)
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        found.extend(f"{field}: {message}" for field, message in _describe(error))
    return found


def quantity(value: str) -> Decimal:
    match = re.match(s.QUANTITY_PATTERN, value)
    return Decimal(match.group(1)) * _QUANTITY_SUFFIX.get(match.group(3) or "", Decimal(1))


def dependency_list(spec: dict) -> list:
    """Dependencies in one shape: [{name, version ('*' = any), namespace, optional}]."""
    deps = []
    for dep in spec.get("dependencies") or []:
        if isinstance(dep, str):
            dep = {"name": dep}
        deps.append({"name": dep["name"], "version": dep.get("version", "*"),
                     "namespace": dep.get("namespace", dep["name"]), "optional": bool(dep.get("optional", False))})
    return deps


def _module_rules(doc: dict) -> list:
    errors = []
    name = doc["metadata"]["name"]
    spec = doc.get("spec") or {}
    seen = {}
    for index, dep in enumerate(dependency_list(spec)):
        field = f"spec.dependencies[{index}]"
        if dep["name"] == name:
            errors.append(f"{field}.name: a module cannot depend on itself ({name})")
        if dep["name"] in seen:
            errors.append(f"{field}.name: {dep['name']} is already listed as spec.dependencies[{seen[dep['name']]}]")
        seen.setdefault(dep["name"], index)
        try:
            parse_constraint(dep["version"])
        except VersionError as exc:
            errors.append(f"{field}.version: {exc}")
    networking = spec.get("networking") or {}
    for key in ("name", "port"):
        values = [p[key] for p in networking.get("ports") or []]
        for index, value in enumerate(values):
            if value in values[:index]:
                errors.append(f"spec.networking.ports[{index}].{key}: {value} is used by an earlier port")
    ingress = networking.get("ingress") or {}
    if ingress.get("enabled") and not ingress.get("host"):
        errors.append("spec.networking.ingress.host: is required when spec.networking.ingress.enabled is true")
    port_names = [p["name"] for p in networking.get("ports") or []]
    if ingress.get("port") and ingress["port"] not in port_names:
        errors.append(f"spec.networking.ingress.port: {ingress['port']} is not one of spec.networking.ports "
                      f"({', '.join(port_names) or 'none declared'})")
    resources = spec.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for resource in sorted(set(requests) & set(limits)):
        if quantity(requests[resource]) > quantity(limits[resource]):
            errors.append(f"spec.resources.requests.{resource}: {requests[resource]} exceeds "
                          f"spec.resources.limits.{resource} ({limits[resource]})")
    return errors


_PY_TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float)}


def _template_rules(doc: dict) -> list:
    errors = []
    variables = doc["spec"].get("variables") or []
    names = [v["name"] for v in variables]
    for index, variable in enumerate(variables):
        field = f"spec.variables[{index}]"
        if variable["name"] in names[:index]:
            errors.append(f"{field}.name: {variable['name']} is declared twice")
        kind = variable.get("type", "string")
        if "default" in variable:
            value = variable["default"]
            if not isinstance(value, _PY_TYPES[kind]) or (kind != "boolean" and isinstance(value, bool)):
                errors.append(f"{field}.default: must be {TYPE_NAMES[kind]} (spec.variables[{index}].type is "
                              f"{kind}), got {value!r}")
            if variable.get("required"):
                errors.append(f"{field}.required: a required variable cannot have a default")
    targets = [f["target"] for f in doc["spec"]["files"]]
    for index, target in enumerate(targets):
        if target in targets[:index]:
            errors.append(f"spec.files[{index}].target: {target} is already written by an earlier entry")
    return errors


def validate_document(document, kind: str = "Module") -> list:
    """Errors of one parsed o8-module.yaml of the given kind (Module or ModuleTemplate); [] when valid."""
    if not isinstance(document, dict):
        return ["(document): must be a mapping with apiVersion, kind, metadata and spec"]
    if document.get("kind") in s.SCHEMAS and document.get("kind") != kind:
        return [f"kind: must be {kind!r} here (got {document.get('kind')!r})"]
    errors = schema_errors(document, kind)
    if errors:
        return errors
    return _module_rules(document) if kind == "Module" else _template_rules(document)


def load_document(path: str):
    """(document, errors) of one o8-module.yaml file; errors name the file when it cannot be read."""
    name = os.path.basename(path)
    if not os.path.isfile(path):
        return None, [f"{name}: not found in {os.path.dirname(path) or '.'}"]
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"{name}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot be read: {exc}"]


def module_dir_errors(path: str, document: dict) -> list:
    """Layout of a module package: base and one overlay per environment, each with a kustomization.yaml."""
    errors = []
    dirname = os.path.basename(os.path.normpath(path))
    if document["metadata"]["name"] != dirname:
        errors.append(f"metadata.name: {document['metadata']['name']} must match the directory name {dirname}")
    for relative in ["base"] + [f"overlays/{env}" for env in s.ENVIRONMENTS]:
        if not os.path.isfile(os.path.join(path, relative, "kustomization.yaml")):
            errors.append(f"{relative}/kustomization.yaml: missing (a module has a Kustomize base and the "
                          f"overlays {', '.join(s.ENVIRONMENTS)})")
    return errors


def validate_module_dir(path: str):
    """(document, errors) of a module package directory: its o8-module.yaml and its layout."""
    if not os.path.isdir(path):
        return None, [f"path: {path} is not a directory"]
    document, errors = load_document(os.path.join(path, s.MODULE_FILE))
    if errors:
        return None, errors
    errors = validate_document(document, "Module")
    if errors:
        return document, errors
    return document, module_dir_errors(path, document)
