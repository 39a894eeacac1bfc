# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import base64

import pytest

from ansible_collections.aphex.platform.plugins.module_utils import registry_mirrors as rm

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


def test_empty_setting_renders_nothing():
    assert rm.render_containerd_hosts({}) == {"config_patch": "", "files": {}, "secret": False}
    assert rm.render_containerd_hosts(None)["files"] == {}
    assert rm.render_k3s_registries({}) == {"registries": {"mirrors": {}}, "files": {}}


def test_short_form_docker_io_uses_the_real_upstream_server():
    out = rm.render_containerd_hosts({"docker.io": "http://aphex-kind-registry:5000/"})
    assert out["config_patch"] == ('[plugins."io.containerd.grpc.v1.cri".registry]\n'
                                   '  config_path = "/etc/containerd/certs.d"\n')
    assert out["files"] == {"docker.io/hosts.toml": (
        "# aphex_registry_mirrors[docker.io]: rendered by aphex.platform\n"
        'server = "https://registry-1.docker.io"\n\n'
        '[host."http://aphex-kind-registry:5000"]\n'
        '  capabilities = ["pull", "resolve"]\n')}
    assert out["secret"] is False


def test_full_form_with_credentials_ca_and_several_endpoints():
    out = rm.render_containerd_hosts({"registry.k8s.io": {
        "endpoint": ["https://m1.example.com", "https://m2.example.com/v2"], "username": "u", "password": "p\"w",
        "ca": CA, "insecure_skip_verify": True}})
    hosts = out["files"]["registry.k8s.io/hosts.toml"]
    assert 'server = "https://registry.k8s.io"' in hosts
    assert hosts.index('[host."https://m1.example.com"]') < hosts.index('[host."https://m2.example.com/v2"]')
    assert 'ca = "/etc/containerd/certs.d/registry.k8s.io/ca.crt"' in hosts
    assert "skip_verify = true" in hosts
    token = base64.b64encode(b'u:p"w').decode()
    assert f'Authorization = ["Basic {token}"]' in hosts
    assert out["files"]["registry.k8s.io/ca.crt"] == CA + "\n"
    assert out["secret"] is True


def test_registries_are_rendered_in_a_stable_order():
    mirrors = {"quay.io": "https://q.example", "docker.io": "https://d.example", "localhost:5000": "http://l:1"}
    assert list(rm.render_containerd_hosts(mirrors)["files"]) == [
        "docker.io/hosts.toml", "localhost:5000/hosts.toml", "quay.io/hosts.toml"]


@pytest.mark.parametrize("mirrors, message", [
    ("docker.io", "must be a mapping"),
    ({"Docker.IO": "https://x"}, "aphex_registry_mirrors[Docker.IO]: not a registry host name"),
    ({"docker.io": "ftp://x"}, "aphex_registry_mirrors[docker.io].endpoint[0]: 'ftp://x' is not an http"),
    ({"docker.io": {}}, "aphex_registry_mirrors[docker.io].endpoint: required"),
    ({"docker.io": {"endpoint": "https://x", "username": "u"}}, "username and password go together"),
    ({"docker.io": {"endpoint": "https://x", "ca": "/path/ca.pem"}}, "aphex_registry_mirrors[docker.io].ca: must be PEM"),
    ({"docker.io": {"endpoint": "https://x", "mirror": 1}}, "unknown key(s) mirror"),
    ({"docker.io": {"endpoint": "https://x", "insecure_skip_verify": "yes"}}, "insecure_skip_verify: must be true or false"),
    ({"docker.io": 5}, "must be an endpoint URL or a mapping"),
])
def test_invalid_settings_name_the_field(mirrors, message):
    with pytest.raises(rm.RegistryMirrorError) as err:
        rm.normalise(mirrors)
    assert message in str(err.value)


def test_all_errors_are_reported_at_once():
    with pytest.raises(rm.RegistryMirrorError) as err:
        rm.normalise({"docker.io": "ftp://x", "quay.io": {}})
    assert "[docker.io]" in str(err.value) and "[quay.io]" in str(err.value)


def test_k3s_registries_yaml():
    out = rm.render_k3s_registries({
        "docker.io": "http://mirror.local:5000",
        "ghcr.io": {"endpoint": "https://g.example.com", "username": "u", "password": "p", "ca": CA}})
    assert out["registries"] == {
        "mirrors": {"docker.io": {"endpoint": ["http://mirror.local:5000"]},
                    "ghcr.io": {"endpoint": ["https://g.example.com"]}},
        "configs": {"g.example.com": {"auth": {"username": "u", "password": "p"},
                                      "tls": {"ca_file": "/etc/rancher/k3s/registry-ca/ghcr.io.crt"}}}}
    assert out["files"] == {"ghcr.io.crt": CA + "\n"}
