"""The fake Cloudflare API itself: schema validation, pagination, faults, admin endpoints, standalone mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ansible_collections.aphex.platform.tests.support import fake_cloudflare as fake_module
from ansible_collections.aphex.platform.tests.support.fake_cloudflare import (
    DEFAULT_TOKEN,
    FakeCloudflare,
    FakeCloudflareError,
    corrected_spec,
)
from ansible_collections.aphex.platform.tests.support.fixtures import fake_cloudflare  # noqa: F401 pylint: disable=unused-import

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def api(fake, method, path, **kwargs):
    return httpx.request(method, fake.url + path, headers=AUTH, timeout=10, **kwargs)


def take_violations(fake):
    found = list(fake.violations)
    fake.violations.clear()  # these were provoked on purpose; the fixture fails on any left over
    return found


def test_a_request_outside_the_schema_is_recorded_and_rejected(fake_cloudflare):
    answer = api(fake_cloudflare, "GET", "/zones", params={"per_page": 500})
    assert answer.status_code == 400 and answer.json()["success"] is False
    violations = take_violations(fake_cloudflare)
    assert [v["kind"] for v in violations] == ["request"]
    assert "per_page" in violations[0]["details"]


def test_a_filter_the_fake_does_not_implement_is_loud(fake_cloudflare):
    assert api(fake_cloudflare, "GET", "/zones", params={"name": "contains:example"}).status_code == 400
    assert api(fake_cloudflare, "GET", "/zones", params={"sort": "name"}).status_code == 400
    violations = take_violations(fake_cloudflare)
    assert [v["kind"] for v in violations] == ["unsupported", "unsupported"]
    assert "filter operators" in violations[0]["details"] and "['sort']" in violations[1]["details"]


def test_responses_are_validated_too(fake_cloudflare):
    with fake_cloudflare.state.lock:
        zone = next(iter(fake_cloudflare.state.zones.values()))
        zone["name"] = "not a domain"  # breaks the schema's pattern for zone names
    api(fake_cloudflare, "GET", "/zones")
    violations = take_violations(fake_cloudflare)
    assert [v["kind"] for v in violations] == ["response"]
    assert "not a domain" in violations[0]["details"]


def test_the_corrections_relax_only_what_they_name(fake_cloudflare):
    account = next(iter(fake_cloudflare.state.accounts))
    tunnel = api(fake_cloudflare, "POST", f"/accounts/{account}/cfd_tunnel",
                 json={"name": "t", "config_src": "cloudflare"}).json()["result"]
    path = f"/accounts/{account}/cfd_tunnel/{tunnel['id']}/configurations"
    # A catch-all without hostname is fine (correction 3) ...
    assert api(fake_cloudflare, "PUT", path, json={"config": {"ingress": [{"service": "http_status:404"}]}}).status_code == 200
    assert take_violations(fake_cloudflare) == []
    # ... but a rule without a service still breaks the schema.
    assert api(fake_cloudflare, "PUT", path, json={"config": {"ingress": [{"hostname": "a.example.com"}]}}).status_code == 400
    assert "'service' is a required property" in take_violations(fake_cloudflare)[0]["details"]


def test_corrected_spec_leaves_the_original_alone(upstream_mirror):  # pylint: disable=unused-argument
    raw = json.loads(fake_module.default_schema_path().read_text(encoding="utf-8"))
    corrected = corrected_spec(raw)
    assert raw["components"]["schemas"]["tunnel_ingressRule"]["required"] == ["hostname", "service"]
    assert corrected["components"]["schemas"]["tunnel_ingressRule"]["required"] == ["service"]
    assert {"api_token": []} not in raw["paths"]["/accounts"]["get"]["security"]
    assert {"api_token": []} in corrected["paths"]["/accounts"]["get"]["security"]


def test_pagination_matches_the_api(fake_cloudflare):
    zone = next(iter(fake_cloudflare.state.zones))
    for n in range(3):
        assert api(fake_cloudflare, "POST", f"/zones/{zone}/dns_records",
                   json={"type": "TXT", "name": f"t{n}", "content": "x", "ttl": 1}).status_code == 200
    page = api(fake_cloudflare, "GET", f"/zones/{zone}/dns_records", params={"per_page": 2, "page": 2}).json()
    assert len(page["result"]) == 1
    assert page["result_info"] == {"page": 2, "per_page": 2, "count": 1, "total_count": 3, "total_pages": 2}
    past_the_end = api(fake_cloudflare, "GET", f"/zones/{zone}/dns_records", params={"per_page": 2, "page": 3}).json()
    assert past_the_end["result"] == [] and past_the_end["result_info"]["count"] == 0


def test_dns_and_tunnel_rules_of_the_real_api(fake_cloudflare):
    zone = next(iter(fake_cloudflare.state.zones))
    record = {"type": "CNAME", "name": "www", "content": "a.example.net", "ttl": 300, "proxied": True}
    created = api(fake_cloudflare, "POST", f"/zones/{zone}/dns_records", json=record).json()["result"]
    assert created["name"] == "www.example.com" and created["ttl"] == 1  # proxied records have automatic TTL
    clash = api(fake_cloudflare, "POST", f"/zones/{zone}/dns_records",
                json={"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 1})
    assert clash.status_code == 400 and clash.json()["errors"][0]["code"] == 81053

    account = next(iter(fake_cloudflare.state.accounts))
    tunnel = api(fake_cloudflare, "POST", f"/accounts/{account}/cfd_tunnel", json={"name": "t"}).json()["result"]
    assert tunnel["remote_config"] is False  # config_src defaults to local
    fake_cloudflare.state.connect_tunnel(tunnel["id"])
    base = f"/accounts/{account}/cfd_tunnel/{tunnel['id']}"
    assert api(fake_cloudflare, "DELETE", base, json={}).json()["errors"][0]["code"] == 1022
    assert api(fake_cloudflare, "DELETE", base + "/connections", json={}).status_code == 200
    assert api(fake_cloudflare, "DELETE", base, json={}).status_code == 200
    listed = api(fake_cloudflare, "GET", f"/accounts/{account}/cfd_tunnel", params={"is_deleted": "true"}).json()
    assert [t["id"] for t in listed["result"]] == [tunnel["id"]] and listed["result"][0]["deleted_at"]


def test_faults_hit_only_the_matching_requests(fake_cloudflare):
    fake_cloudflare.inject(429, count=2, retry_after=7, method="GET", path_contains="/zones")
    assert api(fake_cloudflare, "GET", "/accounts").status_code == 200
    limited = api(fake_cloudflare, "GET", "/zones")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert api(fake_cloudflare, "GET", "/zones").status_code == 429
    assert api(fake_cloudflare, "GET", "/zones").status_code == 200
    assert [r["fault"] for r in fake_cloudflare.requests] == [False, True, True, False]


def test_missing_schema_fails_loudly(tmp_path, monkeypatch):
    with pytest.raises(FakeCloudflareError, match="schema not found .*APHEX_UPSTREAM_MIRROR"):
        FakeCloudflare(schema_path=tmp_path / "openapi-subset.json")
    monkeypatch.setenv("APHEX_UPSTREAM_MIRROR", str(tmp_path))
    assert fake_module.default_schema_path() == tmp_path / "cloudflare-api/2024-08-06-cca3064f/openapi-subset.json"
    with pytest.raises(FakeCloudflareError, match="schema not found"):
        FakeCloudflare()


def test_standalone_process_with_seed_and_admin_endpoints(tmp_path, upstream_mirror):  # pylint: disable=unused-argument
    seed = tmp_path / "seed.yml"
    seed.write_text("tokens: [{value: standalone-token}]\n"
                    "accounts:\n  - name: Aphex\n    zones: [{name: example.com}]\n    tunnels: [{name: old, config_src: cloudflare}]\n",
                    encoding="utf-8")
    script = Path(fake_module.__file__)
    process = subprocess.Popen([sys.executable, str(script), "--port", "0", "--print-url", "--seed", str(seed)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/client/v4"), process.stderr.read()
        root = url[: -len("/client/v4")]
        state = httpx.get(root + "/__admin/state").json()
        assert [z["name"] for z in state["zones"]] == ["example.com"]
        tunnel_id = state["tunnels"][0]["id"]
        assert httpx.post(root + f"/__admin/tunnels/{tunnel_id}/connections", json={}).status_code == 201
        assert httpx.post(root + "/__admin/faults", json={"status": 500, "count": 1}).status_code == 201
        headers = {"Authorization": "Bearer standalone-token"}
        assert httpx.get(url + "/zones", headers=headers).status_code == 500
        assert httpx.get(url + "/zones", headers=headers).status_code == 200
        assert httpx.get(url + "/zones", headers={"Authorization": "Bearer other"}).status_code == 401
        log = httpx.get(root + "/__admin/requests").json()
        assert [r["status"] for r in log] == [500, 200, 401]
        assert httpx.get(root + "/__admin/violations").json() == []
        assert httpx.get(root + "/__admin/state").json()["tunnels"][0]["status"] == "healthy"
        assert httpx.post(root + "/__admin/reset", json={}).json() == {"reset": True}
        assert httpx.get(root + "/__admin/state").json()["zones"] == []
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()
