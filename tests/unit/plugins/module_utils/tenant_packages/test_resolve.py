# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dependency resolution: versions chosen by npm ranges, deployment order, cycles, unsatisfiable, optional."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import resolve
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.resolve import ResolutionError


def mod(name, version, *deps):
    return {"apiVersion": "orchestr8.io/v1", "kind": "Module", "metadata": {"name": name, "version": version},
            "spec": {"dependencies": list(deps)}}


def dep(name, version="*", optional=False, **extra):
    return {"name": name, "version": version, "optional": optional, **extra}


def order(result):
    return [f"{i['name']}@{i['version']}" for i in result["order"]]


def test_dependencies_come_first_and_ties_go_by_name():
    root = mod("app", "1.0.0", "web", "api")
    available = [mod("api", "1.0.0", "db"), mod("web", "1.0.0", "cache"), mod("db", "1.0.0"), mod("cache", "1.0.0")]
    assert order(resolve.resolve(root, available)) == ["cache@1.0.0", "db@1.0.0", "api@1.0.0", "web@1.0.0",
                                                       "app@1.0.0"]


@pytest.mark.parametrize("constraint, chosen", [
    (">=12.0.0", "13.1.0"), ("^12.0", "12.4.2"), ("^11", "11.9.0"), ("12.0.0", "12.0.0"), ("~12.0", "12.0.5"),
    (">=11.0.0 <12.0.0", "11.9.0"), ("*", "13.1.0"),
])
def test_highest_version_that_satisfies(constraint, chosen):
    available = [mod("postgresql", v) for v in ("11.2.0", "11.9.0", "12.0.0", "12.0.5", "12.4.2", "13.1.0")]
    result = resolve.resolve(mod("app", "1.0.0", dep("postgresql", constraint)), available)
    assert order(result) == [f"postgresql@{chosen}", "app@1.0.0"]


def test_later_constraint_makes_an_earlier_choice_again():
    # app wants any db; api (found after) needs ^1: db is chosen again as 1.5.0, not 2.0.0.
    root = mod("app", "1.0.0", dep("db"), dep("api"))
    available = [mod("db", "1.5.0"), mod("db", "2.0.0"), mod("api", "1.0.0", dep("db", "^1.0.0"))]
    assert order(resolve.resolve(root, available)) == ["db@1.5.0", "api@1.0.0", "app@1.0.0"]


def test_dependencies_of_a_version_no_longer_chosen_are_dropped():
    root = mod("app", "1.0.0", dep("lib"), dep("pin"))
    available = [mod("lib", "2.0.0", dep("extra")), mod("lib", "1.0.0"), mod("extra", "1.0.0"),
                 mod("pin", "1.0.0", dep("lib", "^1.0.0"))]
    assert order(resolve.resolve(root, available)) == ["lib@1.0.0", "pin@1.0.0", "app@1.0.0"]


def test_unsatisfiable_names_every_chain():
    root = mod("my-service", "1.0.0", dep("postgresql", ">=12.0.0"), dep("reporting"))
    available = [mod("postgresql", "11.2.0"), mod("postgresql", "12.1.0"),
                 mod("reporting", "2.0.0", dep("postgresql", "^11.0"))]
    with pytest.raises(ResolutionError) as caught:
        resolve.resolve(root, available)
    assert str(caught.value) == (
        "postgresql: no version satisfies every constraint (available: 11.2.0, 12.1.0): "
        "my-service@1.0.0 requires >=12.0.0; my-service@1.0.0 -> reporting@2.0.0 requires ^11.0")


def test_no_version_at_all_satisfies():
    with pytest.raises(ResolutionError, match=r"^redis: no version satisfies every constraint \(available: 5.0.0, "
                                              r"5.2.1\): app@1.0.0 requires \^6.0$"):
        resolve.resolve(mod("app", "1.0.0", dep("redis", "^6.0")), [mod("redis", "5.0.0"), mod("redis", "5.2.1")])


def test_missing_required_dependency_names_the_chain():
    root = mod("app", "1.0.0", dep("api"))
    with pytest.raises(ResolutionError) as caught:
        resolve.resolve(root, [mod("api", "3.0.0", dep("queue", ">=2.0.0"))])
    assert str(caught.value) == ("queue: required (>=2.0.0) by app@1.0.0 -> api@3.0.0, but no module package "
                                 "named queue was found")


def test_cycle_is_named():
    root = mod("a", "1.0.0", dep("b"))
    with pytest.raises(ResolutionError) as caught:
        resolve.resolve(root, [mod("b", "1.0.0", dep("c")), mod("c", "2.0.0", dep("a"))])
    assert str(caught.value) == "dependency cycle: a@1.0.0 -> b@1.0.0 -> c@2.0.0 -> a@1.0.0"


