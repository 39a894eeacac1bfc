#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudflare_dns_record
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Manage one Cloudflare DNS record that the collection owns
version_added: 0.1.0
description:
  - Creates, updates or deletes one DNS record in a Cloudflare zone, identified by its name and type.
  - Only the fields that are set are compared, so settings made elsewhere (for example the TTL) are kept.
  - "The record comment marks the record as managed by the collection: C(managed-by: aphex.platform), then
    C(owner: <owner>) if O(owner) is set, then O(comment), separated by C(; ). A record without this mark, or with
    another owner, is neither changed nor deleted unless O(force=true); the task fails and says why."
  - The main use is a proxied CNAME C(<org>.<domain>) that points at a tunnel, see M(aphex.platform.cloudflare_tunnel).
attributes:
  check_mode:
    support: full
    description: Only reads from Cloudflare and returns the record as it would be. A record that would be created has no id.
  diff_mode:
    support: full
    description: Shows the record's type, name, content, proxied, TTL and comment before and after.
extends_documentation_fragment:
  - aphex.platform.cloudflare
options:
  zone:
    description:
      - The zone, by name (for example V(example.com)) or by ID (32 hexadecimal characters).
    type: str
    required: true
  name:
    description:
      - Name of the record. V(@) is the zone apex, a name that ends with a dot is absolute, and any other name that does
        not end with the zone name is completed with it (V(acme) becomes V(acme.example.com)).
    type: str
    required: true
  type:
    description:
      - Record type.
    type: str
    choices: [A, AAAA, CNAME, NS, PTR, TXT]
    default: CNAME
  content:
    description:
      - Content of the record, for example the target host name of a CNAME or the address of an A record.
      - Required when O(state=present). With O(state=absent), only a record with this content is deleted.
    type: str
  proxied:
    description:
      - Whether Cloudflare proxies traffic for the record. Only for A, AAAA and CNAME records.
      - If not set, a new record is not proxied and an existing record keeps its setting.
    type: bool
  ttl:
    description:
      - Time to live in seconds, V(1) for automatic, otherwise 30 to 86400. Proxied records always use V(1).
      - If not set, a new record gets V(1) and an existing record keeps its TTL.
    type: int
  comment:
    description:
      - Free text added to the record comment after the ownership mark.
    type: str
  owner:
    description:
      - Identifies the owner of the record within the collection, for example V(org-acme), so that two owners cannot
        take each other's records. It becomes part of the ownership mark.
      - A record marked for another owner, or for no owner, counts as not owned.
    type: str
  force:
    description:
      - Change or delete the record even if it is not marked as owned by the collection (and this O(owner)), and mark
        it as owned.
    type: bool
    default: false
  state:
    description:
      - V(present) creates the record or updates the fields that differ.
      - V(absent) deletes the record. Nothing happens if there is none.
    type: str
    choices: [present, absent]
    default: present
notes:
  - If several records have the name and type (possible for A, AAAA and TXT), O(content) selects one; without it the
    task fails.
  - A CNAME cannot share its name with A, AAAA or other CNAME records; Cloudflare rejects it and the task fails with
    Cloudflare's message.
seealso:
  - module: aphex.platform.cloudflare_tunnel
  - name: Cloudflare DNS records API
    description: The dns_records endpoints this module calls.
    link: https://developers.cloudflare.com/api/resources/dns/subresources/records/
"""

EXAMPLES = r"""
- name: Route acme.example.com through the organization's tunnel
  aphex.platform.cloudflare_dns_record:
    zone: example.com
    name: acme
    type: CNAME
    content: f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com
    proxied: true
    owner: org-acme
  delegate_to: localhost

- name: Show what would change, without changing anything
  aphex.platform.cloudflare_dns_record: {zone: example.com, name: docs, content: docs.example.net, owner: org-acme}
  delegate_to: localhost
  check_mode: true
  diff: true

- name: Take over a record that was made by hand
  aphex.platform.cloudflare_dns_record:
    zone: example.com
    name: acme
    content: f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com
    proxied: true
    owner: org-acme
    force: true
  delegate_to: localhost

- name: Set the token once for every Cloudflare module
  module_defaults:
    group/aphex.platform.cloudflare:
      api_token: "{{ vault_cloudflare_api_token }}"
  block:
    - name: Remove the record
      aphex.platform.cloudflare_dns_record:
        zone: example.com
        name: acme
        owner: org-acme
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
record:
  description:
    - The record after the task; an empty dict when it was deleted or never existed.
    - In check mode, a record that would be created has no RV(record.id).
  returned: always
  type: dict
  contains:
    id:
      description: ID of the record.
      type: str
      returned: when the record exists
      sample: 372e67954025e0ba6aaa6d586b9e0b59
    type:
      description: Record type.
      type: str
      returned: success
      sample: CNAME
    name:
      description: Fully qualified name of the record.
      type: str
      returned: success
      sample: acme.example.com
    content:
      description: Content of the record.
      type: str
      returned: success
      sample: f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com
    proxied:
      description: Whether Cloudflare proxies the record.
      type: bool
      returned: when known
      sample: true
    ttl:
      description: Time to live in seconds, 1 for automatic.
      type: int
      returned: when known
      sample: 1
    comment:
      description: Record comment, with the ownership mark.
      type: str
      returned: success
      sample: "managed-by: aphex.platform; owner: org-acme"
zone:
  description: The zone of the record.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the zone.
      type: str
      returned: success
      sample: 023e105f4ecef8ad9ca31a8372d0c353
    name:
      description: Name of the zone.
      type: str
      returned: success
      sample: example.com
"""

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.client import run_module
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.dns import RECORD_TYPES
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.dns_service import ensure_dns_record


def argument_spec() -> dict:
    return dict(
        zone={"type": "str", "required": True},
        name={"type": "str", "required": True},
        type={"type": "str", "choices": list(RECORD_TYPES), "default": "CNAME"},
        content={"type": "str"},
        proxied={"type": "bool"},
        ttl={"type": "int"},
        comment={"type": "str"},
        owner={"type": "str"},
        force={"type": "bool", "default": False},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )


def main() -> None:
    run_module(argument_spec(), ensure_dns_record, required_if=[("state", "present", ["content"])])


if __name__ == "__main__":
    main()
