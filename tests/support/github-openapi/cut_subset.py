# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cut the repository-webhook operations out of GitHub's published OpenAPI description.

Usage (see SOURCE.md for where the input comes from)::

    npm pack @octokit/openapi@<version> && tar xzf octokit-openapi-<version>.tgz
    python tests/support/github-openapi/cut_subset.py package/generated/api.github.com.json \
        tests/support/github-openapi/openapi-subset.json

The output keeps the chosen operations as published, with every component they reference (transitively);
only ``examples``, the long ``description`` texts of operations and the ``x-octokit`` extensions are dropped,
to keep the file small. The fake (tests/support/fake_github.py) applies its few corrections at load time, so
this file stays a faithful cut and can be re-made from a newer package.
"""

from __future__ import annotations

import hashlib
import json
import sys

OPERATIONS = {
    "/repos/{owner}/{repo}": ["get"],
    "/repos/{owner}/{repo}/hooks": ["get", "post"],
    "/repos/{owner}/{repo}/hooks/{hook_id}": ["get", "patch", "delete"],
    "/repos/{owner}/{repo}/hooks/{hook_id}/config": ["get", "patch"],
}
DROPPED_KEYS = {"examples", "x-octokit"}


def _strip(node):
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in DROPPED_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node, found: set) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def cut(spec: dict) -> dict:
    paths = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        paths[path] = {m: _strip(item[m]) for m in methods}
        for operation in paths[path].values():
            operation.pop("description", None)
    components: dict = {}
    pending: set = set()
    _refs(paths, pending)
    done: set = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        section, name = ref.split("/", 3)[2:]
        value = _strip(spec["components"][section][name])
        components.setdefault(section, {})[name] = value
        _refs(value, pending)
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "description": "Subset of GitHub's REST API description: repository webhooks "
                                                "(cut by tests/support/github-openapi/cut_subset.py)"},
        "servers": spec["servers"],
        "paths": paths,
        "components": {section: dict(sorted(items.items())) for section, items in sorted(components.items())},
    }


def main(argv: list[str]) -> int:
    source, target = argv
    with open(source, "rb") as handle:
        raw = handle.read()
    subset = cut(json.loads(raw))
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(subset, handle, indent=1, sort_keys=False)
        handle.write("\n")
    print(f"source sha256 {hashlib.sha256(raw).hexdigest()}  {source}")
    with open(target, "rb") as handle:
        print(f"subset sha256 {hashlib.sha256(handle.read()).hexdigest()}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
