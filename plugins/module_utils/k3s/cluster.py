# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who initialises the cluster, who joins whom, in which order."""

from __future__ import annotations

import re

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$|^\[[0-9a-fA-F:]+\]$")


def _url(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address and not address.startswith("[") else address
    return f"https://{host}:{port}"


def join_plan(servers, agents=None, addresses=None, server_address: str = "", vip: str = "", port: int = 6443,
              embedded_etcd=None) -> dict:
    """servers/agents: inventory host names in inventory order (groups k3s_server / k3s_agent); addresses: host ->
    address the other nodes reach it at. The first server initialises the cluster (embedded etcd when there is more
    than one server, or when `embedded_etcd` is true); the other servers join it, one at a time, in inventory order;
    agents join `vip`, else `server_address`, else the first server.

    Returns {first_server, server_order, agents, cluster_init, server_join_url, agent_join_url, api_address,
    nodes: {host: {role, join_url, cluster_init, position}}}."""
    servers, agents, addresses = list(servers or []), list(agents or []), dict(addresses or {})
    if not servers:
        raise K3sError("k3s_server: the inventory group is empty; list at least one server (its first host "
                       "initialises the cluster)")
    errors = []
    both = sorted(set(servers) & set(agents))
    if both:
        errors.append(f"k3s_server/k3s_agent: {', '.join(both)} in both groups (a server runs workloads already)")
    for label, value in (("k3s_vip", vip), ("k3s_server_address", server_address)):
        if value and not _HOST.match(str(value)):
            errors.append(f"{label}: {value!r} is not a host name or IP address")
    if not isinstance(port, int) or not 0 < port < 65536:
        errors.append(f"k3s_api_port: {port!r} is not a TCP port")
    if errors:
        raise K3sError("; ".join(errors))
    first = servers[0]
    first_address = str(addresses.get(first) or first)
    cluster_init = len(servers) > 1 if embedded_etcd is None else bool(embedded_etcd)
    if len(servers) > 1 and embedded_etcd is False:
        raise K3sError("k3s_embedded_etcd: false, but k3s_server lists several servers; HA servers share embedded "
                       "etcd (or an external datastore set in k3s_server_config)")
    server_join_url = _url(first_address, port)
    api_address = str(vip or server_address or first_address)
    agent_join_url = _url(api_address, port)
    nodes = {}
    for position, host in enumerate(servers):
        nodes[host] = {"role": "server", "position": position, "cluster_init": cluster_init and position == 0,
                       "join_url": "" if position == 0 else server_join_url}
    for position, host in enumerate(agents):
        nodes[host] = {"role": "agent", "position": position, "cluster_init": False, "join_url": agent_join_url}
    return {"first_server": first, "server_order": servers, "agents": agents, "cluster_init": cluster_init,
            "server_join_url": server_join_url, "agent_join_url": agent_join_url, "api_address": api_address,
            "api_url": _url(api_address, port), "nodes": nodes}
