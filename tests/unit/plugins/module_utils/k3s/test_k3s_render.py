# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, render

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


def load(text):
    assert text.startswith(render.HEADER)
    return yaml.safe_load(text)


def test_first_server_of_ha_initialises_and_never_holds_the_token():
    text = render.render_config("server", {"write-kubeconfig-mode": "0600", "disable": ["traefik"]},
                                cluster_init=True, tls_san=["10.0.0.100", ""])
    assert load(text) == {"cluster-init": True, "disable": ["traefik"], "tls-san": ["10.0.0.100"],
                          "token-file": "/etc/rancher/k3s/cluster-token", "write-kubeconfig-mode": "0600"}
    assert "token:" not in text


def test_joining_server_gets_the_server_url_and_no_cluster_init():
    config = load(render.render_config("server", {"tls-san": ["api.example.com"]}, join_url="https://10.0.0.1:6443",
                                       cluster_init=True, tls_san=["api.example.com", "10.0.0.100"]))
    assert config["server"] == "https://10.0.0.1:6443"
    assert "cluster-init" not in config
    assert config["tls-san"] == ["api.example.com", "10.0.0.100"]


def test_agent_config():
    config = load(render.render_config("agent", {"node-label": ["gpu=true"]}, join_url="https://vip:6443",
                                       node_name="gpu-1"))
    assert config == {"node-label": ["gpu=true"], "node-name": "gpu-1", "server": "https://vip:6443",
                      "token-file": "/etc/rancher/k3s/cluster-token"}


def test_rendering_is_deterministic_whatever_the_key_order():
    a = render.render_config("server", {"b": 1, "a": 2})
    b = render.render_config("server", {"a": 2, "b": 1})
    assert a == b and render.sha256(a) == render.sha256(b)


def test_owned_and_misplaced_keys_are_refused_all_at_once():
    with pytest.raises(K3sError) as err:
        render.render_config("agent", {"token": "x", "--node-ip": "1.2.3.4", "cluster-init": True, "disable": []},
                             join_url="https://s:6443")
    message = str(err.value)
    assert "k3s_config[token]: set by the role; use k3s_token" in message
    assert "k3s_config[--node-ip]: write the option without leading dashes" in message
    assert "k3s_config[cluster-init]: set by the role" in message
    assert "k3s_config[disable]: a server option; agents reject it" in message


def test_agent_without_a_server_to_join():
    with pytest.raises(K3sError, match="^k3s_server_address: agents need"):
        render.render_config("agent", {})


def test_registries_from_the_shared_mirror_setting_and_private_registries():
    out = render.render_registries(
        {"docker.io": "https://mirror.internal:5000"},
        [{"registry": "registry.example.com", "username": "ci", "password": "s3cret", "ca": CA},
         {"registry": "mirror.internal:5000", "insecure_skip_verify": True}])
    registries = load(out["content"])
    assert registries == {
        "mirrors": {"docker.io": {"endpoint": ["https://mirror.internal:5000"]}},
        "configs": {
            "registry.example.com": {"auth": {"username": "ci", "password": "s3cret"},
                                     "tls": {"ca_file": "/etc/rancher/k3s/registry-ca/private-registry.example.com.crt"}},
            "mirror.internal:5000": {"tls": {"insecure_skip_verify": True}}}}
    assert out["files"] == {"private-registry.example.com.crt": CA + "\n"}
    assert out["secret"] is True


def test_no_registry_setting_means_no_file():
    assert render.render_registries({}, []) == {"content": "", "files": {}, "secret": False}
    assert render.render_registries(None, None)["content"] == ""


def test_mirror_errors_keep_the_shared_settings_name():
    with pytest.raises(ValueError, match=r"aphex_registry_mirrors\[docker.io\].endpoint"):
        render.render_registries({"docker.io": {"username": "x"}})


def test_private_registry_errors_name_the_entry():
    with pytest.raises(K3sError) as err:
        render.render_registries({}, [{"registry": "Bad Host"}, {"registry": "r.example", "username": "u", "ca": "x",
                                                                 "extra": 1}])
    message = str(err.value)
    assert "k3s_private_registries[0].registry: 'Bad Host' is not a registry host" in message
    assert "k3s_private_registries[1]: unknown key(s) extra" in message
    assert "k3s_private_registries[1]: username and password go together" in message
    assert "k3s_private_registries[1].ca: must be PEM text" in message


def test_env_file_sorted_and_checked():
    assert render.render_env({"NO_PROXY": "10.0.0.0/8", "HTTP_PROXY": "http://proxy:3128"}) == (
        "HTTP_PROXY=http://proxy:3128\nNO_PROXY=10.0.0.0/8\n")
    assert render.render_env({}) == ""
    with pytest.raises(K3sError, match="k3s_env: not an environment variable name: 1BAD"):
        render.render_env({"1BAD": "x"})
    with pytest.raises(K3sError, match=r"k3s_env\[A\]: must be one line"):
        render.render_env({"A": "x\ny"})


def test_units_as_upstreams_install_script_writes_them():
    server, agent = render.render_unit("server"), render.render_unit("agent")
    assert "Type=notify\n" in server and "ExecStart=/usr/local/bin/k3s server\n" in server
    assert "EnvironmentFile=-/etc/systemd/system/k3s.service.env\n" in server
    assert "Type=exec\n" in agent and "ExecStart=/usr/local/bin/k3s agent\n" in agent
    assert "EnvironmentFile=-/etc/systemd/system/k3s-agent.service.env\n" in agent
    for unit in (server, agent):
        assert "KillMode=process\nDelegate=yes\n" in unit and "WantedBy=multi-user.target" in unit
    assert (render.unit_name("server"), render.unit_name("agent")) == ("k3s.service", "k3s-agent.service")


class TaggedStr(str):
    """Stands for Ansible's tagged strings (ansible-core 2.19), which yaml.safe_dump refuses."""


def test_template_engine_strings_are_rendered_as_plain_strings():
    text = render.render_config(TaggedStr("server"), {TaggedStr("node-label"): [TaggedStr("a=b")]},
                                token_file=TaggedStr("/etc/rancher/k3s/cluster-token"), tls_san=[TaggedStr("vip")])
    assert load(text)["node-label"] == ["a=b"] and load(text)["tls-san"] == ["vip"]
