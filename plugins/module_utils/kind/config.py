# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kind cluster config from the role's settings, and how an existing cluster differs from it (pure)."""

from __future__ import annotations

import hashlib
import json

CERTS_DIR = "/etc/containerd/certs.d"
NVIDIA_PATCH = (
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\n'
    '  runtime_type = "io.containerd.runc.v2"\n'
)
RESTRICT_OOM_PATCH = '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n'
# Container labels kind puts on its node containers.
LABEL_CLUSTER = "io.x-k8s.kind.cluster"
LABEL_ROLE = "io.x-k8s.kind.role"


class KindConfigError(ValueError):
    pass


def build_config(params: dict, certs_host_dir: str | None = None, mirrors_patch: str = "") -> dict:
    """The kind `Cluster` object (v1alpha4) for the module's params.

    certs_host_dir: host directory with the rendered containerd registry hosts (aphex_registry_mirrors), mounted
    read-only at /etc/containerd/certs.d in every node; mirrors_patch: the containerd patch that points at it."""
    workers = params.get("workers") or 0
    if workers < 0:
        raise KindConfigError("workers: must be 0 or more")
    image = params.get("node_image") or None
    mounts = []
    for index, mount in enumerate(params.get("extra_mounts") or []):
        if not isinstance(mount, dict) or not mount.get("host_path") or not mount.get("container_path"):
            raise KindConfigError(f"extra_mounts[{index}]: needs host_path and container_path")
        item = {"hostPath": mount["host_path"], "containerPath": mount["container_path"]}
        if mount.get("read_only"):
            item["readOnly"] = True
        mounts.append(item)
    if certs_host_dir:
        mounts.append({"hostPath": certs_host_dir, "containerPath": CERTS_DIR, "readOnly": True})

    ports = []
    for container_port, host_port in ((80, params.get("http_port")), (443, params.get("https_port"))):
        if host_port:
            ports.append({"containerPort": container_port, "hostPort": int(host_port),
                          "listenAddress": params.get("ingress_listen_address") or "127.0.0.1", "protocol": "TCP"})

    def node(role: str) -> dict:
        item = {"role": role}
        if image:
            item["image"] = image
        if role == "control-plane":
            item["labels"] = {"ingress-ready": "true"}
            if ports:
                item["extraPortMappings"] = ports
        if mounts:
            item["extraMounts"] = [dict(m) for m in mounts]
        return item

    networking = {"apiServerAddress": params.get("api_server_address") or "127.0.0.1"}
    if params.get("api_server_port"):
        networking["apiServerPort"] = int(params["api_server_port"])
    if params.get("disable_default_cni"):
        networking["disableDefaultCNI"] = True
    patches = []
    if params.get("restrict_oom_score_adj"):
        patches.append(RESTRICT_OOM_PATCH)
    if mirrors_patch:
        patches.append(mirrors_patch)
    if params.get("nvidia_runtime_class"):
        patches.append(NVIDIA_PATCH)
    patches += [p for p in params.get("containerd_config_patches") or [] if p]
    config = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": params["name"],
              "networking": networking, "nodes": [node("control-plane")] + [node("worker") for _index in range(workers)]}
    if patches:
        config["containerdConfigPatches"] = patches
    if params.get("kubeadm_config_patches"):
        config["kubeadmConfigPatches"] = list(params["kubeadm_config_patches"])
    return config


def fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def observed_from_inspect(containers: list) -> dict:
    """What `docker inspect` of a cluster's node containers tells about it: roles, images, host ports."""
    roles, images, ports = {}, set(), set()
    for item in containers:
        labels = (item.get("Config") or {}).get("Labels") or {}
        role = labels.get(LABEL_ROLE, "?")
        roles[role] = roles.get(role, 0) + 1
        if role in ("control-plane", "worker"):
            images.add((item.get("Config") or {}).get("Image", ""))
        if role == "control-plane":
            for container_port, bindings in ((item.get("HostConfig") or {}).get("PortBindings") or {}).items():
                number = container_port.split("/")[0]
                if number in ("80", "443"):
                    for binding in bindings or []:
                        ports.add((int(number), int(binding.get("HostPort") or 0)))
    return {"roles": roles, "images": sorted(images), "ports": sorted(ports)}


def _show_ports(items) -> str:
    return ", ".join(f"{host}->{container}" for container, host in items) or "none"


def drift(wanted: dict, observed: dict, recorded: dict | None) -> list:
    """Differences between the wanted config and the running cluster, as sentences (empty: none)."""
    found = []
    want_roles = {}
    for node in wanted["nodes"]:
        want_roles[node["role"]] = want_roles.get(node["role"], 0) + 1
    for role in ("control-plane", "worker"):
        have, want = observed["roles"].get(role, 0), want_roles.get(role, 0)
        if have != want:
            found.append(f"{role} nodes: {have}, wanted {want}")
    image = wanted["nodes"][0].get("image")
    if image and observed["images"] and observed["images"] != [image]:
        found.append(f"node image: {', '.join(observed['images'])}, wanted {image}")
    want_ports = sorted((p["containerPort"], p["hostPort"]) for p in wanted["nodes"][0].get("extraPortMappings", []))
    if want_ports != observed["ports"]:
        found.append(f"host ports: {_show_ports(observed['ports'])}, wanted {_show_ports(want_ports)}")
    if recorded is None:
        found.append("the cluster was not created by this role (no recorded config), so its full config is unknown")
    elif not found and fingerprint(recorded) != fingerprint(wanted):
        keys = sorted(k for k in set(recorded) | set(wanted) if recorded.get(k) != wanted.get(k))
        found.append(f"config differs from the one it was created with in: {', '.join(keys)}")
    return found
