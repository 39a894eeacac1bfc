# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation and normalisation of organization specs (plain dicts in, error strings out).

Every error names the field, e.g. ``organizations[acme].admin_users[1]: 'bob' is not a valid e-mail address``,
so one run can report every problem of every organization before anything is created.
"""

from __future__ import annotations

import ipaddress
import re

from . import naming

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# RFC 5322 addr-spec, dot-atom form only: RBAC subjects must be the bare address, so no display names,
# comments or quoted local parts.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
EMAIL_LOCAL_RE = re.compile(rf"^{_ATEXT}+(\.{_ATEXT}+)*$")
HOST_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUANTITY_RE = re.compile(r"^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")
QUOTA_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9._/]*[a-z0-9])?$")
# GitHub logins (users and organizations): 1-39 alphanumerics or single hyphens, not at either end.
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Namespaces the platform itself uses (reference §7.2, plus the webhook-only entries and the platform layers).
# A name is privileged when it equals one of these or starts with "<entry>-".
PRIVILEGED_NAMES = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
    "pipeline-system",
    "pipeline-catalog",
    "auth-system",
    "tekton-pipelines",
    "tekton-pipelines-resolvers",
    "argocd",
    "platform-system",
    "cert-manager",
    "external-secrets",
    "ingress-nginx",
)

# Webhook event names GitHub documents (X-GitHub-Event header values).
GITHUB_EVENTS = frozenset((
    "branch_protection_configuration", "branch_protection_rule", "check_run", "check_suite", "code_scanning_alert",
    "commit_comment", "create", "custom_property", "custom_property_values", "delete", "dependabot_alert",
    "deploy_key", "deployment", "deployment_protection_rule", "deployment_review", "deployment_status",
    "discussion", "discussion_comment", "fork", "github_app_authorization", "gollum", "installation",
    "installation_repositories", "installation_target", "issue_comment", "issues", "label", "marketplace_purchase",
    "member", "membership", "merge_group", "meta", "milestone", "org_block", "organization", "package",
    "page_build", "personal_access_token_request", "ping", "project", "project_card", "project_column",
    "projects_v2", "projects_v2_item", "public", "pull_request", "pull_request_review",
    "pull_request_review_comment", "pull_request_review_thread", "push", "registry_package", "release",
    "repository", "repository_advisory", "repository_dispatch", "repository_import", "repository_ruleset",
    "repository_vulnerability_alert", "secret_scanning_alert", "secret_scanning_alert_location",
    "security_advisory", "security_and_analysis", "sponsorship", "star", "status", "team", "team_add", "watch",
    "workflow_dispatch", "workflow_job", "workflow_run",
))

# Keys an entry of aphex_organizations may carry; anything else is a typo worth reporting.
ORG_FIELDS = ("name", "display_name", "admin_users", "exposure", "domain", "ingress_host", "events", "quotas", "state",
              "github_owners")
STATES = ("present", "absent")
MAX_NAME = 63 - len("org-")
MAX_DISPLAY_NAME = 256
MIN_WEBHOOK_SECRET = 32


def privileged_match(name: str) -> str | None:
    for entry in PRIVILEGED_NAMES:
        if name == entry or name.startswith(entry + "-"):
            return entry
    return None


def name_errors(name, field: str = "name") -> list[str]:
    if not isinstance(name, str) or not name:
        return [f"{field}: is required"]
    if not DNS_LABEL_RE.match(name):
        return [f"{field}: '{name}' is not a DNS label (lower-case letters, digits and '-', "
                "starting and ending with a letter or digit)"]
    if len(name) > MAX_NAME:
        return [f"{field}: '{name}' is {len(name)} characters; namespace 'org-{name}' would exceed 63, "
                f"so at most {MAX_NAME} are allowed"]
    entry = privileged_match(name)
    if entry:
        return [f"{field}: '{name}' is a privileged name (matches '{entry}')"]
    return []


def hostname_errors(value, field: str, min_labels: int = 2) -> list[str]:
    if not isinstance(value, str) or not value:
        return [f"{field}: is required"]
    host = value.rstrip(".")
    if host != host.lower():
        return [f"{field}: '{value}' must be lower case"]
    labels = host.split(".")
    if len(host) > 253 or len(labels) < min_labels:
        return [f"{field}: '{value}' is not a valid domain name"]
    for label in labels:
        if len(label) > 63 or not HOST_LABEL_RE.match(label):
            return [f"{field}: '{value}' is not a valid domain name (label '{label}')"]
    if labels[-1].isdigit():
        return [f"{field}: '{value}' is not a valid domain name (numeric top-level label)"]
    return []


def email_errors(value, field: str) -> list[str]:
    if not isinstance(value, str) or value.count("@") != 1:
        return [f"{field}: {value!r} is not a valid e-mail address"]
    local, domain = value.split("@")
    if not local or len(local) > 64 or not EMAIL_LOCAL_RE.match(local):
        return [f"{field}: {value!r} is not a valid e-mail address (local part)"]
    if hostname_errors(domain.lower(), field):
        return [f"{field}: {value!r} is not a valid e-mail address (domain)"]
    return []


def admin_users_errors(users, field: str) -> list[str]:
    if not isinstance(users, list) or not users:
        return [f"{field}: at least one admin e-mail address is required"]
    errors = []
    seen = {}
    for index, user in enumerate(users):
        item_errors = email_errors(user, f"{field}[{index}]")
        errors.extend(item_errors)
        if item_errors:
            continue
        key = user.lower()
        if key in seen:
            errors.append(f"{field}[{index}]: '{user}' duplicates {field}[{seen[key]}] (e-mail addresses are "
                          "compared case-insensitively)")
        else:
            seen[key] = index
    return errors


def display_name_errors(value, field: str) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"{field}: must be a non-empty string"]
    if len(value) > MAX_DISPLAY_NAME:
        return [f"{field}: is {len(value)} characters, at most {MAX_DISPLAY_NAME} are allowed"]
    return []


def events_errors(events, field: str) -> list[str]:
    if not isinstance(events, list) or not events:
        return [f"{field}: must be a non-empty list of GitHub event names"]
    errors = []
    for index, event in enumerate(events):
        if event not in GITHUB_EVENTS:
            errors.append(f"{field}[{index}]: {event!r} is not a GitHub webhook event")
        elif events.index(event) != index:
            errors.append(f"{field}[{index}]: '{event}' is listed twice")
    return errors


def quotas_errors(quotas, field: str) -> list[str]:
    if quotas is None:
        return []
    if not isinstance(quotas, dict):
        return [f"{field}: must be a mapping of ResourceQuota resource names to quantities"]
    errors = []
    for key, value in quotas.items():
        if not isinstance(key, str) or not QUOTA_KEY_RE.match(key):
            errors.append(f"{field}: {key!r} is not a ResourceQuota resource name")
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not QUANTITY_RE.match(str(value)):
            errors.append(f"{field}.{key}: {value!r} is not a non-negative Kubernetes quantity")
    return errors


def github_owner_errors(value, field: str) -> list[str]:
    if not isinstance(value, str) or not value:
        return [f"{field}: is required (a non-empty string)"]
    if not GITHUB_OWNER_RE.match(value):
        return [f"{field}: '{value}' is not a GitHub user or organization name (1-39 letters, digits or single "
                "hyphens, not starting or ending with a hyphen)"]
    return []


def github_owners_errors(owners, field: str) -> list[str]:
    """The organization's allow-list of GitHub owners its repository bindings may name (optional)."""
    if owners is None:
        return []
    if not isinstance(owners, list):
        return [f"{field}: must be a list of GitHub user or organization names"]
    errors = []
    for index, owner in enumerate(owners):
        item_errors = github_owner_errors(owner, f"{field}[{index}]")
        errors.extend(item_errors)
        if not item_errors and [o.lower() for o in owners if isinstance(o, str)].index(owner.lower()) != index:
            errors.append(f"{field}[{index}]: '{owner}' is listed twice (GitHub names are case-insensitive)")
    return errors


