"""aphex.platform.cloudflare_dns_record: main() against the fake Cloudflare API (real HTTP, schema-validated)."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.modules import cloudflare_dns_record
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.support.fake_cloudflare import DEFAULT_TOKEN
from ansible_collections.aphex.platform.tests.support.fixtures import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_SEED,
    fake_cloudflare,
    retry_sleeps,
)

pytestmark = pytest.mark.usefixtures("retry_sleeps")

TARGET = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com"
OURS = "managed-by: aphex.platform; owner: org-acme"


def with_records(*records):
    return dict(DEFAULT_SEED, tokens=DEFAULT_SEED["tokens"] + [{"value": "zone-read-only", "permissions": ["zone:read"]}],
                accounts=[{"name": "Aphex", "zones": [{"name": "example.com", "records": list(records)}]}])


HAND_MADE = with_records({"type": "CNAME", "name": "acme", "content": "legacy.example.net", "proxied": True,
                          "comment": "made by hand"})
OWNED_BY_OTHER = with_records({"type": "CNAME", "name": "acme", "content": TARGET, "proxied": True,
                               "comment": "managed-by: aphex.platform; owner: org-other"})


def run(fake, check_mode=False, diff=True, **overrides):
    args = {"api_token": DEFAULT_TOKEN, "base_url": fake.url, "zone": "example.com", "name": "acme",
            "type": "CNAME", "content": TARGET, "proxied": True, "owner": "org-acme"}
    args.update(overrides)
    args = {key: value for key, value in args.items() if value is not ...}  # ... leaves an option out
    return run_module(cloudflare_dns_record.main, args, check_mode=check_mode, diff=diff)


def records(fake):
    return [{k: r[k] for k in ("name", "type", "content", "proxied", "ttl", "comment")} for r in fake.dns_records()]


def test_check_mode_predicts_the_record_without_creating_it(fake_cloudflare):
    result = run(fake_cloudflare, check_mode=True)
    assert result["changed"] is True
    assert result["record"] == {"type": "CNAME", "name": "acme.example.com", "content": TARGET, "proxied": True,
                                "comment": OURS}
    assert result["diff"] == {"before": {}, "after": result["record"]}
    assert fake_cloudflare.mutating_requests() == [] and fake_cloudflare.dns_records() == []


def test_create_then_rerun_is_unchanged_and_sends_no_mutating_request(fake_cloudflare):
    first = run(fake_cloudflare)
    assert first["changed"] is True and first["record"]["id"]
    assert first["zone"]["name"] == "example.com"
    assert records(fake_cloudflare) == [{"name": "acme.example.com", "type": "CNAME", "content": TARGET,
                                         "proxied": True, "ttl": 1, "comment": OURS}]

    fake_cloudflare.clear_log()
    second = run(fake_cloudflare)
    assert second["changed"] is False and second["record"]["id"] == first["record"]["id"]
    assert fake_cloudflare.mutating_requests() == []
    assert run(fake_cloudflare, check_mode=True)["changed"] is False
    assert fake_cloudflare.mutating_requests() == []


def test_only_the_fields_the_user_set_are_compared(fake_cloudflare):
    run(fake_cloudflare, proxied=False, ttl=300)
    fake_cloudflare.clear_log()
    # proxied and ttl left unset: the record keeps them and nothing changes.
    assert run(fake_cloudflare, proxied=None)["changed"] is False
    assert fake_cloudflare.mutating_requests() == []


def test_a_changed_field_is_patched_and_the_rest_kept(fake_cloudflare):
    created = run(fake_cloudflare, proxied=False, ttl=300)
    fake_cloudflare.clear_log()
    result = run(fake_cloudflare, proxied=None, content="other.example.net")
    assert result["changed"] is True and result["record"]["id"] == created["record"]["id"]
    assert result["diff"]["before"]["content"] == TARGET and result["diff"]["after"]["content"] == "other.example.net"
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["PATCH"]
    assert records(fake_cloudflare)[0]["ttl"] == 300 and records(fake_cloudflare)[0]["content"] == "other.example.net"


@pytest.mark.parametrize("fake_cloudflare", [HAND_MADE], indirect=True)
def test_a_record_made_by_hand_is_refused_then_taken_over_with_force(fake_cloudflare):
    refused = run(fake_cloudflare)
    assert refused["failed"] is True
    assert "refusing to change DNS record acme.example.com" in refused["msg"]
    assert "'made by hand'" in refused["msg"] and "force: true" in refused["msg"]
    assert fake_cloudflare.mutating_requests() == []

    taken = run(fake_cloudflare, force=True)
    assert taken["changed"] is True
    assert taken["diff"]["before"]["comment"] == "made by hand" and taken["diff"]["after"]["comment"] == OURS
    assert records(fake_cloudflare)[0]["content"] == TARGET and records(fake_cloudflare)[0]["comment"] == OURS

    fake_cloudflare.clear_log()
    assert run(fake_cloudflare)["changed"] is False  # owned now, no force needed
    assert fake_cloudflare.mutating_requests() == []


@pytest.mark.parametrize("fake_cloudflare", [OWNED_BY_OTHER], indirect=True)
def test_a_record_of_another_owner_is_refused(fake_cloudflare):
    refused = run(fake_cloudflare)
    assert refused["failed"] is True and "(owner org-acme)" in refused["msg"]
    deletion = run(fake_cloudflare, state="absent")
    assert deletion["failed"] is True and "refusing to delete" in deletion["msg"]
    assert fake_cloudflare.mutating_requests() == []


def test_absent_removes_the_record_and_is_then_a_noop(fake_cloudflare):
    record_id = run(fake_cloudflare)["record"]["id"]
    fake_cloudflare.clear_log()

    predicted = run(fake_cloudflare, state="absent", content=None, check_mode=True)
    assert predicted["changed"] is True and fake_cloudflare.mutating_requests() == []
    assert predicted["diff"]["before"]["id"] == record_id and predicted["diff"]["after"] == {}

    removed = run(fake_cloudflare, state="absent", content=None)
    assert removed["changed"] is True and removed["record"] == {}
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["DELETE"]
    assert fake_cloudflare.dns_records() == []

    fake_cloudflare.clear_log()
    again = run(fake_cloudflare, state="absent", content=None)
    assert again["changed"] is False and fake_cloudflare.mutating_requests() == []


@pytest.mark.parametrize("fake_cloudflare", [HAND_MADE], indirect=True)
def test_absent_refuses_a_foreign_record_unless_forced(fake_cloudflare):
    refused = run(fake_cloudflare, state="absent", content=None)
    assert refused["failed"] is True and "refusing to delete" in refused["msg"]
    assert len(fake_cloudflare.dns_records()) == 1
    assert run(fake_cloudflare, state="absent", content=None, force=True)["changed"] is True
    assert fake_cloudflare.dns_records() == []


@pytest.mark.parametrize("fake_cloudflare", [HAND_MADE], indirect=True)
def test_absent_with_other_content_leaves_the_record(fake_cloudflare):
    result = run(fake_cloudflare, state="absent")
    assert result["changed"] is False and len(fake_cloudflare.dns_records()) == 1


def test_rate_limit_on_create_is_retried_without_duplicates(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(429, count=1, retry_after=1, method="POST")
    fake_cloudflare.inject(500, count=1, method="POST")
    result = run(fake_cloudflare)
    assert result["changed"] is True
    assert retry_sleeps == [1.0, 1.0]  # Retry-After, then backoff for attempt 2
    assert len(fake_cloudflare.dns_records()) == 1
    assert [(r["method"], r["status"]) for r in fake_cloudflare.requests if r["method"] == "POST"] == [
        ("POST", 429), ("POST", 500), ("POST", 200)]


def test_a_record_created_by_a_request_that_timed_out_is_found(fake_cloudflare):
    fake_cloudflare.inject(delay=0.6, method="POST")
    result = run(fake_cloudflare, timeout=0.2)
    assert result["changed"] is True and result["record"]["id"]
    assert len(fake_cloudflare.dns_records()) == 1
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["POST"]


@pytest.mark.parametrize("fake_cloudflare", [with_records()], indirect=True)
def test_token_without_dns_permission_names_the_permissions(fake_cloudflare):
    result = run(fake_cloudflare, api_token="zone-read-only")
    assert result["failed"] is True and result["status"] == 403
    assert "list DNS records: Cloudflare answered HTTP 403" in result["msg"] and "Zone > DNS > Edit" in result["msg"]


def test_invalid_token(fake_cloudflare):
    result = run(fake_cloudflare, api_token="wrong-token")
    assert result["failed"] is True and result["status"] == 401 and "Zone > Zone > Read" in result["msg"]


def test_zone_by_id_and_unknown_zone(fake_cloudflare):
    zone_id = next(iter(fake_cloudflare.state.zones))
    assert run(fake_cloudflare, zone=zone_id)["record"]["name"] == "acme.example.com"
    missing = run(fake_cloudflare, zone="example.org")
    assert missing["failed"] is True and "zone 'example.org' not found" in missing["msg"]


@pytest.mark.parametrize("overrides, message", [
    ({"ttl": 300}, "automatic TTL"),
    ({"type": "TXT", "content": "hello"}, "TXT records cannot be proxied"),
    ({"type": "A", "content": "example.net", "proxied": False}, "not an IP address"),
    ({"content": ...}, "state is present but all of the following are missing: content"),
    ({"content": None}, "content: required when state is present"),
    ({"zone": None}, "zone: must not be empty"),
])
def test_bad_input_fails_before_any_change(fake_cloudflare, overrides, message):
    result = run(fake_cloudflare, **overrides)
    assert result["failed"] is True and message in result["msg"]
    assert fake_cloudflare.mutating_requests() == []


@pytest.mark.parametrize("fake_cloudflare", [with_records({"type": "A", "name": "acme", "content": "192.0.2.1",
                                                           "comment": OURS})], indirect=True)
def test_cloudflare_rejections_are_reported_with_their_code(fake_cloudflare):
    # A CNAME cannot share its name with an A record; the module reports Cloudflare's own reason.
    result = run(fake_cloudflare)
    assert result["failed"] is True and result["status"] == 400
    assert "create DNS record: Cloudflare answered HTTP 400: 81053: An A, AAAA, or CNAME record with that host" in result["msg"]
    assert result["cloudflare_errors"][0]["code"] == 81053
