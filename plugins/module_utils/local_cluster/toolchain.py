# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Obtain the pinned control-plane binaries, built from Go modules and cached by version.

No package index ships kube-apiserver, kube-controller-manager or kube-scheduler, and
`go install` refuses k8s.io/kubernetes (its go.mod maps the staging modules with replace
directives). So each tool is built in a scratch Go module under the per-user cache, exactly
as kubernetes-sigs/scheduler-plugins does, and reused until its version changes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

# One place for every pinned version. The Go module proxy this project can reach serves
# these; `candidate_kubernetes_versions` falls back to neighbouring releases when a build fails.
PINNED_VERSIONS = {
    "kubernetes": "1.34.4",
    "etcd": "3.6.4",
    "kwok": "0.8.0",
    "helm": "3.19.5",
}

KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
GO_BUILD_ENV = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}


class ToolchainError(Exception):
    """A binary could not be obtained; the message carries the build errors."""


@dataclass
class Toolchain:
    """Paths of the binaries a local cluster needs, and the versions they report."""

    binaries: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    kwok_stages: list = field(default_factory=list)

    def path(self, name: str) -> str:
        return self.binaries[name]


def cache_root() -> str:
    """Per-user cache directory (APHEX_CACHE_DIR, else $XDG_CACHE_HOME/aphex-platform)."""
    explicit = os.environ.get("APHEX_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aphex-platform")


def parse_version(text: str) -> tuple:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.groups())


def candidate_kubernetes_versions(pinned: str, available: list, limit: int = 4) -> list:
    """Pinned version first, then the nearest stable releases: same minor (newest first), then
    the neighbouring minors. Pure, so the fallback order is unit-tested."""
    want = parse_version(pinned)
    stable = []
    for item in available:
        if re.fullmatch(r"v?\d+\.\d+\.\d+", item):
            stable.append(parse_version(item))

    def distance(version):
        same_minor = version[1] == want[1]
        return (0 if same_minor else 1, abs(version[1] - want[1]), -version[1], -version[2])

    ordered = [want] + sorted((v for v in set(stable) if v != want), key=distance)
    return [".".join(str(p) for p in v) for v in ordered[:limit]]


def _run(cmd: list, cwd: str, env: dict, log) -> str:
    log(f"$ {' '.join(cmd)}")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise ToolchainError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def _go_env(extra: dict | None = None) -> dict:
    go = shutil.which("go")
    if not go:
        raise ToolchainError(
            "Go is required to build the local cluster's binaries (kube-apiserver, etcd, kwok, helm) "
            "and was not found on PATH; install Go 1.24 or newer")
    env = dict(os.environ)
    env.update(GO_BUILD_ENV)
    env.update(extra or {})
    return env


def _install_dir(tool: str, version: str) -> str:
    return os.path.join(cache_root(), "bin", f"{tool}-v{version}")


def _publish(built: dict, target_dir: str) -> None:
    """Copy freshly built binaries into the versioned cache directory atomically."""
    os.makedirs(os.path.dirname(target_dir), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=os.path.basename(target_dir) + ".", dir=os.path.dirname(target_dir))
    for name, src in built.items():
        dst = os.path.join(staging, name)
        if os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    if os.path.isdir(target_dir):
        shutil.rmtree(target_dir)
    os.rename(staging, target_dir)


def _scratch_dir(name: str) -> str:
    path = os.path.join(cache_root(), "build", name)
    os.makedirs(path, exist_ok=True)
    for stale in ("go.mod", "go.sum"):
        if os.path.exists(os.path.join(path, stale)):
            os.remove(os.path.join(path, stale))
    return path


