# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful fake of the Cloudflare v4 API, for tests.

It serves, on 127.0.0.1, the operations the collection uses: accounts, zones, DNS records,
Cloudflare Tunnels (cfd_tunnel) with their token, configurations and connections, and token
verification. Every request and every response is validated against Cloudflare's own OpenAPI schema
(the subset kept in the upstream mirror) with openapi-core; each mismatch is recorded as a violation,
and a request that does not match the schema gets a 400, so a test that asserts "no violations" fails
loudly. Lists are paginated like the real API (page/per_page, result_info, an empty page past the end).

Faults (429 with Retry-After, 5xx, slow responses) can be queued for the next N requests, and every
request is logged so tests can assert that a run sent no mutating request.

In tests use the fixtures in ``tests/support/fixtures.py``. Standalone (e.g. for molecule)::

    python tests/support/fake_cloudflare.py --port 0 --print-url --seed seed.yml

prints the API base URL (``http://127.0.0.1:<port>/client/v4``) as its first stdout line and serves
until SIGTERM/SIGINT. Admin endpoints live outside the API, under ``/__admin`` (see ``_admin``).

Seed (YAML or JSON)::

    tokens:                       # optional; default: one token "fake-cloudflare-token" with every permission
      - value: my-token
        permissions: [zone:read, dns:edit]   # optional; default every permission (see ALL_PERMISSIONS)
    accounts:
      - name: Aphex               # id optional (32 hex chars, generated when missing)
        zones:
          - name: example.com     # id optional
            records: [{type: CNAME, name: www, content: example.net, proxied: true, comment: hand-made}]
        tunnels:
          - {name: existing, config_src: cloudflare}
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import functools
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from pathlib import Path

import yaml
from openapi_core import OpenAPI
from werkzeug.wrappers import Request, Response

try:
    from ansible_collections.aphex.platform.tests.support import fake_http
except ImportError:  # run as a script: python tests/support/<this file>
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fake_http  # pylint: disable=import-error

Route = fake_http.Route

API_PREFIX = "/client/v4"
ADMIN_PREFIX = "/__admin"
SCHEMA_PATH_IN_MIRROR = "cloudflare-api/2024-08-06-cca3064f/openapi-subset.json"
DEFAULT_TOKEN = "fake-cloudflare-token"
# "<resource>:<level>"; edit implies read, as with Cloudflare token permission groups.
ALL_PERMISSIONS = ("account_settings:read", "tunnel:edit", "zone:read", "dns:edit")
PROXIABLE_TYPES = {"A", "AAAA", "CNAME"}
ADDRESS_TYPES = {"A", "AAAA", "CNAME"}


class FakeCloudflareError(Exception):
    """The fake cannot start (no schema, bad seed)."""


class ApiError(Exception):
    """An error the fake answers with, in Cloudflare's error envelope."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class NotImplementedByFake(ApiError):
    """A valid request the fake cannot answer faithfully: a 400 and a recorded violation, never a wrong answer."""

    def __init__(self, what: str):
        super().__init__(400, 1000, f"the fake does not implement {what}")


# --------------------------------------------------------------------------------------------------
# Schema


def default_schema_path() -> Path:
    mirror = os.environ.get("APHEX_UPSTREAM_MIRROR")
    if mirror:
        return Path(mirror) / SCHEMA_PATH_IN_MIRROR
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "upstream" / SCHEMA_PATH_IN_MIRROR


def _area_prefix(path: str) -> str:
    if "/cfd_tunnel" in path:
        return "tunnel_"
    if "/dns_records" in path:
        return "dns-records_"
    if path.startswith("/zones"):
        return "zones_"
    return "iam_"


def corrected_spec(raw: dict) -> dict:
    """Return the schema with the few corrections the fake needs, each one a known upstream error.

    1. ``servers``: a relative ``/client/v4`` is added so that requests to the fake's address match.
    2. ``security``: GET /accounts and the dns_records operations list only email+key auth, although
       Cloudflare documents API tokens for them (token permissions "Account Settings Read", "DNS Edit");
       ``api_token`` is added as an alternative. Authentication is still required and checked.
    3. ``tunnel_ingressRule`` requires ``hostname``, but the last ingress rule must be a catch-all
       without one (cloudflared rejects a configuration whose last rule has a hostname filter, and the
       Cloudflare docs show ``{service: http_status:404}``). ``hostname`` becomes optional.
    4. Every 4XX response is ``allOf`` the success envelope and the failure envelope; no body can
       satisfy both (``result`` would have to be an object and null), so error bodies are validated
       against the failure envelope of the operation's area alone.
    5. No operation documents 5XX responses; the fake validates the 5xx bodies it injects against the
       same failure envelope.
    6. The POST/PUT/PATCH dns_records request bodies reuse the response schema ``dns-records_dns-record``,
       whose ``required`` lists server-assigned fields (id, proxiable, created_on, modified_on). Request
       bodies are validated against a copy without that list; each record type's own required fields
       (type, name, content or data) still apply.
    7. Not a schema error but a validator quirk: ``readOnly`` is meaningful only for schema properties
       (OpenAPI 3.0.3), yet openapi-core also enforces it on parameters, so it would reject every
       request that names a tunnel by id. Parameter schemas are inlined without ``readOnly``.
    """
    spec = copy.deepcopy(raw)
    spec["servers"] = [{"url": API_PREFIX, "description": "fake"}] + list(spec.get("servers", []))
    for path, item in spec["paths"].items():
        failure = {"$ref": f"#/components/schemas/{_area_prefix(path)}api-response-common-failure"}
        for method, operation in item.items():
            if method == "parameters":
                continue
            security = operation.get("security")
            if security is not None and {"api_token": []} not in security:
                security.append({"api_token": []})
            responses = operation["responses"]
            for key in ("4XX", "5XX"):
                responses[key] = {"description": "Failure (see corrected_spec)",
                                  "content": {"application/json": {"schema": failure}}}
    schemas = spec["components"]["schemas"]
    for item in spec["paths"].values():
        for parameters in [item.get("parameters", [])] + [op.get("parameters", []) for m, op in item.items() if m != "parameters"]:
            for parameter in parameters:
                schema = parameter.get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                if schema.get("readOnly"):
                    parameter["schema"] = {k: v for k, v in schema.items() if k != "readOnly"}
    rule = schemas["tunnel_ingressRule"]
    rule["required"] = [name for name in rule["required"] if name != "hostname"]
    record_request = {k: v for k, v in schemas["dns-records_dns-record"].items() if k != "required"}
    schemas["dns-records_dns-record-request"] = record_request
    for method in ("post", "put", "patch"):
        for path, item in spec["paths"].items():
            body = item.get(method, {}).get("requestBody", {}).get("content", {}).get("application/json", {})
            if body.get("schema") == {"$ref": "#/components/schemas/dns-records_dns-record"}:
                body["schema"] = {"$ref": "#/components/schemas/dns-records_dns-record-request"}
    return spec


@functools.lru_cache(maxsize=4)
def load_openapi(schema_path: str) -> OpenAPI:
    path = Path(schema_path)
    if not path.is_file():
        raise FakeCloudflareError(
            f"Cloudflare OpenAPI schema not found at {path}. Set APHEX_UPSTREAM_MIRROR to the upstream mirror "
            f"(the directory that holds {SCHEMA_PATH_IN_MIRROR})."
        )
    with path.open(encoding="utf-8") as handle:
        return OpenAPI.from_dict(corrected_spec(json.load(handle)))


# --------------------------------------------------------------------------------------------------
# State


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hex_id() -> str:
    return uuid.uuid4().hex


def _without_none(data: dict) -> dict:
    # The schema types these fields as plain strings, so null values are left out rather than sent.
    return {k: v for k, v in data.items() if v is not None}


class FakeState:
    """Accounts, zones, DNS records and tunnels. Callers hold ``lock`` while they read or change it."""

    def __init__(self, seed: dict | None = None):
        self.lock = threading.RLock()
        self.tokens: dict[str, set[str]] = {}
        self.accounts: dict[str, dict] = {}
        self.zones: dict[str, dict] = {}
        self.records: dict[str, dict] = {}
        self.tunnels: dict[str, dict] = {}
        self.load(seed or {})

    # -- seeding -----------------------------------------------------------------------------------
    def load(self, seed: dict) -> None:
        if not isinstance(seed, dict):
            raise FakeCloudflareError("seed: expected a mapping with 'accounts' (and optionally 'tokens')")
        with self.lock:
            self.tokens.clear()
            self.accounts.clear()
            self.zones.clear()
            self.records.clear()
            self.tunnels.clear()
            for token in seed.get("tokens") or [{"value": DEFAULT_TOKEN}]:
                permissions = token.get("permissions", list(ALL_PERMISSIONS))
                unknown = [p for p in permissions if not re.fullmatch(r"(account_settings|tunnel|zone|dns):(read|edit)", p)]
                if unknown:
                    raise FakeCloudflareError(f"seed: unknown token permissions {unknown}; known: {ALL_PERMISSIONS}")
                self.tokens[token["value"]] = set(permissions)
            for account in seed.get("accounts") or []:
                created = self.add_account(account["name"], account.get("id"))
                for zone in account.get("zones") or []:
                    zone_obj = self.add_zone(created["id"], zone["name"], zone.get("id"))
                    for record in zone.get("records") or []:
                        self.create_record(zone_obj["id"], record)
                for tunnel in account.get("tunnels") or []:
                    self.create_tunnel(created["id"], tunnel["name"], tunnel.get("config_src", "local"))

    def add_account(self, name: str, account_id: str | None = None) -> dict:
        account = {"id": account_id or _hex_id(), "name": name, "type": "standard", "created_on": _now(),
                   "settings": {"enforce_twofactor": False}}
        self.accounts[account["id"]] = account
        return account

    def add_zone(self, account_id: str, name: str, zone_id: str | None = None) -> dict:
        account = self.accounts[account_id]
        now = _now()
        zone = {"id": zone_id or _hex_id(), "name": name.lower().rstrip("."), "status": "active", "paused": False,
                "type": "full", "account": {"id": account["id"], "name": account["name"]},
                "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                "created_on": now, "modified_on": now, "activated_on": now, "development_mode": 0,
                "meta": {"step": 2}, "owner": {}, "permissions": [],
                "original_name_servers": None, "original_registrar": None, "original_dnshost": None}
        self.zones[zone["id"]] = zone
        return zone

    # -- DNS records -------------------------------------------------------------------------------
    def zone(self, zone_id: str) -> dict:
        zone = self.zones.get(zone_id)
        if zone is None:
            raise ApiError(404, 7003, f"Could not route to /zones/{zone_id}, perhaps your object identifier is invalid?")
        return zone

    def record(self, zone_id: str, record_id: str) -> dict:
        self.zone(zone_id)
        record = self.records.get(record_id)
        if record is None or record["zone_id"] != zone_id:
            raise ApiError(404, 81044, "Record does not exist.")
        return record

    @staticmethod
    def fqdn(zone: dict, name: str) -> str:
        name = name.strip().lower().rstrip(".")
        if name in ("@", ""):
            return zone["name"]
        if name == zone["name"] or name.endswith("." + zone["name"]):
            return name
        return f"{name}.{zone['name']}"

    def _check_record(self, zone: dict, record: dict, record_id: str | None) -> None:
        if record["proxied"] and record["type"] not in PROXIABLE_TYPES:
            raise ApiError(400, 9004, f"This record type cannot be proxied: {record['type']}.")
        for other in self.records.values():
            if other["zone_id"] != zone["id"] or other["id"] == record_id or other["name"] != record["name"]:
                continue
            if other["type"] == record["type"] and other["content"] == record["content"]:
                raise ApiError(400, 81058, "An identical record already exists.")
            if "CNAME" in (other["type"], record["type"]) and {other["type"], record["type"]} <= ADDRESS_TYPES:
                raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")

    def create_record(self, zone_id: str, body: dict) -> dict:
        zone = self.zone(zone_id)
        now = _now()
        record = {"id": _hex_id(), "zone_id": zone_id, "type": body["type"], "name": self.fqdn(zone, body["name"]),
                  "content": str(body["content"]).rstrip(".") if body["type"] == "CNAME" else str(body["content"]),
                  "proxied": bool(body.get("proxied", False)), "ttl": body.get("ttl", 1),
                  "comment": body.get("comment") or None, "tags": list(body.get("tags", [])),
                  "created_on": now, "modified_on": now}
        if record["proxied"]:
            record["ttl"] = 1  # proxied records always have automatic TTL
        self._check_record(zone, record, None)
        self.records[record["id"]] = record
        return record

    def change_record(self, zone_id: str, record_id: str, body: dict, replace: bool) -> dict:
        zone = self.zone(zone_id)
        current = self.record(zone_id, record_id)
        base = {"proxied": False, "ttl": 1, "comment": None, "tags": []} if replace else dict(current)
        merged = dict(base, **{k: v for k, v in body.items() if k in ("type", "name", "content", "proxied", "ttl", "comment", "tags")})
        updated = dict(current, type=merged["type"], name=self.fqdn(zone, merged["name"]),
                       content=str(merged["content"]).rstrip(".") if merged["type"] == "CNAME" else str(merged["content"]),
                       proxied=bool(merged.get("proxied", False)), ttl=merged.get("ttl", 1),
                       comment=merged.get("comment") or None, tags=list(merged.get("tags") or []), modified_on=_now())
        if updated["proxied"]:
            updated["ttl"] = 1
        self._check_record(zone, updated, record_id)
        self.records[record_id] = updated
        return updated

    def render_record(self, record: dict) -> dict:
        out = {k: record[k] for k in ("id", "type", "name", "content", "proxied", "ttl", "tags", "created_on", "modified_on")}
        out.update(proxiable=record["type"] in PROXIABLE_TYPES, meta={"auto_added": False, "source": "primary"},
                   comment=record["comment"])
        return _without_none(out)

    # -- tunnels -----------------------------------------------------------------------------------
    def account(self, account_id: str) -> dict:
        account = self.accounts.get(account_id)
        if account is None:
            raise ApiError(404, 1003, f"Account {account_id} not found or not accessible with this token")
        return account

    def tunnel(self, account_id: str, tunnel_id: str, allow_deleted: bool = False) -> dict:
        self.account(account_id)
        tunnel = self.tunnels.get(tunnel_id)
        if tunnel is None or tunnel["account_tag"] != account_id or (tunnel["deleted_at"] and not allow_deleted):
            raise ApiError(404, 1003, "Tunnel not found")
        return tunnel

    def create_tunnel(self, account_id: str, name: str, config_src: str = "local") -> dict:
        self.account(account_id)
        if any(t["name"] == name and t["account_tag"] == account_id and not t["deleted_at"] for t in self.tunnels.values()):
            raise ApiError(409, 1013, "You already have a tunnel with this name.")
        tunnel = {"id": str(uuid.uuid4()), "account_tag": account_id, "name": name, "created_at": _now(),
                  "deleted_at": None, "conns_active_at": None, "conns_inactive_at": None, "connections": [],
                  "metadata": {}, "remote_config": config_src == "cloudflare", "status": "inactive",
                  "tun_type": "cfd_tunnel", "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
                  "configuration": None}
        self.tunnels[tunnel["id"]] = tunnel
        return tunnel

    def connect_tunnel(self, tunnel_id: str, client_id: str | None = None) -> dict:
        """Simulate a running cloudflared: add one active connection."""
        tunnel = self.tunnels[tunnel_id]
        connection = {"id": str(uuid.uuid4()), "uuid": str(uuid.uuid4()), "client_id": client_id or str(uuid.uuid4()),
                      "client_version": "2024.8.2", "colo_name": "FRA", "is_pending_reconnect": False,
                      "opened_at": _now(), "origin_ip": "198.51.100.7"}
        tunnel["connections"].append(connection)
        tunnel.update(status="healthy", conns_active_at=tunnel["conns_active_at"] or _now(), conns_inactive_at=None)
        return connection

    def clean_connections(self, account_id: str, tunnel_id: str, client_id: str | None) -> None:
        tunnel = self.tunnel(account_id, tunnel_id)
        tunnel["connections"] = [c for c in tunnel["connections"] if client_id and c["client_id"] != client_id]
        if not tunnel["connections"] and tunnel["conns_active_at"]:
            tunnel.update(status="down", conns_inactive_at=_now())

    def delete_tunnel(self, account_id: str, tunnel_id: str) -> dict:
        tunnel = self.tunnel(account_id, tunnel_id)
        if tunnel["connections"]:
            raise ApiError(400, 1022, "Cannot delete a tunnel with active connections; clean up its connections first.")
        tunnel["deleted_at"] = _now()  # Cloudflare keeps deleted tunnels listable with is_deleted=true
        return tunnel

    def render_tunnel(self, tunnel: dict) -> dict:
        out = {k: tunnel[k] for k in ("id", "account_tag", "name", "created_at", "deleted_at", "conns_active_at",
                                      "conns_inactive_at", "metadata", "remote_config", "status", "tun_type")}
        out["connections"] = [dict(c) for c in tunnel["connections"]]
        return _without_none(out)

    def tunnel_token(self, tunnel: dict) -> str:
        payload = {"a": tunnel["account_tag"], "t": tunnel["id"], "s": tunnel["secret"]}
        return base64.b64encode(json.dumps(payload).encode()).decode()

    def render_configuration(self, tunnel: dict) -> dict:
        conf = tunnel["configuration"]
        if conf is None:
            return {"tunnel_id": tunnel["id"], "version": 0, "config": None, "source": "cloudflare", "created_at": tunnel["created_at"]}
        return {"tunnel_id": tunnel["id"], "version": conf["version"], "config": conf["config"], "source": "cloudflare",
                "created_at": conf["created_at"]}

    def put_configuration(self, tunnel: dict, config: dict | None) -> None:
        version = tunnel["configuration"]["version"] + 1 if tunnel["configuration"] else 1
        tunnel["configuration"] = {"version": version, "config": copy.deepcopy(config or {}), "created_at": _now()}
        tunnel["remote_config"] = True

    # -- admin view ----------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy({
                "accounts": list(self.accounts.values()),
                "zones": list(self.zones.values()),
                "dns_records": list(self.records.values()),
                "tunnels": [dict(self.render_tunnel(t), deleted_at=t["deleted_at"], configuration=t["configuration"])
                            for t in self.tunnels.values()],
            })


# --------------------------------------------------------------------------------------------------
# HTTP API

def paginate(items: list, query: dict, default_per_page: int) -> tuple[list, dict]:
    page = int(float(query.get("page", 1)))
    per_page = int(float(query.get("per_page", default_per_page)))
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]
    total_pages = max(1, -(-len(items) // per_page))
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
                   "total_pages": total_pages}


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() == "true"


class FakeCloudflare(fake_http.FakeServer):
    """The server. Use as a context manager or call start()/stop(); ``url`` is the SDK's ``base_url``
    (CLOUDFLARE_BASE_URL)."""

    name = "fake_cloudflare"
    api_prefix = API_PREFIX
    admin_prefix = ADMIN_PREFIX
    admin_errors = (TypeError, ValueError, KeyError, FakeCloudflareError)

    def __init__(self, seed: dict | None = None, host: str = "127.0.0.1", port: int = 0,
                 schema_path: str | os.PathLike | None = None):
        super().__init__(host, port)
        self.openapi = load_openapi(str(schema_path or default_schema_path()))
        self.state = FakeState(seed)
        self.routes = self._routes()

    # -- test helpers ----------------------------------------------------------------------------------
    def inject(self, status: int | None = None, count: int = 1, retry_after: float | None = None,
               delay: float = 0.0, method: str | None = None, path_contains: str | None = None) -> None:
        """Queue a fault for the next ``count`` matching API requests (a status, a delay, or both)."""
        if status is None and not delay:
            raise ValueError("inject: give a status, a delay, or both")
        self._queue_fault({"status": status, "retry_after": retry_after, "delay": delay}, method, path_contains, count)

    def live_tunnels(self) -> list[dict]:
        with self.state.lock:
            return [self.state.render_tunnel(t) for t in self.state.tunnels.values() if not t["deleted_at"]]

    def dns_records(self) -> list[dict]:
        with self.state.lock:
            return [dict(r) for r in self.state.records.values()]

    def _api(self, request: Request) -> Response:
        path = request.path[len(API_PREFIX):] or "/"
        openapi_request, request_errors, body = self._validate_request(request)
        fault = self._take_fault(request.method, path)
        status, headers, payload = self._respond(request, path, body, request_errors, fault)
        response = Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)
        self._validate_response(openapi_request, request, response)
        self._log_request({"method": request.method, "path": path, "query": request.args.to_dict(flat=True),
                           "body": body, "status": status, "fault": bool(fault and fault["status"])})
        if fault and fault["delay"]:
            # A slow answer, not a slow start: the request has already taken effect, as it can with the real
            # API when the client gives up waiting.
            time.sleep(fault["delay"])
        return response

    def _respond(self, request: Request, path: str, body, request_errors: list[str], fault: dict | None):
        if fault and fault["status"]:
            headers = {}
            if fault["retry_after"] is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            # Cloudflare's edge reports rate limits as code 971, below the schema's minimum of 1000.
            code = 1015 if fault["status"] == 429 else 10002
            message = "You are being rate limited" if fault["status"] == 429 else "Internal error (injected)"
            return fault["status"], headers, _envelope_error(code, message)
        try:
            route, params = self._match(request.method, path)
            self._authorize(request, route)
            if request_errors:
                raise ApiError(400, 1000, "Request does not match the API schema: " + request_errors[0].splitlines()[0])
            unsupported = set(request.args) - route.query
            if unsupported:
                # Better loud than silently ignoring a filter the real API would apply.
                raise NotImplementedByFake(f"query parameters {sorted(unsupported)}")
            with self.state.lock:
                status, result, result_info = route.handler(params=params, query=request.args.to_dict(flat=True), body=body)
        except NotImplementedByFake as exc:
            self._record_violation("unsupported", request, exc.message)
            return exc.status, {}, _envelope_error(exc.code, exc.message)
        except ApiError as exc:
            return exc.status, {}, _envelope_error(exc.code, exc.message)
        payload = {"success": True, "errors": [], "messages": [], "result": result}
        if result_info is not None:
            payload["result_info"] = result_info
        return status, {}, payload

    def _match(self, method: str, path: str):
        route, found = self.match_route(method, path)
        if route is not None:
            return route, found
        if found:
            raise ApiError(405, 10405, f"Method {method} not allowed for {path}")
        raise ApiError(404, 7000, f"No route for that URI: {path}")

    def _authorize(self, request: Request, route: Route) -> None:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else None
        with self.state.lock:
            permissions = self.state.tokens.get(token) if token else None
        if permissions is None:
            raise ApiError(401, 10001, "Unable to authenticate request")
        if route.permission is None:
            return
        resource, level = route.permission.split(":")
        if f"{resource}:edit" in permissions or (level == "read" and f"{resource}:read" in permissions):
            return
        raise ApiError(403, 10000, "Authentication error")

    # -- routes --------------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        s = self.state
        page = ("page", "per_page")

        def list_accounts(params, query, body):
            items = sorted(s.accounts.values(), key=lambda a: a["name"], reverse=query.get("direction") == "desc")
            if "name" in query:
                items = [a for a in items if a["name"] == query["name"]]
            chunk, info = paginate(items, query, 20)
            return 200, [copy.deepcopy(a) for a in chunk], info

        def list_zones(params, query, body):
            items = sorted(s.zones.values(), key=lambda z: z["name"], reverse=query.get("direction") == "desc")
            if query.get("match", "all") != "all":
                raise NotImplementedByFake("match=any")
            for key in ("name", "account.name"):
                if re.match(r"^(contains|starts_with|ends_with|equal|not_equal):", query.get(key, "")):
                    raise NotImplementedByFake(f"filter operators ({key}={query[key]})")
            filters = {"name": lambda z, v: z["name"] == v.lower(), "status": lambda z, v: z["status"] == v,
                       "account.id": lambda z, v: z["account"]["id"] == v, "account.name": lambda z, v: z["account"]["name"] == v}
            for key, keep in filters.items():
                if key in query:
                    items = [z for z in items if keep(z, query[key])]
            chunk, info = paginate(items, query, 20)
            return 200, [copy.deepcopy(z) for z in chunk], info

        def get_zone(params, query, body):
            return 200, copy.deepcopy(s.zone(params["zone_id"])), None

        def list_records(params, query, body):
            zone = s.zone(params["zone_id"])
            if query.get("match", "all") != "all":
                raise NotImplementedByFake("match=any")
            items = [r for r in s.records.values() if r["zone_id"] == zone["id"]]
            filters = {
                "name": lambda r, v: r["name"] == s.fqdn(zone, v), "name.exact": lambda r, v: r["name"] == s.fqdn(zone, v),
                "type": lambda r, v: r["type"] == v, "content": lambda r, v: r["content"] == v,
                "content.exact": lambda r, v: r["content"] == v, "proxied": lambda r, v: r["proxied"] == _flag(v),
                "comment": lambda r, v: (r["comment"] or "").lower() == v.lower(),
                "comment.exact": lambda r, v: (r["comment"] or "").lower() == v.lower(),
            }
            for key, keep in filters.items():
                if key in query:
                    items = [r for r in items if keep(r, query[key])]
            order = query.get("order")
            if order:
                items.sort(key=lambda r: str(r[order]), reverse=query.get("direction") == "desc")
            chunk, info = paginate(items, query, 100)
            return 200, [s.render_record(r) for r in chunk], info

        def create_record(params, query, body):
            return 200, s.render_record(s.create_record(params["zone_id"], body)), None

        def get_record(params, query, body):
            return 200, s.render_record(s.record(params["zone_id"], params["dns_record_id"])), None

        def put_record(params, query, body):
            return 200, s.render_record(s.change_record(params["zone_id"], params["dns_record_id"], body, replace=True)), None

        def patch_record(params, query, body):
            return 200, s.render_record(s.change_record(params["zone_id"], params["dns_record_id"], body, replace=False)), None

        def delete_record(params, query, body):
            record = s.record(params["zone_id"], params["dns_record_id"])
            del s.records[record["id"]]
            return 200, {"id": record["id"]}, None

        def list_tunnels(params, query, body):
            s.account(params["account_id"])
            items = sorted((t for t in s.tunnels.values() if t["account_tag"] == params["account_id"]), key=lambda t: t["created_at"])
            deleted = _flag(query.get("is_deleted"))
            if deleted is not None:
                items = [t for t in items if bool(t["deleted_at"]) == deleted]
            filters = {"name": lambda t, v: t["name"] == v, "uuid": lambda t, v: t["id"] == v,
                       "status": lambda t, v: t["status"] == v, "include_prefix": lambda t, v: t["name"].startswith(v),
                       "exclude_prefix": lambda t, v: not t["name"].startswith(v)}
            for key, keep in filters.items():
                if key in query:
                    items = [t for t in items if keep(t, query[key])]
            chunk, info = paginate(items, query, 20)
            return 200, [s.render_tunnel(t) for t in chunk], info

        def create_tunnel(params, query, body):
            tunnel = s.create_tunnel(params["account_id"], body["name"], body.get("config_src", "local"))
            return 200, s.render_tunnel(tunnel), None

        def get_tunnel(params, query, body):
            return 200, s.render_tunnel(s.tunnel(params["account_id"], params["tunnel_id"], allow_deleted=True)), None

        def patch_tunnel(params, query, body):
            tunnel = s.tunnel(params["account_id"], params["tunnel_id"])
            if "name" in body:
                tunnel["name"] = body["name"]
            if "tunnel_secret" in body:
                tunnel["secret"] = body["tunnel_secret"]
            return 200, s.render_tunnel(tunnel), None

        def delete_tunnel(params, query, body):
            return 200, s.render_tunnel(s.delete_tunnel(params["account_id"], params["tunnel_id"])), None

        def get_token(params, query, body):
            return 200, s.tunnel_token(s.tunnel(params["account_id"], params["tunnel_id"])), None

        def get_configuration(params, query, body):
            return 200, s.render_configuration(s.tunnel(params["account_id"], params["tunnel_id"])), None

        def put_configuration(params, query, body):
            tunnel = s.tunnel(params["account_id"], params["tunnel_id"])
            s.put_configuration(tunnel, (body or {}).get("config"))
            return 200, s.render_configuration(tunnel), None

        def delete_connections(params, query, body):
            s.clean_connections(params["account_id"], params["tunnel_id"], query.get("client_id"))
            return 200, {}, None

        def verify_token(params, query, body):
            return 200, {"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}, None

        tunnel_base = "/accounts/{account_id}/cfd_tunnel"
        record_base = "/zones/{zone_id}/dns_records"
        return [
            Route("GET", "/accounts", list_accounts, "account_settings:read", ("name", "direction") + page),
            Route("GET", "/zones", list_zones, "zone:read",
                  ("name", "status", "account.id", "account.name", "order", "direction", "match") + page),
            Route("GET", "/zones/{zone_id}", get_zone, "zone:read"),
            Route("GET", record_base, list_records, "dns:read",
                  ("name", "name.exact", "type", "content", "content.exact", "proxied", "comment", "comment.exact",
                   "match", "order", "direction") + page),
            Route("POST", record_base, create_record, "dns:edit"),
            Route("GET", record_base + "/{dns_record_id}", get_record, "dns:read"),
            Route("PUT", record_base + "/{dns_record_id}", put_record, "dns:edit"),
            Route("PATCH", record_base + "/{dns_record_id}", patch_record, "dns:edit"),
            Route("DELETE", record_base + "/{dns_record_id}", delete_record, "dns:edit"),
            Route("GET", tunnel_base, list_tunnels, "tunnel:read",
                  ("name", "is_deleted", "uuid", "status", "include_prefix", "exclude_prefix") + page),
            Route("POST", tunnel_base, create_tunnel, "tunnel:edit"),
            Route("GET", tunnel_base + "/{tunnel_id}", get_tunnel, "tunnel:read"),
            Route("PATCH", tunnel_base + "/{tunnel_id}", patch_tunnel, "tunnel:edit"),
            Route("DELETE", tunnel_base + "/{tunnel_id}", delete_tunnel, "tunnel:edit"),
            Route("GET", tunnel_base + "/{tunnel_id}/token", get_token, "tunnel:read"),
            Route("GET", tunnel_base + "/{tunnel_id}/configurations", get_configuration, "tunnel:read"),
            Route("PUT", tunnel_base + "/{tunnel_id}/configurations", put_configuration, "tunnel:edit"),
            Route("DELETE", tunnel_base + "/{tunnel_id}/connections", delete_connections, "tunnel:edit", ("client_id",)),
            Route("GET", "/user/tokens/verify", verify_token, None),
        ]

    # -- admin ---------------------------------------------------------------------------------------
    def _admin(self, request: Request) -> Response:
        """Admin endpoints (not part of the API, not validated, not logged):

        GET    /__admin/state                       accounts, zones, dns_records, tunnels (deleted ones too)
        GET    /__admin/requests                    the request log; DELETE clears it
        GET    /__admin/violations                  schema violations; DELETE clears them
        GET    /__admin/faults                      queued faults; DELETE clears them
        POST   /__admin/faults                      {"status": 429, "count": 2, "retry_after": 1, "delay": 0,
                                                     "method": "POST", "path_contains": "/cfd_tunnel"}
        POST   /__admin/tunnels/<id>/connections    add a connection, as a running cloudflared would
        POST   /__admin/reset                       body: a seed (optional); also clears log, faults, violations
        """
        return super()._admin(request)

    def _admin_extra(self, sub: str, method: str, body):
        found = re.fullmatch(r"/tunnels/([^/]+)/connections", sub)
        if found and method == "POST":
            with self.state.lock:
                if found.group(1) not in self.state.tunnels:
                    return fake_http.json_response({"error": "no such tunnel"}, status=404)
                connection = self.state.connect_tunnel(found.group(1), (body or {}).get("client_id"))
            return fake_http.json_response(connection, status=201)
        return None


def _envelope_error(code: int, message: str) -> dict:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


# --------------------------------------------------------------------------------------------------
# Standalone process

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stateful fake of the Cloudflare v4 API (schema-validated).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", help="YAML or JSON file with tokens, accounts, zones, records and tunnels")
    parser.add_argument("--schema", help=f"OpenAPI schema (default: $APHEX_UPSTREAM_MIRROR/{SCHEMA_PATH_IN_MIRROR})")
    parser.add_argument("--print-url", action="store_true", help="print the API base URL as the first stdout line")
    args = parser.parse_args(argv)
    try:
        fake = FakeCloudflare(fake_http.load_seed(args.seed), host=args.host, port=args.port, schema_path=args.schema)
    except (FakeCloudflareError, OSError, yaml.YAMLError) as exc:
        print(f"fake_cloudflare: {exc}", file=sys.stderr)
        return 2
    return fake_http.serve_until_signalled(fake, args.print_url)


if __name__ == "__main__":
    sys.exit(main())
