# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bin/o8 maps the seed's commands onto playbooks and extra vars (run end to end in
tests/integration/test_module_packages.py)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", ".."))


@pytest.fixture(scope="module")
def o8():
    loader = importlib.machinery.SourceFileLoader("o8_cli", os.path.join(ROOT, "bin", "o8"))
    spec = importlib.util.spec_from_loader("o8_cli", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def mapped(o8, *argv):
    return o8.command_for(o8.parser().parse_args(list(argv)))


def test_tenant_add_module(o8, tmp_path):
    assert mapped(o8, "tenant", "add-module", "test-company", "langfuse", "--auth", "--roles", "admin,analyst",
                  "--repo", str(tmp_path)) == ("tenant_add_module.yml", {
                      "gitops_repo": str(tmp_path), "tenant": "test-company", "module": "langfuse", "auth": True,
                      "roles": "admin,analyst"})


def test_tenant_create_takes_the_name_from_the_file(o8, tmp_path):
    (tmp_path / "acme.yaml").write_text("name: acme\ntier: standard\n")
    assert mapped(o8, "tenant", "create", str(tmp_path / "acme.yaml")) == (
        "tenant_create.yml", {"tenant_file": str(tmp_path / "acme.yaml"), "tenant": "acme"})


def test_module_commands(o8, tmp_path, monkeypatch):
    (tmp_path / "modules" / "my-service").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    service = str(tmp_path / "modules" / "my-service")
    assert mapped(o8, "module", "validate", "my-service") == ("module_validate.yml", {"path": service})
    assert mapped(o8, "module", "deps", "my-service", "--visualize") == ("module_validate.yml", {
        "path": service, "deps": True, "dot": f"{service}/deps.dot", "png": f"{service}/deps.png"})
    assert mapped(o8, "module", "init", "api", "--template", "job", "--set", "schedule=0 3 * * *") == (
        "module_init.yml", {"module_name": "api", "template": "job", "dest": str(tmp_path),
                            "variables": {"schedule": "0 3 * * *"}, "force": False})
    monkeypatch.setenv("APHEX_GITOPS_REPO", "/srv/gitops")
    assert mapped(o8, "module", "promote", "my-service", "--from", "dev", "--to", "staging") == (
        "module_promote.yml", {"repo": "/srv/gitops", "from_env": "dev", "to_env": "staging",
                               "path": "modules/my-service"})
    assert mapped(o8, "module", "promote", "langfuse", "--tenant", "acme", "--from", "staging") == (
        "module_promote.yml", {"repo": "/srv/gitops", "from_env": "staging", "module": "langfuse", "tenant": "acme"})


def test_promote_without_a_repository_is_an_error(o8, monkeypatch):
    monkeypatch.delenv("APHEX_GITOPS_REPO", raising=False)
    with pytest.raises(SystemExit, match="--repo DIR or APHEX_GITOPS_REPO"):
        mapped(o8, "module", "promote", "x", "--from", "dev")
