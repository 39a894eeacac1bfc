# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dependency graph as DOT text (exact) and as PNG rendered by Graphviz's dot (installed by `make setup`)."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import graph, resolve

ROOT = {"apiVersion": "orchestr8.io/v1", "kind": "Module", "metadata": {"name": "my-service", "version": "1.0.0"},
        "spec": {"dependencies": [{"name": "postgresql", "version": ">=12.0.0"},
                                  {"name": "redis", "version": "^6.0", "optional": True}]}}
AVAILABLE = [{"apiVersion": "orchestr8.io/v1", "kind": "Module",
              "metadata": {"name": "postgresql", "version": "12.1.0"}, "spec": {}}]

EXPECTED_DOT = r'''digraph "my-service dependencies" {
  rankdir=LR;
  node [shape=box, style="rounded,filled", fillcolor="#e8f0fe", fontname="Helvetica"];
  edge [fontname="Helvetica", fontsize=10];
  "postgresql" [label="postgresql\n12.1.0\nstep 1"];
  "my-service" [label="my-service\n1.0.0\nstep 2", fillcolor="#c6e6c6"];
  "redis" [label="redis\nnot deployed", fillcolor="#eeeeee", fontcolor="#777777", tooltip="no module package of that name"];
  "my-service" -> "postgresql" [label=">=12.0.0"];
  "my-service" -> "redis" [label="^6.0", style=dashed, color="#999999"];
}
'''


def test_dot_text():
    assert graph.to_dot(resolve.resolve(ROOT, AVAILABLE)) == EXPECTED_DOT


def test_dot_quotes_what_needs_quoting():
    resolution = {"root": 'a"b@1.0.0', "order": [{"name": 'a"b', "version": "1.0.0"}], "edges": [], "skipped": []}
    assert '"a\\"b" [label="a\\"b\\n1.0.0\\nstep 1"' in graph.to_dot(resolution)


def test_dot_is_accepted_by_graphviz():
    # dot -Tcanon parses and re-prints the graph: both nodes and the edges survive.
    canon = graph.render(EXPECTED_DOT, "canon").decode()
    assert '"my-service" -> postgresql' in canon and '"my-service" -> redis' in canon


def test_png_is_a_png_and_byte_stable():
    png = graph.render(graph.to_dot(resolve.resolve(ROOT, AVAILABLE)), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert width > 100 and height > 50
    assert graph.render(graph.to_dot(resolve.resolve(ROOT, AVAILABLE)), "png") == png
    assert shutil.which("file") is None or "PNG image data" in subprocess.run(
        ["file", "-"], input=png, capture_output=True, check=True).stdout.decode()


def test_missing_graphviz_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(graph.GraphvizError, match="Graphviz's dot program is not installed"):
        graph.render(EXPECTED_DOT)


def test_dot_failure_reports_dot_s_message():
    with pytest.raises(graph.GraphvizError, match=r"dot -Tpng failed \(exit 1\): .*syntax error"):
        graph.render("digraph { -> }")
