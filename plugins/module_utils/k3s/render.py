# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files the k3s role writes, rendered from variables: config.yaml, registries.yaml, the systemd unit and its
environment file. Deterministic (sorted keys), so their sha256 decides restarts."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.aphex.platform.plugins.module_utils import registry_mirrors
from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, plain

HEADER = "# Managed by aphex.platform (role k3s): edit the inventory, not this file.\n"
# Keys the role sets itself; set through their own variables.
OWNED_KEYS = {"token": "k3s_token", "token-file": "k3s_token (kept in the token file)", "server": "k3s_server_address",
              "cluster-init": "the k3s_server group (its first host initialises the cluster)", "agent-token": "k3s_token"}
SERVER_ONLY_KEYS = {"cluster-init", "tls-san", "disable", "cluster-cidr", "service-cidr", "etcd-snapshot-schedule-cron",
                    "write-kubeconfig-mode", "flannel-backend", "secrets-encryption", "embedded-registry"}
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
PRIVATE_KEYS = {"registry", "username", "password", "ca", "insecure_skip_verify"}


def sha256(text) -> str:
    return hashlib.sha256(str(text if text is not None else "").encode()).hexdigest()


def _dump(data: dict) -> str:
    import yaml  # pylint: disable=import-outside-toplevel  # PyYAML ships with ansible-core (these run on the controller)

    return HEADER + yaml.safe_dump(plain(data), default_flow_style=False, sort_keys=True)


def render_config(node_role: str, user_config=None, join_url: str = "", cluster_init: bool = False,
                  token_file: str = "/etc/rancher/k3s/cluster-token", tls_san=None, node_name: str = "") -> str:
    """/etc/rancher/k3s/config.yaml: the user's `k3s_config` dict plus what the role owns (join, token file)."""
    if node_role not in ("server", "agent"):
        raise K3sError(f"node role {node_role!r}: must be server or agent")
    user_config = user_config or {}
    if not isinstance(user_config, dict):
        raise K3sError("k3s_config: must be a mapping of k3s option (without --) to value")
    errors = []
    for key in sorted(user_config):
        if not isinstance(key, str) or key.startswith("-"):
            errors.append(f"k3s_config[{key}]: write the option without leading dashes (e.g. node-label)")
        elif key in OWNED_KEYS:
            errors.append(f"k3s_config[{key}]: set by the role; use {OWNED_KEYS[key]}")
        elif node_role == "agent" and key in SERVER_ONLY_KEYS:
            errors.append(f"k3s_config[{key}]: a server option; agents reject it (use k3s_server_config)")
    if errors:
        raise K3sError("; ".join(errors))
    config = dict(user_config)
    config["token-file"] = token_file
    if node_name:
        config["node-name"] = node_name
    if node_role == "server":
        if cluster_init and not join_url:
            config["cluster-init"] = True
        sans = list(config.get("tls-san") or [])
        sans = [sans] if isinstance(sans, str) else sans
        for san in tls_san or []:
            if san and san not in sans:
                sans.append(san)
        if sans:
            config["tls-san"] = sans
    if join_url:
        config["server"] = join_url
    elif node_role == "agent":
        raise K3sError("k3s_server_address: agents need the address of a server (or k3s_vip) to join")
    return _dump(config)


