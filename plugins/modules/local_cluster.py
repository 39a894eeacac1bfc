#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_cluster
short_description: Run a local rehearsal Kubernetes cluster without Docker
version_added: 0.1.0
description:
  - Starts or stops a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
    kube-scheduler) on 127.0.0.1 with kwok nodes, and writes an admin kubeconfig.
  - The binaries are built from the Go module proxy at pinned versions the first time and cached per user
    (E(APHEX_CACHE_DIR), else C($XDG_CACHE_HOME/aphex-platform)); later runs reuse them.
  - RBAC, server-side apply, CRD validation and Pod Security admission behave as on any cluster. kwok marks
    pods running and ready, but no container runs.
  - Admission webhooks are never called (kube-apiserver runs without the webhook admission plugins), so
    upstream manifests apply unmodified although no webhook server answers.
author:
  - aphex.platform maintainers (@aphex-platform)
attributes:
  check_mode:
    support: full
    description: Reports whether the cluster would be started or stopped without doing it.
  diff_mode:
    support: none
    description: The cluster is a set of processes; there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the target host, which needs Go to build the binaries once.
options:
  state:
    description:
      - V(present) starts the cluster unless it already runs and is ready.
      - V(stopped) stops its processes and keeps its state directory.
      - V(absent) stops the processes and removes the state directory.
    type: str
    choices: [present, stopped, absent]
    default: present
  path:
    description: State directory of the cluster (PKI, etcd data, logs, kubeconfig). One cluster per directory.
    type: path
    required: true
  nodes:
    description: Number of kwok nodes to create.
    type: int
    default: 2
  versions:
    description:
      - Override pinned versions, keys C(kubernetes), C(etcd), C(kwok) and C(helm).
      - When the Kubernetes version does not build, neighbouring releases are tried.
    type: dict
    default: {}
  wait_timeout:
    description: Seconds to wait for every component to become ready.
    type: int
    default: 240
notes:
  - Every process listens on 127.0.0.1 only, on free ports, so several clusters can run at once.
  - The first run compiles Kubernetes from source, which takes 10 to 25 minutes on two cores.
seealso:
  - name: Local cluster documentation
    description: How the local cluster is built, what it cannot do, and how to use a real cluster instead.
    link: https://github.com/aphex-platform/aphex.platform/blob/main/docs/local-cluster.md
"""

EXAMPLES = r"""
- name: Start a local cluster
  aphex.platform.local_cluster:
    path: "{{ playbook_dir }}/../.local-cluster"
  register: local_cluster

- name: Use it with kubernetes.core
  kubernetes.core.k8s_info:
    kind: Node
    kubeconfig: "{{ local_cluster.kubeconfig }}"

- name: Predict whether a cluster would be started
  aphex.platform.local_cluster:
    path: /tmp/rehearsal
  check_mode: true

- name: Remove the cluster and its state
  aphex.platform.local_cluster:
    path: /tmp/rehearsal
    state: absent
"""

RETURN = r"""
kubeconfig:
  description: Path of the admin kubeconfig.
  returned: always
  type: str
  sample: /home/me/platform/.local-cluster/kubeconfig
server:
  description: URL of the API server.
  returned: when the cluster runs
  type: str
  sample: https://127.0.0.1:39117
running:
  description: Whether the cluster is running and ready after the task.
  returned: always
  type: bool
  sample: true
versions:
  description: Versions of the binaries the cluster runs.
  returned: always
  type: dict
  sample: {kubernetes: 1.34.4, etcd: 3.6.4, kwok: 0.8.0, helm: 3.19.5}
nodes:
  description: Names of the kwok nodes.
  returned: always
  type: list
  elements: str
  sample: [kwok-node-0, kwok-node-1]
binaries:
  description: Paths of the cached binaries (kubectl and helm among them).
  returned: when O(state=present)
  type: dict
  sample: {kubectl: /home/me/.cache/aphex-platform/bin/kubernetes-v1.34.4/kubectl}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import (
    LocalCluster,
    LocalClusterError,
)
from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.toolchain import (
    ToolchainError,
    ensure_toolchain,
)


def run(module: AnsibleModule) -> dict:
    params = module.params
    if params["nodes"] < 1:
        raise LocalClusterError("nodes: must be at least 1")
    cluster = LocalCluster(params["path"], nodes=params["nodes"], log=module.debug)
    running = cluster.is_running()
    result = {"changed": False, "kubeconfig": cluster.kubeconfig}

    if params["state"] == "present":
        if module.check_mode:
            result.update(changed=not running, running=running)
            return result
        toolchain = ensure_toolchain(params["versions"], log=module.debug)
        cluster.toolchain = toolchain
        result["changed"] = cluster.start(timeout=params["wait_timeout"])
        result["binaries"] = toolchain.binaries
    elif params["state"] == "stopped":
        result["changed"] = bool(cluster.running_components())
        if not module.check_mode:
            cluster.stop()
    else:
        result["changed"] = os.path.isdir(cluster.state_dir)
        if not module.check_mode:
            cluster.destroy()

    info = cluster.info()
    result.update(running=info["running"], server=info["server"], versions=info["versions"], nodes=info["nodes"])
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["present", "stopped", "absent"], "default": "present"},
            "path": {"type": "path", "required": True},
            "nodes": {"type": "int", "default": 2},
            "versions": {"type": "dict", "default": {}},
            "wait_timeout": {"type": "int", "default": 240},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except (LocalClusterError, ToolchainError) as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
