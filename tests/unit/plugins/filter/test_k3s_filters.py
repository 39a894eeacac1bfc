# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The k3s role's filters, called the way Jinja calls them: thin wrappers over module_utils/k3s."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.filter import k3s_decision, k3s_files, k3s_join_plan
from ansible_collections.aphex.platform.plugins.filter import k3s_kubeconfig, k3s_release

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "k3s", "fixtures")
SETTINGS = {"node_role": "server", "config": {"disable": ["traefik"]}, "join_url": "", "cluster_init": True,
            "token_file": "/etc/rancher/k3s/cluster-token", "tls_san": [], "node_name": "",
            "registry_mirrors": {}, "private_registries": [], "env": {}, "binary": "/usr/local/bin/k3s"}


def flt(module, name):
    return module.FilterModule().filters()[name]


def test_files_and_hashes_change_only_with_their_content():
    files = flt(k3s_files, "k3s_files")
    base = files(SETTINGS)
    assert base["unit_name"] == "k3s.service"
    assert set(base["hashes"]) == {"config", "registries", "env", "unit"}
    assert files(dict(SETTINGS))["hashes"] == base["hashes"]
    changed = files(dict(SETTINGS, config={"disable": ["traefik", "servicelb"]}))["hashes"]
    assert changed["config"] != base["hashes"]["config"] and changed["unit"] == base["hashes"]["unit"]
    proxied = files(dict(SETTINGS, env={"HTTPS_PROXY": "http://p:3128"}))["hashes"]
    assert proxied["env"] != base["hashes"]["env"] and proxied["config"] == base["hashes"]["config"]


def test_a_registry_ca_change_alone_changes_the_registries_hash():
    files = flt(k3s_files, "k3s_files")
    ca = "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----"
    one = files(dict(SETTINGS, private_registries=[{"registry": "r.example", "ca": ca.format("A")}]))
    two = files(dict(SETTINGS, private_registries=[{"registry": "r.example", "ca": ca.format("B")}]))
    assert one["registries"]["content"] == two["registries"]["content"]
    assert one["hashes"]["registries"] != two["hashes"]["registries"]


def test_setting_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"k3s_config\[token\]"):
        flt(k3s_files, "k3s_files")(dict(SETTINGS, config={"token": "x"}))


def test_release_with_the_checksum_file():
    sums = open(os.path.join(FIXTURES, "sha256sum-amd64.v1.36.4+k3s1.txt"), encoding="utf-8").read()
    out = flt(k3s_release, "k3s_release")("v1.36.4+k3s1", "x86_64", "", checksums=sums)
    assert out["binary_sha256"] == "835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f"
    with pytest.raises(AnsibleFilterError, match="k3s_version"):
        flt(k3s_release, "k3s_release")("latest", "x86_64")


def test_token_errors_come_back_as_data_for_a_task_that_may_show_them():
    decision = flt(k3s_decision, "k3s_decision")
    assert decision("token")["source"] == "generate"
    out = decision("token", given="b" * 64, kept="a" * 64, first_server="s1")
    assert out["source"] == "" and out["token"] == "" and out["error"].startswith("k3s_token: differs")
    assert "a" * 64 not in out["error"] and "b" * 64 not in out["error"]


def test_restart_decision_and_unknown_kind():
    decision = flt(k3s_decision, "k3s_decision")
    hashes = {"binary": "version:v1.36.4+k3s1", "config": "c", "registries": "r", "env": "e", "unit": "u"}
    assert decision("restart", desired=hashes, applied=hashes)["restart"] is False
    upgraded = decision("restart", desired=dict(hashes, binary="version:v1.36.5+k3s1"), applied=hashes)
    assert upgraded["reasons"] == ["binary"]
    with pytest.raises(AnsibleFilterError, match="unknown decision"):
        decision("reboot")


def test_join_plan_and_kubeconfig_filters():
    plan = flt(k3s_join_plan, "k3s_join_plan")(["s1", "s2"], agents=["a1"], addresses={"s1": "10.0.0.1"},
                                               port="6443")
    assert plan["nodes"]["s2"]["join_url"] == "https://10.0.0.1:6443"
    with pytest.raises(AnsibleFilterError, match="k3s_server: the inventory group is empty"):
        flt(k3s_join_plan, "k3s_join_plan")([])
    text = open(os.path.join(FIXTURES, "k3s.yaml"), encoding="utf-8").read()
    assert "current-context: prod" in flt(k3s_kubeconfig, "k3s_kubeconfig")(text, "https://10.0.0.1:6443", "prod")
