# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful fake of GitHub's REST API for repository webhooks, for tests.

It serves, on 127.0.0.1 under ``/api/v3`` (the GitHub Enterprise Server layout, so ``api_url`` is
``http://127.0.0.1:<port>/api/v3``): GET a repository; list (paginated, ``Link`` headers), create, get,
update and delete its webhooks; get and update a webhook's configuration. Every request and every response
is validated with openapi-core against GitHub's published OpenAPI description (the subset in
``tests/support/github-openapi/``, see its SOURCE.md); each mismatch is recorded as a violation, and a
request that does not match gets a 400, so a test that asserts "no violations" fails loudly.

Behaviour copied from GitHub, as documented: an unknown or missing token gets 401 ``Bad credentials`` /
``Requires authentication``; a repository the token cannot see, or whose hooks it may not administer, is a
404; a hook's secret is never returned (``config.secret`` is ``********`` when set); ``PATCH /hooks/{id}``
with a ``config`` that lacks ``secret`` removes the secret, ``PATCH /hooks/{id}/config`` changes only the
keys given; a second hook with the same URL and overlapping events is refused with 422.

Faults (rate limits, 5xx) can be queued for the next N requests, and every request is logged so tests can
assert that a run sent no mutating request. Standalone (e.g. for molecule)::

    python tests/support/fake_github.py --port 0 --print-url --seed seed.yml

