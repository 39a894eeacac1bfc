"""The pure webhook planner: desired state, matching, plan (no HTTP)."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.github.client import split_repository
from ansible_collections.aphex.platform.plugins.module_utils.github.errors import GitHubError
from ansible_collections.aphex.platform.plugins.module_utils.github.hooks import (
    SECRET_NEW,
    SECRET_NOT_SET,
    SECRET_SET,
    desired_hook,
    hook_view,
    manual_settings,
    matching_hooks,
    plan_hook,
)

URL = "https://acme.hooks.example.com/"


def params(**changes):
    base = {"url": URL, "events": ["push"], "content_type": "json", "insecure_ssl": False, "active": True,
            "secret": "s3cr3t-value"}
    base.update(changes)
    return base


def hook(hook_id=7, url=URL, events=("push",), active=True, content_type="json", insecure_ssl="0", secret=True):
    config = {"url": url, "content_type": content_type, "insecure_ssl": insecure_ssl}
    if secret:
        config["secret"] = "********"
    return {"id": hook_id, "name": "web", "type": "Repository", "events": list(events), "active": active,
            "config": config}


def test_desired_hook_normalises():
    assert desired_hook(params(events=["push", " pull_request", "push"], insecure_ssl=True)) == {
        "url": URL, "content_type": "json", "insecure_ssl": "1", "events": ["pull_request", "push"],
        "active": True, "secret": "s3cr3t-value"}
    assert desired_hook({"url": URL})["events"] == ["push"]


@pytest.mark.parametrize("changes, option", [
    ({"url": "ftp://x"}, "url"), ({"url": "acme.hooks.example.com"}, "url"), ({"url": ""}, "url"),
    ({"events": []}, "events"), ({"events": [""]}, "events"), ({"events": ["push", "pushes"]}, "events"),
    ({"content_type": "xml"}, "content_type"),
    ({"secret": ""}, "secret"),
])
def test_desired_hook_names_the_bad_option(changes, option):
    with pytest.raises(GitHubError, match=f"^{option}:"):
        desired_hook(params(**changes))


@pytest.mark.parametrize("repository", ["acme", "acme/", "/repo", "-acme/repo", "ac--me/repo", "acme-/repo",
                                        "acme/re po", "acme/repo.git", "acme/..", "a/b/c", "acme/" + "r" * 101])
def test_bad_repository_names_are_refused(repository):
    with pytest.raises(GitHubError, match="^repository:"):
        split_repository(repository)


def test_good_repository_names():
    assert split_repository("Acme-Corp/payments_api.v2") == ("Acme-Corp", "payments_api.v2")


def test_hook_view_never_shows_the_secret():
    assert hook_view(hook()) == {"id": 7, "url": URL, "content_type": "json", "insecure_ssl": "0",
                                 "events": ["push"], "active": True, "secret": SECRET_SET}
    assert hook_view(hook(secret=False, insecure_ssl=1))["secret"] == SECRET_NOT_SET
    assert hook_view(hook(insecure_ssl=1))["insecure_ssl"] == "1"


def test_matching_hooks_by_url_oldest_first():
    hooks = [hook(9), hook(3), hook(5, url="https://other/"), {**hook(4), "name": "travis"}]
    assert [h["id"] for h in matching_hooks(hooks, URL)] == [3, 9]


def test_plan_create_sends_the_secret_and_shows_it_as_set():
    plan = plan_hook("present", desired_hook(params()), [], URL)
    assert plan.action == "create"
    assert plan.create_body == {"name": "web", "active": True, "events": ["push"],
                                "config": {"url": URL, "content_type": "json", "insecure_ssl": "0",
                                           "secret": "s3cr3t-value"}}
    assert plan.before == {} and plan.after["secret"] == SECRET_SET
    assert "s3cr3t-value" not in repr(plan.after)


def test_plan_create_without_secret():
    plan = plan_hook("present", desired_hook(params(secret=None)), [], URL)
    assert "secret" not in plan.create_body["config"] and plan.after["secret"] == SECRET_NOT_SET


def test_plan_nothing_to_do():
    plan = plan_hook("present", desired_hook(params()), [hook()], URL)
    assert plan.action is None and not plan.changed and plan.hook_id == 7
    assert plan.before == plan.after


def test_plan_events_and_active_go_to_the_hook_endpoint_without_config():
    plan = plan_hook("present", desired_hook(params(events=["push", "pull_request"], active=False)), [hook()], URL)
    assert plan.action == "update"
    assert plan.hook_body == {"events": ["pull_request", "push"], "active": False}
    assert plan.config_body == {}
    assert plan.after["secret"] == SECRET_SET


def test_plan_config_change_resends_the_secret():
    plan = plan_hook("present", desired_hook(params(content_type="json")), [hook(content_type="form")], URL)
    assert plan.hook_body == {}
    assert plan.config_body == {"url": URL, "content_type": "json", "secret": "s3cr3t-value"}
    assert plan.after["secret"] == SECRET_NEW


def test_plan_missing_secret_is_set():
    plan = plan_hook("present", desired_hook(params()), [hook(secret=False)], URL)
    assert plan.action == "update" and plan.config_body == {"url": URL, "secret": "s3cr3t-value"}
    assert plan.before["secret"] == SECRET_NOT_SET and plan.after["secret"] == SECRET_NEW


def test_plan_rotate_secret():
    assert plan_hook("present", desired_hook(params()), [hook()], URL, rotate_secret=True).config_body == {
        "url": URL, "secret": "s3cr3t-value"}
    # Nothing to rotate to without a secret.
    assert plan_hook("present", desired_hook(params(secret=None)), [hook()], URL, rotate_secret=True).action is None


def test_plan_secret_left_out_keeps_the_hooks_secret():
    assert plan_hook("present", desired_hook(params(secret=None)), [hook()], URL).action is None
    assert plan_hook("present", desired_hook(params(secret=None)), [hook(secret=False)], URL).action is None


def test_plan_duplicates_warn_and_manage_the_oldest():
    plan = plan_hook("present", desired_hook(params()), [hook(12), hook(8)], URL)
    assert plan.hook_id == 8 and plan.action is None
    assert plan.warnings and "12" in plan.warnings[0]


def test_plan_absent():
    assert plan_hook("absent", None, [hook(url="https://other/")], URL).action is None
    plan = plan_hook("absent", None, [hook(4), hook(2)], URL)
    assert plan.action == "delete" and plan.delete_ids == (2, 4) and plan.after == {}


def test_manual_settings_present():
    settings = manual_settings("acme-corp/payments-api", URL, ["push"], secret_hint="kubectl get secret ...")
    assert settings["page"] == "https://github.com/acme-corp/payments-api/settings/hooks/new"
    assert settings["content_type"] == "application/json"
    assert settings["secret"] == "kubectl get secret ..."
    assert settings["ssl_verification"] == "Enable SSL verification"
    assert "  Payload URL: " + URL in settings["text"]
    assert any("Just the push event." in line for line in settings["text"])
    several = manual_settings("acme-corp/payments-api", URL, ["push", "pull_request"])
    assert any("pull_request, push" in line for line in several["text"])
    assert several["secret"] == "the organization's webhook secret"


def test_manual_settings_absent():
    settings = manual_settings("acme-corp/payments-api", URL, None, state="absent")
    assert settings["page"] == "https://github.com/acme-corp/payments-api/settings/hooks"
    assert "Delete webhook" in " ".join(settings["text"])
