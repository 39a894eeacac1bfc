# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest fixtures around the fake GitHub API. Import them into a test module:

    from ansible_collections.aphex.platform.tests.support.github_fixtures import fake_github  # noqa: F401

A test can change the seed with ``@pytest.mark.parametrize("fake_github", [seed], indirect=True)``. Every test
that used the fake fails at teardown if the fake recorded a schema violation.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.tests.support.fake_github import DEFAULT_TOKEN, FakeGitHub
from ansible_collections.aphex.platform.tests.support.fake_http import assert_no_violations

REPO = "acme-corp/payments-api"
HOOK_URL = "https://acme.hooks.example.com/"
SECRET = "6f0c1b9e2d7a4c3f8e5b0a1d2c3e4f5a"
DEFAULT_SEED = {
    "tokens": [
        {"value": DEFAULT_TOKEN, "admin": "*"},
        # Sees every repository, administers none: GitHub answers its hook requests with 404.
        {"value": "read-only-token", "admin": []},
    ],
    "repositories": [{"full_name": REPO}, {"full_name": "acme-corp/other"}],
}


@pytest.fixture
def fake_github(request):
    with FakeGitHub(copy.deepcopy(getattr(request, "param", None) or DEFAULT_SEED)) as fake:
        yield fake
    assert_no_violations(fake, "GitHub")


@pytest.fixture
def github_env(monkeypatch):
    """No token or API URL from the developer's environment leaks into a test."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def github_retry_sleeps(monkeypatch):
    """Make the adapter's retry waits instant; the list holds the delays it would have slept."""
    from ansible_collections.aphex.platform.plugins.module_utils.github import client

    delays: list[float] = []
    monkeypatch.setattr(client, "_sleep", delays.append)
    return delays
