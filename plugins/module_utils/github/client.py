# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The only code that talks to GitHub's REST API (repository webhooks).

It uses ansible-core's own ``open_url`` (no extra Python dependency on the host), sends the token as a
bearer token, retries rate limits and 5xx like the Cloudflare adapter (same backoff and Retry-After rules,
``module_utils/cloudflare/retry.py``), follows ``Link: rel="next"`` pages, turns every failure into
GitHubError and returns plain dicts.
"""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import open_url

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.retry import (
    is_retryable_status,
    retry_after_seconds,
    retry_delay,
)
from ansible_collections.aphex.platform.plugins.module_utils.github.errors import TOKEN_PERMISSIONS_HINT, GitHubError

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "aphex.platform-github-webhook"
PER_PAGE = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# GitHub owner (user or organization) and repository names.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def github_argument_spec() -> dict:
    """Connection options of the GitHub modules (documented in the module)."""
    return {
        "token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["GITHUB_TOKEN", "GH_TOKEN"])},
        "api_url": {"type": "str", "default": DEFAULT_API_URL, "fallback": (env_fallback, ["GITHUB_API_URL"])},
        "validate_certs": {"type": "bool", "default": True},
        "timeout": {"type": "float", "default": 30.0},
        "max_retries": {"type": "int", "default": 4},
    }


def split_repository(repository: str) -> tuple[str, str]:
    """``owner/name`` -> (owner, name), both checked against GitHub's naming rules."""
    owner, sep, name = (repository or "").partition("/")
    if not sep or not _OWNER.match(owner) or owner.endswith("-") or "--" in owner:
        raise GitHubError(f"repository: {repository!r} is not 'owner/name' with a valid GitHub owner")
    if not _REPO.match(name) or name in (".", ".."):
        raise GitHubError(f"repository: {repository!r} has an invalid repository name (letters, digits, '.', '-', '_')")
    if name.endswith(".git"):
        raise GitHubError(f"repository: {repository!r}: leave out the '.git'")
    return owner, name


def _sleep(seconds: float) -> None:
    # A module-level seam: tests replace it to keep retries instant and to see the delays.
    time.sleep(seconds)


