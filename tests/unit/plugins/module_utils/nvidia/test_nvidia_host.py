# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nvidia_gpu role's host decisions, from outputs captured on real machines (fixtures/, each citing its source)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.nvidia import host

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    text = (FIXTURES / name).read_text()
    assert text.startswith("# source: "), f"{name} must cite its source on its first line"
    return host.strip_comment_header(text)


def test_every_fixture_cites_its_source():
    for path in FIXTURES.iterdir():
        first = path.read_text().splitlines()[0]
        assert first.startswith("# source: ") and len(first) > 30, path.name


# --- lspci -----------------------------------------------------------------------------------------------------

def test_lspci_nn_picks_the_nvidia_display_controllers_only():
    devices = host.parse_lspci(fixture("lspci-nn-egpu-intel-two-nvidia.txt"))
    assert [d["slot"] for d in devices] == ["00:02.0", "00:1c.5", "02:00.0", "08:00.0"]
    assert devices[2]["class_id"] == "0302" and devices[2]["vendor_id"] == "10de" and devices[2]["device_id"] == "174d"
    assert devices[1]["rev"] == "f0"
    gpus = host.nvidia_gpus(devices)
    assert [(g["slot"], g["model"], g["device_id"]) for g in gpus] == [
        ("02:00.0", "GeForce MX130", "174d"), ("08:00.0", "GeForce GTX 970", "13c2")]


def test_plain_lspci_without_ids_still_finds_the_gpu():
    gpus = host.nvidia_gpus(host.parse_lspci(fixture("lspci-k3s-11088-tesla-v100.txt")))
    assert gpus == [{"slot": "00:1e.0", "model": "Tesla V100 SXM2 16GB", "chip": "GV100GL [Tesla V100 SXM2 16GB]",
                     "device_id": "", "class_name": "3D controller"}]


def test_domain_prefixed_slots_and_devices_pci_ids_does_not_name():
    gpus = host.nvidia_gpus(host.parse_lspci(fixture("lspci-bigdata-133-unnamed-devices.txt")))
    assert [(g["slot"], g["model"]) for g in gpus] == [("0000:5a:00.0", "Device 1db6"), ("0000:5e:00.0", "Device 1db6")]


def test_intel_display_controller_is_not_an_nvidia_gpu():
    gpus = host.nvidia_gpus(host.parse_lspci(fixture("lspci-hyprland-1041-display-class.txt")))
    assert [(g["slot"], g["model"]) for g in gpus] == [("01:00.0", "GeForce RTX 3080 Ti")]


def test_nvidia_audio_function_is_not_a_gpu():
    # The HDMI audio function NVIDIA boards expose (class 0403) must not count as a GPU.
    line = "01:00.1 Audio device [0403]: NVIDIA Corporation GA102 High Definition Audio Controller [10de:1aef] (rev a1)"
    assert host.nvidia_gpus(host.parse_lspci(line)) == []


def test_no_lspci_output_means_no_gpu_and_the_report_says_so():
    report = host.host_report("", {"found": True, "rc": 0, "stdout": fixture("nvidia-smi-rtx4090-545.txt")}, "", {})
    assert report["gpus"] == []
    assert report["problems"][0].startswith("no NVIDIA GPU found by lspci")


# --- nvidia-smi ------------------------------------------------------------------------------------------------

def test_smi_summary_of_a_560_driver():
    summary = host.parse_smi_summary(fixture("nvidia-smi-k3s-11088-v100-560.txt"))
    assert summary == {"driver_version": "560.35.03", "cuda_version": "12.6",
                       "gpus": [{"index": 0, "name": "Tesla V100-SXM2-16GB", "bus_id": "00000000:00:1E.0"}]}


def test_smi_summary_of_a_545_driver_with_processes_table():
    summary = host.parse_smi_summary(fixture("nvidia-smi-rtx4090-545.txt"))
    assert summary["driver_version"] == "545.23.08" and summary["cuda_version"] == "12.3"
    assert summary["gpus"] == [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "bus_id": "00000000:0A:00.0"}]


def test_smi_summary_of_an_old_driver_without_cuda_version():
    summary = host.parse_smi_summary(fixture("nvidia-smi-cbio-38-331-no-cuda.txt"))
    assert summary["driver_version"] == "331.62" and summary["cuda_version"] == ""
    assert [(g["index"], g["name"], g["bus_id"]) for g in summary["gpus"]] == [
        (0, "GeForce GTX 680", "0000:03:00.0"), (1, "GeForce GTX 680", "0000:04:00.0")]


