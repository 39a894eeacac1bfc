# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: k3s_kubeconfig
short_description: Rewrite k3s's kubeconfig for the controller
version_added: 0.2.0
description:
  - Points k3s.yaml's cluster at the API address and names cluster, user and context.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: Text of /etc/rancher/k3s/k3s.yaml.
    type: str
    required: true
  server_url:
    description: API server URL, e.g. C(https://10.0.0.10:6443).
    type: str
    required: true
  context:
    description: Context (and cluster and user) name.
    type: str
    required: true
"""

EXAMPLES = r"""
# See roles/k3s/tasks/.
"""

RETURN = r"""
_value:
  description: The rewritten kubeconfig text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, kubeconfig


def k3s_kubeconfig(text, server_url, context):
    try:
        return kubeconfig.rewrite_kubeconfig(text, server_url, context)
    except K3sError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"k3s_kubeconfig": k3s_kubeconfig}