def image_errors(image, field: str) -> list[str]:
    if not isinstance(image, str) or not image or any(c.isspace() for c in image):
        return [f"{field}: must be an image reference"]
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return [f"{field}: '{image}' has no tag; pin a version (e.g. cloudflare/cloudflared:2026.8.2)"]
    if last.rsplit(":", 1)[1] == "latest":
        return [f"{field}: '{image}' uses the 'latest' tag; pin a version"]
    return []


def webhook_secret_errors(secret, field: str) -> list[str]:
    if secret is None:
        return []
    if not isinstance(secret, str) or len(secret) < MIN_WEBHOOK_SECRET:
        return [f"{field}: must be at least {MIN_WEBHOOK_SECRET} characters"]
    return []


def tunnel_id_errors(tunnel_id, field: str) -> list[str]:
    if tunnel_id is None or (isinstance(tunnel_id, str) and UUID_RE.match(tunnel_id)):
        return []
    return [f"{field}: {tunnel_id!r} is not a Cloudflare tunnel id (UUID)"]


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def organization_errors(spec: dict, where: str | None = None) -> list[str]:
    """Every problem of one normalised organization spec, each prefixed with its field path.

    ``where`` defaults to ``organizations[<name>]``; pass ``""`` to name bare options (module arguments).
    """
    if where is None:
        where = f"organizations[{spec.get('name') or '?'}]"

    def at(name):
        return _field(where, name)

    errors = name_errors(spec.get("name"), at("name"))
    state = spec.get("state", "present")
    if state not in STATES:
        errors.append(f"{at('state')}: {state!r} must be one of {', '.join(STATES)}")
    exposure = spec.get("exposure", naming.DEFAULT_EXPOSURE)
    if state == "absent":
        # Offboarding needs the name, and the domain when a DNS record has to go; nothing else.
        if spec.get("domain") or exposure == "cloudflare":
            errors.extend(hostname_errors(spec.get("domain"), at("domain")))
        return errors
    errors.extend(display_name_errors(spec.get("display_name"), at("display_name")))
    errors.extend(admin_users_errors(spec.get("admin_users"), at("admin_users")))
    if exposure not in naming.EXPOSURES:
        errors.append(f"{at('exposure')}: {exposure!r} must be one of {', '.join(naming.EXPOSURES)}")
    if spec.get("domain") or exposure == "cloudflare":
        domain_errors = hostname_errors(spec.get("domain"), at("domain"))
        errors.extend(domain_errors)
        if not domain_errors and isinstance(spec.get("name"), str):
            host = naming.webhook_hostname(spec["name"], spec["domain"].rstrip("."))
            if len(host) > 253:
                errors.append(f"{at('domain')}: webhook host '{host}' is longer than 253 characters")
    if exposure == "ingress":
        errors.extend(hostname_errors(spec.get("ingress_host"), at("ingress_host")))
    errors.extend(events_errors(spec.get("events", list(naming.DEFAULT_EVENTS)), at("events")))
    errors.extend(quotas_errors(spec.get("quotas"), at("quotas")))
    errors.extend(github_owners_errors(spec.get("github_owners"), at("github_owners")))
    return errors