def test_smi_query_csv_noheader():
    fields = ("power.limit,power.min_limit,power.max_limit,memory.total,vbios_version,driver_version,name,gpu_uuid,"
              "power.draw,temperature.gpu,temperature.memory,clocks.current.graphics,clocks.sm,clocks.mem,"
              "utilization.gpu,utilization.memory,fan.speed,pcie.link.width.current,pstate").split(",")
    rows = host.parse_smi_query_csv(fixture("nvidia-smi-query-csv-noheader-gpu-utils-83.txt"), fields)
    assert len(rows) == 1
    assert rows[0]["name"] == "GeForce RTX 2080" and rows[0]["driver_version"] == "440.64"
    assert rows[0]["gpu_uuid"] == "GPU-22b2c6ac-2d49-4863-197c-9c469071178a" and rows[0]["temperature.memory"] == "N/A"


def test_smi_query_csv_wrong_field_count_names_the_line():
    with pytest.raises(host.NvidiaParseError, match="line 1 has 19 values, expected 2"):
        host.parse_smi_query_csv(fixture("nvidia-smi-query-csv-noheader-gpu-utils-83.txt"), ["name", "uuid"])


def test_smi_without_banner_is_a_parse_error():
    with pytest.raises(host.NvidiaParseError, match="no 'NVIDIA-SMI"):
        host.parse_smi_summary(fixture("nvidia-smi-failed-no-driver.txt"))


@pytest.mark.parametrize("name, rc, missing, hint", [
    ("nvidia-smi-failed-no-driver.txt", 9, "kernel module", "lsmod | grep nvidia"),
    ("nvidia-smi-failed-version-mismatch.txt", 18, "matching driver", "reboot"),
])
def test_smi_failures_name_what_is_missing(name, rc, missing, hint):
    status = host.driver_status({"found": True, "rc": rc, "stdout": fixture(name), "stderr": ""})
    assert status["ok"] is False and status["missing"] == missing and hint in status["message"]


def test_missing_nvidia_smi_binary_is_a_missing_driver():
    status = host.driver_status({"found": False, "rc": None, "stdout": "", "stderr": ""})
    assert status["missing"] == "driver" and "not installed" in status["message"]


def test_working_driver_reports_versions_and_gpus():
    status = host.driver_status({"found": True, "rc": 0, "stdout": fixture("nvidia-smi-k3s-11088-v100-560.txt")})
    assert status["ok"] and status["driver_version"] == "560.35.03" and len(status["gpus"]) == 1


# --- containerd config -----------------------------------------------------------------------------------------

def test_k3s_generated_v2_config_with_nvidia_runtime():
    status = host.nvidia_runtime_status(fixture("containerd-k3s-v2-operator-toolkit.toml"))
    assert status["present"] and status["runtime_type"] == "io.containerd.runc.v2"
    assert status["binary_name"] == "/usr/local/nvidia/toolkit/nvidia-container-runtime"
    assert status["operator_toolkit"] == ["nvidia"] and status["default_runtime"] == ""
    runtimes = host.containerd_runtimes(fixture("containerd-k3s-v2-operator-toolkit.toml"))
    assert set(runtimes) == {"runc", "nvidia", "__default__"}


def test_k3s_detected_toolkit_from_nvidias_package():
    status = host.nvidia_runtime_status(fixture("containerd-k3s-v2-grep-usr-bin.txt"))
    assert status["present"] and status["binary_name"] == "/usr/bin/nvidia-container-runtime"
    assert status["operator_toolkit"] == [] and status["message"] == ""


def test_legacy_v1_tables_of_older_k3s():
    status = host.nvidia_runtime_status(fixture("containerd-k3s-v1-grep-legacy.txt"))
    assert status["present"] and status["binary_name"] == "/usr/bin/nvidia-container-runtime"


def test_containerd_2_version_3_tables():
    status = host.nvidia_runtime_status(fixture("containerd-v3-gpu-operator-1374.toml"))
    assert status["present"] and status["operator_toolkit"] == ["nvidia", "nvidia-cdi"]
    assert status["nvidia_runtimes"] == ["nvidia", "nvidia-cdi"]
    # The runc binaryName key of the same table (lower case) is not the runtime's BinaryName.
    assert status["binary_name"] == "/usr/local/nvidia/toolkit/nvidia-container-runtime"


