from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import CloudflareError
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnel import (
    cname_target,
    desired_config,
    desired_ingress,
    normalise_ingress,
    plan_tunnel,
    select_tunnel,
    validate_tunnel_name,
)

CATCH_ALL = {"service": "http_status:404"}
WEB = {"hostname": "acme.example.com", "service": "http://el-github-listener:8080"}
REMOTE = {"id": "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415", "name": "webhooks-acme", "remote_config": True}
LOCAL = dict(REMOTE, remote_config=False)


@pytest.mark.parametrize("rules, catch_all, expected", [
    (None, "http_status:404", None),
    ([], "http_status:404", [CATCH_ALL]),
    ([WEB], "http_status:404", [WEB, CATCH_ALL]),
    # Normalised the way the API returns rules: lower-case hostname, no trailing dot, no empty path.
    ([{"hostname": "ACME.Example.com.", "service": "http://el:8080", "path": ""}], "http_status:503",
     [{"hostname": "acme.example.com", "service": "http://el:8080"}, {"service": "http_status:503"}]),
    ([{"hostname": "*.example.com", "service": "https://x:443", "path": "^/hooks"}], "http_status:404",
     [{"hostname": "*.example.com", "path": "^/hooks", "service": "https://x:443"}, CATCH_ALL]),
])
def test_desired_ingress(rules, catch_all, expected):
    assert desired_ingress(rules, catch_all) == expected


@pytest.mark.parametrize("rules, catch_all, message", [
    ([{"hostname": "", "service": "http://x:1"}], "http_status:404", r"ingress\[0\]\.hostname"),
    ([{"hostname": "not a host", "service": "http://x:1"}], "http_status:404", r"ingress\[0\]\.hostname"),
    ([WEB, {"hostname": "b.example.com", "service": "ftp://x"}], "http_status:404", r"ingress\[1\]\.service"),
    ([WEB, dict(WEB, service="http://other:1")], "http_status:404", r"ingress\[1\]: a rule for hostname"),
    ([WEB], "http_status:99", "catch_all_service"),
])
def test_desired_ingress_rejects_bad_rules(rules, catch_all, message):
    with pytest.raises(CloudflareError, match=message):
        desired_ingress(rules, catch_all)


@pytest.mark.parametrize("config, expected", [
    (None, []),
    ({}, []),
    ({"ingress": None}, []),
    ({"ingress": [{"hostname": "Acme.example.com", "service": "http://el:8080", "originRequest": {}},
                  {"service": "http_status:404", "path": ""}]},
     [{"hostname": "acme.example.com", "service": "http://el:8080"}, CATCH_ALL]),
    ({"ingress": [{"service": "http://x:1", "originRequest": {"noTLSVerify": True}}]},
     [{"service": "http://x:1", "originRequest": {"noTLSVerify": True}}]),
])
def test_normalise_ingress(config, expected):
    assert normalise_ingress(config) == expected


def test_desired_config_keeps_other_settings_and_replaces_ingress():
    current = {"ingress": [CATCH_ALL], "originRequest": {"connectTimeout": 10}, "warp-routing": {"enabled": True}}
    assert desired_config(current, [WEB, CATCH_ALL]) == {
        "originRequest": {"connectTimeout": 10}, "warp-routing": {"enabled": True}, "ingress": [WEB, CATCH_ALL]}
    assert desired_config({}, [CATCH_ALL]) == {"ingress": [CATCH_ALL]}


@pytest.mark.parametrize("tunnels, expected_id", [
    ([], None),
    ([dict(REMOTE, name="other")], None),
    ([dict(REMOTE, deleted_at="2024-01-01T00:00:00Z")], None),
    ([dict(REMOTE, id="old", deleted_at="2024-01-01T00:00:00Z"), REMOTE], REMOTE["id"]),
])
def test_select_tunnel_ignores_deleted_and_other_names(tunnels, expected_id):
    found = select_tunnel(tunnels, "webhooks-acme")
    assert (found or {}).get("id") == expected_id


def test_select_tunnel_refuses_to_guess_between_two_live_tunnels():
    with pytest.raises(CloudflareError, match="several tunnels are named 'webhooks-acme' \\(a, b\\)"):
        select_tunnel([dict(REMOTE, id="a"), dict(REMOTE, id="b")], "webhooks-acme")


# state, existing, desired, current -> actions, before, after
PLANS = [
    pytest.param("present", None, None, None, ("create",), {},
                 {"name": "webhooks-acme", "config_src": "cloudflare"}, id="create-unmanaged-ingress"),
    pytest.param("present", None, [WEB, CATCH_ALL], None, ("create", "configure"), {},
                 {"name": "webhooks-acme", "config_src": "cloudflare", "ingress": [WEB, CATCH_ALL]}, id="create-and-configure"),
    pytest.param("present", REMOTE, [WEB, CATCH_ALL], [WEB, CATCH_ALL], (),
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": [WEB, CATCH_ALL]},
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": [WEB, CATCH_ALL]},
                 id="adopt-unchanged"),
    pytest.param("present", REMOTE, [WEB, CATCH_ALL], [], ("configure",),
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": []},
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": [WEB, CATCH_ALL]},
                 id="adopt-unconfigured"),
    pytest.param("present", REMOTE, [WEB, CATCH_ALL], [CATCH_ALL, WEB], ("configure",),
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": [CATCH_ALL, WEB]},
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare", "ingress": [WEB, CATCH_ALL]},
                 id="order-matters"),
    pytest.param("present", LOCAL, None, None, (),
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "local"},
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "local"}, id="adopt-local-without-ingress"),
    pytest.param("absent", None, None, None, (), {}, {}, id="absent-noop"),
    pytest.param("absent", REMOTE, None, None, ("clean_up_connections", "delete"),
                 {"name": "webhooks-acme", "id": REMOTE["id"], "config_src": "cloudflare"}, {}, id="absent-deletes"),
]


@pytest.mark.parametrize("state, existing, desired, current, actions, before, after", PLANS)
def test_plan_tunnel(state, existing, desired, current, actions, before, after):
    plan = plan_tunnel(state, "webhooks-acme", existing, desired, current)
    assert plan.actions == actions
    assert plan.changed is bool(actions)
    assert plan.before == before
    assert plan.after == after


def test_plan_never_replaces_an_existing_tunnel():
    for current in (None, [], [CATCH_ALL]):
        plan = plan_tunnel("present", "webhooks-acme", REMOTE, [WEB, CATCH_ALL], current)
        assert "create" not in plan.actions and "delete" not in plan.actions


def test_plan_refuses_ingress_on_a_locally_managed_tunnel():
    with pytest.raises(CloudflareError, match="locally managed"):
        plan_tunnel("present", "webhooks-acme", LOCAL, [WEB, CATCH_ALL], None)


@pytest.mark.parametrize("name", ["", " padded", "trailing "])
def test_validate_tunnel_name(name):
    with pytest.raises(CloudflareError, match="name"):
        validate_tunnel_name(name)


def test_cname_target():
    assert cname_target(REMOTE["id"]) == "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com"