def cloudflare_credential_errors(spec: dict, api_token_set: bool, where: str | None = None) -> list[str]:
    """The role's check: an organization exposed through Cloudflare needs an API token to create its tunnel."""
    where = where or f"organizations[{spec.get('name') or '?'}]"
    if spec.get("exposure") == "cloudflare" and not api_token_set:
        verb = "offboard" if spec.get("state") == "absent" else "expose"
        return [f"{where}.exposure: 'cloudflare' needs a Cloudflare API token (organization_cloudflare_api_token "
                f"or CLOUDFLARE_API_TOKEN) to {verb} it"]
    return []


def normalize_organization(raw: dict, defaults: dict | None = None) -> dict:
    """Apply defaults and canonical forms; unknown keys are kept so the validator can report them."""
    defaults = defaults or {}
    spec = dict(raw)
    spec.setdefault("state", defaults.get("state", "present"))
    spec.setdefault("exposure", defaults.get("exposure", naming.DEFAULT_EXPOSURE))
    if spec.get("domain") is None and defaults.get("domain"):
        spec["domain"] = defaults["domain"]
    if isinstance(spec.get("domain"), str):
        spec["domain"] = spec["domain"].rstrip(".")
    if spec.get("events") is None:
        spec["events"] = list(defaults.get("events") or naming.DEFAULT_EVENTS)
    if spec.get("ingress_host") is None and defaults.get("ingress_host"):
        spec["ingress_host"] = defaults["ingress_host"]
    quotas = dict(naming.DEFAULT_QUOTAS)
    for source in (defaults.get("quotas"), raw.get("quotas")):
        if isinstance(source, dict):
            quotas.update(source)
        elif source is not None:
            quotas = source  # let the validator name the bad value
            break
    spec["quotas"] = {k: str(v) for k, v in quotas.items()} if isinstance(quotas, dict) else quotas
    return spec


def organization_specs(organizations, defaults: dict | None = None, select=None,
                       cloudflare_api_token_set: bool = False, settings: dict | None = None) -> dict:
    """Normalise and validate every organization of an inventory at once.

    Returns ``{"organizations": [...], "errors": [...]}``; with ``select`` only that organization is returned,
    but all of them are validated, so a typo elsewhere in the inventory is still reported. ``settings`` are the
    role's shared settings (keys of :data:`SETTINGS`), checked for the exposures in use.
    """
    defaults = defaults or {}
    if organizations is None:
        organizations = []
    if not isinstance(organizations, list):
        return {"organizations": [], "errors": ["organizations: must be a list of organizations"]}
    specs, errors, seen = [], [], {}
    for index, raw in enumerate(organizations):
        if not isinstance(raw, dict):
            errors.append(f"organizations[{index}]: must be a mapping")
            continue
        name = raw.get("name")
        where = f"organizations[{name}]" if isinstance(name, str) and name else f"organizations[{index}]"
        unknown = sorted(set(raw) - set(ORG_FIELDS), key=str)
        errors.extend(f"{where}.{key}: unknown field (allowed: {', '.join(ORG_FIELDS)})" for key in unknown)
        spec = normalize_organization(raw, defaults)
        errors.extend(organization_errors(spec, where))
        errors.extend(cloudflare_credential_errors(spec, cloudflare_api_token_set, where))
        if isinstance(name, str) and name in seen:
            errors.append(f"{where}.name: '{name}' is defined twice (organizations[{seen[name]}])")
        elif isinstance(name, str):
            seen[name] = index
        if isinstance(name, str) and name:
            spec["names"] = naming.names(spec)
        specs.append(spec)
    if settings is not None:
        errors.extend(settings_errors(settings, {spec.get("exposure") for spec in specs}, prefix="organization_"))
    if select:
        specs = [spec for spec in specs if spec.get("name") == select]
        if not specs:
            errors.append(f"org: '{select}' is not defined in aphex_organizations")
    return {"organizations": specs, "errors": errors}


