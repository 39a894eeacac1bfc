# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When to retry a Cloudflare request and how long to wait first (pure)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# A Retry-After beyond this is not waited out: the task fails and says how long Cloudflare asked for.
RETRY_AFTER_CAP_SECONDS = 120.0


def is_retryable_status(status: int) -> bool:
    """429 (rate limited) and 5xx (Cloudflare or origin trouble) are worth another try."""
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff for attempt 0, 1, 2, ...: 0.5 s, 1 s, 2 s, ... capped at 8 s."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt))


def retry_delay(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt, or None when Retry-After asks for too long a wait."""
    if retry_after is None:
        return backoff_seconds(attempt)
    if retry_after > RETRY_AFTER_CAP_SECONDS:
        return None
    return retry_after
