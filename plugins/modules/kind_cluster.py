#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kind_cluster
short_description: Create, check or delete a kind cluster from a rendered config
version_added: 0.2.0
description:
  - Creates a kind (Kubernetes in Docker) cluster with a config rendered from the options, only when no cluster of
    that name exists (kind itself fails on an existing cluster).
  - An existing cluster is compared with the wanted config (node roles and count, node image, host ports, and the
    config it was created with). A difference is reported as a warning and in RV(drift); the cluster is deleted and
    created again only with O(recreate=true).
  - Writes the cluster's kubeconfig to O(kubeconfig) (its own file, context C(kind-<name>)).
  - O(registry_mirrors) (the C(aphex_registry_mirrors) product setting) becomes containerd's registry host directory,
    mounted read-only at C(/etc/containerd/certs.d) in every node, plus the containerd patch that points at it.
    Changing mirrors of a cluster created with mirrors needs no recreate (containerd reads the directory per pull).
  - The pinned kind and kubectl come from O(tools) (the C(tools) section of the collection's C(upstream/lock.yml)),
    taken from the cache, PATH (exact version), the official download (checked against the lock) or a build from the Go
    module proxy (module hash checked against the lock), in the order of O(binary_sources).
author:
  - aphex.platform maintainers (@aphex-platform)
attributes:
  check_mode:
    support: full
    description: Reports whether the cluster would be created, recreated or deleted; reads the container engine only.
  diff_mode:
    support: none
    description: The differences of an existing cluster are returned in RV(drift).
  platform:
    support: full
    platforms: posix
    description: Runs where the container engine is (docker or podman on PATH; DOCKER_HOST is honoured).
options:
  name:
    description: Cluster name (kind's C(--name)); node containers are C(<name>-control-plane), C(<name>-worker), ...
    type: str
    default: aphex
  state:
    description: V(present) creates the cluster unless it exists; V(absent) deletes it and its state directory.
    type: str
    choices: [present, absent]
    default: present
  node_image:
    description:
      - Node image of every node. Empty means kind's default for the pinned kind version (an official
        C(kindest/node) image pinned by digest).
    type: str
    default: ""
  workers:
    description: Number of worker nodes beside the control-plane node.
    type: int
    default: 0
  api_server_address:
    description: Host address the API server is published on.
    type: str
    default: 127.0.0.1
  api_server_port:
    description: Host port of the API server; V(0) lets kind pick a free one.
    type: int
    default: 0
  http_port:
    description: Host port mapped to port 80 of the control-plane node (the ingress controller); V(0) maps none.
    type: int
    default: 80
  https_port:
    description: Host port mapped to port 443 of the control-plane node; V(0) maps none.
    type: int
    default: 443
  ingress_listen_address:
    description: Host address of the O(http_port) and O(https_port) mappings.
    type: str
    default: 127.0.0.1
  extra_mounts:
    description: Host directories mounted in every node.
    type: list
    elements: dict
    default: []
    suboptions:
      host_path:
        description: Directory on the host.
        type: path
        required: true
      container_path:
        description: Path in the node.
        type: str
        required: true
      read_only:
        description: Mount read-only.
        type: bool
        default: false
  containerd_config_patches:
    description: TOML patches merged into each node's containerd config (kind's C(containerdConfigPatches)).
    type: list
    elements: str
    default: []
  kubeadm_config_patches:
    description: kubeadm config patches (kind's C(kubeadmConfigPatches)), for example API server OIDC flags.
    type: list
    elements: str
    default: []
  registry_mirrors:
    description:
      - Upstream registry to mirror, the C(aphex_registry_mirrors) setting. A value is the mirror's URL or a dict
        with C(endpoint) (URL or list), C(username) and C(password), C(ca) (PEM text), C(insecure_skip_verify).
      - Passwords are never logged or returned; the host files that carry them are mode 0600.
    type: dict
    default: {}
  restrict_oom_score_adj:
    description:
      - Set containerd's C(restrict_oom_score_adj) in the nodes. Needed only where the container engine runs without
        C(CAP_SYS_RESOURCE) (some VMs and nested containers), where every pod sandbox fails without it.
    type: bool
    default: false
  disable_default_cni:
    description: Do not install kind's default CNI (kindnetd); for node images that bring their own network config.
    type: bool
    default: false
  nvidia_runtime_class:
    description:
      - Add a simulated C(nvidia) runtime (containerd runtime C(nvidia) that runs runc) and the RuntimeClass
        C(nvidia) with handler C(nvidia), as the reference platform offers on kind for development. No GPU is involved.
    type: bool
    default: false
  recreate:
    description: Delete and create again a cluster whose config differs from the wanted one (its workloads are lost).
    type: bool
    default: false
  kubeconfig:
    description: Where the cluster's kubeconfig is written; default C(<state_dir>/kubeconfig).
    type: path
  state_dir:
    description:
      - Directory with the rendered config, the registry host directory and the kubeconfig.
      - Default C(<cache>/kind-clusters/<name>), cache = E(APHEX_CACHE_DIR), else C($XDG_CACHE_HOME/aphex-platform).
    type: path
  engine:
    description: Container engine; V(auto) takes docker, else podman (kind's experimental podman provider).
    type: str
    choices: [auto, docker, podman]
    default: auto
  tools:
    description:
      - The pinned tools, C(kind) and C(kubectl), as entries of the C(tools) section of the collection's
        C(upstream/lock.yml) (the role passes them with the C(aphex.platform.upstream_lock) lookup).
    type: dict
    required: true
  kind_binary:
    description: Use this kind binary (it must report the pinned version) instead of looking for one.
    type: path
  kubectl_binary:
    description: Use this kubectl binary (it must report the pinned version) instead of looking for one.
    type: path
  binary_sources:
    description: Where to look for kind and kubectl, in order.
    type: list
    elements: str
    choices: [cache, path, download, build]
    default: [cache, path, download, build]
  wait_timeout:
    description: Seconds to wait for the control plane (kind's C(--wait)) and for every node to be Ready.
    type: int
    default: 300
notes:
  - The node image must match the pinned kind version's expectations; kind's release notes list the official images.
  - With a remote Docker (DOCKER_HOST over TCP) the registry host directory must exist on the Docker host too.
seealso:
  - name: kind configuration
    description: The Cluster config this module renders.
    link: https://kind.sigs.k8s.io/docs/user/configuration/
  - name: containerd registry hosts
    description: The hosts.toml files registry mirrors become.
    link: https://github.com/containerd/containerd/blob/main/docs/hosts.md
"""

EXAMPLES = r"""
- name: A kind cluster with host ports 80/443 for the ingress controller
  aphex.platform.kind_cluster:
    name: aphex
    tools:
      kind: "{{ lookup('aphex.platform.upstream_lock', 'kind') }}"
      kubectl: "{{ lookup('aphex.platform.upstream_lock', 'kubectl') }}"
  register: kind

- name: Pull docker.io images through a mirror, one worker, other host ports
  aphex.platform.kind_cluster:
    name: dev
    workers: 1
    http_port: 8080
    https_port: 8443
    registry_mirrors:
      docker.io: https://mirror.example.com
    tools: "{{ kind_tools }}"

- name: Delete it
  aphex.platform.kind_cluster:
    name: dev
    state: absent
    tools: "{{ kind_tools }}"
"""

RETURN = r"""
kubeconfig:
  description: Path of the cluster's kubeconfig (context C(kind-<name>)).
  returned: always
  type: str
  sample: /home/me/.cache/aphex-platform/kind-clusters/aphex/kubeconfig
context:
  description: The kubeconfig context of the cluster.
  returned: always
  type: str
  sample: kind-aphex
exists:
  description: Whether the cluster exists after the task (before it, in check mode).
  returned: always
  type: bool
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: created
drift:
  description: How the existing cluster differs from the wanted config; empty when it does not.
  returned: always
  type: list
  elements: str
  sample: ["worker nodes: 0, wanted 1"]
config:
  description: The rendered kind Cluster config.
  returned: when O(state=present)
  type: dict
nodes:
  description: Names of the node containers.
  returned: always
  type: list
  elements: str
  sample: [aphex-control-plane]
binaries:
  description: The kind and kubectl used, with their source (cache, path, download, build, explicit).
  returned: when they were needed
  type: dict
  sample: {kind: {path: /home/me/.cache/aphex-platform/bin/kind-v0.33.0/kind, source: build, version: v0.33.0}}
"""

import json
import os
import shutil
import subprocess

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aphex.platform.plugins.module_utils.kind import tools as kind_tools
from ansible_collections.aphex.platform.plugins.module_utils.kind.config import (
    LABEL_CLUSTER,
    KindConfigError,
    build_config,
    drift,
    observed_from_inspect,
)
from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.toolchain import cache_root
from ansible_collections.aphex.platform.plugins.module_utils.registry_mirrors import (
    RegistryMirrorError,
    normalise,
    render_containerd_hosts,
)

NVIDIA_RUNTIME_CLASS = {
    "apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "nvidia", "labels": {
        "app.kubernetes.io/name": "nvidia-runtime", "app.kubernetes.io/component": "gpu",
        "app.kubernetes.io/part-of": "aphex-platform", "app.kubernetes.io/managed-by": "aphex.platform"}},
    "handler": "nvidia"}


class KindError(Exception):
    pass


class Engine:
    """The container engine kind drives; checked first so a missing one is named clearly."""

    def __init__(self, choice: str):
        self.name, self.path, self.env = None, None, dict(os.environ)
        candidates = ["docker", "podman"] if choice == "auto" else [choice]
        found = [(c, shutil.which(c)) for c in candidates if shutil.which(c)]
        if not found:
            raise KindError(
                "kind needs a container engine: " + (" nor ".join(candidates) if choice == "auto" else choice)
                + " was not found on PATH. Install Docker Engine (https://docs.docker.com/engine/install/) or Podman,"
                " or set engine: to the one you have")
        problems = []
        for name, path in found:
            proc = self._run([path, "info", "--format", "{{json .}}"])
            if proc.returncode == 0:
                self.name, self.path = name, path
                if name == "podman":
                    self.env["KIND_EXPERIMENTAL_PROVIDER"] = "podman"
                return
            where = f" (DOCKER_HOST={os.environ['DOCKER_HOST']})" if name == "docker" and os.environ.get("DOCKER_HOST") else ""
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            problems.append(f"{name} is installed ({path}) but its daemon does not answer{where}: {detail[0]}")
        raise KindError("kind needs a running container engine: " + "; ".join(problems)
                        + " (start it, for example `sudo systemctl start docker`, or point DOCKER_HOST at it)")

    def _run(self, cmd: list, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=getattr(self, "env", None),
                              check=False)

    def node_containers(self, cluster: str) -> list:
        proc = self._run([self.path, "ps", "-a", "--filter", f"label={LABEL_CLUSTER}={cluster}", "--format", "{{.ID}}"])
        if proc.returncode != 0:
            raise KindError(f"{self.name} ps failed: {proc.stderr.strip()}")
        ids = proc.stdout.split()
        if not ids:
            return []
        proc = self._run([self.path, "inspect", *ids])
        if proc.returncode != 0:
            raise KindError(f"{self.name} inspect failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)


def _call(cmd: list, env: dict, what: str, stdin: str | None = None, timeout: int | None = None) -> str:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, check=False, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise KindError(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _write(path: str, content: str, mode: int = 0o644) -> bool:
    """Write when different; return whether it changed."""
    if _read(path) == content and (os.stat(path).st_mode & 0o777) == mode:
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def sync_tree(root: str, files: dict, mode: int) -> bool:
    """Make `root` hold exactly `files` (relative path -> content); return whether anything changed."""
    changed = False
    for rel, content in files.items():
        changed |= _write(os.path.join(root, rel), content, mode)
    if os.path.isdir(root):
        for dirpath, _dirs, names in os.walk(root, topdown=False):
            for name in names:
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                if rel not in files:
                    os.remove(os.path.join(dirpath, name))
                    changed = True
            if dirpath != root and not os.listdir(dirpath):
                os.rmdir(dirpath)
    return changed


class KindCluster:
    def __init__(self, module: AnsibleModule):
        self.module = module
        p = module.params
        self.p = p
        self.name = p["name"]
        self.state_dir = p["state_dir"] or os.path.join(cache_root(), "kind-clusters", self.name)
        self.kubeconfig = p["kubeconfig"] or os.path.join(self.state_dir, "kubeconfig")
        self.record = os.path.join(self.state_dir, "kind-config.json")
        self.certs_dir = os.path.join(self.state_dir, "containerd-certs.d")
        self.binaries = {}
        self.engine = None

    def tool(self, name: str) -> str:
        if name not in self.binaries:
            entry = (self.p["tools"] or {}).get(name)
            if not isinstance(entry, dict) or not entry.get("version"):
                raise KindError(f"tools.{name}: the lock entry of {name} is missing (lookup('aphex.platform.upstream_lock', '{name}'))")
            try:
                found = kind_tools.ensure(entry, explicit=self.p[f"{name}_binary"] or "",
                                          sources=self.p["binary_sources"], log=self.module.debug)
            except kind_tools.ToolError as exc:
                raise KindError(str(exc)) from exc
            for warning in found.pop("warnings"):
                self.module.warn(warning)
            self.binaries[name] = found
        return self.binaries[name]["path"]

    def kind(self, *args: str, timeout: int | None = None) -> str:
        return _call([self.tool("kind"), *args], self.engine.env, f"kind {args[0]}", timeout=timeout)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        return _call([self.tool("kubectl"), "--kubeconfig", self.kubeconfig, *args], self.engine.env,
                     f"kubectl {args[0]}", stdin=stdin)

    # --- the steps ---------------------------------------------------------------------------------
    def wanted(self) -> tuple:
        try:
            for item in normalise(self.p["registry_mirrors"], setting="registry_mirrors"):
                if item["password"]:
                    self.module.no_log_values.add(item["password"])
            rendered = render_containerd_hosts(self.p["registry_mirrors"])
            certs = self.certs_dir if rendered["files"] else None
            return build_config(self.p, certs, rendered["config_patch"]), rendered
        except (RegistryMirrorError, KindConfigError) as exc:
            raise KindError(str(exc)) from exc

    def create(self, config: dict, rendered: dict) -> None:
        sync_tree(self.certs_dir, rendered["files"], 0o600 if rendered["secret"] else 0o644)
        os.makedirs(self.state_dir, exist_ok=True)
        config_path = os.path.join(self.state_dir, "kind-config.yaml")
        # JSON is YAML: kind reads it as is.
        _write(config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")
        if os.path.exists(self.kubeconfig):
            os.remove(self.kubeconfig)
        os.makedirs(os.path.dirname(self.kubeconfig), exist_ok=True)
        timeout = self.p["wait_timeout"]
        self.kind("create", "cluster", "--name", self.name, "--config", config_path, "--kubeconfig", self.kubeconfig,
                  "--wait", f"{timeout}s", timeout=timeout + 300)
        # kind create merges into the file in its own layout; `kind get kubeconfig` is what later runs compare with.
        self.export_kubeconfig()
        _write(self.record, json.dumps(config, indent=2, sort_keys=True) + "\n")

    def delete(self) -> None:
        self.kind("delete", "cluster", "--name", self.name, "--kubeconfig", self.kubeconfig, timeout=300)

    def export_kubeconfig(self) -> bool:
        content = self.kind("get", "kubeconfig", "--name", self.name)
        return _write(self.kubeconfig, content, 0o600)

    def wait_ready(self) -> None:
        self.kubectl("wait", "--for=condition=Ready", "nodes", "--all", f"--timeout={self.p['wait_timeout']}s")

    def runtime_class(self) -> bool:
        proc = subprocess.run([self.tool("kubectl"), "--kubeconfig", self.kubeconfig, "get", "runtimeclass", "nvidia",
                               "-o", "json"], capture_output=True, text=True, env=self.engine.env, check=False)
        if proc.returncode == 0 and json.loads(proc.stdout).get("handler") == "nvidia":
            return False
        self.kubectl("apply", "--server-side", "--field-manager=aphex-platform", "-f", "-",
                     stdin=json.dumps(NVIDIA_RUNTIME_CLASS))
        return True

    # --- the state machine -------------------------------------------------------------------------
    def run(self) -> dict:
        check = self.module.check_mode
        result = {"changed": False, "kubeconfig": self.kubeconfig, "context": f"kind-{self.name}", "drift": [],
                  "action": "none"}
        try:
            self.engine = Engine(self.p["engine"])
        except KindError:
            if self.p["state"] == "absent":
                result.update(exists=False, nodes=[], action="none (no container engine, so no cluster)")
                return result
            raise
        containers = self.engine.node_containers(self.name)
        exists = bool(containers)

        if self.p["state"] == "absent":
            result.update(exists=exists, nodes=[c["Name"].lstrip("/") for c in containers])
            if exists:
                result.update(changed=True, action="deleted")
                if not check:
                    self.delete()
                    result.update(exists=False, nodes=[])
            if os.path.isdir(self.state_dir):
                result["changed"] = True
                if not check:
                    shutil.rmtree(self.state_dir)
            result["binaries"] = self.binaries
            return result

        config, rendered = self.wanted()
        result["config"] = config
        if exists:
            recorded = json.loads(_read(self.record) or "null")
            found = drift(config, observed_from_inspect(containers), recorded)
            result["drift"] = found
            if found and self.p["recreate"]:
                result.update(changed=True, action="recreated")
                if not check:
                    self.delete()
                    self.create(config, rendered)
            elif found:
                self.module.warn(f"kind cluster {self.name!r} exists but differs from the wanted config: "
                                 + "; ".join(found) + ". It was left as it is; set recreate: true "
                                 "(kind_cluster_recreate: true) to delete and create it again (its workloads are lost)")
            if not check and result["action"] == "none":
                mode = 0o600 if rendered["secret"] else 0o644
                # Mirror endpoints and credentials apply in place: containerd reads the hosts directory per pull.
                if sync_tree(self.certs_dir, rendered["files"], mode):
                    result.update(changed=True, action="registry mirrors updated")
                if self.export_kubeconfig():
                    result["changed"] = True
                    if result["action"] == "none":
                        result["action"] = "kubeconfig written"
            elif check and not os.path.exists(self.kubeconfig):
                result["changed"] = True
        else:
            result.update(changed=True, action="created")
            if not check:
                self.create(config, rendered)
        if not check:
            self.wait_ready()
            if self.p["nvidia_runtime_class"] and self.runtime_class():
                result["changed"] = True
            containers = self.engine.node_containers(self.name)
        result.update(exists=bool(containers) or (check and result["action"] == "created"),
                      nodes=sorted(c["Name"].lstrip("/") for c in containers), binaries=self.binaries)
        return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "default": "aphex"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "node_image": {"type": "str", "default": ""},
            "workers": {"type": "int", "default": 0},
            "api_server_address": {"type": "str", "default": "127.0.0.1"},
            "api_server_port": {"type": "int", "default": 0},
            "http_port": {"type": "int", "default": 80},
            "https_port": {"type": "int", "default": 443},
            "ingress_listen_address": {"type": "str", "default": "127.0.0.1"},
            "extra_mounts": {"type": "list", "elements": "dict", "default": [], "options": {
                "host_path": {"type": "path", "required": True},
                "container_path": {"type": "str", "required": True},
                "read_only": {"type": "bool", "default": False}}},
            "containerd_config_patches": {"type": "list", "elements": "str", "default": []},
            "kubeadm_config_patches": {"type": "list", "elements": "str", "default": []},
            "registry_mirrors": {"type": "dict", "default": {}},
            "restrict_oom_score_adj": {"type": "bool", "default": False},
            "disable_default_cni": {"type": "bool", "default": False},
            "nvidia_runtime_class": {"type": "bool", "default": False},
            "recreate": {"type": "bool", "default": False},
            "kubeconfig": {"type": "path"},
            "state_dir": {"type": "path"},
            "engine": {"type": "str", "choices": ["auto", "docker", "podman"], "default": "auto"},
            "tools": {"type": "dict", "required": True},
            "kind_binary": {"type": "path"},
            "kubectl_binary": {"type": "path"},
            "binary_sources": {"type": "list", "elements": "str", "choices": ["cache", "path", "download", "build"],
                               "default": ["cache", "path", "download", "build"]},
            "wait_timeout": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**KindCluster(module).run())
    except (KindError, subprocess.TimeoutExpired) as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
