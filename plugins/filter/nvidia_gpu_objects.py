# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: nvidia_gpu_objects
short_description: The cluster objects of the nvidia_gpu role and the GPU Operator conflicts, from plain inputs
version_added: 0.1.0
description:
  - Builds RuntimeClass C(nvidia), the pinned upstream NVIDIA device plugin DaemonSet patched with
    C(runtimeClassName) and a node selector on the GPU node labels, the partial Node objects that label the GPU
    nodes, and the validation Job that runs C(nvidia-smi) in a CUDA base image.
  - Also turns what the cluster holds (DaemonSets, CustomResourceDefinitions, RuntimeClasses) into the reasons
    the role refuses to go on when the GPU Operator's toolkit would take over k3s's containerd config.
  - Input errors are returned in C(errors), each naming the role variable, so a play stops before it creates
    anything.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description:
      - Dict with C(device_plugin_documents) (the parsed upstream manifest), C(runtime_class) (name),
        C(runtime_handler), C(node_labels) (dict), C(node_names) (list), C(validation) (dict with C(name),
        C(namespace), C(image), C(gpus)) and C(cluster) (dict with C(daemonsets), C(crds), C(runtime_classes), the
        k8s_info resources).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build the objects
  ansible.builtin.set_fact:
    gpu_objects: >-
      {{ {'device_plugin_documents': docs, 'runtime_class': 'nvidia', 'runtime_handler': 'nvidia',
          'node_labels': {'nvidia.com/gpu.present': 'true'}, 'node_names': ['gpu-1'],
          'validation': {'name': 'nvidia-smi', 'namespace': 'kube-system',
                         'image': 'nvcr.io/nvidia/cuda:12.6.3-base-ubuntu24.04', 'gpus': 1},
          'cluster': {'daemonsets': [], 'crds': [], 'runtime_classes': []}} | aphex.platform.nvidia_gpu_objects }}
"""

RETURN = r"""
_value:
  description: The objects, the conflicts and the input errors.
  type: dict
  contains:
    runtime_class:
      description: The RuntimeClass.
      type: dict
    device_plugin:
      description: The patched upstream manifest's objects.
      type: list
      elements: dict
    node_labels:
      description: Partial Node objects (metadata.name and labels only) for server-side apply.
      type: list
      elements: dict
    validation_job:
      description: The Job, named C(<name>-<hash of its spec>) because a Job's pod template is immutable.
      type: dict
    conflicts:
      description: Signs in the cluster that the GPU Operator manages the NVIDIA runtime.
      type: list
      elements: str
    errors:
      description: One message per invalid input, naming the role variable.
      type: list
      elements: str
"""

import hashlib
import json

from ansible_collections.aphex.platform.plugins.module_utils.nvidia import cluster, host


def _objects(data):
    data = data or {}
    out = {"runtime_class": {}, "device_plugin": [], "node_labels": [], "validation_job": {}, "conflicts": [],
           "errors": []}
    signals = cluster.cluster_operator_signals(**{key: (data.get("cluster") or {}).get(key) or []
                                                  for key in ("daemonsets", "crds", "runtime_classes")})
    out["conflicts"] = host.gpu_operator_conflicts({}, signals)
    try:
        out["runtime_class"] = cluster.runtime_class(data.get("runtime_class") or "nvidia",
                                                     data.get("runtime_handler") or "nvidia")
        out["device_plugin"] = cluster.patch_device_plugin(data.get("device_plugin_documents") or [],
                                                           out["runtime_class"]["metadata"]["name"],
                                                           data.get("node_labels") or {})
        out["node_labels"] = cluster.node_label_patches(data.get("node_names") or [], data.get("node_labels") or {})
        validation = data.get("validation") or {}
        job = cluster.validation_job(validation.get("name") or "nvidia-smi-validation",
                                     validation.get("namespace") or "kube-system", validation.get("image") or "",
                                     out["runtime_class"]["metadata"]["name"], data.get("node_labels") or {},
                                     gpus=int(validation.get("gpus") or 1))
        digest = hashlib.sha256(json.dumps(job["spec"], sort_keys=True).encode()).hexdigest()[:8]
        job["metadata"]["name"] = f"{job['metadata']['name']}-{digest}"
        out["validation_job"] = job
    except cluster.NvidiaClusterError as exc:
        out["errors"].append(str(exc))
    return out


class FilterModule:
    def filters(self):
        return {"nvidia_gpu_objects": _objects}
