# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.kind import config as kc

BASE = {"name": "aphex", "node_image": "", "workers": 0, "api_server_address": "127.0.0.1", "api_server_port": 0,
        "http_port": 80, "https_port": 443, "ingress_listen_address": "127.0.0.1", "extra_mounts": [],
        "containerd_config_patches": [], "kubeadm_config_patches": [], "restrict_oom_score_adj": False,
        "disable_default_cni": False, "nvidia_runtime_class": False}


def params(**changes):
    return dict(BASE, **changes)


def inspect(role="control-plane", image="kindest/node:v1", ports=None):
    return {"Config": {"Labels": {kc.LABEL_CLUSTER: "aphex", kc.LABEL_ROLE: role}, "Image": image},
            "HostConfig": {"PortBindings": {f"{c}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(h)}]
                                            for c, h in (ports or [])}}}


def test_default_config_is_one_ingress_ready_control_plane_on_localhost():
    config = kc.build_config(params())
    assert config == {
        "kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": "aphex",
        "networking": {"apiServerAddress": "127.0.0.1"},
        "nodes": [{"role": "control-plane", "labels": {"ingress-ready": "true"}, "extraPortMappings": [
            {"containerPort": 80, "hostPort": 80, "listenAddress": "127.0.0.1", "protocol": "TCP"},
            {"containerPort": 443, "hostPort": 443, "listenAddress": "127.0.0.1", "protocol": "TCP"}]}]}


def test_everything_configurable():
    config = kc.build_config(params(
        node_image="local/node:v1", workers=2, api_server_port=6443, http_port=8080, https_port=0,
        ingress_listen_address="0.0.0.0", disable_default_cni=True, restrict_oom_score_adj=True,
        nvidia_runtime_class=True, containerd_config_patches=["[x]\n"], kubeadm_config_patches=["kind: ClusterConfiguration"],
        extra_mounts=[{"host_path": "/data", "container_path": "/data", "read_only": True}]),
        certs_host_dir="/state/certs.d", mirrors_patch="[mirrors]\n")
    assert config["networking"] == {"apiServerAddress": "127.0.0.1", "apiServerPort": 6443, "disableDefaultCNI": True}
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    assert all(n["image"] == "local/node:v1" for n in config["nodes"])
    assert config["nodes"][0]["extraPortMappings"] == [
        {"containerPort": 80, "hostPort": 8080, "listenAddress": "0.0.0.0", "protocol": "TCP"}]
    assert "extraPortMappings" not in config["nodes"][1] and "labels" not in config["nodes"][1]
    assert config["nodes"][2]["extraMounts"] == [
        {"hostPath": "/data", "containerPath": "/data", "readOnly": True},
        {"hostPath": "/state/certs.d", "containerPath": "/etc/containerd/certs.d", "readOnly": True}]
    assert config["containerdConfigPatches"] == [kc.RESTRICT_OOM_PATCH, "[mirrors]\n", kc.NVIDIA_PATCH, "[x]\n"]
    assert config["kubeadmConfigPatches"] == ["kind: ClusterConfiguration"]


@pytest.mark.parametrize("bad, message", [
    (params(workers=-1), "workers"),
    (params(extra_mounts=[{"host_path": "/x"}]), "extra_mounts[0]"),
])
def test_invalid_settings(bad, message):
    with pytest.raises(kc.KindConfigError, match=message.replace("[", r"\[")):
        kc.build_config(bad)


def test_observed_from_inspect():
    observed = kc.observed_from_inspect([inspect(ports=[(80, 8080), (443, 8443), (6443, 1234)]),
                                         inspect(role="worker")])
    assert observed == {"roles": {"control-plane": 1, "worker": 1}, "images": ["kindest/node:v1"],
                        "ports": [(80, 8080), (443, 8443)]}


def test_no_drift_for_the_cluster_the_role_created():
    wanted = kc.build_config(params(node_image="kindest/node:v1"))
    observed = kc.observed_from_inspect([inspect(ports=[(80, 80), (443, 443)])])
    assert kc.drift(wanted, observed, wanted) == []


def test_drift_names_each_difference():
    wanted = kc.build_config(params(node_image="kindest/node:v2", workers=1, http_port=8080))
    observed = kc.observed_from_inspect([inspect(ports=[(80, 80), (443, 443)])])
    found = kc.drift(wanted, observed, None)
    assert "worker nodes: 0, wanted 1" in found
    assert "node image: kindest/node:v1, wanted kindest/node:v2" in found
    assert "host ports: 80->80, 443->443, wanted 8080->80, 443->443" in found
    assert any("not created by this role" in f for f in found)


def test_drift_in_the_recorded_config_only():
    created = kc.build_config(params())
    wanted = kc.build_config(params(containerd_config_patches=["[x]\n"]))
    observed = kc.observed_from_inspect([inspect(ports=[(80, 80), (443, 443)])])
    assert kc.drift(wanted, observed, created) == [
        "config differs from the one it was created with in: containerdConfigPatches"]
