# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure planning for a remotely managed Cloudflare Tunnel: which tunnel is ours, which ingress rules
it should have, and what has to change. Plain dicts in, plain dicts out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import CloudflareError

CATCH_ALL_SERVICE = "http_status:404"
# Origins cloudflared accepts (Cloudflare's ingress rule docs), plus the built-in responders.
_SERVICE = re.compile(r"^(?:(?:https?|unix|unix\+tls|tcp|ssh|rdp|smb)://\S+|http_status:[1-5][0-9]{2}|hello_world|bastion)$")
_HOSTNAME = re.compile(r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


@dataclass(frozen=True)
class TunnelPlan:
    actions: tuple[str, ...] = ()
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def validate_tunnel_name(name: str) -> str:
    if not name or name != name.strip():
        raise CloudflareError(f"name: {name!r} must be non-empty and have no leading or trailing spaces")
    return name


def normalise_rule(rule: Mapping) -> dict:
    """One ingress rule in the form the API returns: empty and default fields left out."""
    out: dict = {}
    hostname = str(rule.get("hostname") or "").strip().lower().rstrip(".")
    if hostname:
        out["hostname"] = hostname
    if rule.get("path"):
        out["path"] = rule["path"]
    out["service"] = rule.get("service")
    origin_request = rule.get("originRequest") or rule.get("origin_request")
    if origin_request:
        out["originRequest"] = dict(origin_request)
    return out


def normalise_ingress(config: Mapping | None) -> list[dict]:
    """The ingress rules of a tunnel configuration; [] when the tunnel has no configuration yet."""
    return [normalise_rule(rule) for rule in (config or {}).get("ingress") or []]


def desired_ingress(rules: list[Mapping] | None, catch_all_service: str = CATCH_ALL_SERVICE) -> list[dict] | None:
    """The user's rules, validated and normalised, followed by the catch-all; None when ingress is not managed."""
    if rules is None:
        return None
    if not _SERVICE.match(catch_all_service or ""):
        raise CloudflareError(f"catch_all_service: {catch_all_service!r} is not a service cloudflared accepts "
                              "(http://, https://, tcp://, ssh://, unix://, ... or http_status:<code>)")
    result = []
    seen = set()
    for index, rule in enumerate(rules):
        where = f"ingress[{index}]"
        normalised = normalise_rule(rule)
        hostname = normalised.get("hostname")
        if not hostname or not _HOSTNAME.match(hostname):
            raise CloudflareError(f"{where}.hostname: {rule.get('hostname')!r} is not a DNS name (a catch-all is "
                                  "added after the rules; set catch_all_service to change it)")
        if not _SERVICE.match(normalised.get("service") or ""):
            raise CloudflareError(f"{where}.service: {rule.get('service')!r} is not a service cloudflared accepts "
                                  "(http://host:port, https://..., tcp://..., http_status:<code>, ...)")
        key = (hostname, normalised.get("path"))
        if key in seen:
            raise CloudflareError(f"{where}: a rule for hostname {hostname!r} and path {key[1]!r} comes earlier")
        seen.add(key)
        result.append(normalised)
    result.append({"service": catch_all_service})
    return result


def desired_config(current_config: Mapping | None, ingress: list[dict]) -> dict:
    """The configuration to PUT: the current one (origin defaults, WARP routing) with our ingress rules."""
    config = {key: value for key, value in (current_config or {}).items() if key != "ingress"}
    config["ingress"] = [dict(rule) for rule in ingress]
    return config


def select_tunnel(tunnels: list[Mapping], name: str) -> dict | None:
    """The live tunnel named ``name``, None if there is none; several are an error, never a guess."""
    matches = [dict(t) for t in tunnels if t.get("name") == name and not t.get("deleted_at")]
    if len(matches) > 1:
        ids = ", ".join(t["id"] for t in matches)
        raise CloudflareError(f"several tunnels are named {name!r} ({ids}); delete or rename the extra ones")
    return matches[0] if matches else None


def tunnel_view(tunnel: Mapping | None, ingress: list[dict] | None = None) -> dict:
    """What the diff shows of a tunnel. Never the token or the tunnel secret."""
    if not tunnel:
        return {}
    view = {"name": tunnel.get("name"), "id": tunnel.get("id"),
            "config_src": "local" if tunnel.get("remote_config") is False else "cloudflare"}
    if ingress is not None:
        view["ingress"] = [dict(rule) for rule in ingress]
    return {key: value for key, value in view.items() if value is not None}


def plan_tunnel(state: str, name: str, existing: Mapping | None, desired: list[dict] | None,
                current: list[dict] | None) -> TunnelPlan:
    """Actions, in order, to bring the tunnel named ``name`` to ``state``.

    ``existing`` is the live tunnel (None if there is none), ``desired`` the ingress rules wanted (None: not
    managed) and ``current`` the rules it has now. An existing tunnel is always adopted, never replaced.
    """
    if state == "absent":
        if existing is None:
            return TunnelPlan()
        return TunnelPlan(("clean_up_connections", "delete"), before=tunnel_view(existing), after={})
    if existing is None:
        after = tunnel_view({"name": name, "remote_config": True}, desired)
        return TunnelPlan(("create",) + (("configure",) if desired is not None else ()), before={}, after=after)
    if desired is not None and existing.get("remote_config") is False:
        raise CloudflareError(
            f"tunnel {name!r} ({existing.get('id')}) is locally managed: its ingress rules live in cloudflared's "
            "config file and cannot be set through the API. Migrate it to a remotely managed tunnel in the "
            "Zero Trust dashboard, or leave ingress unset.")
    before = tunnel_view(existing, current if desired is not None else None)
    after = tunnel_view(existing, desired)
    actions = ("configure",) if desired is not None and desired != (current or []) else ()
    return TunnelPlan(actions, before=before, after=after)


def cname_target(tunnel_id: str) -> str:
    """The name a proxied CNAME must point at to route through the tunnel."""
    return f"{tunnel_id}.cfargotunnel.com"
