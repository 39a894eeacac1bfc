#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: module_package
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Validate, resolve, graph and create Orchestr8 module packages (o8-module.yaml)
version_added: 0.2.0
description:
  - >-
    A module package is a directory with an C(o8-module.yaml) (C(apiVersion: orchestr8.io/v1), C(kind: Module)),
    a Kustomize C(base/) and the overlays C(overlays/dev), C(overlays/staging), C(overlays/production). See
    C(docs/modules.md) for every field.
  - >-
    O(command=validate) checks the C(o8-module.yaml) against the collection's JSON Schema and the rules a schema
    cannot state (version constraints parse, requests within limits, no duplicate dependencies or ports) and the
    directory layout; it fails with one C(field: message) line per problem.
  - O(command=deps) resolves C(spec.dependencies) (npm-style ranges C(>=12.0.0), C(^6.0), C(~1.2), exact
    versions, C(optional)) against the module packages found in O(search_paths) into a deployment order, failing
    on cycles, missing packages and unsatisfiable constraints with the chain of dependents. With O(dot_path) and
    O(png_path) it writes the graph as Graphviz DOT and PNG (Graphviz's C(dot) program renders the PNG).
  - O(command=init) creates the module O(name) under O(dest) from a built-in template (C(microservice),
    C(frontend), C(job), C(database)) or from a C(ModuleTemplate) directory, and validates the result. Existing
    files that differ from the rendering are an error unless O(force=true).
  - Files are written only when their content differs, so a second run reports no change.
attributes:
  check_mode:
    support: full
    description: Validates and resolves as usual; reports the files it would write without writing them.
  diff_mode:
    support: full
    description: Before and after of every file written (binary PNG content summarised).
requirements:
  - jsonschema
  - semantic_version
  - Graphviz (C(dot)) for O(png_path)
options:
  command:
    description: What to do.
    type: str
    required: true
    choices: [validate, deps, init]
  path:
    description: The module package directory (O(command=validate) and O(command=deps)).
    type: path
  search_paths:
    description:
      - Directories holding the module packages dependencies are resolved against (O(command=deps)); each may
        be a module directory, a directory of module directories, or of C(<name>/<version>/) directories.
      - Defaults to the directory that contains O(path).
    type: list
    elements: path
  dot_path:
    description: Write the dependency graph as Graphviz DOT to this file (O(command=deps)).
    type: path
  png_path:
    description: Render the dependency graph as PNG to this file with Graphviz's C(dot) (O(command=deps)).
    type: path
  name:
    description: Name of the new module, a DNS label (O(command=init)).
    type: str
  template:
    description:
      - A built-in template (C(microservice), C(frontend), C(job), C(database)) or the path of a directory with a
        C(ModuleTemplate) C(o8-module.yaml) and its files (O(command=init)).
    type: str
    default: microservice
  variables:
    description: Values of the template's variables (strings are converted to the declared type).
    type: dict
    default: {}
  dest:
    description: Directory the new module directory O(name) is created in (O(command=init)).
    type: path
    default: .
  force:
    description: Overwrite files of an existing module directory that differ from the rendering (O(command=init)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Validate a module package
  aphex.platform.module_package:
    command: validate
    path: modules/my-service

- name: Deployment order and graph
  aphex.platform.module_package:
    command: deps
    path: modules/my-service
    search_paths: [modules]
    dot_path: build/my-service.dot
    png_path: build/my-service.png
  register: deps

- name: New module from the built-in microservice template
  aphex.platform.module_package:
    command: init
    name: api-service
    template: microservice
    dest: modules
    variables:
      image: registry.example.com/api-service
      port: 8080
"""

RETURN = r"""
module:
  description: The module's o8-module.yaml (validate, deps, init).
  type: dict
  returned: success
order:
  description: Deployment order, dependencies first (deps).
  type: list
  elements: dict
  returned: command=deps
  sample: [{name: postgresql, version: 12.1.0, namespace: postgresql}, {name: my-service, version: 1.0.0,
           namespace: my-service}]
edges:
  description: Dependency edges (from, to, constraint, optional) of the resolution (deps).
  type: list
  elements: dict
  returned: command=deps
not_deployed:
  description:
    - Optional dependencies left out, with the reason (deps). (Not C(skipped), which Ansible reserves.)
  type: list
  elements: dict
  returned: command=deps
dot:
  description: The graph as Graphviz DOT text (deps).
  type: str
  returned: command=deps
files:
  description: Files written or to be written, with the action (create, update, unchanged).
  type: dict
  returned: command=deps or command=init
errors:
  description: "One C(field: message) line per problem (validate; also on failure)."
  type: list
  elements: str
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import (
    builtin_templates, files, graph, resolve, templates, validation, versions)


def run_validate(module):
    document, errors = validation.validate_module_dir(module.params["path"])
    if errors:
        module.fail_json(msg=f"{module.params['path']}: " + "; ".join(errors), errors=errors, module=document)
    module.exit_json(changed=False, errors=[], module=document)


def run_deps(module):
    path = module.params["path"]
    document, errors = validation.validate_module_dir(path)
    if errors:
        module.fail_json(msg=f"{path}: " + "; ".join(errors), errors=errors, module=document)
    search = module.params["search_paths"] or [os.path.dirname(os.path.abspath(path))]
    available, problems = resolve.discover(search)
    if problems:
        module.fail_json(msg="; ".join(problems), errors=problems)
    try:
        result = resolve.resolve(document, available)
        dot = graph.to_dot(result)
        outputs = {}
        if module.params["dot_path"]:
            outputs[module.params["dot_path"]] = dot
        if module.params["png_path"]:
            outputs[module.params["png_path"]] = graph.render(dot, "png")
    except (resolve.ResolutionError, graph.GraphvizError) as exc:
        module.fail_json(msg=f"{path}: {exc}", errors=[str(exc)], module=document)
    finish(module, outputs, module=document, dot=dot, order=result["order"], edges=result["edges"],
           not_deployed=result["skipped"])


def run_init(module):
    params = module.params
    if not params["name"]:
        module.fail_json(msg="name: is required with command=init", errors=["name: is required"])
    try:
        if params["template"] in builtin_templates.BUILTIN_TEMPLATES:
            template = builtin_templates.BUILTIN_TEMPLATES[params["template"]]
            document, sources = template["document"], template["files"]
        elif os.path.isdir(params["template"]):
            document, sources = templates.load_template_dir(params["template"])
        else:
            raise templates.TemplateError(
                f"template: {params['template']} is neither a built-in template "
                f"({', '.join(sorted(builtin_templates.BUILTIN_TEMPLATES))}) nor a template directory")
        rendered = templates.render(document, sources, params["name"], params["variables"])
    except templates.TemplateError as exc:
        module.fail_json(msg=str(exc), errors=str(exc).split("; "))
    target = os.path.join(params["dest"], params["name"])
    outputs = {os.path.join(target, rel): text for rel, text in rendered.items()}
    clashes = [path for path, action in files.plan(outputs).items() if action == "update"]
    if clashes and not params["force"]:
        module.fail_json(msg=f"{target} exists and these files differ from template {params['template']} "
                             f"(force=true overwrites them): {', '.join(clashes)}", errors=clashes)
    manifest = validation.yaml.safe_load(rendered["o8-module.yaml"]) if "o8-module.yaml" in rendered else None
    if manifest is None:
        module.fail_json(msg=f"template {params['template']}: renders no o8-module.yaml, so the result is no module")
    errors = validation.validate_document(manifest, "Module")
    if errors:
        module.fail_json(msg=f"template {params['template']} renders an invalid o8-module.yaml: " + "; ".join(errors),
                         errors=errors)
    finish(module, outputs, module=manifest, path=target)


def finish(ansible_module, outputs, **result):
    actions = files.plan(outputs)
    changed = any(action != "unchanged" for action in actions.values())
    if ansible_module._diff:
        result["diff"] = files.diff_entries(outputs, actions)
    if changed and not ansible_module.check_mode:
        files.write(outputs)
    ansible_module.exit_json(changed=changed, files=actions, errors=[], **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type="str", required=True, choices=["validate", "deps", "init"]),
            path=dict(type="path"),
            search_paths=dict(type="list", elements="path"),
            dot_path=dict(type="path"),
            png_path=dict(type="path"),
            name=dict(type="str"),
            template=dict(type="str", default="microservice"),
            variables=dict(type="dict", default={}),
            dest=dict(type="path", default="."),
            force=dict(type="bool", default=False),
        ),
        required_if=[("command", "validate", ["path"]), ("command", "deps", ["path"]),
                     ("command", "init", ["name"])],
        supports_check_mode=True,
    )
    if not validation.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if not validation.HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(validation.JSONSCHEMA_IMPORT_ERROR))
    if not versions.HAS_SEMANTIC_VERSION:
        module.fail_json(msg=missing_required_lib("semantic_version"),
                         exception=str(versions.SEMANTIC_VERSION_IMPORT_ERROR))
    {"validate": run_validate, "deps": run_deps, "init": run_init}[module.params["command"]](module)


if __name__ == "__main__":
    main()
