# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: repository_discovered
short_description: The RepoBinding or KnowledgeBase objects in the cluster that self-service reconciles
version_added: 0.1.0
description:
  - Takes the objects C(kubernetes.core.k8s_info) listed and keeps those the inventory does not declare (a team
    committed them), optionally only those of one organization, and not those being deleted.
  - Each item has C(kind), C(name), C(namespace), C(org) (C(spec.aphexOrg), else the organization of an
    C(org-<name>) namespace); a RepoBinding also C(full_name) (C(owner/name)) and C(webhook_events).
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: The C(resources) returned by C(kubernetes.core.k8s_info).
    type: list
    elements: dict
    required: true
  inventory:
    description: C(<namespace>/<name>) of the objects the inventory declares (what C(aphex.platform.repository_specs)
      returns under C(inventory)); they are left out.
    type: list
    elements: str
  org:
    description: Keep only the objects of this organization.
    type: str
  webhook_events:
    description: GitHub events of a RepoBinding's webhook.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Reconcile the RepoBindings teams committed
  aphex.platform.repobinding:
    name: "{{ item.name }}"
    namespace: "{{ item.namespace }}"
  loop: "{{ found.resources | aphex.platform.repository_discovered(inventory=checked.inventory.repobindings) }}"
"""

RETURN = r"""
_value:
  description: The objects to reconcile, sorted by namespace and name.
  type: list
  elements: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.repository_inventory import discovered


def _repository_discovered(resources, inventory=None, org=None, webhook_events=None):
    return discovered(resources, inventory=inventory, org=org or None, webhook_events=webhook_events)


class FilterModule:
    def filters(self):
        return {"repository_discovered": _repository_discovered}
