# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`aphex_registry_mirrors`: one product setting, rendered for each cluster provider (pure functions).

The setting maps an upstream registry to the mirror that serves its images:

    aphex_registry_mirrors:
      docker.io: http://registry.internal:5000            # short form: the endpoint only
      registry.k8s.io:
        endpoint: https://mirror.example.com              # or a list of endpoints, tried in order
        username: puller                                  # optional, with password
        password: "{{ vault_mirror_password }}"
        ca: "{{ lookup('file', 'mirror-ca.pem') }}"       # optional PEM of the CA that signed the mirror
        insecure_skip_verify: false

kind / containerd: `render_containerd_hosts()` gives containerd's registry host directory (one
`<registry>/hosts.toml` per upstream registry, plus `ca.crt` when a CA is given) and the config patch that
points the CRI plugin at it (`config_path`). containerd 2.x, which the official kind node images run, dropped
the inline `registry.mirrors` tables, so the hosts directory is the form both 1.6+ and 2.x read.
k3s: `render_k3s_registries()` gives the content of /etc/rancher/k3s/registries.yaml.
"""

from __future__ import annotations

import base64
import re

CERTS_DIR = "/etc/containerd/certs.d"
CONTAINERD_PATCH = ('[plugins."io.containerd.grpc.v1.cri".registry]\n'
                    f'  config_path = "{CERTS_DIR}"\n')
# Where each upstream registry really serves the distribution API (containerd's `server`).
UPSTREAM_SERVERS = {"docker.io": "https://registry-1.docker.io"}
_REGISTRY = re.compile(r"^(?:[a-z0-9]([a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$")
_ENDPOINT = re.compile(r"^https?://[^\s/\"]+(/[^\s\"]*)?$")
KNOWN_KEYS = {"endpoint", "username", "password", "ca", "insecure_skip_verify"}


class RegistryMirrorError(ValueError):
    """Invalid setting; the message names the field (aphex_registry_mirrors[<registry>].<key>)."""


def unknown_keys(field: str, spec: dict, known: set) -> list:
    """[] or the one error naming the keys of `spec` that are not in `known` (shared by the k3s registries)."""
    unknown = sorted(set(spec) - known)
    return [f"{field}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"] if unknown else []


def normalise(mirrors, setting: str = "aphex_registry_mirrors") -> list:
    """Validate the setting and return a sorted list of dicts: registry, endpoints, username, password, ca,
    insecure_skip_verify. Every error is collected and raised at once."""
    if mirrors in (None, ""):
        return []
    if not isinstance(mirrors, dict):
        raise RegistryMirrorError(f"{setting} must be a mapping of upstream registry to mirror, got {type(mirrors).__name__}")
    errors, result = [], []
    for registry in sorted(mirrors):
        spec = mirrors[registry]
        field = f"{setting}[{registry}]"
        if not isinstance(registry, str) or not _REGISTRY.match(registry):
            errors.append(f"{field}: not a registry host name (e.g. docker.io, registry.k8s.io, localhost:5000)")
            continue
        if isinstance(spec, (str, list)):
            spec = {"endpoint": spec}
        if not isinstance(spec, dict):
            errors.append(f"{field}: must be an endpoint URL or a mapping with endpoint")
            continue
        errors.extend(unknown_keys(field, spec, KNOWN_KEYS))
        endpoints = spec.get("endpoint")
        endpoints = [endpoints] if isinstance(endpoints, str) else endpoints
        if not endpoints or not isinstance(endpoints, list):
            errors.append(f"{field}.endpoint: required (the mirror's URL, http:// or https://)")
            endpoints = []
        for index, endpoint in enumerate(endpoints):
            if not isinstance(endpoint, str) or not _ENDPOINT.match(endpoint):
                errors.append(f"{field}.endpoint[{index}]: {endpoint!r} is not an http:// or https:// URL")
        username, password = spec.get("username") or "", spec.get("password") or ""
        if bool(username) != bool(password):
            errors.append(f"{field}: username and password go together")
        ca = spec.get("ca") or ""
        if ca and "-----BEGIN CERTIFICATE-----" not in str(ca):
            errors.append(f"{field}.ca: must be PEM text (-----BEGIN CERTIFICATE-----), e.g. lookup('file', ...)")
        skip = spec.get("insecure_skip_verify", False)
        if not isinstance(skip, bool):
            errors.append(f"{field}.insecure_skip_verify: must be true or false")
        result.append({"registry": registry, "endpoints": [e.rstrip("/") for e in endpoints if isinstance(e, str)],
                       "username": str(username), "password": str(password), "ca": str(ca).strip(),
                       "insecure_skip_verify": skip is True})
    if errors:
        raise RegistryMirrorError("; ".join(errors))
    return result


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_containerd_hosts(mirrors, certs_dir: str = CERTS_DIR) -> dict:
    """Return {"config_patch": str, "files": {relative path: content}, "secret": bool}.

    `files` is the content of containerd's registry host directory (mounted at `certs_dir` in each node);
    `secret` is true when a file carries credentials (write it mode 0600, never log it)."""
    files = {}
    secret = False
    for item in normalise(mirrors):
        registry = item["registry"]
        server = UPSTREAM_SERVERS.get(registry, f"https://{registry}")
        lines = [f"# aphex_registry_mirrors[{registry}]: rendered by aphex.platform", f"server = {_toml_string(server)}", ""]
        if item["ca"]:
            files[f"{registry}/ca.crt"] = item["ca"] + "\n"
        for endpoint in item["endpoints"]:
            table = f"host.{_toml_string(endpoint)}"
            lines.append(f"[{table}]")
            lines.append('  capabilities = ["pull", "resolve"]')
            if item["ca"]:
                lines.append(f"  ca = {_toml_string(f'{certs_dir}/{registry}/ca.crt')}")
            if item["insecure_skip_verify"]:
                lines.append("  skip_verify = true")
            if item["username"]:
                # hosts.toml has no credential field; a static Authorization header is containerd's way.
                token = base64.b64encode(f"{item['username']}:{item['password']}".encode()).decode()
                lines.append(f"  [{table}.header]")
                lines.append(f"    Authorization = [{_toml_string('Basic ' + token)}]")
                secret = True
            lines.append("")
        files[f"{registry}/hosts.toml"] = "\n".join(lines).rstrip("\n") + "\n"
    return {"config_patch": CONTAINERD_PATCH if files else "", "files": files, "secret": secret}


def render_k3s_registries(mirrors, ca_dir: str = "/etc/rancher/k3s/registry-ca") -> dict:
    """Return {"registries": <registries.yaml as a dict>, "files": {ca file name: PEM}} for k3s."""
    registries = {"mirrors": {}, "configs": {}}
    files = {}
    for item in normalise(mirrors):
        registry = item["registry"]
        registries["mirrors"][registry] = {"endpoint": list(item["endpoints"])}
        for endpoint in item["endpoints"]:
            host = endpoint.split("://", 1)[1].split("/", 1)[0]
            config = {}
            if item["username"]:
                config["auth"] = {"username": item["username"], "password": item["password"]}
            tls = {}
            if item["ca"]:
                name = f"{registry.replace(':', '_')}.crt"
                files[name] = item["ca"] + "\n"
                tls["ca_file"] = f"{ca_dir}/{name}"
            if item["insecure_skip_verify"]:
                tls["insecure_skip_verify"] = True
            if tls:
                config["tls"] = tls
            if config:
                registries["configs"][host] = config
    if not registries["configs"]:
        del registries["configs"]
    return {"registries": registries, "files": files}
