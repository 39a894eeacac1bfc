# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: repository_specs
short_description: The repositories nested under aphex_organizations, as RepoBinding specs, checked before any change
version_added: 0.1.0
description:
  - Reads the repositories nested under the organizations of C(aphex_organizations), applies defaults and validates
    all of them, so a play can stop before it creates anything when any repository is wrong.
  - Errors name the inventory field, for example C(aphex_organizations[0].repositories[1].pipeline_name).
  - Checks what needs no cluster (names, GitHub owner and repository rules, the organization's C(github_owners),
    the Pipeline YAML, branches, events, knowledge bases, duplicates); M(aphex.platform.repobinding) checks the rest.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: The organizations, each a dict with C(name) and optionally C(repositories), C(state), C(events)
      and C(github_owners).
    type: list
    elements: dict
    required: true
  defaults:
    description: Values for keys a repository leaves out (C(state), C(template_ref), C(branches),
      C(webhook_events)).
    type: dict
    default: {}
  org:
    description: Return only the repositories of this organization (all are still validated).
    type: str
  repo:
    description: Return only the repository with this binding name, pipeline name or C(owner/name).
    type: str
  state:
    description: Override the state of every repository and knowledge base (V(present) or V(absent)).
    type: str
"""

EXAMPLES = r"""
- name: Stop before anything is created if any repository is invalid
  vars:
    checked: "{{ aphex_organizations | aphex.platform.repository_specs }}"
  ansible.builtin.assert:
    that: checked.errors | length == 0
    fail_msg: "{{ checked.errors }}"
"""

RETURN = r"""
_value:
  description: The normalised repositories, the errors and the objects the inventory declares.
  type: dict
  contains:
    repositories:
      description:
        - The selected repositories; each has C(org), C(name) and C(namespace) (of the RepoBinding), C(state),
          C(full_name) (C(owner/name)), C(url), C(pipeline_name), C(branches), C(webhook_events), C(spec) (the
          RepoBinding spec in camelCase) and C(knowledgebases) (each with C(name), C(namespace), C(state), C(spec)).
      type: list
      elements: dict
    errors:
      description: Every problem found, each message starting with its inventory field; empty when all are valid.
      type: list
      elements: str
    inventory:
      description: C(repobindings) and C(knowledgebases), the C(<namespace>/<name>) of every object the inventory
        declares, selected or not.
      type: dict
    organizations_absent:
      description: The selected organizations with C(state=absent); their repositories are offboarded with them.
      type: list
      elements: str
"""

from ansible_collections.aphex.platform.plugins.module_utils.repository_inventory import repository_specs


def _repository_specs(organizations, defaults=None, org=None, repo=None, state=None):
    return repository_specs(organizations, defaults=defaults, org=org or None, repo=repo or None,
                            state=state or None)


class FilterModule:
    def filters(self):
        return {"repository_specs": _repository_specs}
