# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # What every Kubernetes module of the collection (action group aphex.platform.k8s) shares; the connection
    # options come from kubernetes.core.k8s_auth_options (argument spec: module_utils/k8s/client.py).
    DOCUMENTATION = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs where the Kubernetes API is reachable, normally the controller (C(delegate_to=localhost)).
requirements:
  - kubernetes >= 24.2.0
  - PyYAML
notes:
  - Set the connection options once for every Kubernetes module of a play with
    C(module_defaults) for the action group C(group/aphex.platform.k8s), or with the C(K8S_AUTH_*) environment
    variables.
"""
