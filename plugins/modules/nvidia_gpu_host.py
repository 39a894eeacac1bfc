#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nvidia_gpu_host
short_description: Report a k3s host's NVIDIA GPUs, driver, k3s nvidia runtime and GPU Operator conflicts
version_added: 0.1.0
description:
  - Read-only probe of one host, run on the host. Detects NVIDIA GPUs with C(lspci -nn) (vendor C(10de), display
    class C(03xx)), checks the driver with C(nvidia-smi) (driver and CUDA versions, GPUs; or what is missing,
    the driver, its kernel module, a matching driver after an upgrade), checks that k3s's generated containerd
    config (C(<k3s data dir>/agent/etc/containerd/config.toml)) has the C(nvidia) runtime k3s adds when it finds
    the NVIDIA Container Toolkit, and looks for signs that the GPU Operator's toolkit manages that config.
  - Optionally checks the fingerprint of a keyring file with C(gpg --show-keys).
  - Never changes anything; RV(problems) lists what stops a GPU node, each message naming what is missing.
author:
  - aphex.platform maintainers (@aphex-platform)
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same probes in check mode.
  diff_mode:
    support: none
    description: Nothing is written.
  platform:
    support: full
    platforms: posix
    description: Runs on the GPU host (a k3s server or agent).
options:
  k3s_data_dir:
    description: k3s's data directory (its C(data-dir) setting).
    type: path
    default: /var/lib/rancher/k3s
  runtime_name:
    description: The containerd runtime the RuntimeClass's handler names.
    type: str
    default: nvidia
  keyring:
    description: A key file whose primary key must have O(keyring_fingerprint).
    type: path
  keyring_fingerprint:
    description: Expected fingerprint of O(keyring) (spaces ignored).
    type: str
  k3s_services:
    description: The k3s systemd units that may run here; the first active one is RV(k3s_service).
    type: list
    elements: str
    default: [k3s, k3s-agent]
  toolkit_changed:
    description:
      - Whether the NVIDIA Container Toolkit was just installed or changed in this run. With the nvidia runtime
        missing from the generated config and k3s running, RV(restart_needed) is true (k3s detects the runtime
        only at start).
    type: bool
    default: false
requirements:
  - lspci (pciutils); nvidia-smi (the NVIDIA driver); gpg when O(keyring) is set
notes:
  - k3s never needs its containerd config edited for NVIDIA; it adds the runtime itself at start. This module only
    reads the generated file.
seealso:
  - name: k3s NVIDIA Container Runtime support
    description: How k3s detects the NVIDIA runtime.
    link: https://docs.k3s.io/advanced#nvidia-container-runtime-support
"""

EXAMPLES = r"""
- name: Probe the GPU host
  aphex.platform.nvidia_gpu_host:
  register: gpu_host

- name: Stop when the host cannot be a GPU node
  ansible.builtin.assert:
    that: gpu_host.problems | length == 0
    fail_msg: "{{ gpu_host.problems | join('; ') }}"
"""

RETURN = r"""
gpus:
  description: NVIDIA GPUs lspci found (slot, model, chip, device_id, class_name).
  returned: always
  type: list
  elements: dict
lspci_found:
  description: Whether lspci is installed.
  returned: always
  type: bool
driver:
  description: ok, driver_version, cuda_version, gpus (nvidia-smi's rows), missing, message.
  returned: always
  type: dict
containerd:
  description: >-
    present, binary_name, runtime_type, default_runtime, operator_toolkit, nvidia_runtimes, message, plus
    config_path and config_exists.
  returned: always
  type: dict
gpu_operator_conflicts:
  description: Signs on the host that the GPU Operator's toolkit manages k3s's containerd config.
  returned: always
  type: list
  elements: str
problems:
  description: Messages that stop the host from being a GPU node, in order (empty when it can be one).
  returned: always
  type: list
  elements: str
k3s_service:
  description: The first active unit of O(k3s_services), or an empty string when k3s does not run.
  returned: always
  type: str
restart_needed:
  description: Restart RV(k3s_service) so that k3s re-detects the nvidia runtime (see O(toolkit_changed)).
  returned: always
  type: bool
keyring_verified:
  description: Whether O(keyring)'s primary key has O(keyring_fingerprint); V(null) without O(keyring).
  returned: always
  type: bool
keyring_fingerprints:
  description: Primary-key fingerprints found in O(keyring).
  returned: when O(keyring) is set
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aphex.platform.plugins.module_utils.nvidia import host
from ansible_collections.aphex.platform.plugins.module_utils.nvidia.probe import HostProbe, ProbeError


def run(module: AnsibleModule, probe: HostProbe) -> dict:
    params = module.params
    lspci = probe.lspci()
    files = probe.containerd_files(params["k3s_data_dir"])
    operator_host = {"toolkit_dir_exists": probe.exists(host.GPU_OPERATOR_TOOLKIT_DIR), "templates": files["templates"]}
    report = host.host_report(lspci["stdout"], probe.nvidia_smi(), files["config"], operator_host,
                              runtime_name=params["runtime_name"])
    if not lspci["found"]:
        report["problems"].insert(0, "lspci is not installed (package pciutils): GPUs cannot be detected")
    report["containerd"].update(config_path=files["config_path"], config_exists=files["config_exists"])
    service = probe.active_service(params["k3s_services"])
    result = dict(report, lspci_found=lspci["found"], keyring_verified=None, changed=False, k3s_service=service,
                  restart_needed=host.restart_needed(params["toolkit_changed"], report["containerd"], bool(service)))
    if params["keyring"]:
        colons = probe.gpg_show_keys(params["keyring"])
        result["keyring_fingerprints"] = host.gpg_fingerprints(colons)
        result["keyring_verified"] = host.keyring_verified(colons, params["keyring_fingerprint"])
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "k3s_data_dir": {"type": "path", "default": "/var/lib/rancher/k3s"},
            "runtime_name": {"type": "str", "default": "nvidia"},
            "keyring": {"type": "path"},
            # A public key's fingerprint, not a secret.
            "keyring_fingerprint": {"type": "str", "no_log": False},
            "k3s_services": {"type": "list", "elements": "str", "default": ["k3s", "k3s-agent"]},
            "toolkit_changed": {"type": "bool", "default": False},
        },
        required_together=[("keyring", "keyring_fingerprint")],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module, HostProbe(module.run_command, module.get_bin_path)))
    except ProbeError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
