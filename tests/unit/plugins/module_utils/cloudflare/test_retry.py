from __future__ import annotations

import email.utils

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.retry import (
    backoff_seconds,
    is_retryable_status,
    retry_after_seconds,
    retry_delay,
)


@pytest.mark.parametrize("status, expected", [
    (429, True), (500, True), (502, True), (503, True), (599, True),
    (400, False), (401, False), (403, False), (404, False), (409, False),
])
def test_is_retryable_status(status, expected):
    assert is_retryable_status(status) is expected


NOW = 1_700_000_000.0


@pytest.mark.parametrize("headers, expected", [
    ({}, None),
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),   # the finer header wins
    ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
    ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
    ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ({"Retry-After": "-5"}, 0.0),
    ({"Retry-After": "whenever"}, None),
])
def test_retry_after_seconds(headers, expected):
    assert retry_after_seconds(headers, now=NOW) == expected


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_seconds(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


@pytest.mark.parametrize("attempt, retry_after, expected", [
    (0, None, 0.5),
    (3, None, 4.0),
    (0, 2.0, 2.0),      # Retry-After replaces the backoff, even when shorter or longer
    (3, 0.0, 0.0),
    (0, 120.0, 120.0),
    (0, 121.0, None),   # too long to wait inside a task: give up and say so
])
def test_retry_delay(attempt, retry_after, expected):
    assert retry_delay(attempt, retry_after) == expected
