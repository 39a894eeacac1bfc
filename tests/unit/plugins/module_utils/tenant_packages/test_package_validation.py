# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""o8-module.yaml validation: every file in fixtures/invalid is the seed's example with one mistake, and its
``# expect:`` line is the start of the error that must name it (``# kind:`` says which schema applies)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import validation

HERE = os.path.dirname(os.path.realpath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
INVALID = sorted(os.listdir(os.path.join(FIXTURES, "invalid")))


def header(path: str, key: str, default=None):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(rf"# {key}: (.*)$", line.rstrip("\n"))
            if match:
                return match.group(1)
    return default


def errors_of(path: str, kind: str, tmp_path) -> list:
    copy = tmp_path / "o8-module.yaml"
    shutil.copy(path, copy)
    document, errors = validation.load_document(str(copy))
    return errors or validation.validate_document(document, kind)


def test_there_are_enough_invalid_files():
    assert len(INVALID) >= 30


@pytest.mark.parametrize("name", INVALID)
def test_invalid_file_is_rejected_naming_the_field(name, tmp_path):
    path = os.path.join(FIXTURES, "invalid", name)
    expected = header(path, "expect")
    errors = errors_of(path, header(path, "kind", "Module"), tmp_path)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize("name, kind", [("valid-module.yaml", "Module"), ("valid-template.yaml", "ModuleTemplate")])
def test_the_seed_examples_are_valid(name, kind, tmp_path):
    assert errors_of(os.path.join(FIXTURES, name), kind, tmp_path) == []


def test_every_mistake_is_reported_in_one_run(tmp_path):
    document = {"apiVersion": "v1", "kind": "Module", "metadata": {"name": "X", "version": "1"},
                "spec": {"owner": "nobody", "dependencies": [{"nam": "a"}]}}
    errors = validation.validate_document(document)
    assert [e.split(":", maxsplit=1)[0] for e in errors] == [
        "apiVersion", "metadata.name", "metadata.version", "spec.dependencies[0].name", "spec.dependencies[0].nam",
        "spec.owner"]


def test_dependencies_normalised():
    spec = {"dependencies": ["redis", {"name": "postgresql", "version": ">=12.0.0", "optional": True}]}
    assert validation.dependency_list(spec) == [
        {"name": "redis", "version": "*", "namespace": "redis", "optional": False},
        {"name": "postgresql", "version": ">=12.0.0", "namespace": "postgresql", "optional": True}]


def _module_dir(tmp_path, name="my-service", overlays=("dev", "staging", "production")):
    root = tmp_path / name
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text("resources: []\n")
    for env in overlays:
        (root / "overlays" / env).mkdir(parents=True)
        (root / "overlays" / env / "kustomization.yaml").write_text("resources: [../../base]\n")
    shutil.copy(os.path.join(FIXTURES, "valid-module.yaml"), root / "o8-module.yaml")
    return root


def test_module_directory_valid(tmp_path):
    document, errors = validation.validate_module_dir(str(_module_dir(tmp_path)))
    assert errors == [] and document["metadata"]["name"] == "my-service"


def test_module_directory_layout_errors(tmp_path):
    root = _module_dir(tmp_path, name="other-name", overlays=("dev",))
    errors = validation.validate_module_dir(str(root))[1]
    assert errors == [
        "metadata.name: my-service must match the directory name other-name",
        "overlays/staging/kustomization.yaml: missing (a module has a Kustomize base and the overlays dev, staging, "
        "production)",
        "overlays/production/kustomization.yaml: missing (a module has a Kustomize base and the overlays dev, "
        "staging, production)"]


def test_module_directory_without_manifest(tmp_path):
    (tmp_path / "empty").mkdir()
    assert validation.validate_module_dir(str(tmp_path / "empty"))[1] == [
        f"o8-module.yaml: not found in {tmp_path / 'empty'}"]
    assert validation.validate_module_dir(str(tmp_path / "nope"))[1] == [f"path: {tmp_path / 'nope'} is not a directory"]


def test_quantities_compare_across_units():
    assert validation.quantity("500m") < validation.quantity("1")
    assert validation.quantity("1Gi") > validation.quantity("1000Mi")
    assert validation.quantity("1G") < validation.quantity("1Gi")