def scratch_module_edits(upstream_gomod: str, version: str) -> list:
    """`go mod edit` flags for a scratch module that builds k8s.io/kubernetes at `version`: the
    release's own go/godebug lines, and one replace per k8s.io module it requires at the
    placeholder v0.0.0 (its staging modules) pointing at the published v0.<minor>.<patch>."""
    edits = [f"-require=k8s.io/kubernetes@v{version}"]
    go_line = re.search(r"^go (\S+)", upstream_gomod, re.M)
    if go_line:
        edits.append(f"-go={go_line.group(1)}")
    godebug = re.search(r"^godebug (\S+)", upstream_gomod, re.M)
    if godebug:
        edits.append(f"-godebug={godebug.group(1)}")
    staging_version = "v0." + version.split(".", 1)[1]
    staging = sorted(set(re.findall(r"^\s*(?:require\s+)?(k8s\.io/[\w.\-/]+) v0\.0\.0\s*(?://.*)?$", upstream_gomod, re.M)))
    edits += [f"-replace={module}={module}@{staging_version}" for module in staging]
    return edits


def build_kubernetes(version: str, log) -> dict:
    """Build kube-apiserver, kube-controller-manager, kube-scheduler and kubectl at `version`.

    The replace list comes from that release's own go.mod: every k8s.io module it requires at
    the placeholder v0.0.0 is pinned to the matching published staging version v0.<minor>.<patch>.
    """
    env = _go_env()
    work = _scratch_dir(f"kubernetes-v{version}")
    info = json.loads(_run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@v{version}"], work, env, log))
    if info.get("Error"):
        raise ToolchainError(f"k8s.io/kubernetes@v{version}: {info['Error']}")
    with open(info["GoMod"], encoding="utf-8") as handle:
        upstream_gomod = handle.read()
    _run(["go", "mod", "init", "local/aphex-kubernetes-bins"], work, env, log)
    _run(["go", "mod", "edit", *scratch_module_edits(upstream_gomod, version)], work, env, log)

    major, minor = version.split(".")[:2]
    pairs = {"gitVersion": f"v{version}", "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    ldflags = ["-s", "-w"]
    for key, value in pairs.items():
        ldflags += [f"-X k8s.io/component-base/version.{key}={value}", f"-X k8s.io/client-go/pkg/version.{key}={value}"]
    out = os.path.join(work, "bin")
    _run(["go", "build", "-trimpath", "-tags", "selinux,notest,grpcnotrace", "-ldflags", " ".join(ldflags),
          "-o", out + "/", *(f"k8s.io/kubernetes/cmd/{cmd}" for cmd in KUBERNETES_COMMANDS)], work, env, log)
    return {cmd: os.path.join(out, cmd) for cmd in KUBERNETES_COMMANDS}


def build_etcd(version: str, log) -> dict:
    # etcd's server module has replace directives too, so `go install` refuses it; its published
    # go.mod requires real versions, so a scratch module that requires it builds without replaces.
    env = _go_env()
    work = _scratch_dir(f"etcd-v{version}")
    _run(["go", "mod", "init", "local/aphex-etcd"], work, env, log)
    _run(["go", "mod", "edit", f"-require=go.etcd.io/etcd/server/v3@v{version}"], work, env, log)
    out = os.path.join(work, "bin", "etcd")
    _run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "go.etcd.io/etcd/server/v3"], work, env, log)
    return {"etcd": out}


def _go_install(package: str, version: str, work: str, ldflags: str, log) -> str:
    gobin = os.path.join(work, "bin")
    env = _go_env({"GOBIN": gobin, "GOFLAGS": ""})
    _run(["go", "install", "-trimpath", "-ldflags", ldflags, f"{package}@v{version}"], work, env, log)
    return os.path.join(gobin, package.rsplit("/", 1)[-1])


def build_kwok(version: str, log) -> dict:
    work = _scratch_dir(f"kwok-v{version}")
    binary = _go_install("sigs.k8s.io/kwok/cmd/kwok", version, work, "-s -w", log)
    # kwok >= 0.8 has no built-in stages; the stage YAML ships inside the module zip.
    env = _go_env()
    module_dir = json.loads(_run(["go", "mod", "download", "-json", f"sigs.k8s.io/kwok@v{version}"],
                                 work, env, log))["Dir"]
    stages = os.path.join(work, "stages")
    os.makedirs(stages, exist_ok=True)
    for rel in KWOK_STAGES:
        shutil.copy(os.path.join(module_dir, "kustomize", "stage", rel), os.path.join(stages, os.path.basename(rel)))
    return {"kwok": binary, "stages": stages}


