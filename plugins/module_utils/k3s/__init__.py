# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""k3s provider: pure decisions of the `k3s` role (release artifacts and checksums, rendered files, restart and
token decisions, join plan, kubeconfig rewrite). No I/O: the role reads the hosts, these functions decide."""


class K3sError(ValueError):
    """Invalid input; the message names the setting (k3s_<name>...)."""


def plain(value):
    """Plain Python data from what a template engine hands over (subclasses of str, int, dict, list, e.g. Ansible's
    tagged values, which YAML's safe dumper refuses)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value
