"""main() of aphex.platform.tenant, run for real on a git work tree (its JSON output is parsed)."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.aphex.platform.plugins.modules import tenant
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module

CONFIG = {"name": "acme", "tier": "standard", "domain": "acme.example.com",
          "gitops": {"repo_url": "https://git.example.com/gitops.git"}}


def run(args: dict, capsys=None, check_mode=False, diff=False) -> tuple:
    result = run_module(tenant.main, args, check_mode=check_mode, diff=diff)
    return (1 if result.get("failed") else 0), result


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    return str(tmp_path)


def test_create_add_and_rerun(repo, capsys):
    rc, created = run({"name": "acme", "repo": repo, "config": CONFIG}, capsys)
    assert rc == 0 and created["changed"] and created["commit"]
    args = {"name": "acme", "repo": repo, "module": "redis", "module_options": {"storage": "5Gi"}}
    rc, checked = run(args, check_mode=True, diff=True)
    assert rc == 0, checked
    assert rc == 0 and checked["changed"] and checked["commit"] is None
    assert any(d["after_header"] == "tenants/acme/applications/redis.yaml" for d in checked["diff"])
    rc, added = run(args, capsys)
    assert rc == 0 and added["changed"] and added["applications"] == ["acme-redis"]
    rc, again = run(args, capsys)
    assert rc == 0 and not again["changed"] and again["commit"] is None


def test_invalid_config_fails_with_errors_naming_fields(repo, capsys):
    rc, result = run({"name": "acme", "repo": repo, "config": dict(CONFIG, tier="gold", domain="x")}, capsys)
    assert rc == 1 and result["failed"]
    assert result["errors"] == ["domain: 'x' is not a lower-case DNS domain name with at least two labels",
                                "tier: 'gold' must be one of starter, standard, enterprise"]
    assert subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                          check=False).returncode != 0


def test_name_or_src_is_required(capsys):
    rc, result = run({"validate_only": True}, capsys)
    assert rc == 1 and "one of the following is required: name, src" in result["msg"]