def build_helm(version: str, log) -> dict:
    work = _scratch_dir(f"helm-v{version}")
    ldflags = f"-s -w -X helm.sh/helm/v3/internal/version.version=v{version}"
    return {"helm": _go_install("helm.sh/helm/v3/cmd/helm", version, work, ldflags, log)}


def _available_kubernetes_versions(log) -> list:
    env = _go_env()
    with tempfile.TemporaryDirectory() as scratch:
        out = _run(["go", "list", "-m", "-versions", "k8s.io/kubernetes"], scratch, env, log)
    return out.split()[1:]


def _cached(tool: str, version: str, names: tuple) -> str | None:
    target = _install_dir(tool, version)
    if all(os.path.exists(os.path.join(target, name)) for name in names):
        return target
    return None


def ensure_kubernetes(version: str, log) -> tuple:
    """Return (directory, version actually built). Tries neighbouring releases when the pinned
    one does not build, and remembers the substitute so it is not retried on every run."""
    marker = os.path.join(cache_root(), "bin", f"kubernetes-v{version}.resolved")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            resolved = handle.read().strip()
        found = _cached("kubernetes", resolved, KUBERNETES_COMMANDS)
        if found:
            return found, resolved
    found = _cached("kubernetes", version, KUBERNETES_COMMANDS)
    if found:
        return found, version

    errors = []
    candidates = [version]
    for attempt in range(8):
        if attempt == 1:
            candidates = candidate_kubernetes_versions(version, _available_kubernetes_versions(log))
        if attempt >= len(candidates):
            break
        candidate = candidates[attempt]
        try:
            built = build_kubernetes(candidate, log)
        except ToolchainError as exc:
            errors.append(f"--- Kubernetes v{candidate} ---\n{exc}")
            log(f"build of Kubernetes v{candidate} failed, trying the next candidate")
            continue
        _publish(built, _install_dir("kubernetes", candidate))
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(candidate + "\n")
        return _install_dir("kubernetes", candidate), candidate
    raise ToolchainError("no Kubernetes version could be built:\n" + "\n".join(errors))


def ensure_tool(tool: str, version: str, builder, names: tuple, log) -> str:
    found = _cached(tool, version, names)
    if found:
        return found
    _publish(builder(version, log), _install_dir(tool, version))
    return _install_dir(tool, version)


def ensure_toolchain(versions: dict | None = None, log=None) -> Toolchain:
    """Make sure every binary exists in the cache (building what is missing) and return paths."""
    wanted = dict(PINNED_VERSIONS)
    wanted.update({k: v for k, v in (versions or {}).items() if v})
    log = log or (lambda message: None)

    kube_dir, kube_version = ensure_kubernetes(wanted["kubernetes"], log)
    etcd_dir = ensure_tool("etcd", wanted["etcd"], build_etcd, ("etcd",), log)
    kwok_dir = ensure_tool("kwok", wanted["kwok"], build_kwok, ("kwok", "stages"), log)
    helm_dir = ensure_tool("helm", wanted["helm"], build_helm, ("helm",), log)

    binaries = {cmd: os.path.join(kube_dir, cmd) for cmd in KUBERNETES_COMMANDS}
    binaries.update(etcd=os.path.join(etcd_dir, "etcd"), kwok=os.path.join(kwok_dir, "kwok"),
                    helm=os.path.join(helm_dir, "helm"))
    stages_dir = os.path.join(kwok_dir, "stages")
    stages = [os.path.join(stages_dir, os.path.basename(rel)) for rel in KWOK_STAGES]
    used = dict(wanted, kubernetes=kube_version)
    return Toolchain(binaries=binaries, versions=used, kwok_stages=stages)


def link_binaries(toolchain: Toolchain, bin_dir: str) -> None:
    """Expose the binaries in one directory (e.g. the virtualenv's bin) by symlink."""
    os.makedirs(bin_dir, exist_ok=True)
    for name in ("kubectl", "helm", "etcd", "kwok", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        link = os.path.join(bin_dir, name)
        if os.path.islink(link) or os.path.exists(link):
            if os.path.realpath(link) == os.path.realpath(toolchain.path(name)):
                continue
            os.remove(link)
        os.symlink(toolchain.path(name), link)
