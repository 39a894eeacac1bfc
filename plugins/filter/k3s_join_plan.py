# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: k3s_join_plan
short_description: Which k3s server initialises the cluster, who joins whom, in which order
version_added: 0.2.0
description:
  - The first host of C(k3s_server) initialises the cluster (embedded etcd with several servers); the others join
    it one at a time in inventory order; agents join C(k3s_vip), else C(k3s_server_address), else the first
    server.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: The servers (C(groups.k3s_server)).
    type: list
    required: true
  agents:
    description: The agents (C(groups.k3s_agent)).
    type: list
    elements: str
    default: []
  addresses:
    description: Host name to the address other nodes reach it at.
    type: dict
    default: {}
  server_address:
    description: C(k3s_server_address).
    type: str
    default: ""
  vip:
    description: C(k3s_vip).
    type: str
    default: ""
  port:
    description: API server port.
    type: int
    default: 6443
  embedded_etcd:
    description: Force embedded etcd on or off (by default on with several servers).
    type: bool
"""

EXAMPLES = r"""
# See roles/k3s/tasks/.
"""

RETURN = r"""
_value:
  description: Dict with C(first_server), C(server_order), C(agents), C(cluster_init), C(server_join_url), C(agent_join_url),
    C(api_url) and C(nodes) (per host the role, position, join_url, cluster_init).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, cluster


def k3s_join_plan(servers, agents=None, addresses=None, server_address="", vip="", port=6443, embedded_etcd=None):
    try:
        return cluster.join_plan(servers, agents, addresses, server_address, vip, int(port), embedded_etcd)
    except (K3sError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"k3s_join_plan": k3s_join_plan}
