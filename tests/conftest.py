# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hooks for every pytest run of the collection (unit and integration).

A test may skip where what it needs is absent (e.g. the offline upstream mirror, APHEX_UPSTREAM_MIRROR), and
must say why. CI has everything, so there a skip means a test did not run: with APHEX_REQUIRE_ALL_TESTS=1
(set by .ci/run) every skipped test, and every skipped module, is reported as a failure with its reason.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = "APHEX_REQUIRE_ALL_TESTS"


def _required() -> bool:
    return os.environ.get(REQUIRE_ALL, "").strip().lower() in ("1", "true", "yes")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)


def _fail_skip(report) -> None:
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = (f"skipped, but {REQUIRE_ALL}=1 (CI) requires every test to run.\n"
                       f"Skip reason: {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # pylint: disable=unused-argument
    outcome = yield
    report = outcome.get_result()
    # xfail is an expected failure, not a test that did not run.
    if _required() and report.skipped and not hasattr(report, "wasxfail"):
        _fail_skip(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # pylint: disable=unused-argument
    outcome = yield
    report = outcome.get_result()
    if _required() and report.skipped:
        _fail_skip(report)


def pytest_report_header(config):  # pylint: disable=unused-argument
    mirror = os.environ.get("APHEX_UPSTREAM_MIRROR") or "absent (tests that need it skip, saying so)"
    mode = "every skip fails the run" if _required() else "skips allowed"
    return [f"aphex: upstream mirror: {mirror}; {REQUIRE_ALL}: {mode}"]