def test_cycle_not_through_the_root():
    root = mod("app", "1.0.0", dep("x"))
    with pytest.raises(ResolutionError, match=r"^dependency cycle: x@1.0.0 -> y@1.0.0 -> x@1.0.0$"):
        resolve.resolve(root, [mod("x", "1.0.0", dep("y")), mod("y", "1.0.0", dep("x"))])


def test_optional_dependency_absent_is_skipped_with_reason():
    result = resolve.resolve(mod("app", "1.0.0", dep("redis", "^6.0", optional=True)), [])
    assert order(result) == ["app@1.0.0"]
    assert result["skipped"] == [{"name": "redis", "constraint": "^6.0", "required_by": "app",
                                  "reason": "no module package of that name"}]


def test_optional_dependency_present_is_deployed_first():
    result = resolve.resolve(mod("app", "1.0.0", dep("redis", "^6.0", optional=True)),
                             [mod("redis", "6.2.0"), mod("redis", "7.0.0")])
    assert order(result) == ["redis@6.2.0", "app@1.0.0"] and result["skipped"] == []
    assert result["edges"] == [{"from": "app", "to": "redis", "constraint": "^6.0", "optional": True}]


def test_optional_dependency_without_fitting_version_is_skipped():
    result = resolve.resolve(mod("app", "1.0.0", dep("redis", "^6.0", optional=True)), [mod("redis", "7.0.0")])
    assert order(result) == ["app@1.0.0"]
    assert result["skipped"][0]["reason"] == "no version satisfies ^6.0 (available: 7.0.0)"


def test_optional_constraint_binds_a_module_that_is_required_elsewhere():
    root = mod("app", "1.0.0", dep("redis", "^6.0", optional=True), dep("cache-user"))
    available = [mod("redis", "7.0.0"), mod("cache-user", "1.0.0", dep("redis", "^7.0.0"))]
    with pytest.raises(ResolutionError, match=r"^redis: no version satisfies every constraint"):
        resolve.resolve(root, available)


def test_namespace_of_a_dependency_comes_from_its_declaration():
    result = resolve.resolve(mod("app", "1.0.0", dep("postgresql", namespace="shared-db")), [mod("postgresql", "1.0.0")])
    assert result["order"][0] == {"name": "postgresql", "version": "1.0.0", "namespace": "shared-db"}


def test_resolution_is_deterministic():
    root = mod("app", "1.0.0", dep("b"), dep("a"), dep("c", optional=True))
    available = [mod("a", "1.0.0"), mod("b", "1.0.0", dep("a", "^1"))]
    assert resolve.resolve(root, list(reversed(available))) == resolve.resolve(root, available)


def _write(path, document):
    path.mkdir(parents=True)
    (path / "o8-module.yaml").write_text(yaml.safe_dump(document))


def test_discover_reads_every_layout(tmp_path):
    _write(tmp_path / "repo" / "redis", mod("redis", "6.0.0"))
    _write(tmp_path / "repo" / "postgresql" / "12.1.0", mod("postgresql", "12.1.0"))
    _write(tmp_path / "repo" / "postgresql" / "13.0.0", mod("postgresql", "13.0.0"))
    _write(tmp_path / "single", mod("api", "1.0.0"))
    found, errors = resolve.discover([str(tmp_path / "repo"), str(tmp_path / "single")])
    assert errors == []
    assert sorted(f"{d['metadata']['name']}@{d['metadata']['version']}" for d in found) == [
        "api@1.0.0", "postgresql@12.1.0", "postgresql@13.0.0", "redis@6.0.0"]


def test_discover_reports_invalid_and_duplicate_packages(tmp_path):
    _write(tmp_path / "repo" / "redis", mod("redis", "6.0.0"))
    _write(tmp_path / "repo" / "redis-copy", mod("redis", "6.0.0"))
    _write(tmp_path / "repo" / "broken", mod("broken", "one"))
    found, errors = resolve.discover([str(tmp_path / "repo"), str(tmp_path / "missing")])
    assert [d["metadata"]["name"] for d in found] == ["redis"]
    assert errors == [
        f"{tmp_path}/repo/broken/o8-module.yaml: metadata.version: must be a semantic version such as 1.0.0 "
        "(got 'one')",
        f"{tmp_path}/repo/redis-copy/o8-module.yaml: redis 6.0.0 is also defined in "
        f"{tmp_path}/repo/redis/o8-module.yaml",
        f"search_paths: {tmp_path}/missing is not a directory"]
