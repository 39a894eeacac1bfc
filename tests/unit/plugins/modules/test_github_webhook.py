"""aphex.platform.github_webhook: main() against the fake GitHub API (real HTTP, schema-validated)."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.modules import github_webhook
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.support.fake_github import DEFAULT_TOKEN
from ansible_collections.aphex.platform.tests.support.github_fixtures import (  # noqa: F401 pylint: disable=unused-import
    HOOK_URL,
    REPO,
    SECRET,
    fake_github,
    github_env,
    github_retry_sleeps,
)

pytestmark = pytest.mark.usefixtures("github_env", "github_retry_sleeps")


def run(fake, check_mode=False, diff=True, **overrides):
    args = {"repository": REPO, "url": HOOK_URL, "secret": SECRET, "token": DEFAULT_TOKEN,
            "api_url": fake.url if fake else None}
    args.update(overrides)
    args = {key: value for key, value in args.items() if value is not ...}  # ... leaves an option out
    return run_module(github_webhook.main, args, check_mode=check_mode, diff=diff)


def test_check_mode_then_apply_then_idempotent(fake_github):
    predicted = run(fake_github, check_mode=True)
    assert predicted["changed"] is True and predicted["action"] == "create" and predicted["hook"]["id"] is None
    assert fake_github.hooks(REPO) == []
    applied = run(fake_github)
    assert applied["changed"] is True and applied["hook"]["id"]
    without_id = {k: v for k, v in predicted["hook"].items() if k != "id"}
    assert {k: v for k, v in applied["hook"].items() if k != "id"} == without_id
    again = run(fake_github)
    assert again["changed"] is False and "diff" in again
    assert again["manual"] is False


def test_no_diff_key_without_diff_mode(fake_github):
    assert "diff" not in run(fake_github, diff=False)


def test_the_secret_and_token_never_appear_in_the_result(fake_github):
    result = run(fake_github)
    assert SECRET not in repr(result) and DEFAULT_TOKEN not in repr(result)
    rotated = run(fake_github, rotate_secret=True)
    assert rotated["changed"] is True and SECRET not in repr(rotated)


def test_update_events_and_remove(fake_github):
    run(fake_github)
    updated = run(fake_github, events=["push", "pull_request"])
    assert updated["changed"] is True and updated["hook"]["events"] == ["pull_request", "push"]
    assert run(fake_github, events=["pull_request", "push"])["changed"] is False
    removed = run(fake_github, state="absent", secret=...)
    assert removed["changed"] is True and fake_github.hooks(REPO) == []
    assert run(fake_github, state="absent", secret=...)["changed"] is False


def test_token_from_the_environment(fake_github, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    result = run(None, token=..., api_url=...)
    assert result["changed"] is True and result["manual"] is False


def test_bad_token_fails_naming_the_permissions(fake_github):
    result = run(fake_github, token="wrong")
    assert result["failed"] is True and result["status"] == 401
    assert "Bad credentials" in result["msg"] and "admin:repo_hook" in result["msg"]


def test_without_a_token_the_settings_are_returned_and_nothing_is_called(fake_github):
    result = run(fake_github, token=..., secret_hint="kubectl -n org-acme get secret github-webhook-secret")
    assert result["manual"] is True and result["changed"] is False and result["hook"] == {}
    assert fake_github.requests == []
    assert result["settings"]["payload_url"] == HOOK_URL
    assert result["settings"]["content_type"] == "application/json"
    assert "Payload URL: " + HOOK_URL in result["msg"]
    assert "kubectl -n org-acme get secret github-webhook-secret" in result["msg"]
    assert SECRET not in repr(result)


def test_without_a_token_bad_input_still_fails():
    result = run(None, token=..., url="not a url", api_url=...)
    assert result["failed"] is True and result["msg"].startswith("url:")


def test_bad_options_fail_before_any_call(fake_github):
    result = run(fake_github, repository="acme-corp/app.git")
    assert result["failed"] is True and result["msg"].startswith("repository:")
    assert run(fake_github, content_type="xml")["failed"] is True
    assert fake_github.requests == []


def test_duplicate_hooks_warn(fake_github, capsys):
    from ansible_collections.aphex.platform.plugins.module_utils.github.client import GitHubApi
    api = GitHubApi(DEFAULT_TOKEN, fake_github.url)
    api.create_hook(REPO, {"events": ["push"], "config": {"url": HOOK_URL, "content_type": "json", "secret": SECRET}})
    api.create_hook(REPO, {"events": ["issues"], "config": {"url": HOOK_URL, "content_type": "json", "secret": SECRET}})
    result = run(fake_github, events=["push"])
    assert result["changed"] is False
    assert "2 webhooks of this repository deliver to" in capsys.readouterr().err
