# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure planning for one repository webhook: normalise, find ours by URL, compare, plan the calls.

GitHub never returns a hook's secret: a hook that has one shows ``config.secret`` as ``********``. So the
planner can tell whether a secret is set, never which one. The rule (documented in the module):

* a new hook gets the secret;
* the secret is (re)sent whenever the configuration is written anyway (content type, SSL check, a missing
  secret), and when ``rotate_secret`` says the secret changed; then the task reports a change;
* otherwise an existing hook's secret is left alone and the task can report no change.

Events and ``active`` are written with ``PATCH /hooks/{id}`` without ``config`` (GitHub drops the secret
when ``config`` is sent without it); the configuration with ``PATCH /hooks/{id}/config``, which changes only
the keys it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.aphex.platform.plugins.module_utils.github.errors import GitHubError
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import GITHUB_EVENTS

CONTENT_TYPES = ("json", "form")
DEFAULT_EVENTS = ("push",)
MASKED_SECRET = "********"
# What the diff and the results show for the secret: never the value.
SECRET_SET = "(set)"
SECRET_NOT_SET = "(not set)"
SECRET_NEW = "(set, new value)"
_GITHUB_WEB = "https://github.com"


@dataclass(frozen=True)
class HookPlan:
    action: str | None  # "create", "update", "delete" or None
    hook_id: int | None = None
    create_body: dict = field(default_factory=dict)
    hook_body: dict = field(default_factory=dict)  # PATCH /hooks/{id}: events, active
    config_body: dict = field(default_factory=dict)  # PATCH /hooks/{id}/config: url, content_type, ...
    delete_ids: tuple = ()
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    warnings: tuple = ()

    @property
    def changed(self) -> bool:
        return self.action is not None


def desired_hook(params: dict) -> dict:
    """The hook as the task wants it, normalised; raises GitHubError naming the option."""
    url = params.get("url") or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GitHubError(f"url: {url!r} is not an http(s) URL")
    events = params.get("events")
    if events is None:
        events = list(DEFAULT_EVENTS)
    if not events or any(not isinstance(e, str) or not e.strip() for e in events):
        raise GitHubError("events: give at least one event name, e.g. [push]")
    unknown = sorted({e.strip() for e in events} - GITHUB_EVENTS - {"*"})
    if unknown:
        raise GitHubError(f"events: {', '.join(unknown)} not GitHub webhook event names (or '*' for all)")
    content_type = params.get("content_type") or "json"
    if content_type not in CONTENT_TYPES:
        raise GitHubError(f"content_type: must be one of {', '.join(CONTENT_TYPES)}")
    secret = params.get("secret")
    if secret is not None and not secret:
        raise GitHubError("secret: must not be empty; leave it out to keep a hook's secret as it is")
    return {
        "url": url,
        "content_type": content_type,
        "insecure_ssl": "1" if params.get("insecure_ssl") else "0",
        "events": sorted({e.strip() for e in events}),
        "active": bool(params.get("active", True)),
        "secret": secret,
    }


def hook_view(hook: dict) -> dict:
    """What the results and the diff show of a hook: no secret, only whether one is set."""
    config = hook.get("config") or {}
    insecure = config.get("insecure_ssl", "0")
    return {
        "id": hook.get("id"),
        "url": config.get("url"),
        "content_type": config.get("content_type", "form"),
        "insecure_ssl": str(int(insecure)) if isinstance(insecure, (int, float)) else str(insecure),
        "events": sorted(hook.get("events") or []),
        "active": bool(hook.get("active")),
        "secret": SECRET_SET if config.get("secret") else SECRET_NOT_SET,
    }


def matching_hooks(hooks: list, url: str) -> list:
    """Our hooks: repository web hooks whose payload URL is ``url``, oldest first."""
    found = [h for h in hooks if h.get("name", "web") == "web" and (h.get("config") or {}).get("url") == url]
    return sorted(found, key=lambda h: h.get("id") or 0)


def _without_id(view: dict) -> dict:
    return {k: v for k, v in view.items() if k != "id"}