def _rate_limit_wait(headers, now: float | None = None) -> float | None:
    """Seconds until GitHub's primary rate limit resets, when this 403/429 is one (remaining 0)."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    if lowered.get("x-ratelimit-remaining") != "0":
        return None
    try:
        reset = float(lowered.get("x-ratelimit-reset", ""))
    except ValueError:
        return None
    return max(0.0, reset - (time.time() if now is None else now))


class _Failure:
    """One failed attempt: an HTTP answer, or no answer (connection error, timeout)."""

    def __init__(self, status: int | None, headers, body, reason: str):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.reason = reason


class GitHubApi:
    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, validate_certs: bool = True,
                 timeout: float = 30.0, max_retries: int = 4, log=None):
        self.token, self.validate_certs, self.timeout, self.max_retries = token, validate_certs, timeout, max_retries
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._log = log or (lambda message: None)

    @classmethod
    def connect(cls, params: dict, log=None) -> "GitHubApi":
        api_url = params.get("api_url") or DEFAULT_API_URL
        problems = {
            "token": "empty; set it, or GITHUB_TOKEN in the environment" if not params.get("token") else None,
            "max_retries": "must be 0 or more" if params["max_retries"] < 0 else None,
            "timeout": "must be more than 0 seconds" if params["timeout"] <= 0 else None,
            "api_url": (f"{api_url!r} is not an http(s) URL"
                        if urlsplit(api_url).scheme not in ("http", "https") else None),
        }
        for option, problem in problems.items():
            if problem:
                raise GitHubError(f"{option}: {problem}")
        return cls(params["token"], api_url, params["validate_certs"], params["timeout"], params["max_retries"], log)

    # -- one request ---------------------------------------------------------------------------------
    def _once(self, method: str, url: str, body) -> tuple[int, dict, object]:
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = open_url(url, data=data, headers=headers, method=method, timeout=self.timeout,
                                validate_certs=self.validate_certs, http_agent=USER_AGENT, use_netrc=False,
                                follow_redirects="safe")
            raw = response.read()
            status = response.status
            response_headers = dict(response.headers.items())
        except HTTPError as exc:
            raw = exc.read() if exc.fp is not None else b""
            raise _HttpFailure(_Failure(exc.code, dict(exc.headers.items()) if exc.headers else {}, _json(raw),
                                        str(exc.reason))) from None
        except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _HttpFailure(_Failure(None, {}, None, str(reason))) from None
        return status, response_headers, _json(raw)

    def request(self, what: str, method: str, path: str, body=None, query: dict | None = None,
                idempotent: bool = True, recheck=None, missing_ok: bool = False, url: str | None = None):
        """One API call with retries; returns (status, headers, json body).

        Rate limits (429, or 403 with ``x-ratelimit-remaining: 0`` or a Retry-After) are always retried:
        GitHub refused the request before doing anything. 5xx, timeouts and connection errors are retried
        only when repeating the call is harmless (``idempotent``), or when ``recheck`` (a read) shows the
        failed call did not take effect; a found result is returned instead of retrying.
        """
        if url is None:
            url = self.api_url + path + (f"?{urlencode(query)}" if query else "")
        attempt = 0
        while True:
            try:
                return self._once(method, url, body)
            except _HttpFailure as wrapped:
                failure = wrapped.failure
            if missing_ok and failure.status == 404:
                return 404, failure.headers, None
            rate_wait = _rate_limit_wait(failure.headers) if failure.status in (403, 429) else None
            retry_after = retry_after_seconds(failure.headers) if failure.status else None
            rate_limited = failure.status == 429 or (failure.status == 403 and (
                rate_wait is not None or retry_after is not None))
            if rate_limited:
                retryable = True
                retry_after = retry_after if retry_after is not None else rate_wait
            elif failure.status is None or is_retryable_status(failure.status):
                retryable = idempotent or recheck is not None
            else:
                retryable = False
            delay = retry_delay(attempt, retry_after) if retryable and attempt < self.max_retries else None
            if delay is None:
                raise self._error(what, failure, retried=attempt, rate_limited=rate_limited,
                                  retry_after=retry_after)
            self._log(f"{what}: {self._error(what, failure)}; retry {attempt + 1} of {self.max_retries} in {delay:.1f}s")
            _sleep(delay)
            attempt += 1
            if recheck is not None and not rate_limited:
                found = recheck()
                if found is not None:
                    return 200, {}, found

    def _error(self, what: str, failure: _Failure, retried: int = 0, rate_limited: bool = False,
               retry_after: float | None = None) -> GitHubError:
        after = f" (after {retried} retries)" if retried else ""
        if failure.status is None:
            return GitHubError(f"{what}: cannot reach the GitHub API at {self.api_url}{after}: {failure.reason}")
        body = failure.body if isinstance(failure.body, dict) else {}
        errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        detail = body.get("message") or failure.reason
        if errors:
            detail += ": " + "; ".join(_describe(e) for e in errors)
        msg = f"{what}: GitHub answered HTTP {failure.status}{after}: {detail}"
        if failure.status == 401:
            msg += (". GitHub did not accept the token; check token (or GITHUB_TOKEN), that it has not expired, "
                    f"and api_url ({self.api_url}). {TOKEN_PERMISSIONS_HINT}")
        elif rate_limited:
            if retry_after is not None and retried < self.max_retries:
                msg += f". GitHub asked to wait {retry_after:.0f}s, longer than this task waits"
            else:
                msg += ". GitHub's rate limit for this token is used up; try again later"
        elif failure.status == 403:
            msg += f". The token is valid but not allowed to do this. {TOKEN_PERMISSIONS_HINT}"
        elif failure.status == 404:
            msg += (". GitHub answers 404 both for a repository that does not exist and for one the token may not "
                    f"administer. {TOKEN_PERMISSIONS_HINT}")
        return GitHubError(msg, status=failure.status, errors=errors)

    def list_all(self, what: str, path: str) -> list:
        """Every item of a list endpoint, following ``Link: rel="next"`` (a short page is the last one)."""
        items: list = []
        status, headers, page = self.request(what, "GET", path, query={"per_page": PER_PAGE})
        while True:
            if not isinstance(page, list):
                raise GitHubError(f"{what}: GitHub answered with {type(page).__name__}, expected a list")
            items.extend(page)
            next_url = _next_link(headers)
            if not next_url or not page:
                return items
            if urlsplit(next_url)[:2] != urlsplit(self.api_url)[:2]:
                # The token goes with every request; never to another host than api_url.
                raise GitHubError(f"{what}: GitHub's next page is on another host ({next_url}); not followed")
            status, headers, page = self.request(what, "GET", "", url=next_url)

    # -- repositories and hooks -------------------------------------------------------------------------
    @staticmethod
    def _repo_path(repository: str) -> str:
        owner, name = split_repository(repository)
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    def get_repository(self, repository: str) -> dict:
        return self.request(f"get repository {repository}", "GET", self._repo_path(repository))[2]

    def list_hooks(self, repository: str) -> list:
        return self.list_all(f"list webhooks of {repository}", self._repo_path(repository) + "/hooks")

    def create_hook(self, repository: str, body: dict, recheck=None) -> dict:
        return self.request(f"create webhook in {repository}", "POST", self._repo_path(repository) + "/hooks",
                            body=body, idempotent=False, recheck=recheck)[2]

    def update_hook(self, repository: str, hook_id: int, body: dict) -> dict:
        return self.request(f"update webhook {hook_id} of {repository}", "PATCH",
                            f"{self._repo_path(repository)}/hooks/{int(hook_id)}", body=body)[2]

    def update_hook_config(self, repository: str, hook_id: int, body: dict) -> dict:
        return self.request(f"update webhook {hook_id} configuration of {repository}", "PATCH",
                            f"{self._repo_path(repository)}/hooks/{int(hook_id)}/config", body=body)[2]

    def get_hook(self, repository: str, hook_id: int) -> dict:
        return self.request(f"get webhook {hook_id} of {repository}", "GET",
                            f"{self._repo_path(repository)}/hooks/{int(hook_id)}")[2]

    def delete_hook(self, repository: str, hook_id: int) -> bool:
        """True when GitHub deleted it, False when it was already gone."""
        status = self.request(f"delete webhook {hook_id} of {repository}", "DELETE",
                              f"{self._repo_path(repository)}/hooks/{int(hook_id)}", missing_ok=True)[0]
        return status != 404


class _HttpFailure(Exception):
    def __init__(self, failure: _Failure):
        super().__init__(failure.reason)
        self.failure = failure


def _json(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _describe(error) -> str:
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    parts = [str(error.get(k)) for k in ("resource", "field", "code") if error.get(k)]
    return " ".join(parts) or json.dumps(error)


def _next_link(headers: dict) -> str | None:
    lowered = {str(k).lower(): v for k, v in headers.items()}
    found = _NEXT_LINK.search(lowered.get("link", ""))
    return found.group(1) if found else None
