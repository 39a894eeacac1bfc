"""The GitHub adapter and the webhook steps against the fake GitHub API (real HTTP, schema-validated)."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.github.client import GitHubApi
from ansible_collections.aphex.platform.plugins.module_utils.github.errors import GitHubError
from ansible_collections.aphex.platform.plugins.module_utils.github.hooks_service import ensure_hook
from ansible_collections.aphex.platform.tests.support.fake_github import DEFAULT_TOKEN, FakeGitHub
from ansible_collections.aphex.platform.tests.support.github_fixtures import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_SEED,
    HOOK_URL,
    REPO,
    SECRET,
    fake_github,
    github_retry_sleeps,
)

pytestmark = pytest.mark.usefixtures("github_retry_sleeps")


def api_for(fake, token=DEFAULT_TOKEN, **kwargs):
    return GitHubApi(token, fake.url, **kwargs)


def params(**changes):
    base = {"repository": REPO, "url": HOOK_URL, "secret": SECRET, "rotate_secret": False, "events": ["push"],
            "content_type": "json", "insecure_ssl": False, "active": True, "state": "present", "secret_hint": None}
    base.update(changes)
    return base


def ensure(fake, check_mode=False, token=DEFAULT_TOKEN, **changes):
    return ensure_hook(api_for(fake, token), params(**changes), check_mode=check_mode)


def test_create_then_second_run_is_unchanged_and_sends_no_mutating_request(fake_github):
    first = ensure(fake_github)
    assert first["changed"] is True and first["action"] == "create"
    assert first["hook"]["id"] and first["hook"]["secret"] == "(set)"
    assert first["repository"] == REPO
    (stored,) = fake_github.hooks(REPO)
    assert stored["config"] == {"url": HOOK_URL, "content_type": "json", "insecure_ssl": "0", "secret": SECRET}
    assert stored["events"] == ["push"] and stored["active"] is True
    fake_github.clear_log()
    second = ensure(fake_github)
    assert second["changed"] is False and second["action"] is None
    assert second["hook"] == first["hook"]
    assert fake_github.mutating_requests() == []


def test_check_mode_predicts_without_writing(fake_github):
    result = ensure(fake_github, check_mode=True)
    assert result["changed"] is True and result["hook"]["id"] is None
    assert result["diff"]["before"] == {} and result["diff"]["after"]["events"] == ["push"]
    assert fake_github.mutating_requests() == [] and fake_github.hooks(REPO) == []
    ensure(fake_github)
    predicted = ensure(fake_github, check_mode=True, events=["push", "pull_request"])
    assert predicted["changed"] is True and predicted["action"] == "update"
    assert fake_github.hooks(REPO)[0]["events"] == ["push"]


def test_update_events_keeps_the_secret(fake_github):
    ensure(fake_github)
    result = ensure(fake_github, events=["push", "pull_request"], active=False)
    assert result["changed"] is True and result["action"] == "update"
    assert result["diff"]["before"]["events"] == ["push"]
    assert result["diff"]["after"]["events"] == ["pull_request", "push"]
    (stored,) = fake_github.hooks(REPO)
    assert sorted(stored["events"]) == ["pull_request", "push"] and stored["active"] is False
    assert stored["config"]["secret"] == SECRET
    patches = [r for r in fake_github.mutating_requests() if r["method"] == "PATCH"]
    assert [r["path"].rsplit("/", 1)[-1] for r in patches] == [str(stored["id"])]
    assert "config" not in patches[0]["body"]
    assert ensure(fake_github, events=["push", "pull_request"], active=False)["changed"] is False


def test_update_content_type_and_rotation_send_the_secret_through_the_config_endpoint(fake_github):
    ensure(fake_github, content_type="form")
    result = ensure(fake_github, secret="a-new-secret-value-0000")
    assert result["changed"] is True and result["hook"]["content_type"] == "json"
    assert fake_github.hooks(REPO)[0]["config"]["secret"] == "a-new-secret-value-0000"
    assert ensure(fake_github, secret="another-secret-value-111")["changed"] is False  # not detectable
    rotated = ensure(fake_github, secret="another-secret-value-111", rotate_secret=True)
    assert rotated["changed"] is True and rotated["hook"]["secret"] == "(set)"
    assert fake_github.hooks(REPO)[0]["config"]["secret"] == "another-secret-value-111"
    assert fake_github.mutating_requests()[-1]["path"].endswith("/config")


def test_delete_then_delete_again_is_a_no_op(fake_github):
    ensure(fake_github)
    ensure_hook(api_for(fake_github), params(url="https://other.example.com/"), check_mode=False)
    checked = ensure(fake_github, check_mode=True, state="absent")
    assert checked["changed"] is True and len(fake_github.hooks(REPO)) == 2
    result = ensure(fake_github, state="absent")
    assert result["changed"] is True and result["action"] == "delete" and result["hook"] == {}
    assert [h["config"]["url"] for h in fake_github.hooks(REPO)] == ["https://other.example.com/"]
    fake_github.clear_log()
    again = ensure(fake_github, state="absent")
    assert again["changed"] is False and fake_github.mutating_requests() == []


def test_hooks_made_elsewhere_are_left_alone(fake_github):
    api_for(fake_github).create_hook(REPO, {"events": ["issues"], "config": {"url": "https://ci.example.com/"}})
    ensure(fake_github)
    ensure(fake_github, state="absent")
    assert [h["config"]["url"] for h in fake_github.hooks(REPO)] == ["https://ci.example.com/"]


def test_pagination_finds_a_hook_on_a_later_page(fake_github, monkeypatch):
    from ansible_collections.aphex.platform.plugins.module_utils.github import client
    monkeypatch.setattr(client, "PER_PAGE", 2)
    api = api_for(fake_github)
    for i in range(5):
        api.create_hook(REPO, {"events": ["push"], "config": {"url": f"https://ci{i}.example.com/"}})
    ensure(fake_github)
    assert len(api.list_hooks(REPO)) == 6
    pages = [r["query"].get("page") for r in fake_github.requests if r["path"].endswith("/hooks") and r["method"] == "GET"]
    assert "3" in pages
    fake_github.clear_log()
    assert ensure(fake_github)["changed"] is False


def test_a_bad_token_fails_with_a_clear_message(fake_github):
    with pytest.raises(GitHubError) as raised:
        ensure(fake_github, token="not-a-token")
    message = str(raised.value)
    assert "HTTP 401" in message and "Bad credentials" in message and "did not accept the token" in message
    assert "admin:repo_hook" in message and raised.value.status == 401


def test_unknown_repository_and_missing_admin_rights_are_404_with_the_hint(fake_github):
    with pytest.raises(GitHubError, match="get repository acme-corp/nope: GitHub answered HTTP 404") as raised:
        ensure(fake_github, repository="acme-corp/nope")
    assert "Webhooks: Read and write" in str(raised.value)
    with pytest.raises(GitHubError, match="list webhooks of acme-corp/payments-api: GitHub answered HTTP 404"):
        ensure(fake_github, token="read-only-token")


def test_repository_name_is_returned_as_github_spells_it(fake_github):
    result = ensure(fake_github, repository="ACME-corp/Payments-API")
    assert result["repository"] == REPO


def test_rate_limit_and_5xx_are_retried(fake_github, github_retry_sleeps):
    fake_github.inject(429, retry_after=3, method="GET")
    fake_github.inject(403, rate_limit_reset=2, method="GET")
    fake_github.inject(502, count=2, method="GET")
    assert ensure(fake_github)["changed"] is True
    assert github_retry_sleeps[0] == 3.0 and 0 <= github_retry_sleeps[1] <= 3 and github_retry_sleeps[2:4] == [2.0, 4.0]  # one request, attempts 2 and 3


def test_a_create_that_failed_with_5xx_is_not_repeated_once_it_shows_up(fake_github, github_retry_sleeps):
    # The fake answers the injected 502 before creating anything, so the recheck finds nothing and the
    # create is retried; the end state is still exactly one hook.
    fake_github.inject(502, method="POST")
    assert ensure(fake_github)["changed"] is True
    assert len(fake_github.hooks(REPO)) == 1 and github_retry_sleeps == [0.5]


def test_a_long_retry_after_is_not_waited_out(fake_github, github_retry_sleeps):
    fake_github.inject(429, retry_after=3600, method="GET")
    with pytest.raises(GitHubError, match="asked to wait 3600s"):
        ensure(fake_github)
    assert github_retry_sleeps == []


def test_no_retry_when_max_retries_is_zero(fake_github):
    fake_github.inject(503, method="GET")
    with pytest.raises(GitHubError, match="HTTP 503"):
        ensure_hook(GitHubApi(DEFAULT_TOKEN, fake_github.url, max_retries=0), params(), check_mode=False)


def test_unreachable_api(github_retry_sleeps):
    with FakeGitHub(DEFAULT_SEED) as fake:
        url = fake.url
    with pytest.raises(GitHubError, match="cannot reach the GitHub API"):
        ensure_hook(GitHubApi(DEFAULT_TOKEN, url, max_retries=1, timeout=2), params(), check_mode=False)
    assert github_retry_sleeps == [0.5]


def test_requests_carry_the_api_version_and_never_log_the_token(fake_github):
    ensure(fake_github)
    for request in fake_github.requests:
        assert request["headers"]["X-Github-Api-Version"] == "2022-11-28"
        assert request["headers"]["Accept"] == "application/vnd.github+json"
        assert DEFAULT_TOKEN not in repr(request)


def test_the_fake_records_requests_github_would_refuse(fake_github):
    api = api_for(fake_github)
    with pytest.raises(GitHubError, match="HTTP 400"):
        api.create_hook(REPO, {"config": {"url": HOOK_URL}, "colour": "blue"})
    assert fake_github.violations and fake_github.violations[0]["kind"] == "request"
    fake_github.violations.clear()  # expected here; the fixture fails on any left over
    with pytest.raises(GitHubError, match="Hook already exists"):
        api.create_hook(REPO, {"config": {"url": HOOK_URL}})
        api.create_hook(REPO, {"config": {"url": HOOK_URL}})


def test_connect_validates_its_options():
    base = {"token": "t", "api_url": "https://api.github.com", "validate_certs": True, "timeout": 30.0,
            "max_retries": 4}
    for changes, message in (({"token": ""}, "^token:"), ({"max_retries": -1}, "^max_retries:"),
                             ({"timeout": 0}, "^timeout:"), ({"api_url": "ftp://x"}, "^api_url:")):
        with pytest.raises(GitHubError, match=message):
            GitHubApi.connect({**base, **changes})


def test_standalone_process_serves_the_seed(tmp_path):
    import json
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    import ansible_collections.aphex.platform.tests.support.fake_github as fake_module

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"repositories": [{"full_name": REPO, "hooks": [
        {"config": {"url": HOOK_URL, "content_type": "json", "secret": SECRET}, "events": ["push"]}]}]}))
    process = subprocess.Popen([sys.executable, str(Path(fake_module.__file__)), "--print-url", "--seed", str(seed)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v3")
        hooks = GitHubApi(DEFAULT_TOKEN, url).list_hooks(REPO)
        assert [h["config"]["secret"] for h in hooks] == ["********"]
        with urllib.request.urlopen(url.replace("/api/v3", "/__admin/violations"), timeout=5) as answer:
            assert json.loads(answer.read()) == []
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
