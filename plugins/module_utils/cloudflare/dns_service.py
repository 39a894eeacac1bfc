# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of aphex.platform.cloudflare_dns_record: look up, plan (pure), apply unless in check mode."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.dns import (
    create_body,
    desired_record,
    plan_record,
    record_view,
    select_record,
    update_body,
)
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import CloudflareError


def ensure_dns_record(api, params: dict, check_mode: bool) -> dict:
    """Bring the record to ``params['state']``; returns the module result (with ``diff``)."""
    # required and required_if let an explicit null through (content: "{{ x | default(None) }}").
    for option in ("zone", "name"):
        if not params[option]:
            raise CloudflareError(f"{option}: must not be empty")
    if params["state"] == "present" and params["content"] is None:
        raise CloudflareError("content: required when state is present")
    zone = api.resolve_zone(params["zone"])
    desired = desired_record(params, zone["name"])

    def find():
        return select_record(api.find_records(zone["id"], desired["name"], desired["type"]), desired)

    current = find()
    plan = plan_record(params["state"], desired, current, owner=params["owner"], force=params["force"])

    record = record_view(current) if current else {}
    if plan.action == "create":
        record = plan.after
        if not check_mode:
            # A create that fails with 5xx or a timeout may still have happened; look before retrying.
            record = record_view(api.create_record(zone["id"], create_body(plan), recheck=find))
    elif plan.action == "update":
        record = dict(plan.after, id=plan.record_id)
        if not check_mode:
            record = record_view(api.edit_record(zone["id"], plan.record_id, update_body(plan, current)))
    elif plan.action == "delete":
        if not check_mode:
            api.delete_record(zone["id"], plan.record_id)
        record = {}

    return {"changed": plan.changed, "record": record, "zone": zone,
            "diff": {"before": plan.before, "after": plan.after}}
