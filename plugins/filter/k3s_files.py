# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: k3s_files
short_description: Render the files the k3s role writes on a node, with their content hashes
version_added: 0.2.0
description:
  - config.yaml from C(k3s_config) plus what the role owns (token file, join URL, cluster-init, tls-san),
    registries.yaml from C(aphex_registry_mirrors) and C(k3s_private_registries), the systemd unit and its
    environment file as upstream's install script writes them. Errors name the setting.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: Settings, C(node_role) (server|agent), C(config), C(join_url), C(cluster_init), C(token_file), C(tls_san),
      C(node_name), C(registry_mirrors), C(private_registries), C(registry_ca_dir), C(env), C(binary).
    type: dict
    required: true
"""

EXAMPLES = r"""
# See roles/k3s/tasks/.
"""

RETURN = r"""
_value:
  description: Dict with C(config), C(registries) (content, files, secret), C(env), C(unit), C(unit_name) and C(hashes)
    (config, registries, env, unit).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, render


def k3s_files(settings):
    try:
        role = settings.get("node_role")
        config = render.render_config(role, settings.get("config"), settings.get("join_url") or "",
                                      bool(settings.get("cluster_init")),
                                      settings.get("token_file") or "/etc/rancher/k3s/cluster-token",
                                      settings.get("tls_san") or [], settings.get("node_name") or "")
        registries = render.render_registries(settings.get("registry_mirrors"), settings.get("private_registries"),
                                              settings.get("registry_ca_dir") or "/etc/rancher/k3s/registry-ca")
        env = render.render_env(settings.get("env"))
        unit = render.render_unit(role, settings.get("binary") or "/usr/local/bin/k3s")
    except K3sError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    ca_files = "".join(f"{name}\n{registries['files'][name]}" for name in sorted(registries["files"]))
    return {"config": config, "registries": registries, "env": env, "unit": unit,
            "unit_name": render.unit_name(role),
            "hashes": {"config": render.sha256(config), "registries": render.sha256(registries["content"] + ca_files),
                       "env": render.sha256(env), "unit": render.sha256(unit)}}


class FilterModule:
    def filters(self):
        return {"k3s_files": k3s_files}
