# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps of aphex.platform.github_webhook: look up, plan (pure), apply unless in check mode."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.github.client import split_repository
from ansible_collections.aphex.platform.plugins.module_utils.github.hooks import (
    desired_hook,
    hook_view,
    manual_settings,
    matching_hooks,
    plan_hook,
)


def settings_for(params: dict) -> dict:
    return manual_settings(params["repository"], params["url"], params.get("events"),
                           content_type=params.get("content_type") or "json", active=params.get("active", True),
                           insecure_ssl=params.get("insecure_ssl", False), secret_hint=params.get("secret_hint"),
                           state=params.get("state", "present"))


def manual_result(params: dict) -> dict:
    """No token: nothing is called; the result says what to enter on GitHub by hand."""
    split_repository(params["repository"])
    if params["state"] == "present":
        desired_hook(params)
    settings = settings_for(params)
    return {"changed": False, "manual": True, "action": None, "hook": {}, "repository": params["repository"],
            "settings": settings, "msg": "\n".join(settings["text"]), "warnings": [],
            "diff": {"before": {}, "after": {}}}


def ensure_hook(api, params: dict, check_mode: bool) -> dict:
    """Bring the repository's webhook for ``params['url']`` to ``params['state']``; the module result."""
    repository = params["repository"]
    split_repository(repository)
    desired = desired_hook(params) if params["state"] == "present" else None
    if params["state"] == "absent" and not params.get("url"):
        desired_hook(params)  # names the url option
    repo = api.get_repository(repository) or {}
    full_name = repo.get("full_name") or repository

    def find():
        found = matching_hooks(api.list_hooks(repository), params["url"])
        return found[0] if found else None

    plan = plan_hook(params["state"], desired, api.list_hooks(repository), params["url"],
                     rotate_secret=params.get("rotate_secret", False))
    hook = {}
    if plan.action is None and plan.hook_id is not None:
        hook = {"id": plan.hook_id, **plan.before}
    elif plan.action == "create":
        hook = {"id": None, **plan.after}
        if not check_mode:
            # A create that fails with 5xx or a timeout may still have happened; look before retrying.
            hook = hook_view(api.create_hook(repository, plan.create_body, recheck=find))
    elif plan.action == "update":
        hook = {"id": plan.hook_id, **plan.after}
        if not check_mode:
            if plan.hook_body:
                api.update_hook(repository, plan.hook_id, plan.hook_body)
            if plan.config_body:
                api.update_hook_config(repository, plan.hook_id, plan.config_body)
            hook = hook_view(api.get_hook(repository, plan.hook_id))
    elif plan.action == "delete":
        if not check_mode:
            for hook_id in plan.delete_ids:
                api.delete_hook(repository, hook_id)
        hook = {}

    return {"changed": plan.changed, "manual": False, "action": plan.action, "hook": hook,
            "repository": full_name, "settings": settings_for(params), "warnings": list(plan.warnings),
            "diff": {"before": plan.before, "after": plan.after}}
