# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing generated files (a new module, a graph) only when their bytes differ, so re-runs change nothing."""

from __future__ import annotations

import os

from ansible_collections.aphex.platform.plugins.module_utils.gitops_repo import write_atomic


def _read(path: str):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def plan(files: dict) -> dict:
    """{path: "create" | "update" | "unchanged"} for {path: str or bytes content}."""
    result = {}
    for path, content in sorted(files.items()):
        data = content.encode("utf-8") if isinstance(content, str) else content
        current = _read(path)
        result[path] = "create" if current is None else ("unchanged" if current == data else "update")
    return result


def write(files: dict) -> dict:
    """Writes the files that differ (atomically: temporary file + rename); returns the plan."""
    actions = plan(files)
    for path, action in actions.items():
        if action == "unchanged":
            continue
        content = files[path]
        write_atomic(os.path.abspath(path), content.encode("utf-8") if isinstance(content, str) else content)
    return actions


def diff_entries(files: dict, actions: dict) -> list:
    """Ansible diff entries (before/after text) of the files that change; binary content is summarised."""
    entries = []
    for path, action in actions.items():
        if action == "unchanged":
            continue
        before = _read(path) if action == "update" else b""
        after = files[path]
        entries.append({"before_header": path, "after_header": path,
                        "before": _text(before), "after": _text(after)})
    return entries


def _text(data) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(data)} bytes of binary content>\n"
