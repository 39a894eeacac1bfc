# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: neutralize_webhooks
short_description: Make the admission webhooks of rendered manifests harmless on a simulated cluster
version_added: 0.1.0
description:
  - Returns the list of manifests with every C(ValidatingWebhookConfiguration) and C(MutatingWebhookConfiguration)
    (or only those named in O(names)) changed so that all their webhooks have C(failurePolicy=Ignore) and
    C(timeoutSeconds=1), and annotated C(platform.aphex/webhook-neutralized). Every other manifest is returned
    unchanged.
  - On a cluster whose pods are simulated (the local cluster), no webhook server ever answers, and a webhook with
    C(failurePolicy=Fail) would reject every later create of the resources it guards. This is the collection's
    one documented change to upstream manifests there, applied to manifests before they are applied. Webhooks
    installed by Helm get the same change from M(aphex.platform.readiness_gate) with O(
    aphex.platform.readiness_gate#module:neutralize_webhooks=true).
  - With O(enabled=false) the input is returned as it is, so roles can pipe every manifest through it and pass
    their C(*_simulated_workloads) variable.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: Manifests (dicts), for example C(lookup('file', path) | ansible.builtin.from_yaml_all).
    type: list
    elements: dict
    required: true
  enabled:
    description: Whether to neutralise (normally the role's C(*_simulated_workloads) variable).
    type: bool
    default: true
  names:
    description: Only the webhook configurations with these names; all of them when omitted.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Apply the ingress-nginx manifest, its admission webhook neutralised on simulated clusters
  kubernetes.core.k8s:
    definition: >-
      {{ lookup('ansible.builtin.file', manifest.path) | ansible.builtin.from_yaml_all | select
         | list | aphex.platform.neutralize_webhooks(enabled=ingress_simulated_workloads) }}
    apply: true
    server_side_apply:
      field_manager: aphex-platform
"""

RETURN = r"""
_value:
  description: The manifests, webhook configurations neutralised when O(enabled=true).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.readiness import neutralize_webhooks


def _neutralize_webhooks(manifests, enabled=True, names=None):
    if isinstance(manifests, (str, bytes, dict)) or not hasattr(manifests, "__iter__"):
        raise AnsibleFilterError(f"neutralize_webhooks expects a list of manifests, got {type(manifests).__name__}")
    manifests = [m for m in manifests if m]
    if not enabled:
        return manifests
    return neutralize_webhooks(manifests, names=names or None)


class FilterModule:
    def filters(self):
        return {"neutralize_webhooks": _neutralize_webhooks}
