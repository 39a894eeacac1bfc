# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When to (re)start k3s and where the cluster token comes from: pure decisions over what the role read."""

from __future__ import annotations

import re

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError

# What a running k3s depends on, in the order the reasons are reported.
COMPONENTS = ("binary", "config", "registries", "env", "unit")
_TOKEN = re.compile(r"^[A-Za-z0-9._:+/=-]{16,}$")


def restart_decision(desired: dict, applied=None, running=None) -> dict:
    """Compare the content hashes the service would run with (`desired`) with those it was last (re)started with
    (`applied`, the role's record on the host; None when it was never started by the role).

    `running`: whether the service is active (None when unknown, e.g. no binary to run). Returns
    {"action": "none"|"start"|"restart", "restart": bool, "reasons": [...], "record": desired hashes}."""
    missing = [name for name in COMPONENTS if name not in (desired or {})]
    if missing:
        raise K3sError(f"restart decision: no hash for {', '.join(missing)}")
    record = {name: str(desired[name]) for name in COMPONENTS}
    if not isinstance(applied, dict) or not applied:
        return {"action": "start", "restart": True, "reasons": ["never-started"], "record": record}
    reasons = [name for name in COMPONENTS if str(applied.get(name, "")) != record[name]]
    if reasons:
        return {"action": "restart", "restart": True, "reasons": reasons, "record": record}
    if running is False:
        return {"action": "start", "restart": True, "reasons": ["not-running"], "record": record}
    return {"action": "none", "restart": False, "reasons": [], "record": record}


def _secret_part(token: str) -> str:
    """k3s's secure token format is K10<CA hash>::<user>:<secret>; the secret is what a short token equals."""
    token = token.strip()
    if token.startswith("K10") and "::" in token:
        return token.split("::", 1)[1].split(":", 1)[-1]
    return token


def same_token(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a.strip() == b.strip() or _secret_part(a) == _secret_part(b))


def token_decision(given="", kept="", cluster="", first_server="") -> dict:
    """Where the cluster token comes from, decided on the first server.

    given: `k3s_token` ('' when not set); kept: the role's token file on the first server ('' when absent);
    cluster: k3s's own server token file there (/var/lib/rancher/k3s/server/token, '' when absent).
    Never regenerates: a kept or cluster token is reused; a given token must match it.
    Returns {"source": given|reused|adopted|generate, "token": token or ''}."""
    given, kept, cluster = (str(v or "").strip() for v in (given, kept, cluster))
    where = f" on {first_server}" if first_server else ""
    if given and not _TOKEN.match(given):
        raise K3sError("k3s_token: must be at least 16 characters of [A-Za-z0-9._:+/=-] (or leave it unset: the "
                       "role generates one)")
    existing = kept or cluster
    if given:
        if existing and not same_token(given, existing):
            raise K3sError(f"k3s_token: differs from the token the cluster{where} already uses; a cluster's token "
                           "is not changed by this role (unset k3s_token to keep the cluster's)")
        return {"source": "given", "token": given}
    if kept:
        return {"source": "reused", "token": kept}
    if cluster:
        return {"source": "adopted", "token": cluster}
    return {"source": "generate", "token": ""}
