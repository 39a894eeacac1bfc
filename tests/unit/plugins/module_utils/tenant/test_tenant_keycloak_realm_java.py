"""The generated realm is accepted by Keycloak's own model: org.keycloak:keycloak-core 26.8.2's RealmRepresentation
parses it with unknown properties rejected (tests/java/keycloak-realm-check, built with Maven).

Maven resolves keycloak-core and the two build plugins from Maven Central the first time and from ~/.m2 after
that (the build is tried offline first). java and mvn are prerequisites of the test suite: without them this
fails, it does not skip.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenant import generate, validation

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 5))
PROJECT = os.path.join(REPO, "tests", "java", "keycloak-realm-check")
MAIN = "io.aphex.platform.RealmCheck"

TENANT = {
    "name": "test-company", "tier": "standard", "domain": "test-company.example.com",
    "auth": {"roles": ["admin", "analyst", "user"]},
    "gitops": {"repo_url": "https://git.example.com/gitops.git"},
    "modules": {"langfuse": {"auth": True, "roles": ["admin", "analyst"]}, "postgresql": {}, "clickhouse": {},
                "redis": {}, "jupyter": {"auth": True, "roles": ["admin", "user"]}},
}


def _mvn(workdir: str, offline: bool) -> subprocess.CompletedProcess:
    argv = ["mvn", "-B", "-q"] + (["-o"] if offline else []) + [
        "package", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"]
    return subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def realm_check(tmp_path_factory):
    for tool in ("mvn", "java"):
        assert shutil.which(tool), f"{tool} is required for the Keycloak realm check (Debian: maven, openjdk-17-jdk)"
    workdir = str(tmp_path_factory.mktemp("keycloak-realm-check"))
    shutil.copytree(PROJECT, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target"))
    build = _mvn(workdir, offline=True)
    if build.returncode != 0:  # first run: fetch keycloak-core and the plugins from Maven Central
        build = _mvn(workdir, offline=False)
    assert build.returncode == 0, build.stdout + build.stderr
    with open(os.path.join(workdir, "target", "classpath.txt"), encoding="utf-8") as handle:
        classpath = os.path.join(workdir, "target", "classes") + os.pathsep + handle.read().strip()
    assert "keycloak-core-26.8.2.jar" in classpath

    def check(realm: dict, tmp_path) -> subprocess.CompletedProcess:
        path = tmp_path / "keycloak-realm.json"
        path.write_text(json.dumps(realm))
        return subprocess.run(["java", "-cp", classpath, MAIN, str(path)], capture_output=True, text=True,
                              timeout=120, check=False)
    return check


@pytest.fixture(scope="module")
def realm():
    checked = validation.validate(copy.deepcopy(TENANT))
    assert checked["errors"] == []
    return json.loads(generate.generate(checked["tenant"])["tenants/test-company/keycloak-realm.json"])


def test_keycloak_parses_the_generated_realm(realm_check, realm, tmp_path):
    proc = realm_check(realm, tmp_path)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "realm=test-company" in proc.stdout
    assert "client=langfuse[admin,analyst]" in proc.stdout
    assert "client=jupyter[admin,user]" in proc.stdout
    assert "realmRoles=admin,analyst,user" in proc.stdout


@pytest.mark.parametrize("where", ["realm", "client", "mapper"])
def test_an_unknown_property_is_rejected(realm_check, realm, tmp_path, where):
    """Proves the check can fail: the same realm with one misspelt property anywhere is refused."""
    bad = copy.deepcopy(realm)
    target = {"realm": bad, "client": bad["clients"][0], "mapper": bad["clients"][0]["protocolMappers"][0]}[where]
    target["redirectUrls"] = ["https://typo.example.com/*"]
    proc = realm_check(bad, tmp_path)
    assert proc.returncode == 1
    assert "REJECTED" in proc.stdout and "redirectUrls" in proc.stdout
