# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared unit-test fixtures.

``upstream_mirror``: the offline upstream mirror named by ``APHEX_UPSTREAM_MIRROR`` (layout of shared/upstream,
with its ``LOCK.yaml``). Tests that need it (through this fixture, or through ``fake_cloudflare``, which serves
the mirror's Cloudflare OpenAPI schema) skip, with the reason, when it is absent; CI, which always has the
mirror, turns every skip into a failure (``APHEX_REQUIRE_ALL_TESTS``, tests/conftest.py).
"""

from __future__ import annotations

import os

import pytest

MIRROR_ENV = "APHEX_UPSTREAM_MIRROR"


def _mirror_or_reason() -> tuple:
    path = os.environ.get(MIRROR_ENV)
    if not path:
        return None, f"needs the offline upstream mirror: {MIRROR_ENV} is not set"
    if not os.path.isfile(os.path.join(path, "LOCK.yaml")):
        return None, f"needs the offline upstream mirror: {MIRROR_ENV}={path} has no LOCK.yaml"
    return path, None


# Fixtures that read the mirror; a test using one of them needs the mirror.
MIRROR_FIXTURES = {"upstream_mirror", "fake_cloudflare"}


def require_upstream_mirror() -> str:
    """Path of the offline upstream mirror; skips the test, with the reason, without it."""
    path, reason = _mirror_or_reason()
    if path is None:
        pytest.skip(reason)
    return path


def pytest_runtest_setup(item):
    if MIRROR_FIXTURES & set(getattr(item, "fixturenames", ())):
        require_upstream_mirror()


@pytest.fixture(scope="session")
def upstream_mirror() -> str:
    return require_upstream_mirror()
