# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure planning for one DNS record: normalise, find ours, compare only what the user set, and refuse
to touch a record the collection does not own. Plain dicts in, plain dicts out."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import CloudflareError

MANAGED_BY = "managed-by: aphex.platform"
RECORD_TYPES = ("A", "AAAA", "CNAME", "NS", "PTR", "TXT")
PROXIABLE_TYPES = frozenset({"A", "AAAA", "CNAME"})
_HOST_TYPES = frozenset({"CNAME", "NS", "PTR"})
# "managed-by: aphex.platform[; owner: <owner>][; <note>]"
_COMMENT = re.compile(r"^managed-by: aphex\.platform(?:; owner: (?P<owner>[^;]+?))?(?:; (?P<note>.*))?$", re.S)
_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,62}$")
_LABEL = re.compile(r"^(?:\*|_?[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)$")
# Fields the module can set, in the order the diff shows them.
_FIELDS = ("type", "name", "content", "proxied", "ttl", "comment")


@dataclass(frozen=True)
class Ownership:
    managed: bool
    owner: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RecordPlan:
    action: str | None  # "create", "update", "delete" or None
    record_id: str | None = None
    changes: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.action is not None


def ownership_comment(owner: str | None = None, note: str | None = None) -> str:
    parts = [MANAGED_BY]
    if owner:
        parts.append(f"owner: {owner}")
    if note:
        parts.append(note)
    return "; ".join(parts)


def parse_comment(comment: str | None) -> Ownership:
    found = _COMMENT.match(comment or "")
    if not found:
        return Ownership(managed=False, note=comment or None)
    return Ownership(managed=True, owner=found.group("owner"), note=found.group("note") or None)


def is_owned(record: Mapping, owner: str | None) -> bool:
    """Ours: the comment carries the marker and the same owner (no owner matches only no owner)."""
    ownership = parse_comment(record.get("comment"))
    return ownership.managed and ownership.owner == owner


def record_fqdn(name: str, zone_name: str) -> str:
    """``@`` is the apex; a name ending in a dot is absolute; anything else is completed with the zone."""
    zone_name = zone_name.lower().rstrip(".")
    raw = name.strip().lower()
    if raw in ("@", ""):
        return zone_name
    if raw.endswith("."):
        fqdn = raw.rstrip(".")
        if fqdn != zone_name and not fqdn.endswith("." + zone_name):
            raise CloudflareError(f"name: {name!r} is not inside zone {zone_name!r}")
    elif raw == zone_name or raw.endswith("." + zone_name):
        fqdn = raw
    else:
        fqdn = f"{raw}.{zone_name}"
    labels = fqdn.split(".")
    if len(fqdn) > 253 or not all(_LABEL.match(label) for label in labels):
        raise CloudflareError(f"name: {name!r} is not a valid DNS name")
    return fqdn


def normalise_content(record_type: str, content: str) -> str:
    content = str(content).strip()
    if record_type in _HOST_TYPES:
        return content.lower().rstrip(".")
    if record_type in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(content))
        except ValueError:
            return content
    return content


def record_view(record: Mapping | None) -> dict:
    """A record as the module compares and returns it."""
    if not record:
        return {}
    view = {key: record.get(key) for key in ("id",) + _FIELDS}
    if view.get("type") and view.get("content") is not None:
        view["content"] = normalise_content(view["type"], view["content"])
    if view.get("name"):
        view["name"] = str(view["name"]).lower().rstrip(".")
    return {key: value for key, value in view.items() if value is not None}


