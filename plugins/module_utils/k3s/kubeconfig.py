# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""k3s writes /etc/rancher/k3s/k3s.yaml for https://127.0.0.1:6443 with everything named `default`; the controller's
copy points at the API address and carries the context name the platform layers use."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, plain


def rewrite_kubeconfig(text: str, server_url: str, context: str) -> str:
    import yaml  # pylint: disable=import-outside-toplevel  # PyYAML ships with ansible-core (runs on the controller)

    if not context or not isinstance(context, str):
        raise K3sError("k3s_kubeconfig_context: must be a non-empty name")
    try:
        config = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        raise K3sError(f"k3s.yaml: not YAML ({exc.__class__.__name__})") from None
    if not isinstance(config, dict) or len(config.get("clusters") or []) != 1 or len(config.get("users") or []) != 1:
        raise K3sError("k3s.yaml: expected one cluster and one user, as k3s writes it")
    cluster, user = config["clusters"][0], config["users"][0]
    if not isinstance(cluster.get("cluster"), dict) or "server" not in cluster["cluster"]:
        raise K3sError("k3s.yaml: the cluster has no server")
    cluster["cluster"]["server"] = server_url
    cluster["name"] = context
    user["name"] = context
    config["contexts"] = [{"name": context, "context": {"cluster": context, "user": context}}]
    config["current-context"] = context
    return yaml.safe_dump(plain(config), default_flow_style=False, sort_keys=False)