def module_input_errors(spec: dict, params: dict, check_mode: bool = False) -> list[str]:
    """Errors in the organization module's arguments, named by option; checked before any API call."""
    if spec.get("state") == "absent":
        # The module offboards the cluster side only; DNS and tunnel are the Cloudflare modules' business.
        return name_errors(spec.get("name"))
    errors = organization_errors(spec, "")
    errors.extend(webhook_secret_errors(params.get("webhook_secret"), "webhook_secret"))
    if params.get("webhook_secret") is not None and params.get("rotate_webhook_secret"):
        errors.append("rotate_webhook_secret: cannot be combined with webhook_secret (a given secret is stored as is)")
    if spec.get("exposure") == "cloudflare":
        errors.extend(tunnel_id_errors(params.get("cloudflare_tunnel_id"), "cloudflare_tunnel_id"))
        if not params.get("cloudflare_tunnel_token") and not check_mode:
            errors.append("cloudflare_tunnel_token: required when exposure is 'cloudflare' (the token "
                          "aphex.platform.cloudflare_tunnel returns)")
    errors.extend(settings_errors(params, exposures={spec.get("exposure")}))
    return errors


SETTINGS = ("cloudflared_image", "cloudflared_replicas", "ingress_class_name", "platform_namespace", "network")


def settings_errors(settings: dict, exposures=("cloudflare", "ingress"), prefix: str = "") -> list[str]:
    """Errors in the settings shared by all organizations (module options, or the role's variables with
    ``prefix="organization_"``); only settings that matter for ``exposures`` are checked."""
    errors = []
    if "cloudflare" in exposures:
        errors.extend(image_errors(settings.get("cloudflared_image"), f"{prefix}cloudflared_image"))
        replicas = settings.get("cloudflared_replicas")
        if isinstance(replicas, str) and replicas.strip().isdigit():
            replicas = int(replicas)  # extra vars (-e name=2) arrive as strings; the module converts them
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
            errors.append(f"{prefix}cloudflared_replicas: must be at least 1")
    if "ingress" in exposures and settings.get("ingress_class_name"):
        if not DNS_LABEL_RE.match(settings["ingress_class_name"]):
            errors.append(f"{prefix}ingress_class_name: '{settings['ingress_class_name']}' is not a valid name")
    if not isinstance(settings.get("platform_namespace"), str) or \
            not DNS_LABEL_RE.match(settings.get("platform_namespace")):
        errors.append(f"{prefix}platform_namespace: {settings.get('platform_namespace')!r} is not a namespace name")
    network = settings.get("network") or {}
    if not isinstance(network, dict):
        errors.append(f"{prefix}network: must be a mapping")
    else:
        errors.extend(network_errors(network, f"{prefix}network"))
    return errors


def network_errors(network: dict, field: str = "network") -> list[str]:
    errors = []
    for key in ("dns_namespace", "interceptors_namespace", "ingress_controller_namespace"):
        value = network.get(key)
        if value is not None and not DNS_LABEL_RE.match(value):
            errors.append(f"{field}.{key}: {value!r} is not a namespace name")
    cidrs = network.get("api_server_cidrs")
    if cidrs is not None:
        if not cidrs:
            errors.append(f"{field}.api_server_cidrs: must list at least one CIDR")
        for index, cidr in enumerate(cidrs):
            try:
                ipaddress.ip_network(cidr, strict=True)
            except (TypeError, ValueError):
                errors.append(f"{field}.api_server_cidrs[{index}]: {cidr!r} is not a CIDR")
    ports = network.get("api_server_ports")
    if ports is not None:
        if not ports:
            errors.append(f"{field}.api_server_ports: must list at least one port")
        for index, port in enumerate(ports):
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                errors.append(f"{field}.api_server_ports[{index}]: {port!r} is not a TCP port")
    return errors