def desired_record(params: Mapping, zone_name: str) -> dict:
    """The fields the user set (plus the ownership comment), validated and normalised."""
    record_type = params["type"]
    if record_type not in RECORD_TYPES:
        raise CloudflareError(f"type: {record_type!r} is not one of {', '.join(RECORD_TYPES)}")
    owner = params.get("owner")
    if owner is not None and not _OWNER.match(owner):
        raise CloudflareError(f"owner: {owner!r} must be 1 to 63 letters, digits or _.:/@- and start with a letter or digit")
    note = params.get("comment")
    if note is not None and ("\n" in note or note.startswith("owner:")):
        raise CloudflareError("comment: must be a single line and not start with 'owner:' (that part is set by owner)")
    desired = {"type": record_type, "name": record_fqdn(params["name"], zone_name)}
    if params.get("content") is not None:
        content = normalise_content(record_type, params["content"])
        if record_type in ("A", "AAAA"):
            try:
                address = ipaddress.ip_address(content)
            except ValueError:
                raise CloudflareError(f"content: {params['content']!r} is not an IP address") from None
            if address.version != (4 if record_type == "A" else 6):
                raise CloudflareError(f"content: {params['content']!r} is not an IPv{4 if record_type == 'A' else 6} address")
        if record_type == "CNAME" and content == desired["name"]:
            raise CloudflareError("content: a CNAME cannot point at its own name")
        if not content:
            raise CloudflareError("content: must not be empty")
        desired["content"] = content
    proxied = params.get("proxied")
    if proxied is not None:
        if proxied and record_type not in PROXIABLE_TYPES:
            raise CloudflareError(f"proxied: {record_type} records cannot be proxied (only {', '.join(sorted(PROXIABLE_TYPES))})")
        desired["proxied"] = proxied
    ttl = params.get("ttl")
    if ttl is not None:
        if ttl != 1 and not 30 <= ttl <= 86400:
            raise CloudflareError(f"ttl: {ttl} must be 1 (automatic) or between 30 and 86400 seconds")
        if proxied and ttl != 1:
            raise CloudflareError("ttl: proxied records always use the automatic TTL; leave ttl unset or set it to 1")
        desired["ttl"] = ttl
    desired["comment"] = ownership_comment(owner, note)
    return desired


def select_record(records: list[Mapping], desired: Mapping) -> dict | None:
    """The record to manage among those with the desired name and type."""
    matches = [dict(r) for r in records
               if r.get("type") == desired["type"] and str(r.get("name", "")).lower().rstrip(".") == desired["name"]]
    if len(matches) > 1 and "content" in desired:
        same = [r for r in matches if normalise_content(r["type"], r["content"]) == desired["content"]]
        if len(same) == 1:
            return same[0]
        if not same:
            return None
    if len(matches) > 1:
        listed = ", ".join(f"{r['id']} ({r.get('content')})" for r in matches)
        raise CloudflareError(f"several {desired['type']} records are named {desired['name']} ({listed}); "
                              "set content to pick one")
    return matches[0] if matches else None


def _refusal(verb: str, current: Mapping, owner: str | None) -> CloudflareError:
    whose = f"aphex.platform (owner {owner})" if owner else "aphex.platform"
    return CloudflareError(
        f"refusing to {verb} DNS record {current.get('name')} ({current.get('type')} {current.get('content')}, "
        f"id {current.get('id')}): it is not managed by {whose}; its comment is {current.get('comment')!r}. "
        f"Set force: true to take it over.")


def plan_record(state: str, desired: Mapping, current: Mapping | None, owner: str | None = None,
                force: bool = False) -> RecordPlan:
    """Create, update, delete or leave alone. Only the fields in ``desired`` are compared."""
    before = record_view(current)
    if state == "absent":
        if current is None:
            return RecordPlan(None)
        if "content" in desired and before.get("content") != desired["content"]:
            return RecordPlan(None, before=before, after=before)
        if not force and not is_owned(current, owner):
            raise _refusal("delete", current, owner)
        return RecordPlan("delete", record_id=current.get("id"), before=before, after={})
    if current is None:
        after = {key: desired[key] for key in _FIELDS if key in desired}
        return RecordPlan("create", changes=dict(after), before={}, after=after)
    if desired.get("proxied", before.get("proxied")) and desired.get("ttl", 1) != 1:
        raise CloudflareError(f"ttl: {desired['name']} is proxied, and proxied records always use the automatic TTL; "
                              "leave ttl unset or set it to 1")
    changes = {key: value for key, value in desired.items()
               if key not in ("type", "name") and before.get(key) != value}
    if not changes:
        return RecordPlan(None, record_id=current.get("id"), before=before, after=before)
    if not force and not is_owned(current, owner):
        raise _refusal("change", current, owner)
    return RecordPlan("update", record_id=current.get("id"), changes=changes, before=before,
                      after=dict(before, **changes))


def update_body(plan: RecordPlan, current: Mapping) -> dict:
    """PATCH body: the schema needs type, name and content (and the SDK ttl) even when they do not change."""
    view = record_view(current)
    body = {"type": view["type"], "name": view["name"], "content": view.get("content"), "ttl": view.get("ttl", 1)}
    body.update(plan.changes)
    return body


def create_body(plan: RecordPlan) -> dict:
    body = dict(plan.after)
    body.setdefault("ttl", 1)  # the SDK requires a ttl; 1 is Cloudflare's "automatic"
    return body
