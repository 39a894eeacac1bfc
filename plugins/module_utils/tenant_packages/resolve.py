# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dependency resolution of module packages into a deployment order (pure functions).

Every module's ``spec.dependencies`` name other modules with an npm-style version constraint. For each name the
highest available version that satisfies every constraint on it (from every module that is part of the result)
is chosen; when a later choice adds a constraint an earlier choice breaks, the name is chosen again, until
nothing changes. Optional dependencies are left out, with the reason, when no package of that name exists or
when only optional constraints name it and no version satisfies them; a required one that cannot be satisfied is
an error naming every chain of dependents that constrains it. A cycle is an error naming the cycle. The order
puts every dependency before its dependents; ties are broken by name, so the same input gives the same order.

Hand-written on purpose: resolvelib / pip's resolver resolve Python distributions against an index; this is the
few dozen lines that apply npm ranges (semantic_version.NpmSpec) to a directory of o8-module.yaml files.
"""

from __future__ import annotations

import os

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.schema import MODULE_FILE
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.validation import (
    dependency_list, load_document, validate_document)
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.versions import best_match, parse_version

MAX_ROUNDS = 100


class ResolutionError(Exception):
    """Dependencies that cannot be resolved: missing, unsatisfiable, or cyclic."""


def discover(paths) -> tuple:
    """(available module documents, errors) from module packages found in ``paths``.

    A path may be a module directory itself, a directory of module directories (``<path>/<name>/``), or a
    directory of versions (``<path>/<name>/<version>/``), each holding an o8-module.yaml.
    """
    found, errors, origin = [], [], {}
    for root in paths:
        if not os.path.isdir(root):
            errors.append(f"search_paths: {root} is not a directory")
            continue
        candidates = [root]
        for entry in sorted(os.listdir(root)):
            sub = os.path.join(root, entry)
            if os.path.isdir(sub):
                candidates.append(sub)
                candidates.extend(os.path.join(sub, e) for e in sorted(os.listdir(sub))
                                  if os.path.isdir(os.path.join(sub, e)))
        for directory in candidates:
            file = os.path.join(directory, MODULE_FILE)
            if not os.path.isfile(file):
                continue
            document, problems = load_document(file)
            if not problems and isinstance(document, dict) and document.get("kind") == "ModuleTemplate":
                continue
            problems = problems or validate_document(document, "Module")
            if problems:
                errors.extend(f"{file}: {p}" for p in problems)
                continue
            key = (document["metadata"]["name"], document["metadata"]["version"])
            if key in origin and origin[key] != file:
                errors.append(f"{file}: {key[0]} {key[1]} is also defined in {origin[key]}")
                continue
            if key not in origin:
                origin[key] = file
                found.append(document)
    return found, errors


def _label(name, version) -> str:
    return f"{name}@{version}"


def resolve(root: dict, available) -> dict:
    """Resolve ``root`` (a Module document) against ``available`` (Module documents, any versions).

    Returns ``{"root", "order": [{name, version, namespace}], "edges": [{from, to, constraint, optional}],
    "skipped": [{name, constraint, required_by, reason}]}``; raises ResolutionError.
    """
    root_name, root_version = root["metadata"]["name"], root["metadata"]["version"]
    catalog = {}
    for doc in available:
        catalog.setdefault(doc["metadata"]["name"], {})[doc["metadata"]["version"]] = doc
    catalog[root_name] = {root_version: root}  # the package being resolved wins over a copy in the search paths

    selected = {root_name: root_version}
    excluded = {}  # name -> reason (optional dependencies left out)
    for _round in range(MAX_ROUNDS):
        reopened = False
        constraints, edges, chains, skipped = {}, [], {root_name: [_label(root_name, root_version)]}, []
        queue, visited = [root_name], set()
        while queue:
            name = queue.pop(0)
            if name in visited:
                continue
            visited.add(name)
            for dep in dependency_list(catalog[name][selected[name]].get("spec") or {}):
                target = dep["name"]
                via = " -> ".join(chains[name])
                if target in excluded and not dep["optional"]:
                    del excluded[target]  # a required dependency: its constraints decide, all of them, next round
                    reopened = True
                if target not in catalog or target in excluded:
                    if not dep["optional"] and target not in catalog:
                        raise ResolutionError(
                            f"{target}: required ({dep['version']}) by {via}, but no module package named "
                            f"{target} was found")
                    if dep["optional"]:
                        skipped.append({"name": target, "constraint": dep["version"], "required_by": name,
                                        "reason": excluded.get(target, "no module package of that name")})
                        continue
                constraints.setdefault(target, []).append((via, dep["version"], dep["optional"]))
                if target not in selected:
                    pick = best_match(catalog[target], [c[1] for c in constraints[target]])
                    selected[target] = pick or max(catalog[target], key=parse_version)
                chains.setdefault(target, chains[name] + [_label(target, selected[target])])
                edges.append({"from": name, "to": target, "constraint": dep["version"], "optional": dep["optional"]})
                queue.append(target)
        for name in list(selected):
            if name not in visited:
                del selected[name]  # reached only through a version that is no longer chosen
        changed = reopened
        for target in sorted(constraints):
            wanted = [c[1] for c in constraints[target]]
            if best_match([selected[target]], wanted):
                continue
            pick = best_match(catalog[target], wanted)
            if pick is None:
                listing = "; ".join(f"{via} requires {c}{' (optional)' if opt else ''}"
                                    for via, c, opt in constraints[target])
                if all(c[2] for c in constraints[target]):
                    excluded[target] = (f"no version satisfies {' and '.join(wanted)} (available: "
                                        f"{', '.join(sorted(catalog[target], key=parse_version))})")
                    del selected[target]
                    changed = True
                    continue
                raise ResolutionError(
                    f"{target}: no version satisfies every constraint (available: "
                    f"{', '.join(sorted(catalog[target], key=parse_version))}): {listing}")
            selected[target] = pick
            changed = True
        if not changed:
            break
    else:
        raise ResolutionError(f"no stable choice of versions after {MAX_ROUNDS} rounds")

    cycle = find_cycle(edges)
    if cycle:
        raise ResolutionError("dependency cycle: " + " -> ".join(_label(n, selected[n]) for n in cycle))
    namespaces = {root_name: root_name}
    for doc_name in selected:
        for dep in dependency_list(catalog[doc_name][selected[doc_name]].get("spec") or {}):
            namespaces.setdefault(dep["name"], dep["namespace"])
    order = [{"name": n, "version": selected[n], "namespace": namespaces.get(n, n)}
             for n in deployment_order(list(selected), edges)]
    unique_skipped = []
    for item in skipped:
        if item not in unique_skipped:
            unique_skipped.append(item)
    return {"root": _label(root_name, root_version), "order": order, "edges": edges, "skipped": unique_skipped}


def find_cycle(edges) -> list:
    """A cycle as ``[a, b, ..., a]`` or [] (depth-first search; neighbours in name order)."""
    graph = {}
    for edge in edges:
        graph.setdefault(edge["from"], set()).add(edge["to"])
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def deployment_order(names, edges) -> list:
    """Dependencies first (Kahn's algorithm; among the ready ones, by name)."""
    pending = {n: {e["to"] for e in edges if e["from"] == n} for n in names}
    order = []
    while pending:
        ready = sorted(n for n, deps in pending.items() if not deps - set(order))
        if not ready:
            raise ResolutionError("dependency cycle among " + ", ".join(sorted(pending)))
        order.append(ready[0])
        del pending[ready[0]]
    return order
