#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: github_webhook
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Manage the webhook of a GitHub repository that delivers to an organization's EventListener
version_added: 0.1.0
description:
  - Creates, updates or deletes one webhook of a GitHub repository, identified by its payload URL, through GitHub's
    REST API.
  - Compares the events, content type, SSL verification and active flag, and changes only what differs, so a second
    run reports no change.
  - Without a token nothing is called; the result says exactly what to enter on GitHub by hand (RV(msg),
    RV(settings)).
  - "Why not M(community.general.github_webhook): it has no check mode and no diff, needs PyGithub and a C(user),
    sends every option (and the secret) on each run of an existing hook and so cannot be relied on to report no
    change, and has no way to tell a secret change from none. This module needs only ansible-core."
attributes:
  check_mode:
    support: full
    description: Only reads from GitHub and returns the webhook as it would be. A webhook that would be created has no id.
  diff_mode:
    support: full
    description: Shows the URL, content type, SSL verification, events, active flag and whether a secret is set (never its value).
  platform:
    support: full
    platforms: all
    description: Calls the GitHub API from the host the module runs on.
options:
  repository:
    description:
      - The repository, as C(owner/name).
    type: str
    required: true
  url:
    description:
      - The payload URL GitHub delivers to, for example the organization's webhook URL. It identifies the webhook.
    type: str
    required: true
  secret:
    description:
      - The secret GitHub signs every delivery with (the C(X-Hub-Signature-256) header the organization's
        EventListener checks).
      - GitHub never returns a webhook's secret, only whether one is set, so a changed secret cannot be detected.
        The secret is sent when the webhook is created, when it has no secret, whenever its configuration is written
        anyway (content type or SSL verification changed), and when O(rotate_secret=true).
      - If not set, a new webhook gets no secret and an existing webhook keeps its secret.
    type: str
  rotate_secret:
    description:
      - Send O(secret) to an existing webhook even if nothing else changed, and report a change.
      - Set it when the secret has changed, for example when M(aphex.platform.organization) reports
        C(webhook_secret_ref.action) V(rotated) or V(provided) in the same run. That signal exists only in the run
        that changed the secret; if that run did not reach this task, run it once with V(true). Left V(true),
        every run reports a change.
    type: bool
    default: false
  events:
    description:
      - The events the webhook is triggered for. They replace the webhook's list.
    type: list
    elements: str
    default: [push]
  content_type:
    description:
      - How GitHub serializes the payload. The Tekton github interceptor accepts only V(json).
    type: str
    choices: [json, form]
    default: json
  insecure_ssl:
    description:
      - Let GitHub skip TLS certificate verification of O(url). Not recommended.
    type: bool
    default: false
  active:
    description:
      - Whether GitHub delivers events to the webhook.
    type: bool
    default: true
  state:
    description:
      - V(present) creates the webhook or updates what differs.
      - V(absent) deletes every webhook of the repository with this O(url). Nothing happens if there is none.
    type: str
    choices: [present, absent]
    default: present
  secret_hint:
    description:
      - Without a token, where the person entering the settings finds the secret (the module never prints the
        secret itself), for example a C(kubectl) command. Shown in RV(msg) and RV(settings).
    type: str
  token:
    description:
      - A GitHub token. If not set, the value of the E(GITHUB_TOKEN) environment variable is used, else E(GH_TOKEN).
      - "It needs, on the repository: a fine-grained token with Webhooks: Read and write, or a classic token with the
        C(admin:repo_hook) scope (or C(repo)); its owner must be an admin of the repository. A 401 or 404 answer fails
        the task with this list."
      - If empty, nothing is called and the task returns the settings to enter by hand (RV(manual) is V(true)).
    type: str
  api_url:
    description:
      - Base URL of GitHub's REST API; for GitHub Enterprise Server C(https://<host>/api/v3).
      - If not set, the value of the E(GITHUB_API_URL) environment variable is used, else V(https://api.github.com).
      - The collection's tests point it at a fake API.
    type: str
    default: https://api.github.com
  validate_certs:
    description:
      - Verify the TLS certificate of O(api_url).
    type: bool
    default: true
  timeout:
    description:
      - How long, in seconds, one request to GitHub may take.
    type: float
    default: 30
  max_retries:
    description:
      - Retries of one request that GitHub refused for its rate limit (HTTP 429, or 403 with the limit used up) or
        that failed with HTTP 5xx, a timeout or a connection error; V(0) for none.
      - The wait before a retry is what GitHub asks for (C(Retry-After), or until the rate limit resets), at most 120
        seconds, else an exponential backoff from 0.5 to 8 seconds.
      - A failed webhook creation is repeated only after a lookup shows it did not take effect.
    type: int
    default: 4
notes:
  - "The module talks to GitHub from the host it runs on; run it on the controller with C(delegate_to: localhost) or
    in a play for C(localhost)."
  - If several webhooks of the repository deliver to O(url), the oldest is managed and a warning names the others.
seealso:
  - name: GitHub repository webhooks API
    description: The endpoints this module calls.
    link: https://docs.github.com/rest/repos/webhooks
"""

EXAMPLES = r"""
- name: Deliver pushes of acme-corp/payments-api to the acme organization's EventListener
  aphex.platform.github_webhook:
    repository: acme-corp/payments-api
    url: https://acme.hooks.example.com/
    secret: "{{ acme_webhook_secret }}"
    token: "{{ github_token }}"
  delegate_to: localhost

- name: Show what would change, without changing anything
  aphex.platform.github_webhook:
    repository: acme-corp/payments-api
    url: https://acme.hooks.example.com/
    events: [push, pull_request]
    token: "{{ github_token }}"
  delegate_to: localhost
  check_mode: true
  diff: true

- name: Send the secret again when the organization's secret changed in this run
  aphex.platform.github_webhook:
    repository: acme-corp/payments-api
    url: "{{ org_result.webhook_url }}"
    secret: "{{ acme_webhook_secret }}"
    rotate_secret: "{{ org_result.webhook_secret_ref.action in ['rotated', 'provided'] }}"
    token: "{{ github_token }}"
  delegate_to: localhost

- name: Without a token, print what to enter on GitHub
  aphex.platform.github_webhook:
    repository: acme-corp/payments-api
    url: https://acme.hooks.example.com/
    secret_hint: kubectl -n org-acme get secret github-webhook-secret -o jsonpath='{.data.secret}' | base64 -d
  delegate_to: localhost
  register: webhook

- name: Show the settings
  ansible.builtin.debug:
    msg: "{{ webhook.settings.text }}"
  when: webhook.manual

- name: Remove the webhook when the repository is offboarded (every GitHub module gets the token once)
  module_defaults:
    group/aphex.platform.github:
      token: "{{ github_token }}"
  block:
    - name: Remove the webhook
      aphex.platform.github_webhook:
        repository: acme-corp/payments-api
        url: https://acme.hooks.example.com/
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
hook:
  description:
    - The webhook after the task; an empty dict when it was deleted, never existed, or no token was given.
    - In check mode, a webhook that would be created has RV(hook.id) null.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the webhook.
      type: int
      returned: when the webhook exists
      sample: 12345678
    url:
      description: Payload URL.
      type: str
      returned: success
      sample: https://acme.hooks.example.com/
    content_type:
      description: V(json) or V(form).
      type: str
      returned: success
      sample: json
    insecure_ssl:
      description: V(0) when GitHub verifies the TLS certificate of the payload URL, V(1) when not.
      type: str
      returned: success
      sample: "0"
    events:
      description: The events, sorted.
      type: list
      elements: str
      returned: success
      sample: [push]
    active:
      description: Whether GitHub delivers events.
      type: bool
      returned: success
      sample: true
    secret:
      description: V((set)), V((not set)) or V((set, new value)); never the secret.
      type: str
      returned: success
      sample: (set)
action:
  description: What the task did (or would do in check mode) to the webhook, null when nothing.
  returned: always
  type: str
  sample: create
repository:
  description: The repository as GitHub spells it (C(owner/name)); as given when no token was given.
  returned: always
  type: str
  sample: acme-corp/payments-api
manual:
  description: True when no token was given and nothing was called; then RV(msg) and RV(settings) say what to do.
  returned: always
  type: bool
  sample: false
settings:
  description: The settings to enter on GitHub by hand, field by field, and as lines of text.
  returned: always
  type: dict
  contains:
    page:
      description: The GitHub page to enter them on.
      type: str
      returned: always
      sample: https://github.com/acme-corp/payments-api/settings/hooks/new
    payload_url:
      description: Payload URL.
      type: str
      returned: always
      sample: https://acme.hooks.example.com/
    content_type:
      description: Content type as GitHub's form names it.
      type: str
      returned: always
      sample: application/json
    secret:
      description: Where to find the secret (O(secret_hint)); never the secret itself.
      type: str
      returned: always
      sample: the organization's webhook secret
    ssl_verification:
      description: The SSL verification choice.
      type: str
      returned: always
      sample: Enable SSL verification
    events:
      description: The events.
      type: list
      elements: str
      returned: always
      sample: [push]
    active:
      description: Whether to tick Active.
      type: bool
      returned: always
      sample: true
    text:
      description: All of the above as lines to print.
      type: list
      elements: str
      returned: always
      sample: ["Add this webhook to acme-corp/payments-api (...):", "  Payload URL: https://acme.hooks.example.com/"]
msg:
  description: Without a token, the settings as one text; otherwise absent.
  returned: when RV(manual) is true
  type: str
  sample: "Add this webhook to acme-corp/payments-api ..."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aphex.platform.plugins.module_utils.github.client import GitHubApi, github_argument_spec
from ansible_collections.aphex.platform.plugins.module_utils.github.errors import GitHubError
from ansible_collections.aphex.platform.plugins.module_utils.github.hooks import CONTENT_TYPES, DEFAULT_EVENTS
from ansible_collections.aphex.platform.plugins.module_utils.github.hooks_service import ensure_hook, manual_result


def argument_spec() -> dict:
    spec = github_argument_spec()
    spec.update(
        repository={"type": "str", "required": True},
        url={"type": "str", "required": True},
        secret={"type": "str", "no_log": True},
        rotate_secret={"type": "bool", "default": False},
        events={"type": "list", "elements": "str", "default": list(DEFAULT_EVENTS)},
        content_type={"type": "str", "choices": list(CONTENT_TYPES), "default": "json"},
        insecure_ssl={"type": "bool", "default": False},
        active={"type": "bool", "default": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        secret_hint={"type": "str", "no_log": False},  # where to find the secret, not the secret
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        if not params.get("token"):
            result = manual_result(params)
        else:
            api = GitHubApi.connect(params, log=module.debug)
            result = ensure_hook(api, params, check_mode=module.check_mode)
    except GitHubError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
