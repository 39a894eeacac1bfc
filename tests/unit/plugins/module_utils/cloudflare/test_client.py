"""The SDK adapter against the fake Cloudflare API (real HTTP, schema-validated)."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare import client as client_module
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.client import (
    CloudflareApi,
    CloudflareError,
    cloudflare_argument_spec,
)
from ansible_collections.aphex.platform.tests.support.fake_cloudflare import DEFAULT_TOKEN
from ansible_collections.aphex.platform.tests.support.fixtures import (  # noqa: F401 pylint: disable=unused-import
    DEFAULT_SEED,
    fake_cloudflare,
    retry_sleeps,
)

MANY_ZONES = dict(DEFAULT_SEED, accounts=[{"name": "Aphex", "id": "a" * 32,
                                           "zones": [{"name": f"zone{n:02d}.example"} for n in range(12)]},
                                          {"name": "Other", "zones": []}])


def connect(fake, **overrides):
    params = {"api_token": DEFAULT_TOKEN, "base_url": fake.url, "timeout": 5.0, "max_retries": 4}
    params.update(overrides)
    return CloudflareApi.connect(params)


def test_argument_spec_keeps_the_token_secret_and_reads_the_environment():
    spec = cloudflare_argument_spec()
    assert spec["api_token"]["no_log"] is True
    assert spec["api_token"]["fallback"][1] == ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN"]
    assert spec["base_url"]["fallback"][1] == ["CLOUDFLARE_BASE_URL"]


@pytest.mark.parametrize("fake_cloudflare", [MANY_ZONES], indirect=True)
def test_list_all_stops_on_a_short_page(fake_cloudflare):
    api = connect(fake_cloudflare)
    zones = api.list_all("list zones", api.sdk.zones.list, per_page=5)
    assert [z["name"] for z in zones] == [f"zone{n:02d}.example" for n in range(12)]
    # 5 + 5 + 2: the short third page ends the listing, no fourth request for an empty page.
    assert [r["query"].get("page", "1") for r in fake_cloudflare.requests] == ["1", "2", "3"]


@pytest.mark.parametrize("fake_cloudflare", [MANY_ZONES], indirect=True)
def test_list_all_needs_an_empty_page_after_a_full_one(fake_cloudflare):
    api = connect(fake_cloudflare)
    zones = api.list_all("list zones", api.sdk.zones.list, per_page=6)
    assert len(zones) == 12
    assert [r["query"].get("page", "1") for r in fake_cloudflare.requests] == ["1", "2", "3"]
    assert fake_cloudflare.requests[-1]["status"] == 200


@pytest.mark.parametrize("fake_cloudflare", [MANY_ZONES], indirect=True)
def test_resolve_account(fake_cloudflare):
    api = connect(fake_cloudflare)
    assert api.resolve_account("Aphex") == {"id": "a" * 32, "name": "Aphex"}
    with pytest.raises(CloudflareError, match=r"account 'Nope' not found; accounts this token can see: none"):
        api.resolve_account("Nope")  # the name filter is applied by the API, so nothing is visible
    with pytest.raises(CloudflareError, match="the token can see several accounts .*Aphex.*Other"):
        api.resolve_account(None)
    fake_cloudflare.clear_log()
    # An id is used as given: no request, and no need for the Account Settings Read permission.
    assert api.resolve_account("b" * 32) == {"id": "b" * 32}
    assert fake_cloudflare.requests == []


def test_resolve_account_defaults_to_the_only_one(fake_cloudflare):
    api = connect(fake_cloudflare)
    assert api.resolve_account(None)["name"] == "Aphex"


def test_resolve_zone(fake_cloudflare):
    api = connect(fake_cloudflare)
    zone = api.resolve_zone("Example.COM.")
    assert zone["name"] == "example.com"
    assert api.resolve_zone(zone["id"]) == zone
    with pytest.raises(CloudflareError, match="zone 'example.org' not found.*Zone > Zone > Read"):
        api.resolve_zone("example.org")
    with pytest.raises(CloudflareError, match="get zone: Cloudflare answered HTTP 404"):
        api.resolve_zone("f" * 32)


def test_401_names_the_permissions(fake_cloudflare):
    api = connect(fake_cloudflare, api_token="wrong")
    with pytest.raises(CloudflareError) as caught:
        api.resolve_zone("example.com")
    message = str(caught.value)
    assert "HTTP 401" in message and "10001: Unable to authenticate request" in message
    assert "did not accept the API token" in message
    for permission in ("Account > Cloudflare Tunnel > Edit", "Account > Account Settings > Read",
                       "Zone > Zone > Read", "Zone > DNS > Edit"):
        assert permission in message
    assert caught.value.status == 401
    assert caught.value.details["cloudflare_errors"] == [{"code": 10001, "message": "Unable to authenticate request"}]


def test_403_says_the_token_lacks_a_permission(fake_cloudflare):
    api = connect(fake_cloudflare, api_token="dns-only-token")
    with pytest.raises(CloudflareError, match=r"list tunnels: Cloudflare answered HTTP 403: 10000: Authentication error\. "
                                              r"The API token is valid but not allowed .*Cloudflare Tunnel > Edit"):
        api.find_tunnels("a" * 32, "x")


def test_only_the_token_is_sent_even_with_key_variables_in_the_environment(fake_cloudflare, monkeypatch):
    # The SDK would otherwise send X-Auth-Email/X-Auth-Key instead of the token.
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "someone@example.com")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "0123456789abcdef")
    api = connect(fake_cloudflare)
    assert api.resolve_zone("example.com")["name"] == "example.com"


def test_429_is_retried_after_retry_after(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(429, count=2, retry_after=3)
    api = connect(fake_cloudflare)
    assert api.resolve_zone("example.com")["name"] == "example.com"
    assert retry_sleeps == [3.0, 3.0]
    assert [r["status"] for r in fake_cloudflare.requests] == [429, 429, 200]


def test_5xx_is_retried_with_backoff(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(500, count=1)
    fake_cloudflare.inject(503, count=1)
    api = connect(fake_cloudflare)
    assert api.resolve_zone("example.com")["name"] == "example.com"
    assert retry_sleeps == [0.5, 1.0]


def test_retries_give_up_after_max_retries(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(500, count=10)
    api = connect(fake_cloudflare, max_retries=2)
    with pytest.raises(CloudflareError, match=r"find zone: Cloudflare answered HTTP 500 \(after 2 retries\): 10002"):
        api.resolve_zone("example.com")
    assert len(fake_cloudflare.requests) == 3
    fake_cloudflare.faults.clear()


def test_a_retry_after_too_long_to_wait_fails_at_once(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(429, retry_after=3600)
    api = connect(fake_cloudflare)
    with pytest.raises(CloudflareError, match="asked to wait 3600s"):
        api.resolve_zone("example.com")
    assert retry_sleeps == []


def test_a_create_is_not_repeated_blindly_after_a_5xx(fake_cloudflare, retry_sleeps):
    api = connect(fake_cloudflare)
    account = api.resolve_account("Aphex")["id"]
    fake_cloudflare.inject(500, method="POST")
    with pytest.raises(CloudflareError, match="create tunnel: Cloudflare answered HTTP 500"):
        api.create_tunnel(account, "t1")
    assert fake_cloudflare.live_tunnels() == []


def test_a_create_that_timed_out_but_happened_is_found_not_repeated(fake_cloudflare, retry_sleeps):
    api = connect(fake_cloudflare, timeout=0.2)
    account = api.resolve_account("Aphex")["id"]
    # The fake creates the tunnel, then answers too late for the client.
    fake_cloudflare.inject(delay=0.6, method="POST")
    tunnel = api.create_tunnel(account, "t1", recheck=lambda: (api.find_tunnels(account, "t1") or [None])[0])
    assert [t["id"] for t in fake_cloudflare.live_tunnels()] == [tunnel["id"]]
    assert [r["method"] for r in fake_cloudflare.mutating_requests()] == ["POST"]


def test_a_create_rejected_with_5xx_is_retried_after_a_recheck(fake_cloudflare, retry_sleeps):
    api = connect(fake_cloudflare)
    account = api.resolve_account("Aphex")["id"]
    fake_cloudflare.inject(502, method="POST")
    tunnel = api.create_tunnel(account, "t1", recheck=lambda: (api.find_tunnels(account, "t1") or [None])[0])
    assert [t["id"] for t in fake_cloudflare.live_tunnels()] == [tunnel["id"]]
    assert [(r["method"], r["status"]) for r in fake_cloudflare.requests[1:]] == [
        ("POST", 502), ("GET", 200), ("POST", 200)]


def test_slow_reads_are_retried(fake_cloudflare, retry_sleeps):
    fake_cloudflare.inject(delay=0.6)
    api = connect(fake_cloudflare, timeout=0.2)
    assert api.resolve_zone("example.com")["name"] == "example.com"
    assert retry_sleeps == [0.5]


def test_an_unreachable_api_is_reported_with_its_url(retry_sleeps):
    api = CloudflareApi.connect({"api_token": "t", "base_url": "http://127.0.0.1:9/client/v4", "timeout": 1.0,
                                 "max_retries": 1})
    with pytest.raises(CloudflareError, match=r"cannot reach the Cloudflare API at http://127.0.0.1:9/client/v4 "
                                              r"\(after 1 retries\)"):
        api.resolve_zone("example.com")


def test_missing_sdk_fails_with_missing_required_lib(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_CLOUDFLARE", False)
    monkeypatch.setattr(client_module, "CLOUDFLARE_IMPORT_ERROR", "Traceback: No module named 'cloudflare'")
    with pytest.raises(CloudflareError, match=r"Failed to import the required Python library \(cloudflare\)") as caught:
        CloudflareApi.connect({"api_token": "t", "base_url": None, "timeout": 30.0, "max_retries": 4})
    assert "No module named" in caught.value.details["exception"]


@pytest.mark.parametrize("overrides, message", [({"max_retries": -1}, "max_retries"), ({"timeout": 0}, "timeout"),
                                                ({"api_token": None}, "api_token: empty")])
def test_connect_rejects_bad_settings(overrides, message):
    params = dict({"api_token": "t", "base_url": None, "timeout": 30.0, "max_retries": 4}, **overrides)
    with pytest.raises(CloudflareError, match=message):
        CloudflareApi.connect(params)
