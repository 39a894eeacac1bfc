# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nvidia_gpu_host's wiring: the probe adapter fed with captured outputs, the module's result."""
from __future__ import annotations

from pathlib import Path

from ansible_collections.aphex.platform.plugins.module_utils.nvidia import host
from ansible_collections.aphex.platform.plugins.module_utils.nvidia.probe import HostProbe
from ansible_collections.aphex.platform.plugins.modules import nvidia_gpu_host

FIXTURES = Path(__file__).parent.parent / "module_utils" / "nvidia" / "fixtures"


def captured(name):
    return host.strip_comment_header((FIXTURES / name).read_text())


class Module:
    def __init__(self, **params):
        self.params = {"k3s_data_dir": "", "runtime_name": "nvidia", "keyring": None, "keyring_fingerprint": None,
                       "k3s_services": ["k3s", "k3s-agent"], "toolkit_changed": False, **params}


def probe_for(tmp_path, smi_name, config_name, active="k3s-agent", colons=""):
    config_dir = tmp_path / "agent" / "etc" / "containerd"
    config_dir.mkdir(parents=True)
    if config_name:
        (config_dir / "config.toml").write_text(captured(config_name))
    outputs = {
        "lspci": (0, captured("lspci-nn-egpu-intel-two-nvidia.txt"), ""),
        "nvidia-smi": (0, captured(smi_name), "") if smi_name.startswith("nvidia-smi-k3s")
        else (9, captured(smi_name), ""),
        "gpg": (0, colons, ""),
    }
    calls = []

    def run_command(argv):
        calls.append(argv)
        if argv[0] == "/bin/systemctl":
            return (0, "active\n", "") if argv[2] == active else (3, "inactive\n", "")
        return outputs[argv[0].rsplit("/", 1)[-1]]

    return HostProbe(run_command, lambda name: f"/bin/{name}"), calls


def test_good_host_after_toolkit_install_needs_no_restart(tmp_path):
    probe, calls = probe_for(tmp_path, "nvidia-smi-k3s-11088-v100-560.txt", "containerd-k3s-v2-grep-usr-bin.txt")
    result = nvidia_gpu_host.run(Module(k3s_data_dir=str(tmp_path), toolkit_changed=True), probe)
    assert result["problems"] == [] and result["k3s_service"] == "k3s-agent" and result["restart_needed"] is False
    assert ["/bin/lspci", "-nn"] in calls and ["/bin/nvidia-smi"] in calls


def test_fresh_toolkit_without_runtime_restarts_the_running_unit(tmp_path):
    probe, _calls = probe_for(tmp_path, "nvidia-smi-k3s-11088-v100-560.txt", None, active="k3s")
    result = nvidia_gpu_host.run(Module(k3s_data_dir=str(tmp_path), toolkit_changed=True), probe)
    assert result["containerd"]["config_exists"] is False and result["restart_needed"] is True
    assert result["k3s_service"] == "k3s"


def test_broken_driver_and_operator_are_problems(tmp_path):
    probe, _calls = probe_for(tmp_path, "nvidia-smi-failed-version-mismatch.txt",
                              "containerd-k3s-v2-operator-toolkit.toml")
    result = nvidia_gpu_host.run(Module(k3s_data_dir=str(tmp_path)), probe)
    assert result["problems"][0].startswith("NVIDIA driver: missing matching driver")
    assert any("/usr/local/nvidia/toolkit, the GPU Operator's toolkit" in p for p in result["problems"])


def test_keyring_fingerprint(tmp_path):
    probe, calls = probe_for(tmp_path, "nvidia-smi-k3s-11088-v100-560.txt", None,
                             colons=captured("gpg-show-keys-colons-local.txt"))
    result = nvidia_gpu_host.run(Module(k3s_data_dir=str(tmp_path), keyring="/k.asc",
                                        keyring_fingerprint="C50686E435E98A573DE47418AA753F30E1765F6A"), probe)
    assert result["keyring_verified"] is True
    assert ["/bin/gpg", "--batch", "--show-keys", "--with-colons", "/k.asc"] in calls
