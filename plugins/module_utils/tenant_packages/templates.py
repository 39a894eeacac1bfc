# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ModuleTemplate: variables (type, default, required) and files rendered with Jinja2 into a new module package.

A template is a directory with an o8-module.yaml of ``kind: ModuleTemplate`` and the files its ``spec.files``
name (``source`` in the template, ``target`` in the new module; targets may use variables too). Files are rendered
in Jinja2's sandbox with StrictUndefined: a template cannot reach Python internals, and a misspelt variable is an
error naming the file and line instead of an empty string. Besides the declared variables every file sees
``module_name``. The built-in templates (builtin_templates.py) are ModuleTemplates shipped as data.
"""

from __future__ import annotations

import os
import posixpath

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.schema import MODULE_FILE, NAME_PATTERN
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.validation import (
    load_document, validate_document)

try:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment
except ImportError:  # ansible-core always brings Jinja2
    jinja2 = None

import re

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")


class TemplateError(Exception):
    """A template that cannot be loaded or rendered, or variables that do not fit it."""


def load_template_dir(path: str) -> tuple:
    """(template document, {source: text}) of a template directory; raises TemplateError listing every problem."""
    document, errors = load_document(os.path.join(path, MODULE_FILE))
    if not errors:
        errors = validate_document(document, "ModuleTemplate")
    if errors:
        raise TemplateError("; ".join(errors))
    sources, missing = {}, []
    for index, entry in enumerate(document["spec"]["files"]):
        file = os.path.join(path, entry["source"])
        if not os.path.isfile(file):
            missing.append(f"spec.files[{index}].source: {entry['source']} does not exist in {path}")
            continue
        with open(file, encoding="utf-8") as handle:
            sources[entry["source"]] = handle.read()
    if missing:
        raise TemplateError("; ".join(missing))
    return document, sources


def coerce(kind: str, value, field: str):
    """A variable's value in its declared type; strings from the command line are converted."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in TRUE + FALSE:
            return value.lower() in TRUE
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            return int(value)
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return float(value) if isinstance(value, str) else None
        except ValueError:
            pass
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise TemplateError(f"{field}: must be a {kind} (got {value!r})")


def template_values(document: dict, values: dict) -> dict:
    """The variables of one rendering: given values (converted), else defaults; errors for every problem."""
    declared = {v["name"]: v for v in document["spec"].get("variables") or []}
    errors, result = [], {}
    for name in sorted(set(values) - set(declared)):
        errors.append(f"variables.{name}: not a variable of template {document['metadata']['name']} "
                      f"(it has: {', '.join(sorted(declared)) or 'none'})")
    for name, variable in declared.items():
        if name in values and values[name] is not None:
            try:
                result[name] = coerce(variable.get("type", "string"), values[name], f"variables.{name}")
            except TemplateError as exc:
                errors.append(str(exc))
        elif "default" in variable:
            result[name] = variable["default"]
        elif variable.get("required"):
            what = f" ({variable['description']})" if variable.get("description") else ""
            errors.append(f"variables.{name}: is required by template {document['metadata']['name']}{what}")
        else:
            result[name] = None
    if errors:
        raise TemplateError("; ".join(errors))
    return result


def _safe_target(target: str, field: str) -> str:
    normal = posixpath.normpath(target)
    if target.startswith("/") or normal == ".." or normal.startswith("../") or normal == ".":
        raise TemplateError(f"{field}: {target!r} leaves the module directory")
    return normal


def render(document: dict, sources: dict, module_name: str, values: dict) -> dict:
    """{target path: rendered text} of a template for a new module called ``module_name``."""
    if not re.match(NAME_PATTERN, module_name or ""):
        raise TemplateError(f"name: {module_name!r} must be a DNS label: lower-case letters, digits and '-', "
                            "starting with a letter, at most 40 characters")
    context = dict(template_values(document, values), module_name=module_name)
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    files = {}
    for index, entry in enumerate(document["spec"]["files"]):
        field = f"spec.files[{index}]"
        try:
            target = _safe_target(env.from_string(entry["target"]).render(context), f"{field}.target")
            text = env.from_string(sources[entry["source"]]).render(context)
        except jinja2.TemplateError as exc:
            line = f" line {exc.lineno}:" if getattr(exc, "lineno", None) else ""
            raise TemplateError(f"{field}.source ({entry['source']}):{line} {exc.message or exc}") from None
        if target in files:
            raise TemplateError(f"{field}.target: {target} is already written by an earlier entry")
        files[target] = text
    return files
