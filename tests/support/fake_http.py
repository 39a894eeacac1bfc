# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the schema-validated fake APIs (fake_cloudflare.py, fake_github.py) share.

A threaded werkzeug server on 127.0.0.1 with a request log, queued faults and a list of schema violations
(openapi-core), route matching on path templates, and the standalone ``main`` loop. Each fake brings its
own schema, state, routes, error shape and admin endpoints.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading

import yaml
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


def describe_validation_error(exc: BaseException) -> str:
    """One line per problem, including the JSON-schema details openapi-core nests in its exceptions."""
    parts = [f"{type(exc).__name__}: {exc}"]
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        parts.append(f"{type(cause).__name__}: {cause}")
        for schema_error in getattr(cause, "schema_errors", []) or []:
            location = "/".join(str(p) for p in getattr(schema_error, "absolute_path", []))
            parts.append(f"  at '{location}': {getattr(schema_error, 'message', schema_error)}")
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def assert_no_violations(fake, api: str) -> None:
    """Fail a test whose traffic the real API would not have accepted (or answered that way)."""
    violations = "\n\n".join(f"{v['kind']} {v['method']} {v['path']}\n{v['details']}" for v in fake.violations)
    assert not fake.violations, f"the fake {api} API recorded schema violations:\n{violations}"


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1), status=status, mimetype="application/json")


def load_seed(path: str | None) -> dict:
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


class QuietHandler(WSGIRequestHandler):
    """Werkzeug logs every request to stderr; the fakes keep their own log instead."""

    def log_request(self, *args, **kwargs):
        pass

    def log(self, *args, **kwargs):
        pass


class Route:
    """One API operation: method, path template (``{name}`` segments), handler, the permission it needs
    (each fake gives it its own meaning) and the query parameters the fake implements."""

    def __init__(self, method: str, template: str, handler, permission: str | None = None,
                 query: tuple[str, ...] = ()):
        self.method = method
        self.template = template
        self.pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
        self.handler = handler
        self.permission = permission
        self.query = set(query)


