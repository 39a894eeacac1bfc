# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: k3s_decision
short_description: The k3s role's restart and token decisions
version_added: 0.2.0
description:
  - For C(restart), compares the content hashes the service would run with against the record of what it was last
    (re)started with; returns the action (none, start, restart) and the reasons (binary, config, registries, env,
    unit, never-started, not-running).
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: C(restart) or C(token).
    type: str
    required: true
  desired:
    description: For C(restart), the hashes of binary, config, registries, env, unit.
    type: dict
  applied:
    description: For C(restart), the record on the host (empty when never started by the role).
    type: dict
  running:
    description: For C(restart), whether the service is active (none when unknown).
    type: bool
  given:
    description: For C(token), C(k3s_token).
    type: str
  kept:
    description: For C(token), the role's token file on the first server.
    type: str
  cluster:
    description: For C(token), k3s's own server token file on the first server.
    type: str
  first_server:
    description: For C(token), the first server's name (for messages).
    type: str
"""

EXAMPLES = r"""
# See roles/k3s/tasks/.
"""

RETURN = r"""
_value:
  description: For C(restart) a dict with C(action), C(restart), C(reasons), C(record). For C(token) a dict with C(source)
    (given, reused, adopted, generate), C(token) and C(error) (a message naming the setting, else empty).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, decide


def k3s_decision(kind, desired=None, applied=None, running=None, given="", kept="", cluster="", first_server=""):
    try:
        if kind == "restart":
            return decide.restart_decision(desired or {}, applied, running)
        if kind == "token":
            # The caller's task hides its output (no_log): the error comes back as data, for a task that may show it.
            try:
                return dict(decide.token_decision(given, kept, cluster, first_server), error="")
            except K3sError as exc:
                return {"source": "", "token": "", "error": str(exc)}
    except K3sError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    raise AnsibleFilterError(f"k3s_decision: unknown decision {kind!r} (restart or token)")


class FilterModule:
    def filters(self):
        return {"k3s_decision": k3s_decision}
