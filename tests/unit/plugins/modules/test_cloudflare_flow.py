"""Both Cloudflare modules together, as onboarding and offboarding run them, against the fake API."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.modules import cloudflare_dns_record, cloudflare_tunnel
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.support.fake_cloudflare import DEFAULT_TOKEN
from ansible_collections.aphex.platform.tests.support.fixtures import (  # noqa: F401 pylint: disable=unused-import
    fake_cloudflare,
    retry_sleeps,
)

pytestmark = pytest.mark.usefixtures("retry_sleeps")


def onboard(fake):
    """Tunnel, then the CNAME that points at it; returns both results (stops at the first failure)."""
    common = {"api_token": DEFAULT_TOKEN, "base_url": fake.url}
    tunnel = run_module(cloudflare_tunnel.main, dict(common, name="webhooks-acme", account="Aphex", ingress=[
        {"hostname": "acme.example.com", "service": "http://el-github-listener.org-acme:8080"}]))
    if tunnel.get("failed"):
        return tunnel, None
    record = run_module(cloudflare_dns_record.main, dict(common, zone="example.com", name="acme",
                                                         content=tunnel["cname_target"], proxied=True, owner="org-acme"))
    return tunnel, record


def offboard(fake):
    common = {"api_token": DEFAULT_TOKEN, "base_url": fake.url}
    record = run_module(cloudflare_dns_record.main, dict(common, zone="example.com", name="acme", owner="org-acme",
                                                         state="absent"))
    tunnel = run_module(cloudflare_tunnel.main, dict(common, name="webhooks-acme", account="Aphex", state="absent"))
    return record, tunnel


def test_onboarding_interrupted_after_the_tunnel_is_repaired_by_the_next_run(fake_cloudflare):
    fake_cloudflare.inject(500, count=5, method="POST", path_contains="/dns_records")
    tunnel, record = onboard(fake_cloudflare)
    assert tunnel["changed"] is True and record["failed"] is True
    assert fake_cloudflare.dns_records() == []

    tunnel, record = onboard(fake_cloudflare)
    assert tunnel["changed"] is False and record["changed"] is True
    [live] = fake_cloudflare.live_tunnels()
    [cname] = fake_cloudflare.dns_records()
    assert cname["content"] == f"{live['id']}.cfargotunnel.com" and cname["proxied"] is True

    fake_cloudflare.clear_log()
    tunnel, record = onboard(fake_cloudflare)
    assert (tunnel["changed"], record["changed"]) == (False, False)
    assert fake_cloudflare.mutating_requests() == []


def test_offboarding_leaves_nothing_behind_and_can_run_again(fake_cloudflare):
    onboard(fake_cloudflare)
    [live] = fake_cloudflare.live_tunnels()
    fake_cloudflare.state.connect_tunnel(live["id"])  # cloudflared still running

    record, tunnel = offboard(fake_cloudflare)
    assert record["changed"] is True and tunnel["changed"] is True
    assert fake_cloudflare.live_tunnels() == [] and fake_cloudflare.dns_records() == []

    fake_cloudflare.clear_log()
    record, tunnel = offboard(fake_cloudflare)
    assert record["changed"] is False and tunnel["changed"] is False
    assert fake_cloudflare.mutating_requests() == []
