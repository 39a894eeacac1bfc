# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-service: an Organization object a team committed (Argo CD applied it) read back into the normalised spec
the inventory path uses, so both are validated and built by the same code. Plain data in, plain data out.

Errors name the object's fields in the CRD's camelCase (``spec.adminUsers[0]: ...``); a field the object leaves
out and a module option fills in (e.g. ``domain``) is named by its option, since the platform, not the team,
has to fix it.
"""

from __future__ import annotations

import re

from . import naming
from .validation import (
    name_errors,
    normalize_organization,
    organization_errors,
    settings_errors,
    tunnel_id_errors,
    webhook_secret_errors,
)

# The Organization's spec fields (CRD camelCase) and the keys of the normalised spec they map to.
SPEC_FIELDS = (
    ("displayName", "display_name"),
    ("adminUsers", "admin_users"),
    ("exposure", "exposure"),
    ("domain", "domain"),
    ("events", "events"),
    ("quotas", "quotas"),
    ("githubOwners", "github_owners"),
)
WEBHOOK_SECRET_FIELD = "webhookSecret"
ALLOWED_FIELDS = tuple(camel for camel, _key in SPEC_FIELDS) + (WEBHOOK_SECRET_FIELD,)
# Option fields the object cannot carry (the platform's settings) stay named by their option.
_CAMEL = dict((key, camel) for camel, key in SPEC_FIELDS)
_FIELD_RE = re.compile(r"^([a-z_]+)(.*)$")


def is_self_service(params: dict) -> bool:
    """Name-only onboarding: neither display_name nor admin_users given, so the object in the cluster is the spec."""
    return params.get("state", "present") == "present" and params.get("display_name") is None and \
        params.get("admin_users") is None


def input_errors(params: dict) -> list[str]:
    """The options self-service still takes from the caller, checked before any API call (the object's own fields
    are checked once it is read)."""
    errors = name_errors(params.get("name"))
    errors.extend(webhook_secret_errors(params.get("webhook_secret"), "webhook_secret"))
    if params.get("webhook_secret") is not None and params.get("rotate_webhook_secret"):
        errors.append("rotate_webhook_secret: cannot be combined with webhook_secret (a given secret is stored as is)")
    errors.extend(tunnel_id_errors(params.get("cloudflare_tunnel_id"), "cloudflare_tunnel_id"))
    # The object chooses the exposure: every setting any exposure uses must be valid.
    errors.extend(settings_errors(params, exposures=naming.EXPOSURES))
    return errors


def _rename(error: str, from_object: set) -> str:
    """``admin_users[1]: ... duplicates admin_users[0] ...`` -> ``spec.adminUsers[1]: ... spec.adminUsers[0]``
    for fields the object carries; ``name`` is the object's ``metadata.name``."""
    field, sep, message = error.partition(":")
    match = _FIELD_RE.match(field)
    if not sep or not match:
        return error
    key, rest = match.groups()
    if key == "name":
        return f"metadata.name{rest}:{message}"
    if key not in _CAMEL or key not in from_object:
        return error
    new = f"spec.{_CAMEL[key]}"
    return f"{new}{rest}:{message.replace(f'duplicates {key}[', f'duplicates {new}[')}"


def spec_from_record(name: str, record_spec, params: dict, check_mode: bool = False) -> tuple:
    """(normalised spec, webhook secret the object provides or None, errors) of the Organization object's ``spec``.

    Module options (``exposure``, ``domain``, ``events``, ``quotas``, ``github_owners``, ``ingress_host``) fill in
    what the object leaves out, as the organization role's defaults do for the inventory; ``quotas`` of the
    object are merged over the option's.
    """
    if not isinstance(record_spec, dict):
        record_spec = {} if record_spec is None else record_spec
    if not isinstance(record_spec, dict):
        return {"name": name, "state": "present"}, None, ["spec: must be a mapping"]
    errors = [f"spec.{key}: unknown field (allowed: {', '.join(ALLOWED_FIELDS)})"
              for key in sorted(set(record_spec) - set(ALLOWED_FIELDS), key=str)]
    raw = {"name": name, "state": "present"}
    for camel, key in SPEC_FIELDS:
        if record_spec.get(camel) is not None:
            raw[key] = record_spec[camel]
    # displayName and adminUsers have no option to fall back on: they are the object's even when missing.
    from_object = (set(raw) - {"name", "state"}) | {"display_name", "admin_users"}
    defaults = {"exposure": params.get("exposure"), "domain": params.get("domain"), "events": params.get("events"),
                "quotas": params.get("quotas"), "ingress_host": params.get("ingress_host")}
    spec = normalize_organization(raw, {k: v for k, v in defaults.items() if v is not None})
    if "github_owners" not in raw and params.get("github_owners") is not None:
        spec["github_owners"] = list(params["github_owners"])
    errors.extend(_rename(error, from_object) for error in organization_errors(spec, ""))

    secret = record_spec.get(WEBHOOK_SECRET_FIELD)
    if secret is not None:
        field = f"spec.{WEBHOOK_SECRET_FIELD}"
        errors.extend(webhook_secret_errors(secret, field))
        if params.get("rotate_webhook_secret") and params.get("webhook_secret") is None:
            errors.append(f"{field}: the Organization provides its own webhook secret; rotate_webhook_secret "
                          "cannot replace it (change the secret in the object instead)")
    if spec.get("exposure") == "cloudflare" and not params.get("cloudflare_tunnel_token") and not check_mode:
        where = "spec.exposure" if "exposure" in from_object else "exposure"
        errors.append(f"{where}: 'cloudflare' needs the organization's Cloudflare tunnel, and no "
                      "cloudflare_tunnel_token was given (the platform creates the tunnel and passes its token)")
    return spec, (secret if isinstance(secret, str) else None), errors
