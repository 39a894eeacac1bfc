# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one adapter to Kubernetes, built on kubernetes.core's module_utils.

``errors``: :class:`K8sError`, the one error a Kubernetes module reports. ``client``: the module base class
(missing-library check, lazily created client, discovery refresh, the field manager). ``reader``: read-only
view (get, list, server-side dry-run create). ``applier``: server-side apply, delete and status writes.
"""
