from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.dns import (
    Ownership,
    create_body,
    desired_record,
    normalise_content,
    ownership_comment,
    parse_comment,
    plan_record,
    record_fqdn,
    select_record,
    update_body,
)
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import CloudflareError

ZONE = "example.com"
TARGET = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com"
OURS = "managed-by: aphex.platform; owner: org-acme"


def params(**overrides):
    base = {"type": "CNAME", "name": "acme", "content": TARGET, "proxied": None, "ttl": None, "comment": None,
            "owner": "org-acme"}
    base.update(overrides)
    return base


def current(**overrides):
    record = {"id": "372e67954025e0ba6aaa6d586b9e0b59", "type": "CNAME", "name": "acme.example.com", "content": TARGET,
              "proxied": True, "ttl": 1, "comment": OURS, "proxiable": True, "created_on": "2024-01-01T00:00:00Z"}
    record.update(overrides)
    return record


@pytest.mark.parametrize("name, expected", [
    ("@", "example.com"),
    ("acme", "acme.example.com"),
    ("ACME.Example.COM", "acme.example.com"),
    ("acme.example.com.", "acme.example.com"),
    ("example.com.", "example.com"),
    ("_acme-challenge.www", "_acme-challenge.www.example.com"),
    ("*.dev", "*.dev.example.com"),
    # Like Cloudflare: a relative name is completed with the zone, even if it looks like another domain.
    ("acme.example.org", "acme.example.org.example.com"),
])
def test_record_fqdn(name, expected):
    assert record_fqdn(name, ZONE) == expected


@pytest.mark.parametrize("name, message", [
    ("acme.example.org.", "not inside zone"),
    ("bad name", "not a valid DNS name"),
    ("-bad", "not a valid DNS name"),
])
def test_record_fqdn_rejects(name, message):
    with pytest.raises(CloudflareError, match=message):
        record_fqdn(name, ZONE)


@pytest.mark.parametrize("record_type, content, expected", [
    ("CNAME", "Target.Example.NET.", "target.example.net"),
    ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
    ("A", " 192.0.2.1 ", "192.0.2.1"),
    ("TXT", "Keep Case.", "Keep Case."),
])
def test_normalise_content(record_type, content, expected):
    assert normalise_content(record_type, content) == expected


@pytest.mark.parametrize("owner, note, comment", [
    (None, None, "managed-by: aphex.platform"),
    ("org-acme", None, "managed-by: aphex.platform; owner: org-acme"),
    ("org-acme", "webhook of acme", "managed-by: aphex.platform; owner: org-acme; webhook of acme"),
    (None, "webhook; see docs", "managed-by: aphex.platform; webhook; see docs"),
])
def test_ownership_comment_round_trips(owner, note, comment):
    assert ownership_comment(owner, note) == comment
    assert parse_comment(comment) == Ownership(managed=True, owner=owner, note=note)


@pytest.mark.parametrize("comment, expected", [
    (None, Ownership(managed=False)),
    ("", Ownership(managed=False)),
    ("made by hand", Ownership(managed=False, note="made by hand")),
    ("see managed-by: aphex.platform", Ownership(managed=False, note="see managed-by: aphex.platform")),
])
def test_parse_comment_of_foreign_records(comment, expected):
    assert parse_comment(comment) == expected


def test_desired_record_holds_only_what_the_user_set():
    assert desired_record(params(), ZONE) == {"type": "CNAME", "name": "acme.example.com", "content": TARGET,
                                              "comment": OURS}
    assert desired_record(params(proxied=False, ttl=300, comment="hi", owner=None), ZONE) == {
        "type": "CNAME", "name": "acme.example.com", "content": TARGET, "proxied": False, "ttl": 300,
        "comment": "managed-by: aphex.platform; hi"}
    # absent without content: no content to compare
    assert "content" not in desired_record(params(content=None), ZONE)


@pytest.mark.parametrize("overrides, message", [
    ({"type": "MX"}, "type"),
    ({"type": "A", "content": "not-an-ip"}, "not an IP address"),
    ({"type": "A", "content": "2001:db8::1"}, "not an IPv4 address"),
    ({"type": "AAAA", "content": "192.0.2.1"}, "not an IPv6 address"),
    ({"content": "acme.example.com."}, "cannot point at its own name"),
    ({"type": "TXT", "content": "x", "proxied": True}, "TXT records cannot be proxied"),
    ({"ttl": 10}, "between 30 and 86400"),
    ({"ttl": 300, "proxied": True}, "automatic TTL"),
    ({"owner": "has space"}, "owner"),
    ({"comment": "two\nlines"}, "single line"),
    ({"comment": "owner: someone-else"}, "single line"),
])
def test_desired_record_rejects(overrides, message):
    with pytest.raises(CloudflareError, match=message):
        desired_record(params(**overrides), ZONE)


