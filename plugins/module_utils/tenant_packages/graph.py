# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dependency graph as Graphviz DOT (pure) and as PNG (Graphviz's ``dot``, the one outside program here).

The DOT text is byte-stable for the same resolution (nodes in deployment order, edges in resolution order), so a
re-run writes nothing. Required dependencies are solid edges labelled with their constraint, optional ones dashed;
optional dependencies that were left out appear greyed with the reason as tooltip.
"""

from __future__ import annotations

import shutil
import subprocess


class GraphvizError(Exception):
    """Graphviz's dot is missing or failed."""


def _quote(text) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(resolution: dict) -> str:
    root = resolution["root"].split("@", 1)[0]
    lines = [f"digraph {_quote(root + ' dependencies')} {{",
             "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fillcolor="#e8f0fe", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for step, item in enumerate(resolution["order"], start=1):
        attrs = [f"label={_quote(item['name'] + chr(10) + item['version'] + chr(10) + 'step ' + str(step))}"]
        if item["name"] == root:
            attrs.append('fillcolor="#c6e6c6"')
        lines.append(f"  {_quote(item['name'])} [{', '.join(attrs)}];")
    for item in resolution.get("skipped", []):
        lines.append(f"  {_quote(item['name'])} [label={_quote(item['name'] + chr(10) + 'not deployed')}, "
                     f'fillcolor="#eeeeee", fontcolor="#777777", tooltip={_quote(item["reason"])}];')
    for edge in resolution["edges"]:
        style = ", style=dashed" if edge["optional"] else ""
        lines.append(f"  {_quote(edge['from'])} -> {_quote(edge['to'])} [label={_quote(edge['constraint'])}{style}];")
    for item in resolution.get("skipped", []):
        lines.append(f"  {_quote(item['required_by'])} -> {_quote(item['name'])} "
                     f"[label={_quote(item['constraint'])}, style=dashed, color=\"#999999\"];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_binary() -> str:
    path = shutil.which("dot")
    if not path:
        raise GraphvizError("Graphviz's dot program is not installed (Debian/Ubuntu: apt-get install graphviz; "
                            "`make setup` installs it)")
    return path


def render(dot_text: str, fmt: str = "png") -> bytes:
    """Runs ``dot -T<fmt>`` on the text and returns the image."""
    try:
        done = subprocess.run([dot_binary(), f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizError(f"dot could not run: {exc}") from exc
    if done.returncode != 0:
        raise GraphvizError(f"dot -T{fmt} failed (exit {done.returncode}): "
                            f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