def plan_hook(state: str, desired: dict | None, hooks: list, url: str, rotate_secret: bool = False) -> HookPlan:
    """Plan for ``state`` given every hook of the repository (``desired`` may be None for absent)."""
    mine = matching_hooks(hooks, url)
    if state == "absent":
        if not mine:
            return HookPlan(action=None)
        return HookPlan(action="delete", hook_id=mine[0].get("id"), delete_ids=tuple(h.get("id") for h in mine),
                        before=_without_id(hook_view(mine[0])), after={})

    secret = desired["secret"]
    wanted = {k: desired[k] for k in ("url", "content_type", "insecure_ssl", "events", "active")}
    if not mine:
        config = {"url": desired["url"], "content_type": desired["content_type"],
                  "insecure_ssl": desired["insecure_ssl"]}
        if secret:
            config["secret"] = secret
        body = {"name": "web", "active": desired["active"], "events": desired["events"], "config": config}
        return HookPlan(action="create", create_body=body, before={},
                        after={**wanted, "secret": SECRET_SET if secret else SECRET_NOT_SET})

    current = mine[0]
    view = hook_view(current)
    warnings = ()
    if len(mine) > 1:
        others = ", ".join(str(h.get("id")) for h in mine[1:])
        warnings = (f"{len(mine)} webhooks of this repository deliver to {url}; hook {view['id']} is managed, "
                    f"the others ({others}) are left alone",)

    hook_body = {}
    if view["events"] != wanted["events"]:
        hook_body["events"] = wanted["events"]
    if view["active"] != wanted["active"]:
        hook_body["active"] = wanted["active"]

    config_body = {}
    for key in ("content_type", "insecure_ssl"):
        if view[key] != wanted[key]:
            config_body[key] = wanted[key]
    new_secret = False
    if secret and (config_body or rotate_secret or view["secret"] == SECRET_NOT_SET):
        config_body["secret"] = secret
        new_secret = True
    if config_body:
        # PATCH .../config changes only what it is given; url is sent too so the call is self-contained.
        config_body = {"url": wanted["url"], **config_body}

    after = {**wanted, "secret": SECRET_NEW if new_secret else view["secret"]}
    before = _without_id(view)
    if not hook_body and not config_body:
        return HookPlan(action=None, hook_id=view["id"], before=before, after=before, warnings=warnings)
    return HookPlan(action="update", hook_id=view["id"], hook_body=hook_body, config_body=config_body,
                    before=before, after=after, warnings=warnings)


def manual_settings(repository: str, url: str, events: list | None, content_type: str = "json",
                    active: bool = True, insecure_ssl: bool = False, secret_hint: str | None = None,
                    state: str = "present") -> dict:
    """The exact settings to enter on GitHub by hand (no token): a dict and the same as text lines."""
    owner_repo = repository.strip("/")
    events = sorted(set(events or DEFAULT_EVENTS))
    hooks_page = f"{_GITHUB_WEB}/{owner_repo}/settings/hooks"
    secret_text = secret_hint or "the organization's webhook secret"
    content = "application/json" if content_type == "json" else "application/x-www-form-urlencoded"
    if events == ["push"]:
        events_text = "Just the push event."
    else:
        events_text = "Let me select individual events: " + ", ".join(events)
    settings = {
        "page": f"{hooks_page}/new" if state == "present" else hooks_page,
        "payload_url": url,
        "content_type": content,
        "secret": secret_text,
        "ssl_verification": "Disable (not recommended)" if insecure_ssl else "Enable SSL verification",
        "events": events,
        "active": bool(active),
    }
    if state == "absent":
        lines = [f"Remove the webhook of {owner_repo} that delivers to {url}:",
                 f"  open {hooks_page}, choose the webhook with that Payload URL, Delete webhook."]
    else:
        lines = [
            f"Add this webhook to {owner_repo} (Settings > Webhooks > Add webhook, {settings['page']}):",
            f"  Payload URL: {url}",
            f"  Content type: {content}",
            f"  Secret: {secret_text}",
            f"  SSL verification: {settings['ssl_verification']}",
            f"  Which events would you like to trigger this webhook?: {events_text}",
            f"  Active: {'checked' if active else 'unchecked'}",
            "  If a webhook with this Payload URL exists already, edit it instead of adding a second one.",
        ]
    settings["text"] = lines
    return settings
