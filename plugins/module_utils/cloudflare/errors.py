# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception type of the Cloudflare module_utils. No SDK import, so pure code can raise it."""

from __future__ import annotations

# Permission groups as the Cloudflare dashboard names them when creating a custom token.
REQUIRED_TOKEN_PERMISSIONS = (
    "Account > Cloudflare Tunnel > Edit",
    "Account > Account Settings > Read",
    "Zone > Zone > Read",
    "Zone > DNS > Edit",
)


class CloudflareError(Exception):
    """Anything that stops a Cloudflare task: bad input, an API error, an unreachable API."""

    def __init__(self, msg: str, status: int | None = None, errors: list[dict] | None = None,
                 exception: str | None = None):
        super().__init__(msg)
        self.status = status
        self.errors = errors or []
        self.exception = exception

    @property
    def details(self) -> dict:
        """Extra keys for fail_json."""
        details: dict = {}
        if self.status is not None:
            details["status"] = self.status
        if self.errors:
            details["cloudflare_errors"] = self.errors
        if self.exception:
            details["exception"] = self.exception
        return details
