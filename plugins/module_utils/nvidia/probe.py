# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one adapter to the GPU host: runs lspci, nvidia-smi and gpg, reads k3s's containerd files (read-only).

It returns raw outputs; plugins/module_utils/nvidia/host.py decides. One error type: ProbeError.
"""

from __future__ import annotations

import os

K3S_CONTAINERD_DIR = "agent/etc/containerd"
# k3s renders config.toml from the first template it finds (containerd 1.x: config.toml.tmpl; containerd 2,
# k3s >= 1.31.6/1.32: config-v3.toml.tmpl); the generated file is config.toml in both eras.
K3S_TEMPLATES = ("config.toml.tmpl", "config-v3.toml.tmpl")


class ProbeError(RuntimeError):
    pass


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ProbeError(f"cannot read {path}: {exc}") from exc


class HostProbe:
    """run_command: AnsibleModule.run_command; get_bin_path: AnsibleModule.get_bin_path."""

    def __init__(self, run_command, get_bin_path):
        self._run = run_command
        self._bin = get_bin_path

    def lspci(self) -> dict:
        path = self._bin("lspci")
        if not path:
            return {"found": False, "rc": None, "stdout": "", "stderr": ""}
        rc, out, err = self._run([path, "-nn"])
        if rc != 0:
            raise ProbeError(f"lspci -nn failed (rc={rc}): {err.strip()[:300]}")
        return {"found": True, "rc": rc, "stdout": out, "stderr": err}

    def nvidia_smi(self) -> dict:
        path = self._bin("nvidia-smi")
        if not path:
            return {"found": False, "rc": None, "stdout": "", "stderr": ""}
        rc, out, err = self._run([path])
        return {"found": True, "rc": rc, "stdout": out, "stderr": err}

    def containerd_files(self, data_dir: str) -> dict:
        base = os.path.join(data_dir, K3S_CONTAINERD_DIR)
        config_path = os.path.join(base, "config.toml")
        templates = {}
        for name in K3S_TEMPLATES:
            path = os.path.join(base, name)
            if os.path.exists(path):
                templates[path] = _read(path)
        return {"config_path": config_path, "config_exists": os.path.exists(config_path),
                "config": _read(config_path), "templates": templates}

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def gpg_show_keys(self, keyring: str) -> str:
        path = self._bin("gpg")
        if not path:
            raise ProbeError("gpg is not installed: it is needed to check the keyring's fingerprint")
        rc, out, err = self._run([path, "--batch", "--show-keys", "--with-colons", keyring])
        if rc != 0:
            raise ProbeError(f"gpg --show-keys {keyring} failed (rc={rc}): {err.strip()[:300]}")
        return out

    def active_service(self, names: list) -> str:
        """The first of the systemd units that is active, '' when none is (or systemd is absent)."""
        path = self._bin("systemctl")
        if not path:
            return ""
        for name in names:
            rc, out, _err = self._run([path, "is-active", name])
            if rc == 0 and out.strip() == "active":
                return name
        return ""
