# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pinned kind and kubectl binaries: from the cache, PATH, the official download or a Go module build.

Pins come from the `tools` section of the collection's upstream/lock.yml (passed in by the role). Every binary
ends up in the per-user cache by version (<cache>/bin/<tool>-<version>/<tool>), the directory the local cluster's
toolchain uses, so kubectl v1.34.4 built for the local cluster is reused here and the other way round.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile

from ansible.module_utils.urls import open_url

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster import toolchain

SOURCES = ("path", "cache", "download", "build")


class ToolError(Exception):
    pass


def platform_key() -> tuple:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return platform.system().lower(), arch


def reported_version(tool: str, path: str) -> str | None:
    """The version a binary reports (kind version / kubectl version --client), or None."""
    cmd = [path, "version"] if tool == "kind" else [path, "version", "--client", "-o", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    if tool == "kubectl":
        try:
            return json.loads(proc.stdout)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError):
            return None
    match = re.search(r"\bv\d+\.\d+\.\d+\S*", proc.stdout)
    return match.group(0) if match else None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_path(tool: dict) -> str:
    return os.path.join(toolchain.cache_root(), "bin", f"{tool['name']}-{tool['version']}", tool["name"])


def _install(src: str, tool: dict) -> str:
    target = _cache_path(tool)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = target + ".tmp"
    shutil.copy2(src, tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
    return target


def _fetch(url: str, timeout: int) -> bytes:
    with open_url(url, timeout=timeout) as response:
        return response.read()


def download(tool: dict, timeout: int, log) -> tuple:
    """Download the official binary; verify it against the lock, else against the publisher's checksum file.
    Returns (path, warnings)."""
    osname, arch = platform_key()
    fmt = {"version": tool["version"], "os": osname, "arch": arch}
    url = tool["url_template"].format(**fmt)
    warnings = []
    pinned = (tool.get("sha256") or {}).get(f"{osname}-{arch}")
    if not pinned:
        checksum_url = tool["checksum_url_template"].format(**fmt)
        pinned = _fetch(checksum_url, timeout).decode().split()[0].strip().lower()
        warnings.append(f"{tool['name']} {tool['version']}: upstream/lock.yml pins no sha256 for {osname}-{arch}; "
                        f"verified against the publisher's checksum file {checksum_url}")
    log(f"download {url}")
    data = _fetch(url, timeout)
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned:
        raise ToolError(f"{url}: sha256 {digest} does not match the pinned {pinned}")
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(data)
    try:
        return _install(handle.name, tool), warnings
    finally:
        os.unlink(handle.name)


def build(tool: dict, log) -> str:
    """Build from the Go module proxy; the module's hash must equal the lock's go_sum."""
    version = tool["version"]
    if tool["name"] == "kubectl":
        directory, built = toolchain.ensure_kubernetes(version.lstrip("v"), log)
        if "v" + built != version:
            raise ToolError(f"kubectl {version} did not build (the toolchain fell back to v{built})")
        return _install(os.path.join(directory, "kubectl"), tool)
    env = toolchain._go_env()  # pylint: disable=protected-access
    work = toolchain._scratch_dir(f"{tool['name']}-{version}")  # pylint: disable=protected-access
    run = toolchain._run  # pylint: disable=protected-access
    info = json.loads(run(["go", "mod", "download", "-json", f"{tool['go_module']}@{version}"], work, env, log))
    if info.get("Sum") != tool.get("go_sum"):
        raise ToolError(f"{tool['go_module']}@{version}: module hash {info.get('Sum')} does not match the "
                        f"lock's go_sum {tool.get('go_sum')}")
    run(["go", "mod", "init", f"local/aphex-{tool['name']}"], work, env, log)
    run(["go", "mod", "edit", f"-require={tool['go_module']}@{version}"], work, env, log)
    out = os.path.join(work, "bin", tool["name"])
    run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, tool["go_package"]], work, env, log)
    return _install(out, tool)


def ensure(tool: dict, explicit: str = "", sources=SOURCES, timeout: int = 60, log=None) -> dict:
    """Return {"path", "source", "version", "warnings"} for the pinned tool, trying `sources` in order."""
    log = log or (lambda message: None)
    want = tool["version"]
    if explicit:
        found = reported_version(tool["name"], explicit)
        if found != want:
            raise ToolError(f"{explicit} reports {tool['name']} {found or '(no version)'}; the pinned version is {want}")
        return {"path": explicit, "source": "explicit", "version": want, "warnings": []}
    errors = []
    for source in sources:
        if source == "cache":
            path = _cache_path(tool)
            if os.path.isfile(path) and reported_version(tool["name"], path) == want:
                return {"path": path, "source": "cache", "version": want, "warnings": []}
        elif source == "path":
            path = shutil.which(tool["name"])
            if path:
                found = reported_version(tool["name"], path)
                if found == want:
                    return {"path": path, "source": "path", "version": want, "warnings": []}
                errors.append(f"PATH: {path} is {found or 'of unknown version'}, not {want}")
            else:
                errors.append(f"PATH: no {tool['name']}")
        elif source == "download":
            try:
                path, warnings = download(tool, timeout, log)
                return {"path": path, "source": "download", "version": want, "warnings": warnings}
            except (OSError, ValueError, IndexError, ToolError) as exc:
                errors.append(f"download: {exc}")
        elif source == "build":
            if not shutil.which("go"):
                errors.append("build: Go is not installed")
                continue
            try:
                return {"path": build(tool, log), "source": "build", "version": want, "warnings": []}
            except (toolchain.ToolchainError, ToolError, OSError, ValueError) as exc:
                errors.append(f"build: {exc}")
    raise ToolError(f"no {tool['name']} {want}: " + "; ".join(errors))
