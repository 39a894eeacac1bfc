# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the aphex.platform Cloudflare modules (argument spec: module_utils/cloudflare/client.py).
    DOCUMENTATION = r"""
attributes:
  platform:
    support: full
    platforms: all
    description: Calls the Cloudflare API from the host the module runs on.
options:
  api_token:
    description:
      - Cloudflare API token.
      - If not set, the value of the E(CLOUDFLARE_API_TOKEN) environment variable is used, else E(CLOUDFLARE_TOKEN).
      - "The token needs these permissions: Account - Cloudflare Tunnel - Edit, Account - Account Settings - Read,
        Zone - Zone - Read, and Zone - DNS - Edit for the zones it manages. A 401 or 403 answer fails the task with
        this list."
      - Only token authentication is used, even when E(CLOUDFLARE_EMAIL) or E(CLOUDFLARE_API_KEY) are set.
    type: str
    required: true
  base_url:
    description:
      - Base URL of the Cloudflare v4 API.
      - If not set, the value of the E(CLOUDFLARE_BASE_URL) environment variable is used, else
        V(https://api.cloudflare.com/client/v4).
      - The collection's tests point it at a fake API.
    type: str
  timeout:
    description:
      - Seconds to wait for each answer from the API.
    type: float
    default: 30
  max_retries:
    description:
      - How many times a request is retried after HTTP 429, HTTP 5xx, a timeout or a connection error.
      - Before each retry the task waits as long as the C(Retry-After) header asks (up to 120 seconds), otherwise
        0.5, 1, 2, 4, then 8 seconds.
      - Requests that create something are retried after a 5xx or a timeout only once a lookup has shown that the
        failed request did not create it anyway.
      - V(0) disables retries.
    type: int
    default: 4
requirements:
  - cloudflare (the official Python SDK) >= 5.9, < 6
notes:
  - "The module talks to the Cloudflare API from the host it runs on; run it on the controller with
    C(delegate_to: localhost) or in a play for C(localhost)."
"""
