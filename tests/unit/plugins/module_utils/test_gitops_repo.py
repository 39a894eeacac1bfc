"""gitops_repo: byte-stable writes into a real git work tree, a commit per change, none when nothing changed."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.aphex.platform.plugins.module_utils import gitops_repo
from ansible_collections.aphex.platform.plugins.module_utils.gitops_repo import GitOpsRepoError


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "gitops"
    path.mkdir()
    git(path, "init", "--quiet", "-b", "main")
    return path


def commits(repo) -> int:
    proc = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                          check=False)
    return int(proc.stdout.strip() or 0) if proc.returncode == 0 else 0


FILES = {"tenants/acme/tenant.yaml": "name: acme\n", "tenants/acme/kubernetes/namespace.yaml": "kind: Namespace\n"}


def test_first_sync_writes_and_commits_with_the_message(repo):
    result = gitops_repo.sync(str(repo), FILES, "tenant acme: create")
    assert result["changed"] and result["commit"]
    assert result["files"] == {"tenants/acme/kubernetes/namespace.yaml": "create", "tenants/acme/tenant.yaml": "create"}
    assert git(repo, "log", "-1", "--format=%s").strip() == "tenant acme: create"
    assert git(repo, "rev-parse", "HEAD").strip() == result["commit"]
    assert (repo / "tenants/acme/tenant.yaml").read_bytes() == b"name: acme\n"
    assert git(repo, "status", "--porcelain") == ""


def test_second_sync_with_same_content_makes_no_commit_and_keeps_mtimes(repo):
    gitops_repo.sync(str(repo), FILES, "first")
    mtime = os.stat(repo / "tenants/acme/tenant.yaml").st_mtime_ns
    result = gitops_repo.sync(str(repo), FILES, "second")
    assert not result["changed"] and result["commit"] is None
    assert commits(repo) == 1
    assert os.stat(repo / "tenants/acme/tenant.yaml").st_mtime_ns == mtime


def test_check_mode_predicts_and_touches_nothing(repo):
    result = gitops_repo.sync(str(repo), FILES, "first", check_mode=True, diff=True)
    assert result["changed"] and result["commit"] is None
    assert not (repo / "tenants").exists() and commits(repo) == 0
    assert {d["after_header"] for d in result["diff"]} == set(FILES)
    gitops_repo.sync(str(repo), FILES, "first")
    changed = dict(FILES, **{"tenants/acme/tenant.yaml": "name: acme\ntier: pro\n"})
    predicted = gitops_repo.sync(str(repo), changed, "second", check_mode=True, diff=True)
    assert predicted["files"]["tenants/acme/tenant.yaml"] == "update"
    assert predicted["diff"] == [{"before_header": "tenants/acme/tenant.yaml", "after_header": "tenants/acme/tenant.yaml",
                                  "before": "name: acme\n", "after": "name: acme\ntier: pro\n"}]
    assert commits(repo) == 1


def test_prune_deletes_files_no_longer_generated_and_commits_the_deletion(repo):
    files = dict(FILES, **{"tenants/acme/modules/redis/deployment.yaml": "kind: Deployment\n"})
    gitops_repo.sync(str(repo), files, "add redis", prune=["tenants/acme"])
    result = gitops_repo.sync(str(repo), FILES, "remove redis", prune=["tenants/acme"])
    assert result["files"]["tenants/acme/modules/redis/deployment.yaml"] == "delete"
    assert not (repo / "tenants/acme/modules").exists()
    assert "tenants/acme/modules/redis/deployment.yaml" not in git(repo, "ls-files")
    assert commits(repo) == 2 and git(repo, "status", "--porcelain") == ""


def test_only_owned_paths_are_committed_user_changes_stay_alone(repo):
    (repo / "README.md").write_text("mine\n")
    git(repo, "add", "README.md")
    result = gitops_repo.sync(str(repo), FILES, "tenant acme")
    assert sorted(git(repo, "show", "--name-only", "--format=", result["commit"]).split()) == sorted(FILES)
    assert git(repo, "status", "--porcelain").strip() == "A  README.md"


def test_an_interrupted_run_written_but_not_committed_is_committed_by_the_rerun(repo):
    for rel, content in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content)
    result = gitops_repo.sync(str(repo), FILES, "tenant acme")
    assert result["changed"] and result["commit"]
    assert all(action == "unchanged" for action in result["files"].values())
    assert git(repo, "status", "--porcelain") == ""


def test_identity_falls_back_to_the_platform_default_when_git_has_none(repo, monkeypatch):
    monkeypatch.setenv("HOME", str(repo.parent))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    result = gitops_repo.sync(str(repo), FILES, "tenant acme")
    assert git(repo, "log", "-1", "--format=%an <%ae>", result["commit"]).strip() == \
        "aphex-platform <aphex-platform@localhost>"


def test_explicit_author(repo):
    result = gitops_repo.sync(str(repo), FILES, "tenant acme", author_name="Ann", author_email="ann@example.com")
    assert git(repo, "log", "-1", "--format=%an <%ae>", result["commit"]).strip() == "Ann <ann@example.com>"


@pytest.mark.parametrize("relpath", ["/etc/passwd", "../outside.yaml", "a/../../b", ".git/config", "."])
def test_paths_outside_the_work_tree_are_refused(repo, relpath):
    with pytest.raises(GitOpsRepoError, match="relative path inside the work tree"):
        gitops_repo.sync(str(repo), {relpath: "x"}, "bad")


def test_not_a_work_tree(tmp_path):
    with pytest.raises(GitOpsRepoError, match="not a git work tree"):
        gitops_repo.sync(str(tmp_path), FILES, "x")
    with pytest.raises(GitOpsRepoError, match="not a directory"):
        gitops_repo.sync(str(tmp_path / "missing"), FILES, "x")


def test_empty_message_is_refused(repo):
    with pytest.raises(GitOpsRepoError, match="message"):
        gitops_repo.sync(str(repo), FILES, " ")


def test_serialisers_are_byte_stable_and_readable():
    obj = {"kind": "ConfigMap", "data": {"b": "line1\nline2\n", "a": "x"}, "list": [{"k": 1}]}
    assert gitops_repo.to_yaml(obj) == gitops_repo.to_yaml(dict(obj))
    assert gitops_repo.to_yaml(obj).startswith("kind: ConfigMap\n")
    assert "b: |\n    line1\n" in gitops_repo.to_yaml(obj)
    assert "list:\n  - k: 1\n" in gitops_repo.to_yaml(obj)
    assert gitops_repo.to_json({"b": 1, "a": 2}) == '{\n  "a": 2,\n  "b": 1\n}\n'
