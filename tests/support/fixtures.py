# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest fixtures around the fake Cloudflare API. Import them into a conftest or test module:

    from ansible_collections.aphex.platform.tests.support.fixtures import fake_cloudflare  # noqa: F401 pylint: disable=unused-import

A test can change the seed with ``@pytest.mark.parametrize("fake_cloudflare", [seed], indirect=True)``.
Every test that used the fake fails at teardown if the fake recorded a schema violation, so no test
can pass on traffic that the real API would not accept.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.tests.support.fake_cloudflare import DEFAULT_TOKEN, FakeCloudflare

DEFAULT_SEED = {
    "tokens": [
        {"value": DEFAULT_TOKEN},
        # Enough to read and write DNS, not to touch tunnels or list accounts.
        {"value": "dns-only-token", "permissions": ["zone:read", "dns:edit"]},
    ],
    "accounts": [{"name": "Aphex", "zones": [{"name": "example.com"}]}],
}


@pytest.fixture
def fake_cloudflare(request):
    seed = getattr(request, "param", None) or DEFAULT_SEED
    with FakeCloudflare(copy.deepcopy(seed)) as fake:
        yield fake
        violations = "\n\n".join(f"{v['kind']} {v['method']} {v['path']}\n{v['details']}" for v in fake.violations)
        assert not fake.violations, f"the fake Cloudflare API recorded schema violations:\n{violations}"


@pytest.fixture
def cloudflare_env(fake_cloudflare, monkeypatch):
    """Point the SDK (and the modules' env fallbacks) at the fake, as a user's environment would."""
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_EMAIL",
                 "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake_cloudflare.url)
    return fake_cloudflare


@pytest.fixture
def retry_sleeps(monkeypatch):
    """Make the adapter's retry waits instant; the list holds the delays it would have slept."""
    from ansible_collections.aphex.platform.plugins.module_utils.cloudflare import client

    delays: list[float] = []
    monkeypatch.setattr(client, "_sleep", delays.append)
    return delays