def test_config_without_nvidia_runtime_says_restart_after_toolkit_install():
    marker = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]'
    text = fixture("containerd-k3s-v2-operator-toolkit.toml").split(marker, maxsplit=1)[0]
    status = host.nvidia_runtime_status(text)
    assert not status["present"] and "restart k3s" in status["message"]
    assert host.restart_needed(True, status, k3s_running=True) is True
    assert host.restart_needed(False, status, k3s_running=True) is False
    assert host.restart_needed(True, status, k3s_running=False) is False
    assert host.restart_needed(True, host.nvidia_runtime_status(fixture("containerd-k3s-v2-grep-usr-bin.txt")),
                               k3s_running=True) is False


def test_runtime_named_by_another_handler():
    status = host.nvidia_runtime_status(fixture("containerd-v3-gpu-operator-1374.toml"), runtime_name="nvidia-cdi")
    assert status["binary_name"].endswith("nvidia-container-runtime.cdi")


# --- GPU Operator ----------------------------------------------------------------------------------------------

def test_operator_toolkit_in_generated_config_is_refused():
    reasons = host.gpu_operator_conflicts({"containerd_config": fixture("containerd-k3s-v2-operator-toolkit.toml")})
    assert len(reasons) == 1 and "/usr/local/nvidia/toolkit" in reasons[0]


def test_nvidias_packaged_toolkit_is_not_a_conflict():
    assert host.gpu_operator_conflicts({"containerd_config": fixture("containerd-k3s-v2-grep-usr-bin.txt"),
                                        "toolkit_dir_exists": False, "templates": {}}) == []


def test_operator_signs_on_host_and_in_cluster():
    import yaml  # the fixture is a real `kubectl get runtimeclass -o yaml`
    runtime_class = yaml.safe_load(fixture("runtimeclass-gpu-operator-owned.yaml"))
    reasons = host.gpu_operator_conflicts(
        {"toolkit_dir_exists": True, "templates": {"/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl":
                                                   '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]'}},
        {"toolkit_daemonsets": ["gpu-operator/nvidia-container-toolkit-daemonset"],
         "cluster_policies": ["clusterpolicies.nvidia.com"],
         "runtime_class_owners": host.runtime_class_owners(runtime_class)})
    assert len(reasons) == 5
    assert "RuntimeClass nvidia is owned by ClusterPolicy/cluster-policy (the GPU Operator)" in reasons
    assert any("config.toml.tmpl exists" in r for r in reasons)


def test_template_without_nvidia_is_not_a_conflict():
    assert host.gpu_operator_conflicts({"templates": {"/x/config-v3.toml.tmpl": '{{ template "base" . }}'}}) == []


# --- gpg -------------------------------------------------------------------------------------------------------

def test_keyring_fingerprint_check_on_real_gpg_output():
    colons = fixture("gpg-show-keys-colons-local.txt")
    assert host.gpg_fingerprints(colons) == ["C50686E435E98A573DE47418AA753F30E1765F6A"]
    assert host.keyring_verified(colons, "C506 86E4 35E9 8A57 3DE4  7418 AA75 3F30 E176 5F6A")
    assert not host.keyring_verified(colons, "C95B321B61E88C1809C4F759DDCAE044F796ECB0")
    assert not host.keyring_verified(colons, "")
    # The uid record's hash field is not a fingerprint.
    assert not host.keyring_verified(colons, "331F7EAF079D184A8DAA080183927508B5B09DFE")


# --- report ----------------------------------------------------------------------------------------------------

def test_host_report_of_a_good_host():
    report = host.host_report(fixture("lspci-nn-egpu-intel-two-nvidia.txt"),
                              {"found": True, "rc": 0, "stdout": fixture("nvidia-smi-rtx4090-545.txt")},
                              fixture("containerd-k3s-v2-grep-usr-bin.txt"), {"toolkit_dir_exists": False})
    assert report["problems"] == [] and report["containerd"]["present"] and len(report["gpus"]) == 2


def test_host_report_lists_every_problem_in_order():
    report = host.host_report(fixture("lspci-k3s-11088-tesla-v100.txt"),
                              {"found": True, "rc": 9, "stdout": fixture("nvidia-smi-failed-no-driver.txt")},
                              fixture("containerd-k3s-v2-operator-toolkit.toml"), {"toolkit_dir_exists": True})
    assert report["problems"][0].startswith("NVIDIA driver: missing kernel module")
    assert [p.split(":")[0] for p in report["problems"]] == ["NVIDIA driver", "GPU Operator", "GPU Operator"]
