# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of aphex.platform.cloudflare_tunnel: look up, plan (pure), apply unless in check mode."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnel import (
    cname_target,
    desired_config,
    desired_ingress,
    normalise_ingress,
    plan_tunnel,
    select_tunnel,
    validate_tunnel_name,
)


def _tunnel_result(tunnel: dict, account_id: str) -> dict:
    result = {"id": tunnel.get("id"), "name": tunnel.get("name"), "account_id": tunnel.get("account_tag") or account_id,
              "config_src": "local" if tunnel.get("remote_config") is False else "cloudflare",
              "status": tunnel.get("status"), "created_at": tunnel.get("created_at")}
    return {key: value for key, value in result.items() if value is not None}


def ensure_tunnel(api, params: dict, check_mode: bool) -> dict:
    """Bring the tunnel to ``params['state']``; returns the module result (with ``diff``)."""
    state = params["state"]
    name = validate_tunnel_name(params["name"])
    # Validate everything before the first request, so bad input never leaves half a change behind.
    desired = desired_ingress(params["ingress"], params["catch_all_service"]) if state == "present" else None

    account_id = api.resolve_account(params["account"])["id"]

    def find():
        return select_tunnel(api.find_tunnels(account_id, name), name)

    existing = find()
    current_config = None
    if existing and desired is not None and existing.get("remote_config") is not False:
        current_config = api.tunnel_configuration(account_id, existing["id"])
    plan = plan_tunnel(state, name, existing, desired,
                       normalise_ingress(current_config) if current_config is not None else None)

    tunnel = existing
    if not check_mode:
        for action in plan.actions:
            if action == "create":
                # A create that fails with 5xx or a timeout may still have happened; look before retrying.
                tunnel = api.create_tunnel(account_id, name, recheck=find)
            elif action == "configure":
                api.put_tunnel_configuration(account_id, tunnel["id"], desired_config(current_config, desired))
            elif action == "clean_up_connections":
                api.clean_up_tunnel_connections(account_id, tunnel["id"])
            elif action == "delete":
                api.delete_tunnel(account_id, tunnel["id"])

    result = {"changed": plan.changed, "account_id": account_id, "diff": {"before": plan.before, "after": plan.after}}
    if state == "absent":
        result["tunnel"] = _tunnel_result(existing, account_id) if existing else {}
        return result
    # In check mode a tunnel that does not exist yet has no id, so nothing that depends on it is returned.
    result["tunnel"] = _tunnel_result(tunnel, account_id) if tunnel else {"name": name, "account_id": account_id,
                                                                          "config_src": "cloudflare"}
    if desired is not None:
        result["ingress"] = desired
    if tunnel:
        result["cname_target"] = cname_target(tunnel["id"])
        if params["return_token"]:
            result["token"] = api.tunnel_token(account_id, tunnel["id"])
    return result
