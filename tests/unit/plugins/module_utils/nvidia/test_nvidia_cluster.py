# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nvidia_gpu role's cluster objects, built from the pinned upstream device plugin manifest."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.filter.nvidia_gpu_objects import FilterModule
from ansible_collections.aphex.platform.plugins.module_utils.nvidia import cluster

LABELS = {"nvidia.com/gpu.present": "true"}
IMAGE = "nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04"


@pytest.fixture(scope="module")
def upstream_documents():
    mirror = os.environ.get("APHEX_UPSTREAM_MIRROR", "")
    path = Path(mirror) / "nvidia-device-plugin" / "v0.17.4" / "nvidia-device-plugin.yml"
    if not mirror or not path.is_file():
        pytest.skip("needs the offline upstream mirror (APHEX_UPSTREAM_MIRROR) with nvidia-device-plugin v0.17.4")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_device_plugin_patch_sets_runtime_class_and_node_selector_only(upstream_documents):
    patched = cluster.patch_device_plugin(upstream_documents, "nvidia", LABELS)
    (daemonset,) = patched
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia" and pod["nodeSelector"] == LABELS
    assert pod["containers"][0]["image"] == "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
    assert daemonset["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aphex-platform"
    # Everything else is upstream's, and the input is not modified.
    original = upstream_documents[0]
    assert "runtimeClassName" not in original["spec"]["template"]["spec"]
    del pod["runtimeClassName"], pod["nodeSelector"]
    del daemonset["metadata"]["labels"]
    assert daemonset == original


def test_device_plugin_patch_refuses_a_manifest_without_its_daemonset():
    with pytest.raises(cluster.NvidiaClusterError, match="has 0 DaemonSets, expected one"):
        cluster.patch_device_plugin([{"kind": "ConfigMap"}], "nvidia", LABELS)


@pytest.mark.parametrize("labels, message", [
    ({}, "nvidia_gpu_node_labels must be a non-empty dict"),
    ({"bad key!": "x"}, r"nvidia_gpu_node_labels\[bad key!\]: not a valid label name"),
    ({"nvidia.com/gpu.present": "not ok"}, r"nvidia_gpu_node_labels\[nvidia.com/gpu.present\]: 'not ok'"),
])
def test_bad_labels_name_the_variable(labels, message):
    with pytest.raises(cluster.NvidiaClusterError, match=message):
        cluster.node_label_patches(["gpu-1"], labels)


def test_boolean_label_values_become_strings():
    assert cluster.node_label_patches(["b", "a", "a"], {"gpu": True}) == [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a", "labels": {"gpu": "true"}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b", "labels": {"gpu": "true"}}}]


def test_validation_job_is_restricted_and_asks_for_a_gpu():
    job = cluster.validation_job("nvidia-smi", "kube-system", IMAGE, "nvidia", LABELS)
    pod = job["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia" and pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    assert container["command"] == ["nvidia-smi"] and container["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert pod["securityContext"]["runAsNonRoot"] is True and "ttlSecondsAfterFinished" not in job["spec"]


def test_validation_job_image_must_be_pinned():
    with pytest.raises(cluster.NvidiaClusterError, match="nvidia_gpu_validation_image: 'nvcr.io/nvidia/cuda' must"):
        cluster.validation_job("n", "kube-system", "nvcr.io/nvidia/cuda", "nvidia", LABELS)
    digest = "nvcr.io/nvidia/cuda@sha256:" + "0" * 64
    assert cluster.validation_job("n", "ns", digest, "nvidia", LABELS)["spec"]["template"]["spec"]["containers"][0][
        "image"] == digest


def test_operator_signals_from_cluster_objects():
    fixture = Path(__file__).parent / "fixtures" / "runtimeclass-gpu-operator-owned.yaml"
    runtime_class = yaml.safe_load(fixture.read_text())
    signals = cluster.cluster_operator_signals(
        daemonsets=[{"metadata": {"name": "nvidia-container-toolkit-daemonset", "namespace": "gpu-operator",
                                  "labels": {"app": "nvidia-container-toolkit-daemonset"}}},
                    {"metadata": {"name": "nvidia-device-plugin-daemonset", "namespace": "kube-system"}}],
        crds=[{"metadata": {"name": "clusterpolicies.nvidia.com"}}, {"metadata": {"name": "x.example.com"}}],
        runtime_classes=[runtime_class])
    assert signals == {"toolkit_daemonsets": ["gpu-operator/nvidia-container-toolkit-daemonset"],
                       "cluster_policies": ["clusterpolicies.nvidia.com"],
                       "runtime_class_owners": ["ClusterPolicy/cluster-policy"]}
    ours = cluster.runtime_class()
    assert cluster.cluster_operator_signals([], [], [ours])["runtime_class_owners"] == []


def test_filter_builds_everything_and_names_the_job_after_its_spec(upstream_documents):
    objects = FilterModule().filters()["nvidia_gpu_objects"]
    data = {"device_plugin_documents": upstream_documents, "node_labels": LABELS, "node_names": ["gpu-1"],
            "validation": {"image": IMAGE}, "cluster": {}}
    first = objects(data)
    assert first["errors"] == [] and first["conflicts"] == []
    assert first["runtime_class"]["handler"] == "nvidia"
    assert first["validation_job"]["metadata"]["name"].startswith("nvidia-smi-validation-")
    assert objects(data)["validation_job"]["metadata"]["name"] == first["validation_job"]["metadata"]["name"]
    other = objects(dict(data, validation={"image": IMAGE.replace("12.6.3", "12.8.1")}))
    assert other["validation_job"]["metadata"]["name"] != first["validation_job"]["metadata"]["name"]


def test_filter_reports_errors_instead_of_raising():
    objects = FilterModule().filters()["nvidia_gpu_objects"]
    result = objects({"node_labels": LABELS, "node_names": ["gpu-1"], "validation": {"image": IMAGE},
                      "cluster": {"crds": [{"metadata": {"name": "clusterpolicies.nvidia.com"}}]}})
    assert result["errors"] == ["the device plugin manifest has 0 DaemonSets, expected one "
                                "(nvidia-device-plugin-daemonset); is it the pinned upstream artifact?"]
    assert result["conflicts"] == ["CustomResourceDefinition clusterpolicies.nvidia.com (the GPU Operator's "
                                   "ClusterPolicy) is installed"]
