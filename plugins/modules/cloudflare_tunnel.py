#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudflare_tunnel
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Manage a remotely managed Cloudflare Tunnel and its ingress rules
version_added: 0.1.0
description:
  - Ensures that a Cloudflare Tunnel with a given name exists in an account and is configured remotely
    (config source C(cloudflare)), so C(cloudflared) needs only the tunnel token to run it.
  - A live tunnel that already has the name is adopted; a tunnel is never deleted and created again. Running the task
    again is therefore safe, and it completes a run that stopped half way.
  - With O(ingress), the tunnel's ingress rules are set through the configurations API, followed by a catch-all rule
    (O(catch_all_service)). The configuration is written only when its rules differ; other configuration settings are
    kept.
  - With O(state=absent), the tunnel's connections are cleaned up and then the tunnel is deleted.
attributes:
  check_mode:
    support: full
    description: Only reads from Cloudflare and returns what would change. A tunnel that would be created has no id yet.
  diff_mode:
    support: full
    description: Shows the tunnel's name, id, config source and ingress rules before and after. Never the token.
extends_documentation_fragment:
  - aphex.platform.cloudflare
options:
  name:
    description:
      - Name of the tunnel. It identifies the tunnel within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates the tunnel unless a live tunnel with this name exists, and sets its ingress rules.
      - V(absent) cleans up the connections of the tunnel with this name and deletes it. Nothing happens if there
        is none.
    type: str
    choices: [present, absent]
    default: present
  account:
    description:
      - The account that holds the tunnel, by ID (32 hexadecimal characters) or by name.
      - If not set, the only account the token can see is used; the task fails if it can see several.
    type: str
  ingress:
    description:
      - Ingress rules of the tunnel, in order, without the catch-all rule, which is added after them.
      - If not set, the tunnel's configuration is left alone. An empty list leaves only the catch-all rule.
      - Ignored when O(state=absent).
    type: list
    elements: dict
    suboptions:
      hostname:
        description:
          - Public hostname the rule matches, for example V(acme.example.com) or V(*.example.com).
          - A proxied CNAME record for it must point at RV(cname_target); see M(aphex.platform.cloudflare_dns_record).
        type: str
        required: true
      service:
        description:
          - Where C(cloudflared) sends the matching requests, for example V(http://el-github-listener.org-acme:8080).
          - One of C(http://), C(https://), C(tcp://), C(ssh://), C(rdp://), C(smb://), C(unix://),
            C(unix+tls://) URLs, C(http_status:<code>), C(hello_world) or C(bastion).
        type: str
        required: true
      path:
        description:
          - Regular expression the request path must match as well.
        type: str
  catch_all_service:
    description:
      - Service of the last rule, which matches every request the other rules do not.
    type: str
    default: http_status:404
  return_token:
    description:
      - Return the tunnel token (RV(token)), which C(cloudflared tunnel run --token) needs.
      - "The token is a secret. Set C(no_log: true) on a task that returns it, so that it is not displayed or logged."
    type: bool
    default: false
notes:
  - Cloudflare keeps deleted tunnels for a while; they are ignored when looking for the tunnel by name.
  - If several live tunnels have the name, the task fails and names them rather than picking one.
  - A locally managed tunnel with the name is adopted too, but the task fails if O(ingress) is set, because the rules
    of such a tunnel live in the C(cloudflared) configuration file.
seealso:
  - module: aphex.platform.cloudflare_dns_record
  - name: Cloudflare Tunnel API
    description: The cfd_tunnel endpoints this module calls.
    link: https://developers.cloudflare.com/api/resources/zero_trust/subresources/tunnels/
"""

EXAMPLES = r"""
- name: Ensure the webhook tunnel exists and routes one hostname to the in-cluster listener
  aphex.platform.cloudflare_tunnel:
    name: webhooks-acme
    account: Aphex
    ingress:
      - hostname: acme.example.com
        service: http://el-github-listener.org-acme.svc.cluster.local:8080
  delegate_to: localhost
  register: tunnel

- name: Point the hostname at the tunnel
  aphex.platform.cloudflare_dns_record:
    zone: example.com
    name: acme
    type: CNAME
    content: "{{ tunnel.cname_target }}"
    proxied: true
  delegate_to: localhost

- name: Fetch the token cloudflared runs with, without showing it
  aphex.platform.cloudflare_tunnel:
    name: webhooks-acme
    account: Aphex
    return_token: true
  delegate_to: localhost
  no_log: true
  register: tunnel_with_token

- name: Show what removing the tunnel would change, without changing anything
  aphex.platform.cloudflare_tunnel: {name: webhooks-acme, account: Aphex, state: absent}
  delegate_to: localhost
  check_mode: true
  diff: true

- name: Set the token once for every Cloudflare module
  module_defaults:
    group/aphex.platform.cloudflare:
      api_token: "{{ vault_cloudflare_api_token }}"
      max_retries: 8
  block:
    - name: Remove the tunnel
      aphex.platform.cloudflare_tunnel:
        name: webhooks-acme
        account: Aphex
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
account_id:
  description: ID of the account that holds the tunnel.
  returned: always
  type: str
  sample: 699d98642c564d2e855e9661899b7252
tunnel:
  description:
    - The tunnel after the task; with O(state=absent), the tunnel that was deleted, or an empty dict.
    - In check mode, a tunnel that would be created has no RV(tunnel.id).
  returned: always
  type: dict
  contains:
    id:
      description: UUID of the tunnel.
      type: str
      returned: when the tunnel exists
      sample: f70ff985-a4ef-4643-bbbc-4a0ed4fc8415
    name:
      description: Name of the tunnel.
      type: str
      returned: success
      sample: webhooks-acme
    account_id:
      description: ID of the account that holds the tunnel.
      type: str
      returned: success
      sample: 699d98642c564d2e855e9661899b7252
    config_src:
      description: V(cloudflare) for a remotely managed tunnel, V(local) for one configured by a local file.
      type: str
      returned: success
      sample: cloudflare
    status:
      description: Status Cloudflare reports (V(inactive), V(healthy), V(degraded) or V(down)).
      type: str
      returned: when the tunnel exists
      sample: inactive
    created_at:
      description: When the tunnel was created.
      type: str
      returned: when the tunnel exists
      sample: "2024-08-06T22:28:30.123456Z"
cname_target:
  description: The name a proxied CNAME record must point at to route a hostname through the tunnel.
  returned: when O(state=present) and the tunnel exists (not for a tunnel check mode would create)
  type: str
  sample: f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com
ingress:
  description: The tunnel's ingress rules as set by the task, catch-all rule last.
  returned: when O(state=present) and O(ingress) is set
  type: list
  elements: dict
  sample:
    - hostname: acme.example.com
      service: http://el-github-listener.org-acme.svc.cluster.local:8080
    - service: http_status:404
token:
  description:
    - Token that C(cloudflared tunnel run --token) uses. A secret; see O(return_token).
  returned: when O(return_token=true), O(state=present) and the tunnel exists
  type: str
  sample: eyJhIjoiNjk5ZDk4NjQyYzU2NGQyZTg1NWU5NjYxODk5YjcyNTIiLCJ0IjoiZjcwZmY5ODUi...
"""

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.client import run_module
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnel import CATCH_ALL_SERVICE
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.tunnel_service import ensure_tunnel


def argument_spec() -> dict:
    return dict(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        account={"type": "str"},
        ingress={"type": "list", "elements": "dict", "options": {
            "hostname": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "path": {"type": "str"},
        }},
        catch_all_service={"type": "str", "default": CATCH_ALL_SERVICE},
        return_token={"type": "bool", "default": False},
    )


def main() -> None:
    run_module(argument_spec(), ensure_tunnel)


if __name__ == "__main__":
    main()
