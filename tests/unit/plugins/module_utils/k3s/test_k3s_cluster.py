# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, cluster

ADDRESSES = {"s1": "10.0.0.11", "s2": "10.0.0.12", "s3": "10.0.0.13"}


def test_single_server_uses_no_embedded_etcd_and_agents_join_it():
    plan = cluster.join_plan(["s1"], ["a1"], ADDRESSES)
    assert plan["first_server"] == "s1" and plan["cluster_init"] is False
    assert plan["nodes"]["s1"] == {"role": "server", "position": 0, "cluster_init": False, "join_url": ""}
    assert plan["nodes"]["a1"]["join_url"] == "https://10.0.0.11:6443"
    assert plan["api_url"] == "https://10.0.0.11:6443"


def test_ha_first_server_initialises_others_join_it_in_inventory_order():
    plan = cluster.join_plan(["s1", "s2", "s3"], ["a1", "a2"], ADDRESSES, vip="10.0.0.100")
    assert plan["server_order"] == ["s1", "s2", "s3"] and plan["cluster_init"] is True
    assert plan["nodes"]["s1"]["cluster_init"] is True and plan["nodes"]["s1"]["join_url"] == ""
    for position, host in enumerate(["s2", "s3"], 1):
        assert plan["nodes"][host] == {"role": "server", "position": position, "cluster_init": False,
                                       "join_url": "https://10.0.0.11:6443"}
    # Agents join the VIP; servers join the first server (the VIP may not serve before the servers exist).
    assert {plan["nodes"][a]["join_url"] for a in ("a1", "a2")} == {"https://10.0.0.100:6443"}
    assert plan["api_url"] == "https://10.0.0.100:6443"


def test_server_address_when_there_is_no_vip_and_ipv6_brackets():
    plan = cluster.join_plan(["s1"], ["a1"], {"s1": "fd00::11"}, server_address="api.example.com", port=443)
    assert plan["agent_join_url"] == "https://api.example.com:443"
    assert plan["server_join_url"] == "https://[fd00::11]:443"


def test_single_server_may_ask_for_embedded_etcd():
    assert cluster.join_plan(["s1"], [], embedded_etcd=True)["nodes"]["s1"]["cluster_init"] is True


def test_adding_a_server_keeps_the_first_one_first():
    before = cluster.join_plan(["s1", "s2"], [], ADDRESSES)
    after = cluster.join_plan(["s1", "s2", "s3"], [], ADDRESSES)
    assert before["first_server"] == after["first_server"] == "s1"
    assert before["nodes"]["s2"] == after["nodes"]["s2"]


@pytest.mark.parametrize("kwargs,message", [
    ({"servers": []}, "^k3s_server: the inventory group is empty"),
    ({"servers": ["s1"], "agents": ["s1"]}, "s1 in both groups"),
    ({"servers": ["s1"], "vip": "not a host"}, "k3s_vip: 'not a host'"),
    ({"servers": ["s1"], "port": 70000}, "k3s_api_port: 70000"),
    ({"servers": ["s1", "s2"], "embedded_etcd": False}, "^k3s_embedded_etcd: false, but"),
])
def test_bad_inventories_are_refused_naming_the_setting(kwargs, message):
    with pytest.raises(K3sError, match=message):
        cluster.join_plan(**kwargs)
