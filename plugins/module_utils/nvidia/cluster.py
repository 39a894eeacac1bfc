# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster objects of the nvidia_gpu role, built from plain dicts (pure).

RuntimeClass nvidia, the pinned upstream device plugin DaemonSet patched to run with that RuntimeClass on the GPU
nodes only, the GPU node labels, and the validation Job that runs nvidia-smi in a CUDA base image.
"""

from __future__ import annotations

import copy
import re

MANAGED_LABELS = {"app.kubernetes.io/managed-by": "aphex-platform", "app.kubernetes.io/part-of": "aphex-platform"}
DEVICE_PLUGIN_DAEMONSET = "nvidia-device-plugin-daemonset"
_LABEL_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                         r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class NvidiaClusterError(ValueError):
    """Input that cannot become a valid object; the message names the field."""


def check_labels(labels: dict, field: str) -> dict:
    """Kubernetes label syntax of every key and value (values as strings); errors name field[key]."""
    if not isinstance(labels, dict) or not labels:
        raise NvidiaClusterError(f"{field} must be a non-empty dict of label -> value")
    checked = {}
    for key, value in labels.items():
        value = "true" if value is True else "false" if value is False else str(value)
        if not _LABEL_NAME.match(str(key)) or len(str(key).rsplit("/", maxsplit=1)[-1]) > 63:
            raise NvidiaClusterError(f"{field}[{key}]: not a valid label name")
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            raise NvidiaClusterError(f"{field}[{key}]: '{value}' is not a valid label value")
        checked[str(key)] = value
    return checked


def runtime_class(name: str = "nvidia", handler: str = "nvidia") -> dict:
    """RuntimeClass whose handler is the containerd runtime k3s generates for the NVIDIA Container Toolkit."""
    return {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
            "metadata": {"name": name, "labels": dict(MANAGED_LABELS)}, "handler": handler}


def node_label_patches(node_names: list, labels: dict) -> list:
    """Partial Node objects for server-side apply: the field manager owns only these labels."""
    labels = check_labels(labels, "nvidia_gpu_node_labels")
    if not node_names:
        raise NvidiaClusterError("nvidia_gpu_node_names: no GPU node to label")
    return [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": dict(labels)}}
            for name in sorted(set(node_names))]


def patch_device_plugin(documents: list, runtime_class_name: str, node_selector: dict) -> list:
    """The upstream static manifest (deployments/static/nvidia-device-plugin.yml) with its DaemonSet set to
    run with runtimeClassName and only on nodes matching node_selector; the image, arguments and security
    settings stay upstream's. Fails when the manifest has no (or more than one) device plugin DaemonSet."""
    node_selector = check_labels(node_selector, "nvidia_gpu_node_labels")
    daemonsets = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == "DaemonSet"]
    if len(daemonsets) != 1:
        raise NvidiaClusterError(f"the device plugin manifest has {len(daemonsets)} DaemonSets, expected one "
                                 f"({DEVICE_PLUGIN_DAEMONSET}); is it the pinned upstream artifact?")
    patched = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        doc = copy.deepcopy(doc)
        if doc.get("kind") == "DaemonSet":
            metadata = doc.setdefault("metadata", {})
            metadata["labels"] = dict(metadata.get("labels") or {}, **MANAGED_LABELS)
            pod_spec = doc.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
            if not pod_spec.get("containers"):
                raise NvidiaClusterError(f"DaemonSet {metadata.get('name')} of the device plugin manifest has no "
                                         "containers")
            pod_spec["runtimeClassName"] = runtime_class_name
            pod_spec["nodeSelector"] = dict(pod_spec.get("nodeSelector") or {}, **node_selector)
        patched.append(doc)
    return patched


def validation_job(name: str, namespace: str, image: str, runtime_class_name: str, node_selector: dict,
                   gpus: int = 1, backoff_limit: int = 2, ttl_seconds: int = 0) -> dict:
    """A Job that runs `nvidia-smi` once in a CUDA base image, on a GPU node, with one GPU from the device
    plugin; it succeeds only when the container sees the GPU. Restricted Pod Security compatible."""
    if not image or ":" not in image.rsplit("/", 1)[-1] and "@sha256:" not in image:
        raise NvidiaClusterError(f"nvidia_gpu_validation_image: '{image}' must be pinned (a tag or a digest)")
    if gpus < 1:
        raise NvidiaClusterError("nvidia_gpu_validation_gpus must be at least 1")
    spec = {
        "backoffLimit": backoff_limit,
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": name, **MANAGED_LABELS}},
            "spec": {
                "restartPolicy": "Never",
                "runtimeClassName": runtime_class_name,
                "nodeSelector": check_labels(node_selector, "nvidia_gpu_node_labels"),
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "nvidia-smi",
                    "image": image,
                    "command": ["nvidia-smi"],
                    "resources": {"limits": {"nvidia.com/gpu": gpus}},
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }],
            },
        },
    }
    if ttl_seconds:
        spec["ttlSecondsAfterFinished"] = ttl_seconds
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_LABELS)}, "spec": spec}


def cluster_operator_signals(daemonsets: list, crds: list, runtime_classes: list) -> dict:
    """The GPU Operator's traces in the cluster, from k8s_info resources: its toolkit DaemonSet(s) (label
    app=nvidia-container-toolkit-daemonset), ClusterPolicy CRD, and a RuntimeClass nvidia it owns."""
    toolkit = sorted(f"{ds['metadata'].get('namespace', '')}/{ds['metadata']['name']}" for ds in daemonsets
                     if (ds.get("metadata", {}).get("labels") or {}).get("app") == "nvidia-container-toolkit-daemonset"
                     or ds.get("metadata", {}).get("name") == "nvidia-container-toolkit-daemonset")
    policies = sorted(crd["metadata"]["name"] for crd in crds
                      if crd.get("metadata", {}).get("name") == "clusterpolicies.nvidia.com")
    owners = []
    for rc in runtime_classes:
        for ref in (rc.get("metadata", {}).get("ownerReferences") or []):
            if ref.get("apiVersion", "").startswith("nvidia.com/"):
                owners.append(f"{ref.get('kind')}/{ref.get('name')}")
    return {"toolkit_daemonsets": toolkit, "cluster_policies": policies, "runtime_class_owners": sorted(owners)}