def render_registries(mirrors=None, private_registries=None, ca_dir: str = "/etc/rancher/k3s/registry-ca") -> dict:
    """registries.yaml from `aphex_registry_mirrors` (through registry_mirrors.render_k3s_registries, the one
    renderer of that setting) plus `k3s_private_registries` (auth and TLS per registry host).

    Returns {"content": text ('' when there is nothing to configure), "files": {CA file name: PEM}, "secret": bool}."""
    rendered = registry_mirrors.render_k3s_registries(mirrors)
    registries, files = rendered["registries"], dict(rendered["files"])
    configs = registries.setdefault("configs", {})
    errors = []
    if private_registries in (None, ""):
        private_registries = []
    if not isinstance(private_registries, list):
        raise K3sError("k3s_private_registries: must be a list of {registry, username, password, ca, "
                       "insecure_skip_verify}")
    for index, item in enumerate(private_registries):
        field = f"k3s_private_registries[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{field}: must be a mapping")
            continue
        unknown = sorted(set(item) - PRIVATE_KEYS)
        if unknown:
            errors.append(f"{field}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(PRIVATE_KEYS))})")
        host = item.get("registry")
        if not isinstance(host, str) or not _REGISTRY.match(host):
            errors.append(f"{field}.registry: {host!r} is not a registry host (e.g. registry.example.com:5000)")
            continue
        username, password = item.get("username") or "", item.get("password") or ""
        if bool(username) != bool(password):
            errors.append(f"{field}: username and password go together")
        ca = str(item.get("ca") or "").strip()
        if ca and "-----BEGIN CERTIFICATE-----" not in ca:
            errors.append(f"{field}.ca: must be PEM text (-----BEGIN CERTIFICATE-----)")
        skip = item.get("insecure_skip_verify", False)
        if not isinstance(skip, bool):
            errors.append(f"{field}.insecure_skip_verify: must be true or false")
        config = dict(configs.get(host, {}))
        if username:
            config["auth"] = {"username": str(username), "password": str(password)}
        tls = dict(config.get("tls", {}))
        if ca:
            name = f"private-{host.replace(':', '_')}.crt"
            files[name] = ca + "\n"
            tls["ca_file"] = f"{ca_dir}/{name}"
        if skip is True:
            tls["insecure_skip_verify"] = True
        if tls:
            config["tls"] = tls
        if config:
            configs[host] = config
    if errors:
        raise K3sError("; ".join(errors))
    if not configs:
        del registries["configs"]
    if not registries["mirrors"]:
        del registries["mirrors"]
    secret = any("auth" in config for config in configs.values())
    return {"content": _dump(registries) if registries else "", "files": files, "secret": secret}


def render_env(env=None) -> str:
    """The unit's environment file (KEY=value lines, sorted), as upstream's install script writes it."""
    env = env or {}
    if not isinstance(env, dict):
        raise K3sError("k3s_env: must be a mapping of variable name to value")
    bad = [str(key) for key in env if not isinstance(key, str) or not _ENV_KEY.match(key)]
    if bad:
        raise K3sError(f"k3s_env: not an environment variable name: {', '.join(sorted(bad))}")
    lines = []
    for key in sorted(env):
        value = "" if env[key] is None else str(env[key])
        if "\n" in value:
            raise K3sError(f"k3s_env[{key}]: must be one line")
        lines.append(f"{key}={value}")
    return "".join(line + "\n" for line in lines)


def unit_name(node_role: str) -> str:
    return "k3s.service" if node_role == "server" else "k3s-agent.service"


def render_unit(node_role: str, binary: str = "/usr/local/bin/k3s", unit_dir: str = "/etc/systemd/system") -> str:
    """The systemd unit upstream's install script writes (Type=notify for servers, exec for agents); the options come
    from config.yaml, so ExecStart has the subcommand only."""
    name = unit_name(node_role)
    command = "server" if node_role == "server" else "agent"
    kind = "notify" if node_role == "server" else "exec"
    return (
        "[Unit]\nDescription=Lightweight Kubernetes\nDocumentation=https://k3s.io\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Install]\nWantedBy=multi-user.target\n\n"
        f"[Service]\nType={kind}\nEnvironmentFile=-/etc/default/%N\nEnvironmentFile=-/etc/sysconfig/%N\n"
        f"EnvironmentFile=-{unit_dir}/{name}.env\nKillMode=process\nDelegate=yes\nUser=root\n"
        "LimitNOFILE=1048576\nLimitNPROC=infinity\nLimitCORE=infinity\nTasksMax=infinity\nTimeoutStartSec=0\n"
        "Restart=always\nRestartSec=5s\nExecStartPre=-/sbin/modprobe br_netfilter\n"
        "ExecStartPre=-/sbin/modprobe overlay\n"
        f"ExecStart={binary} {command}\n")
