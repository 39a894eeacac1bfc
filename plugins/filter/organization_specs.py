# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: organization_specs
short_description: Normalise and validate every organization of an inventory at once
version_added: 0.1.0
description:
  - Applies defaults to each entry of a list of organizations (as in C(aphex_organizations)) and validates all of
    them, so a play can stop before it creates anything when any organization is wrong.
  - Errors name the field, for example C(organizations[acme].admin_users[1]).
  - The checks are those of M(aphex.platform.organization), plus one of the role's own (an organization exposed through
    Cloudflare needs a Cloudflare API token).
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: The organizations, each a dict with C(name), C(display_name), C(admin_users) and optionally
      C(exposure), C(domain), C(events), C(quotas) and C(state).
    type: list
    elements: dict
    required: true
  defaults:
    description: Values for keys an organization leaves out (C(state), C(exposure), C(domain), C(events), C(quotas),
      C(ingress_host)).
    type: dict
    default: {}
  select:
    description: Return only the organization with this name (every organization is still validated).
    type: str
  cloudflare_api_token_set:
    description: Whether a Cloudflare API token is available.
    type: bool
    default: false
  settings:
    description:
      - Settings shared by all organizations, checked for the exposures in use; keys C(cloudflared_image),
        C(cloudflared_replicas), C(ingress_class_name), C(platform_namespace) and C(network).
      - Errors name them with the role's C(organization_) prefix.
    type: dict
"""

EXAMPLES = r"""
- name: Stop before anything is created if any organization is invalid
  vars:
    checked: >-
      {{ aphex_organizations | aphex.platform.organization_specs(defaults={'domain': 'hooks.example.com'},
         cloudflare_api_token_set=(cloudflare_api_token | length > 0)) }}
  ansible.builtin.assert:
    that: checked.errors | length == 0
    fail_msg: "{{ checked.errors }}"

- name: Use the derived names instead of rebuilding them
  ansible.builtin.debug:
    msg: "{{ item.names.tunnel }} routes {{ item.names.webhook_hostname }} to {{ item.names.listener_url }}"
  loop: "{{ (aphex_organizations | aphex.platform.organization_specs).organizations }}"
"""

RETURN = r"""
_value:
  description: The normalised organizations and the list of errors (empty when all are valid).
  type: dict
  contains:
    organizations:
      description:
        - The organizations with defaults applied, filtered by O(select).
        - Each has a key C(names) with every name derived from it, so that roles never rebuild one.
          C(namespace) (V(org-<name>)), C(webhook_secret) and C(webhook_secret_key) (the Secret and key holding the
          GitHub webhook secret), C(eventlistener) and C(eventlistener_service) (the Tekton EventListener and its
          Service), C(listener_url) (the listener's in-namespace URL, where the tunnel routes to),
          C(webhook_hostname) (V(<name>.<domain>), null without a domain), C(webhook_url) (the public URL GitHub
          delivers to, null when not exposed), C(tunnel) (the Cloudflare tunnel name), C(tunnel_token_secret),
          C(cloudflared_deployment), C(cluster_secret_store), C(eventlistener_binding) (the ClusterRoleBinding)
          and C(owner_selector) (the label selector of every object the organization module created).
      type: list
      elements: dict
    errors:
      description: One message per problem, each naming its field.
      type: list
      elements: str
"""

from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import organization_specs


def _organization_specs(organizations, defaults=None, select=None, cloudflare_api_token_set=False, settings=None):
    return organization_specs(organizations, defaults=defaults, select=select or None,
                              cloudflare_api_token_set=bool(cloudflare_api_token_set), settings=settings)


class FilterModule:
    def filters(self):
        return {"organization_specs": _organization_specs}
