# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, kubeconfig

K3S_YAML = open(os.path.join(os.path.dirname(__file__), "fixtures", "k3s.yaml"), encoding="utf-8").read()


def test_server_rewritten_and_everything_named_after_the_context():
    out = yaml.safe_load(kubeconfig.rewrite_kubeconfig(K3S_YAML, "https://10.0.0.100:6443", "prod"))
    assert out["clusters"] == [{"cluster": {"certificate-authority-data": "Q0EtUExBQ0VIT0xERVI=",
                                            "server": "https://10.0.0.100:6443"}, "name": "prod"}]
    assert out["users"][0]["name"] == "prod"
    assert out["users"][0]["user"]["client-key-data"] == "S0VZLVBMQUNFSE9MREVS"
    assert out["contexts"] == [{"name": "prod", "context": {"cluster": "prod", "user": "prod"}}]
    assert out["current-context"] == "prod"


def test_rewriting_twice_gives_the_same_text():
    once = kubeconfig.rewrite_kubeconfig(K3S_YAML, "https://s:6443", "prod")
    assert kubeconfig.rewrite_kubeconfig(once, "https://s:6443", "prod") == once


@pytest.mark.parametrize("text,context,message", [
    (K3S_YAML, "", "k3s_kubeconfig_context"),
    ("a: [", "x", "not YAML"),
    ("apiVersion: v1\nclusters: []\n", "x", "one cluster and one user"),
])
def test_unexpected_input(text, context, message):
    with pytest.raises(K3sError, match=message):
        kubeconfig.rewrite_kubeconfig(text, "https://s:6443", context)