def test_select_record():
    desired = desired_record(params(), ZONE)
    assert select_record([], desired) is None
    assert select_record([current(type="TXT"), current(name="other.example.com")], desired) is None
    assert select_record([current(name="ACME.example.com.")], desired)["id"] == current()["id"]


def test_select_record_among_several_uses_content():
    a = current(type="A", id="a", content="192.0.2.1")
    b = current(type="A", id="b", content="192.0.2.2")
    assert select_record([a, b], desired_record(params(type="A", content="192.0.2.2"), ZONE))["id"] == "b"
    assert select_record([a, b], desired_record(params(type="A", content="192.0.2.3"), ZONE)) is None
    with pytest.raises(CloudflareError, match="several A records"):
        select_record([a, b], desired_record(params(type="A", content=None), ZONE))


# desired params, current record, force -> action, changes
PRESENT = [
    pytest.param(params(), None, False, "create", {"type": "CNAME", "name": "acme.example.com", "content": TARGET,
                                                   "comment": OURS}, id="create"),
    pytest.param(params(), current(), False, None, {}, id="unchanged"),
    # Only fields the user set are compared: a hand-tuned ttl or proxied flag stays.
    pytest.param(params(), current(proxied=False, ttl=300), False, None, {}, id="unset-fields-ignored"),
    pytest.param(params(proxied=True), current(proxied=False, ttl=300), False, "update", {"proxied": True},
                 id="proxied-changed"),
    pytest.param(params(content="other.example.net."), current(), False, "update", {"content": "other.example.net"},
                 id="content-changed"),
    pytest.param(params(content=TARGET.upper() + "."), current(), False, None, {}, id="content-normalised"),
    pytest.param(params(comment="note"), current(), False, "update", {"comment": OURS + "; note"}, id="note-added"),
    pytest.param(params(), current(comment="by hand"), True, "update", {"comment": OURS}, id="force-takes-over"),
]


@pytest.mark.parametrize("desired_params, existing, force, action, changes", PRESENT)
def test_plan_record_present(desired_params, existing, force, action, changes):
    desired = desired_record(desired_params, ZONE)
    plan = plan_record("present", desired, existing, owner=desired_params["owner"], force=force)
    assert plan.action == action
    assert plan.changes == changes
    if existing:
        assert plan.before["content"] == existing["content"].lower().rstrip(".")
        assert plan.after == dict(plan.before, **changes)


@pytest.mark.parametrize("comment", [None, "made by hand", "managed-by: aphex.platform; owner: org-other",
                                     "managed-by: aphex.platform"])
def test_plan_record_refuses_to_change_a_record_it_does_not_own(comment):
    desired = desired_record(params(), ZONE)
    with pytest.raises(CloudflareError, match="refusing to change DNS record acme.example.com .*force: true"):
        plan_record("present", desired, current(comment=comment), owner="org-acme")


def test_plan_record_refuses_ttl_on_an_already_proxied_record():
    desired = desired_record(params(ttl=300), ZONE)
    with pytest.raises(CloudflareError, match="proxied"):
        plan_record("present", desired, current(proxied=True), owner="org-acme")


ABSENT = [
    pytest.param(params(content=None), None, False, None, id="already-absent"),
    pytest.param(params(content=None), current(), False, "delete", id="delete-owned"),
    pytest.param(params(), current(), False, "delete", id="delete-owned-with-content"),
    pytest.param(params(content="other.example.net"), current(), False, None, id="other-content-left-alone"),
    pytest.param(params(content=None), current(comment="by hand"), True, "delete", id="force-delete"),
]


@pytest.mark.parametrize("desired_params, existing, force, action", ABSENT)
def test_plan_record_absent(desired_params, existing, force, action):
    desired = desired_record(desired_params, ZONE)
    plan = plan_record("absent", desired, existing, owner=desired_params["owner"], force=force)
    assert plan.action == action
    if action == "delete":
        assert plan.after == {} and plan.record_id == existing["id"]


def test_plan_record_refuses_to_delete_a_record_it_does_not_own():
    desired = desired_record(params(content=None), ZONE)
    with pytest.raises(CloudflareError, match="refusing to delete"):
        plan_record("absent", desired, current(comment="by hand"), owner="org-acme")


def test_request_bodies():
    desired = desired_record(params(), ZONE)
    created = plan_record("present", desired, None, owner="org-acme")
    assert create_body(created) == {"type": "CNAME", "name": "acme.example.com", "content": TARGET, "comment": OURS,
                                    "ttl": 1}
    existing = current(ttl=300, proxied=False)
    updated = plan_record("present", desired_record(params(content="new.example.net"), ZONE), existing,
                          owner="org-acme")
    # The PATCH body carries type, name, content and the current ttl (the schema and SDK need them), plus the changes.
    assert update_body(updated, existing) == {"type": "CNAME", "name": "acme.example.com", "content": "new.example.net",
                                              "ttl": 300}
