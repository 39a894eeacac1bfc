"""aphex.platform.cloudflare_tunnel: main() against the fake Cloudflare API (real HTTP, schema-validated)."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare import client as client_module
from ansible_collections.aphex.platform.plugins.modules import cloudflare_tunnel
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.support.fake_cloudflare import DEFAULT_TOKEN
from ansible_collections.aphex.platform.tests.support.fixtures import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_SEED,
    cloudflare_env,
    fake_cloudflare,
    retry_sleeps,
)

pytestmark = pytest.mark.usefixtures("retry_sleeps")

NAME = "webhooks-acme"
SERVICE = "http://el-github-listener.org-acme.svc.cluster.local:8080"
INGRESS = [{"hostname": "acme.example.com", "service": SERVICE}]
EXPECTED_INGRESS = [{"hostname": "acme.example.com", "service": SERVICE}, {"service": "http_status:404"}]
WITH_EXISTING_TUNNEL = dict(DEFAULT_SEED, accounts=[
    {"name": "Aphex", "zones": [{"name": "example.com"}], "tunnels": [{"name": NAME, "config_src": "cloudflare"}]}])


def run(fake, check_mode=False, diff=True, **overrides):
    args = {"api_token": DEFAULT_TOKEN, "base_url": fake.url, "name": NAME, "account": "Aphex", "ingress": INGRESS}
    args.update(overrides)
    return run_module(cloudflare_tunnel.main, args, check_mode=check_mode, diff=diff)


def configured_ingress(fake, tunnel_id):
    with fake.state.lock:
        configuration = fake.state.tunnels[tunnel_id]["configuration"]
    return configuration and configuration["config"]["ingress"]


def test_check_mode_predicts_a_creation_without_changing_anything(fake_cloudflare):
    result = run(fake_cloudflare, check_mode=True)
    assert result["changed"] is True
    assert result["tunnel"] == {"name": NAME, "account_id": result["account_id"], "config_src": "cloudflare"}
    assert "cname_target" not in result and "token" not in result
    assert result["diff"] == {"before": {}, "after": {"name": NAME, "config_src": "cloudflare", "ingress": EXPECTED_INGRESS}}
    assert fake_cloudflare.mutating_requests() == []
    assert fake_cloudflare.live_tunnels() == []


def test_create_then_rerun_is_unchanged_and_sends_no_mutating_request(fake_cloudflare):
    first = run(fake_cloudflare)
    assert first["changed"] is True
    [tunnel] = fake_cloudflare.live_tunnels()
    assert tunnel["remote_config"] is True  # config_src cloudflare: cloudflared needs only the token
    assert first["tunnel"]["id"] == tunnel["id"]
    assert first["cname_target"] == f"{tunnel['id']}.cfargotunnel.com"
    assert first["ingress"] == EXPECTED_INGRESS
    assert configured_ingress(fake_cloudflare, tunnel["id"]) == EXPECTED_INGRESS
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["POST", "PUT"]

    fake_cloudflare.clear_log()
    second = run(fake_cloudflare)
    assert second["changed"] is False
    assert fake_cloudflare.mutating_requests() == []
    assert second["tunnel"]["id"] == tunnel["id"]
    assert second["diff"]["before"] == second["diff"]["after"]

    fake_cloudflare.clear_log()
    assert run(fake_cloudflare, check_mode=True)["changed"] is False
    assert fake_cloudflare.mutating_requests() == []


def test_diff_is_left_out_without_diff_mode(fake_cloudflare):
    assert "diff" not in run(fake_cloudflare, diff=False)


def test_token_is_returned_only_on_request(fake_cloudflare):
    without = run(fake_cloudflare)
    assert "token" not in without
    assert "eyJ" not in json.dumps(without)  # no token-looking value anywhere in the result

    with_token = run(fake_cloudflare, return_token=True)
    payload = json.loads(base64.b64decode(with_token["token"]))
    assert payload["t"] == with_token["tunnel"]["id"] and payload["a"] == with_token["account_id"]
    assert with_token["changed"] is False
    assert "token" not in json.dumps(with_token["diff"])


@pytest.mark.parametrize("fake_cloudflare", [WITH_EXISTING_TUNNEL], indirect=True)
def test_an_existing_tunnel_with_the_name_is_adopted(fake_cloudflare):
    [existing] = fake_cloudflare.live_tunnels()
    result = run(fake_cloudflare)
    assert result["changed"] is True
    assert result["tunnel"]["id"] == existing["id"]
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["PUT"]  # configured, not recreated
    assert [t["id"] for t in fake_cloudflare.live_tunnels()] == [existing["id"]]
    assert result["diff"]["before"]["ingress"] == [] and result["diff"]["after"]["ingress"] == EXPECTED_INGRESS


def test_changed_ingress_is_predicted_in_check_mode_then_put_once(fake_cloudflare):
    tunnel_id = run(fake_cloudflare)["tunnel"]["id"]
    more = INGRESS + [{"hostname": "hooks.example.com", "service": "http://other:80", "path": "^/gh"}]

    fake_cloudflare.clear_log()
    predicted = run(fake_cloudflare, check_mode=True, ingress=more)
    assert predicted["changed"] is True and fake_cloudflare.mutating_requests() == []
    assert predicted["diff"]["before"]["ingress"] == EXPECTED_INGRESS
    assert predicted["diff"]["after"]["ingress"][1] == {"hostname": "hooks.example.com", "path": "^/gh",
                                                        "service": "http://other:80"}

    applied = run(fake_cloudflare, ingress=more)
    assert applied["changed"] is True
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["PUT"]
    assert configured_ingress(fake_cloudflare, tunnel_id) == applied["ingress"]


def test_without_ingress_the_configuration_is_left_alone(fake_cloudflare):
    tunnel_id = run(fake_cloudflare)["tunnel"]["id"]
    fake_cloudflare.clear_log()
    result = run(fake_cloudflare, ingress=None)
    assert result["changed"] is False and "ingress" not in result
    assert not any("configurations" in r["path"] for r in fake_cloudflare.requests)
    assert configured_ingress(fake_cloudflare, tunnel_id) == EXPECTED_INGRESS


def test_a_run_interrupted_after_the_tunnel_was_created_is_repaired(fake_cloudflare):
    # Every attempt to write the configuration fails: the first run stops after creating the tunnel.
    fake_cloudflare.inject(500, count=5, method="PUT", path_contains="/configurations")
    first = run(fake_cloudflare)
    assert first["failed"] is True
    assert "set tunnel configuration: Cloudflare answered HTTP 500 (after 4 retries)" in first["msg"]
    [tunnel] = fake_cloudflare.live_tunnels()
    assert configured_ingress(fake_cloudflare, tunnel["id"]) is None

    fake_cloudflare.clear_log()
    second = run(fake_cloudflare)
    assert second["changed"] is True and second["tunnel"]["id"] == tunnel["id"]
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["PUT"]
    assert [t["id"] for t in fake_cloudflare.live_tunnels()] == [tunnel["id"]]
    assert configured_ingress(fake_cloudflare, tunnel["id"]) == EXPECTED_INGRESS


def test_rate_limits_and_server_errors_are_retried(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(429, count=2, retry_after=2, method="POST")
    fake_cloudflare.inject(500, count=1, method="GET", path_contains="/cfd_tunnel")
    result = run(fake_cloudflare)
    assert result["changed"] is True
    assert sorted(retry_sleeps) == [0.5, 2.0, 2.0]  # backoff for the 500, Retry-After for the 429s
    assert len(fake_cloudflare.live_tunnels()) == 1


def test_a_create_that_answers_too_late_is_not_repeated(fake_cloudflare):
    fake_cloudflare.inject(delay=0.6, method="POST")
    result = run(fake_cloudflare, timeout=0.2)
    assert result["changed"] is True
    assert [t["id"] for t in fake_cloudflare.live_tunnels()] == [result["tunnel"]["id"]]
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["POST", "PUT"]


def test_invalid_token_names_the_permissions(fake_cloudflare):
    result = run(fake_cloudflare, api_token="not-a-token")
    assert result["failed"] is True and result["status"] == 401
    assert "list accounts: Cloudflare answered HTTP 401" in result["msg"]
    assert "Account > Cloudflare Tunnel > Edit" in result["msg"] and "Zone > DNS > Edit" in result["msg"]
    assert fake_cloudflare.mutating_requests() == []


def test_token_without_tunnel_permission_names_the_permissions(fake_cloudflare):
    account_id = next(iter(fake_cloudflare.state.accounts))
    result = run(fake_cloudflare, api_token="dns-only-token", account=account_id)
    assert result["failed"] is True and result["status"] == 403
    assert "list tunnels: Cloudflare answered HTTP 403: 10000: Authentication error" in result["msg"]
    assert "not allowed to do this" in result["msg"] and "Account > Cloudflare Tunnel > Edit" in result["msg"]


def test_bad_input_fails_before_any_request(fake_cloudflare):
    result = run(fake_cloudflare, ingress=[{"hostname": "not a host", "service": SERVICE}])
    assert result["failed"] is True and "ingress[0].hostname" in result["msg"]
    assert fake_cloudflare.requests == []


def test_account_by_id_and_unknown_account(fake_cloudflare):
    account_id = next(iter(fake_cloudflare.state.accounts))
    assert run(fake_cloudflare, account=account_id)["account_id"] == account_id
    assert not any(r["path"] == "/accounts" for r in fake_cloudflare.requests)
    missing = run(fake_cloudflare, account="Nobody")
    assert missing["failed"] is True and "account 'Nobody' not found" in missing["msg"]


def test_absent_cleans_up_connections_then_deletes_and_is_then_a_noop(fake_cloudflare):
    tunnel_id = run(fake_cloudflare)["tunnel"]["id"]
    fake_cloudflare.state.connect_tunnel(tunnel_id)  # a running cloudflared
    fake_cloudflare.clear_log()

    predicted = run(fake_cloudflare, state="absent", check_mode=True)
    assert predicted["changed"] is True and fake_cloudflare.mutating_requests() == []
    assert predicted["diff"]["after"] == {} and predicted["diff"]["before"]["id"] == tunnel_id

    removed = run(fake_cloudflare, state="absent")
    assert removed["changed"] is True and removed["tunnel"]["id"] == tunnel_id
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake_cloudflare.mutating_requests()] == [
        ("DELETE", "connections"), ("DELETE", tunnel_id)]
    assert fake_cloudflare.live_tunnels() == []

    fake_cloudflare.clear_log()
    again = run(fake_cloudflare, state="absent")
    assert again["changed"] is False and again["tunnel"] == {}
    assert fake_cloudflare.mutating_requests() == []


def test_a_new_tunnel_with_the_same_name_after_deletion(fake_cloudflare):
    old = run(fake_cloudflare)["tunnel"]["id"]
    run(fake_cloudflare, state="absent")
    new = run(fake_cloudflare)
    assert new["changed"] is True and new["tunnel"]["id"] != old  # the deleted one is not resurrected


def test_environment_supplies_token_and_base_url(cloudflare_env, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "someone@example.com")  # must not displace the token
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "0123456789abcdef")
    result = run_module(cloudflare_tunnel.main, {"name": NAME})
    assert result["changed"] is True
    assert len(cloudflare_env.live_tunnels()) == 1


def test_legacy_token_variable_is_accepted(fake_cloudflare, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    monkeypatch.setenv("CLOUDFLARE_TOKEN", DEFAULT_TOKEN)
    result = run_module(cloudflare_tunnel.main, {"name": NAME, "base_url": fake_cloudflare.url})
    assert result["changed"] is True


def test_missing_token_is_reported(fake_cloudflare, monkeypatch):
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = run_module(cloudflare_tunnel.main, {"name": NAME, "base_url": fake_cloudflare.url})
    assert result["failed"] is True and "api_token" in result["msg"]
    assert fake_cloudflare.requests == []


def test_missing_sdk_is_reported(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_CLOUDFLARE", False)
    result = run_module(cloudflare_tunnel.main, {"name": NAME, "api_token": "some-api-token"})
    assert result["failed"] is True
    assert "Failed to import the required Python library (cloudflare)" in result["msg"]