prints the API base URL as its first stdout line and serves until SIGTERM/SIGINT. Seed (YAML or JSON)::

    tokens:                 # optional; default: "fake-github-token", admin of every repository
      - {value: my-token, admin: [acme/app]}          # admin of these repositories (or "*")
      - {value: read-only, admin: []}                 # sees every repository, administers none
    repositories:
      - full_name: acme/app
        private: true       # optional
        hooks: [{config: {url: https://hooks.example.com/, content_type: json, secret: s3cr3t}, events: [push]}]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import functools
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import yaml
from openapi_core import OpenAPI
from werkzeug.wrappers import Request, Response

try:
    from ansible_collections.aphex.platform.tests.support import fake_http
except ImportError:  # run as a script: python tests/support/<this file>
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fake_http  # pylint: disable=import-error

API_PREFIX = "/api/v3"
ADMIN_PREFIX = "/__admin"
SCHEMA_PATH = Path(__file__).resolve().parent / "github-openapi" / "openapi-subset.json"
DEFAULT_TOKEN = "fake-github-token"
DOCS = "https://docs.github.com/rest/repos/webhooks"
MASKED = "********"


class FakeGitHubError(Exception):
    """The fake cannot start (no schema, bad seed)."""


class ApiError(Exception):
    """An error the fake answers with, in GitHub's error shape."""

    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


# --------------------------------------------------------------------------------------------------
# Schema


def corrected_spec(raw: dict) -> dict:
    """The published subset with the corrections the fake needs, each a documented GitHub behaviour.

    1. ``servers``: a relative ``/api/v3`` is added so requests to the fake's address match.
    2. No operation documents 401, although GitHub answers every request with a bad token with 401
       ``Bad credentials`` (basic-error body); nor 429/5xx or 403 (rate limits, documented under "Rate
       limits for the REST API"). Each operation gets ``4XX`` and ``5XX`` responses with the basic-error
       body; codes the description lists keep their own schema.
    """
    spec = copy.deepcopy(raw)
    spec["servers"] = [{"url": API_PREFIX, "description": "fake"}] + list(spec.get("servers", []))
    error = {"description": "Error (see fake_github.corrected_spec)",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}}}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            operation["responses"].setdefault("4XX", copy.deepcopy(error))
            operation["responses"].setdefault("5XX", copy.deepcopy(error))
    return spec


@functools.lru_cache(maxsize=2)
def load_openapi(schema_path: str) -> OpenAPI:
    path = Path(schema_path)
    if not path.is_file():
        raise FakeGitHubError(f"GitHub OpenAPI subset not found at {path}")
    with path.open(encoding="utf-8") as handle:
        return OpenAPI.from_dict(corrected_spec(json.load(handle)))


# --------------------------------------------------------------------------------------------------
# State


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeState:
    """Tokens, repositories and their hooks. Callers hold ``lock`` while they read or change it."""

    def __init__(self, seed: dict | None = None):
        self.lock = threading.RLock()
        self.tokens: dict[str, object] = {}
        self.repos: dict[str, dict] = {}
        self.next_id = 1000
        self.load(seed or {})

    def load(self, seed: dict) -> None:
        if not isinstance(seed, dict):
            raise FakeGitHubError("seed: expected a mapping with 'repositories' (and optionally 'tokens')")
        with self.lock:
            self.tokens.clear()
            self.repos.clear()
            for token in seed.get("tokens") or [{"value": DEFAULT_TOKEN, "admin": "*"}]:
                admin = token.get("admin", "*")
                self.tokens[token["value"]] = "*" if admin == "*" else {a.lower() for a in admin}
            for repo in seed.get("repositories") or []:
                created = self.add_repository(repo["full_name"], private=repo.get("private", True))
                for hook in repo.get("hooks") or []:
                    self.create_hook(created, hook)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add_repository(self, full_name: str, private: bool = True) -> dict:
        owner, name = full_name.split("/", 1)
        repo = {"id": self._id(), "owner": owner, "name": name, "private": private, "hooks": {},
                "created_at": _now()}
        self.repos[full_name.lower()] = repo
        return repo

    def repository(self, owner: str, name: str) -> dict:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise ApiError(404, "Not Found")
        return repo

    def can_admin(self, token: str, repo: dict) -> bool:
        allowed = self.tokens.get(token)
        return allowed == "*" or f"{repo['owner']}/{repo['name']}".lower() in (allowed or set())

    # -- hooks -----------------------------------------------------------------------------------------
    @staticmethod
    def _config(given: dict, base: dict | None = None) -> dict:
        config = dict(base or {"content_type": "form", "insecure_ssl": "0"})
        for key in ("url", "content_type", "secret", "insecure_ssl"):
            if key in given:
                config[key] = given[key]
        if isinstance(config.get("insecure_ssl"), (int, float)):
            config["insecure_ssl"] = str(int(config["insecure_ssl"]))
        if config.get("content_type") not in ("json", "form"):
            raise ApiError(422, "Validation Failed",
                           [{"resource": "Hook", "code": "custom", "field": "content_type",
                             "message": "Content type must be json or form"}])
        if config.get("insecure_ssl") not in ("0", "1"):
            raise ApiError(422, "Validation Failed", [{"resource": "Hook", "code": "invalid", "field": "insecure_ssl"}])
        if not config.get("url"):
            raise ApiError(422, "Validation Failed",
                           [{"resource": "Hook", "code": "custom", "message": "Config must contain URL for webhooks"}])
        if not config.get("secret"):
            config.pop("secret", None)
        return config

    def _check_duplicate(self, repo: dict, hook: dict) -> None:
        for other in repo["hooks"].values():
            if other["id"] == hook["id"] or other["config"]["url"] != hook["config"]["url"]:
                continue
            if set(other["events"]) & set(hook["events"]) or "*" in other["events"] + hook["events"]:
                raise ApiError(422, "Validation Failed",
                               [{"resource": "Hook", "code": "custom",
                                 "message": "Hook already exists on this repository"}])

    def create_hook(self, repo: dict, body: dict) -> dict:
        body = body or {}
        if body.get("name", "web") != "web":
            raise ApiError(422, "Validation Failed", [{"resource": "Hook", "code": "invalid", "field": "name"}])
        now = _now()
        hook = {"id": self._id(), "active": body.get("active", True),
                "events": list(dict.fromkeys(body.get("events") or ["push"])),
                "config": self._config(body.get("config") or {}), "created_at": now, "updated_at": now}
        self._check_duplicate(repo, hook)
        repo["hooks"][hook["id"]] = hook
        return hook

    def hook(self, repo: dict, hook_id: int) -> dict:
        hook = repo["hooks"].get(int(hook_id))
        if hook is None:
            raise ApiError(404, "Not Found")
        return hook

    def update_hook(self, repo: dict, hook_id: int, body: dict) -> dict:
        hook = copy.deepcopy(self.hook(repo, hook_id))
        if "config" in body:
            # Documented: "If you previously had a secret set, you must provide the same secret or set a new
            # secret or the secret will be removed."
            hook["config"] = self._config(body["config"], {"content_type": "form", "insecure_ssl": "0"})
        if "events" in body:
            hook["events"] = list(dict.fromkeys(body["events"]))
        for event in body.get("add_events") or []:
            if event not in hook["events"]:
                hook["events"].append(event)
        if body.get("remove_events"):
            hook["events"] = [e for e in hook["events"] if e not in body["remove_events"]]
        if "active" in body:
            hook["active"] = bool(body["active"])
        hook["updated_at"] = _now()
        self._check_duplicate(repo, hook)
        repo["hooks"][hook["id"]] = hook
        return hook

    def update_config(self, repo: dict, hook_id: int, body: dict) -> dict:
        hook = self.hook(repo, hook_id)
        hook["config"] = self._config(body or {}, hook["config"])
        hook["updated_at"] = _now()
        return hook

    # -- rendering -------------------------------------------------------------------------------------
    @staticmethod
    def render_config(config: dict) -> dict:
        shown = {k: v for k, v in config.items() if k != "secret"}
        if config.get("secret"):
            shown["secret"] = MASKED
        return shown

    def render_hook(self, base: str, repo: dict, hook: dict) -> dict:
        url = f"{base}/repos/{repo['owner']}/{repo['name']}/hooks/{hook['id']}"
        return {"type": "Repository", "id": hook["id"], "name": "web", "active": hook["active"],
                "events": list(hook["events"]), "config": self.render_config(hook["config"]),
                "updated_at": hook["updated_at"], "created_at": hook["created_at"], "url": url,
                "test_url": url + "/test", "ping_url": url + "/pings", "deliveries_url": url + "/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}

    def render_repository(self, base: str, repo: dict, admin: bool) -> dict:
        owner, name = repo["owner"], repo["name"]
        full = f"{owner}/{name}"
        api = f"{base}/repos/{full}"
        web = f"https://github.com/{full}"
        user_api = f"{base}/users/{owner}"
        user = {
            "login": owner, "id": 9000 + len(owner), "node_id": "MDQ6VXNlcjE=", "type": "Organization",
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "gravatar_id": "", "url": user_api,
            "html_url": f"https://github.com/{owner}", "followers_url": user_api + "/followers",
            "following_url": user_api + "/following{/other_user}", "gists_url": user_api + "/gists{/gist_id}",
            "starred_url": user_api + "/starred{/owner}{/repo}", "subscriptions_url": user_api + "/subscriptions",
            "organizations_url": user_api + "/orgs", "repos_url": user_api + "/repos",
            "events_url": user_api + "/events{/privacy}", "received_events_url": user_api + "/received_events",
            "site_admin": False,
        }
        templated = {
            "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}", "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}",
            "issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
            "milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}", "statuses_url": "/statuses/{sha}",
            "trees_url": "/git/trees{/sha}",
        }
        plain = ("contributors", "deployments", "downloads", "events", "forks", "hooks", "languages", "merges",
                 "stargazers", "subscribers", "subscription", "tags", "teams")
        rendered = {key: api + suffix for key, suffix in templated.items()}
        rendered.update({f"{key}_url": f"{api}/{key}" for key in plain})
        rendered.update({
            "id": repo["id"], "node_id": "R_kgDOAAAAAQ", "name": name, "full_name": full, "owner": user,
            "private": repo["private"], "html_url": web, "description": None, "fork": False, "url": api,
            "clone_url": web + ".git", "git_url": f"git://github.com/{full}.git", "ssh_url": f"git@github.com:{full}.git",
            "svn_url": web, "mirror_url": None, "homepage": None, "language": None, "size": 0,
            "default_branch": "main", "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0,
            "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "network_count": 0, "subscribers_count": 0,
            "has_issues": True, "has_projects": False, "has_wiki": False, "has_pages": False,
            "has_discussions": False, "archived": False, "disabled": False, "license": None,
            "pushed_at": repo["created_at"], "created_at": repo["created_at"], "updated_at": repo["created_at"],
            "visibility": "private" if repo["private"] else "public",
            "permissions": {"admin": admin, "maintain": admin, "push": admin, "triage": admin, "pull": True},
        })
        return rendered

    def snapshot(self) -> dict:
        with self.lock:
            return {full: {"id": r["id"], "hooks": [copy.deepcopy(h) for h in r["hooks"].values()]}
                    for full, r in self.repos.items()}


# --------------------------------------------------------------------------------------------------
# Server


class FakeGitHub(fake_http.FakeServer):
    """The server. Use as a context manager or call start()/stop(); ``url`` is the ``api_url``."""

    name = "fake_github"
    api_prefix = API_PREFIX
    admin_prefix = ADMIN_PREFIX
    admin_errors = (TypeError, ValueError, KeyError, FakeGitHubError)

    def __init__(self, seed: dict | None = None, host: str = "127.0.0.1", port: int = 0,
                 schema_path: str | os.PathLike | None = None):
        super().__init__(host, port)
        self.openapi = load_openapi(str(schema_path or SCHEMA_PATH))
        self.state = FakeState(seed)
        self.routes = self._routes()

    # -- test helpers ------------------------------------------------------------------------------------
    def inject(self, status: int, count: int = 1, retry_after: float | None = None, rate_limit_reset: float | None = None,
               method: str | None = None, path_contains: str | None = None) -> None:
        """Queue a fault for the next ``count`` matching API requests. ``rate_limit_reset`` (seconds from now)
        makes it a primary rate limit answer (``x-ratelimit-remaining: 0``)."""
        self._queue_fault({"status": status, "retry_after": retry_after, "rate_limit_reset": rate_limit_reset},
                          method, path_contains, count)

    def hooks(self, full_name: str) -> list[dict]:
        """The repository's hooks as stored (secrets in clear, for assertions)."""
        with self.state.lock:
            return [copy.deepcopy(h) for h in self.state.repos[full_name.lower()]["hooks"].values()]

    def _not_found(self, request: Request) -> Response:
        return fake_http.json_response({"message": "Not Found", "documentation_url": DOCS, "status": "404"}, 404)

    def _api(self, request: Request) -> Response:
        path = request.path[len(API_PREFIX):]
        openapi_request, request_errors, body = self._validate_request(request)
        fault = self._take_fault(request.method, path)
        status, headers, payload = self._respond(request, path, body, request_errors, fault)
        if payload is None:
            response = Response(status=status, headers=headers)
        else:
            response = Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)
        self._validate_response(openapi_request, request, response)
        self._log_request({"method": request.method, "path": path, "query": request.args.to_dict(flat=True),
                           "body": body, "status": status, "fault": bool(fault),
                           "headers": {k: v for k, v in request.headers.items() if k.lower() != "authorization"}})
        return response

    def _respond(self, request: Request, path: str, body, request_errors: list[str], fault: dict | None):
        if fault:
            headers = {}
            if fault["retry_after"] is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            if fault["rate_limit_reset"] is not None:
                headers.update({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                                "x-ratelimit-reset": str(int(time.time() + fault["rate_limit_reset"]))})
            message = ("API rate limit exceeded" if fault["status"] in (403, 429) else "Server Error (injected)")
            return fault["status"], headers, {"message": message, "documentation_url": DOCS, "status": str(fault["status"])}
        try:
            route, params = self.match_route(request.method, path)
            if route is None:
                raise ApiError(404, "Not Found")  # GitHub answers an unsupported method with 404 too
            token = self._authenticate(request)
            if request_errors:
                raise ApiError(400, "Request does not match the API description: " + request_errors[0].splitlines()[0])
            unsupported = set(request.args) - route.query
            if unsupported:
                raise ApiError(400, f"the fake does not implement query parameters {sorted(unsupported)}")
            with self.state.lock:
                repo = self.state.repository(params["owner"], params["repo"])
                if route.permission == "admin" and not self.state.can_admin(token, repo):
                    raise ApiError(404, "Not Found")  # GitHub hides what a token may not administer
                return route.handler(request=request, repo=repo, params=params, body=body, token=token)
        except ApiError as exc:
            payload = {"message": exc.message, "documentation_url": DOCS, "status": str(exc.status)}
            if exc.errors is not None:
                payload["errors"] = exc.errors
            return exc.status, exc.headers, payload

    def _authenticate(self, request: Request) -> str:
        if not request.headers.get("User-Agent"):
            raise ApiError(403, "Request forbidden by administrative rules. "
                                "Please make sure your request has a User-Agent header")
        header = request.headers.get("Authorization", "")
        if not header:
            raise ApiError(401, "Requires authentication")
        scheme, token = header.partition(" ")[::2]
        with self.state.lock:
            known = scheme.lower() in ("bearer", "token") and token in self.state.tokens
        if not known:
            raise ApiError(401, "Bad credentials")
        return token

    # -- routes ------------------------------------------------------------------------------------------
    def _routes(self) -> list[fake_http.Route]:
        s = self.state

        def base():
            return self.url

        def get_repo(request, repo, params, body, token):
            return 200, {}, s.render_repository(base(), repo, s.can_admin(token, repo))

        def list_hooks(request, repo, params, body, token):
            try:
                per_page = min(100, max(1, int(request.args.get("per_page", 30))))
                page = max(1, int(request.args.get("page", 1)))
            except ValueError as exc:
                raise ApiError(400, f"bad pagination parameter: {exc}") from None
            hooks = sorted(repo["hooks"].values(), key=lambda h: h["id"])
            chunk = hooks[(page - 1) * per_page:page * per_page]
            last = max(1, -(-len(hooks) // per_page))
            link = f"{base()}/repos/{repo['owner']}/{repo['name']}/hooks?"
            links = []
            if page < last:
                links.append(f'<{link}{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"')
                links.append(f'<{link}{urlencode({"per_page": per_page, "page": last})}>; rel="last"')
            if page > 1:
                links.append(f'<{link}{urlencode({"per_page": per_page, "page": 1})}>; rel="first"')
                links.append(f'<{link}{urlencode({"per_page": per_page, "page": page - 1})}>; rel="prev"')
            headers = {"Link": ", ".join(links)} if links else {}
            return 200, headers, [s.render_hook(base(), repo, h) for h in chunk]

        def create_hook(request, repo, params, body, token):
            hook = s.create_hook(repo, body if isinstance(body, dict) else {})
            rendered = s.render_hook(base(), repo, hook)
            return 201, {"Location": rendered["url"]}, rendered

        def get_hook(request, repo, params, body, token):
            return 200, {}, s.render_hook(base(), repo, s.hook(repo, params["hook_id"]))

        def patch_hook(request, repo, params, body, token):
            return 200, {}, s.render_hook(base(), repo, s.update_hook(repo, params["hook_id"], body or {}))

        def delete_hook(request, repo, params, body, token):
            hook = s.hook(repo, params["hook_id"])
            del repo["hooks"][hook["id"]]
            return 204, {}, None

        def get_config(request, repo, params, body, token):
            return 200, {}, s.render_config(s.hook(repo, params["hook_id"])["config"])

        def patch_config(request, repo, params, body, token):
            return 200, {}, s.render_config(s.update_config(repo, params["hook_id"], body or {})["config"])

        repo_path = "/repos/{owner}/{repo}"
        hook_path = repo_path + "/hooks/{hook_id}"
        return [
            fake_http.Route("GET", repo_path, get_repo, permission=None),
            fake_http.Route("GET", repo_path + "/hooks", list_hooks, permission="admin", query=("per_page", "page")),
            fake_http.Route("POST", repo_path + "/hooks", create_hook, permission="admin"),
            fake_http.Route("GET", hook_path, get_hook, permission="admin"),
            fake_http.Route("PATCH", hook_path, patch_hook, permission="admin"),
            fake_http.Route("DELETE", hook_path, delete_hook, permission="admin"),
            fake_http.Route("GET", hook_path + "/config", get_config, permission="admin"),
            fake_http.Route("PATCH", hook_path + "/config", patch_config, permission="admin"),
        ]

    # Admin endpoints (fake_http.FakeServer._admin; not part of the API, not validated, not logged):
    #   GET  /__admin/state       repositories and hooks (secrets in clear)
    #   GET  /__admin/requests    the request log; DELETE clears it
    #   GET  /__admin/violations  schema violations; DELETE clears them
    #   GET  /__admin/faults      queued faults; DELETE clears them
    #   POST /__admin/faults      {"status": 502, "count": 1, "retry_after": 1, "method": "POST"}
    #   POST /__admin/reset       body: a seed (optional); also clears log, faults, violations


# --------------------------------------------------------------------------------------------------
# Standalone process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stateful fake of GitHub's repository webhooks API (schema-validated).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", help="YAML or JSON file with tokens and repositories")
    parser.add_argument("--print-url", action="store_true", help="print the API base URL as the first stdout line")
    args = parser.parse_args(argv)
    try:
        fake = FakeGitHub(fake_http.load_seed(args.seed), host=args.host, port=args.port)
    except (FakeGitHubError, OSError, yaml.YAMLError) as exc:
        print(f"fake_github: {exc}", file=sys.stderr)
        return 2
    return fake_http.serve_until_signalled(fake, args.print_url)


if __name__ == "__main__":
    sys.exit(main())