class FakeServer:
    """Lifecycle, log, faults and violations. Subclasses set ``name``, ``api_prefix``, ``admin_prefix`` and
    ``routes``, and implement ``_api`` and ``_admin``. Use as a context manager or call start()/stop()."""

    name = "fake"
    api_prefix = ""
    admin_prefix = "/__admin"
    openapi = None  # an openapi_core.OpenAPI, set by the subclass
    state = None  # the subclass's state: load(seed), snapshot(), and a lock
    admin_errors: tuple = (TypeError, ValueError, KeyError)  # answered with 400 by the admin endpoints

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.requests: list[dict] = []
        self.violations: list[dict] = []
        self.faults: list[dict] = []
        self.routes: list[Route] = []
        self._log_lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self):
        self._server = make_server(self.host, self.port, self.wsgi_app, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_port
        # A short poll interval keeps stop() (and so every test's teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return self.root_url + self.api_prefix

    # -- log, faults, violations ---------------------------------------------------------------------
    def mutating_requests(self) -> list[dict]:
        return [r for r in self.requests if r["method"] != "GET"]

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def _queue_fault(self, fault: dict, method: str | None, path_contains: str | None, count: int) -> None:
        with self._log_lock:
            self.faults.append({**fault, "remaining": count, "method": method.upper() if method else None,
                                "path_contains": path_contains})

    def _take_fault(self, method: str, path: str) -> dict | None:
        with self._log_lock:
            for fault in self.faults:
                if fault["method"] and fault["method"] != method:
                    continue
                if fault["path_contains"] and fault["path_contains"] not in path:
                    continue
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    self.faults.remove(fault)
                return dict(fault)
        return None

    def _record_violation(self, kind: str, request: Request, details: str) -> None:
        with self._log_lock:
            self.violations.append({"kind": kind, "method": request.method, "path": request.full_path.rstrip("?"),
                                    "details": details})

    def _validate_request(self, request: Request):
        """(openapi request, the schema errors of ``request``, its JSON body); the errors are recorded."""
        openapi_request = WerkzeugOpenAPIRequest(request)
        errors = [describe_validation_error(e) for e in self.openapi.iter_request_errors(openapi_request)]
        for details in errors:
            self._record_violation("request", request, details)
        body = None
        if request.get_data():
            try:
                body = json.loads(request.get_data())
            except ValueError:
                body = request.get_data(as_text=True)
        return openapi_request, errors, body

    def _validate_response(self, openapi_request, request: Request, response: Response) -> Response:
        for error in self.openapi.iter_response_errors(openapi_request, WerkzeugOpenAPIResponse(response)):
            self._record_violation("response", request, describe_validation_error(error))
        return response

    def _log_request(self, entry: dict) -> None:
        with self._log_lock:
            self.requests.append(entry)

    def _clear_all(self) -> None:
        with self._log_lock:
            self.requests.clear()
            self.violations.clear()
            self.faults.clear()

    def _admin_logs(self, sub: str, method: str) -> Response | None:
        """GET/DELETE ``/requests``, ``/violations`` and ``/faults`` (the admin endpoints every fake has)."""
        stores = {"/requests": self.requests, "/violations": self.violations, "/faults": self.faults}
        if sub not in stores or method not in ("GET", "DELETE"):
            return None
        with self._log_lock:
            if method == "GET":
                return json_response(list(stores[sub]))
            count = len(stores[sub])
            stores[sub].clear()
        return json_response({"cleared": count})

    # -- WSGI ----------------------------------------------------------------------------------------
    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith(self.admin_prefix):
            response = self._admin(request)
        elif request.path.startswith(self.api_prefix + "/"):
            response = self._api(request)
        else:
            response = self._not_found(request)
        return response(environ, start_response)

    def _not_found(self, request: Request) -> Response:  # pylint: disable=unused-argument
        return Response("not found\n", status=404, mimetype="text/plain")

    def _api(self, request: Request) -> Response:
        raise NotImplementedError

    def inject(self, status: int, count: int = 1, **fault) -> None:
        raise NotImplementedError

    def _admin(self, request: Request) -> Response:
        """Admin endpoints (not part of the API, not validated, not logged); the subclass lists them all:
        ``/state``, ``/requests``, ``/violations``, ``/faults`` and ``/reset`` here, its own in ``_admin_extra``."""
        sub = request.path[len(self.admin_prefix):]
        method = request.method
        body = request.get_json(silent=True) if request.get_data() else None
        try:
            if sub == "/state" and method == "GET":
                return json_response(self.state.snapshot())
            logs = self._admin_logs(sub, method)
            if logs is not None:
                return logs
            if method == "POST" and sub == "/faults":
                self.inject(**(body or {}))
                return json_response({"queued": len(self.faults)}, status=201)
            if sub == "/reset" and method == "POST":
                self.state.load(body or {})
                self._clear_all()
                return json_response({"reset": True})
            extra = self._admin_extra(sub, method, body)
            if extra is not None:
                return extra
        except self.admin_errors as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        return json_response({"error": f"no admin endpoint {method} {sub}"}, status=404)

    def _admin_extra(self, sub: str, method: str, body) -> Response | None:  # pylint: disable=unused-argument
        return None

    def match_route(self, method: str, path: str):
        """(route, path parameters), or (None, True) when only the method is wrong, or (None, False)."""
        allowed = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                allowed = True
                if route.method == method:
                    return route, found.groupdict()
        return None, allowed


def serve_until_signalled(fake: FakeServer, print_url: bool) -> int:
    """The standalone loop: start, print the URL if asked, serve until SIGTERM/SIGINT, report violations."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    if print_url:
        print(fake.url, flush=True)
    print(f"{fake.name}: serving {fake.url} (admin: {fake.root_url}{fake.admin_prefix}/state)", file=sys.stderr,
          flush=True)
    stop.wait()
    fake.stop()
    if fake.violations:
        print(f"{fake.name}: {len(fake.violations)} schema violation(s) recorded", file=sys.stderr)
    return 0
