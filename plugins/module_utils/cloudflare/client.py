# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The only code that talks to the Cloudflare SDK.

It builds the client, retries 429 and 5xx itself (honouring Retry-After), pages through lists, turns
every SDK error into CloudflareError and returns plain dicts, so the planners never see SDK models.
"""

from __future__ import annotations

import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.errors import (
    REQUIRED_TOKEN_PERMISSIONS,
    CloudflareError,
)
from ansible_collections.aphex.platform.plugins.module_utils.cloudflare.retry import (
    is_retryable_status,
    retry_after_seconds,
    retry_delay,
)

try:
    import cloudflare
except ImportError:
    cloudflare = None
    CLOUDFLARE_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    CLOUDFLARE_IMPORT_ERROR = None

HAS_CLOUDFLARE = cloudflare is not None

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
# Cloudflare account, zone and record ids are 32 lower-case hex characters.
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_PERMISSIONS_HINT = "The token needs these permissions: " + ", ".join(REQUIRED_TOKEN_PERMISSIONS) + "."


def cloudflare_argument_spec() -> dict:
    """Connection options shared by the Cloudflare modules (documented in the cloudflare doc fragment)."""
    return {
        "api_token": {"type": "str", "required": True, "no_log": True,
                      "fallback": (env_fallback, ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN"])},
        "base_url": {"type": "str", "fallback": (env_fallback, ["CLOUDFLARE_BASE_URL"])},
        "timeout": {"type": "float", "default": 30.0},
        "max_retries": {"type": "int", "default": 4},
    }


def _sleep(seconds: float) -> None:
    # A module-level seam: tests replace it to keep retries instant and to see the delays.
    time.sleep(seconds)


def _given(**kwargs) -> dict:
    """The SDK marks unset parameters with its own sentinel; None must not be sent, so drop it."""
    return {key: value for key, value in kwargs.items() if value is not None}


def _plain(model):
    if model is None or isinstance(model, (dict, list, str, int, float, bool)):
        return model
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _api_errors(body) -> list[dict]:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            return [e for e in errors if isinstance(e, dict)]
    return []


class CloudflareApi:
    def __init__(self, sdk, max_retries: int = 4, timeout: float = 30.0, base_url: str = DEFAULT_BASE_URL, log=None):
        self.sdk = sdk
        self.max_retries = max_retries
        self.timeout = timeout
        self.base_url = base_url
        self._log = log or (lambda message: None)

    @classmethod
    def connect(cls, params: dict, log=None) -> "CloudflareApi":
        if not HAS_CLOUDFLARE:
            raise CloudflareError(missing_required_lib("cloudflare"), exception=CLOUDFLARE_IMPORT_ERROR)
        if not params.get("api_token"):
            raise CloudflareError("api_token: empty; set it, or CLOUDFLARE_API_TOKEN in the environment")
        if params["max_retries"] < 0:
            raise CloudflareError("max_retries: must be 0 or more")
        if params["timeout"] <= 0:
            raise CloudflareError("timeout: must be more than 0 seconds")
        base_url = params.get("base_url") or DEFAULT_BASE_URL
        # max_retries=0: this adapter is the only retry layer, so attempts are counted once and
        # Retry-After is honoured once.
        sdk = cloudflare.Cloudflare(api_token=params["api_token"], base_url=base_url, timeout=params["timeout"],
                                    max_retries=0)
        # The SDK also reads CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY from the environment and then sends those
        # instead of the token; only the token is meant here.
        sdk.api_email = sdk.api_key = sdk.user_service_key = None
        return cls(sdk, max_retries=params["max_retries"], timeout=params["timeout"], base_url=base_url, log=log)

    # -- calling ------------------------------------------------------------------------------------
    def call(self, what: str, fn, *args, idempotent: bool = True, recheck=None, missing_ok: bool = False, **kwargs):
        """Run one SDK call with retries.

        429 is always retried: Cloudflare rejected the request before doing anything. 5xx and timeouts are
        retried only when repeating the call is harmless (``idempotent``) or when ``recheck`` (a read) can
        tell whether the failed call took effect anyway; a found result is returned instead of retrying.
        """
        attempt = 0
        while True:
            retry_after = None
            try:
                return fn(*args, **kwargs)
            except cloudflare.APIStatusError as exc:
                if missing_ok and exc.status_code == 404:
                    return None
                failure = exc
                retryable = is_retryable_status(exc.status_code) and (
                    exc.status_code == 429 or idempotent or recheck is not None)
                retry_after = retry_after_seconds(exc.response.headers)
            except cloudflare.APIConnectionError as exc:  # includes APITimeoutError
                failure = exc
                retryable = idempotent or recheck is not None
            except cloudflare.APIError as exc:
                raise self._error(what, exc) from None
            delay = retry_delay(attempt, retry_after) if retryable and attempt < self.max_retries else None
            if delay is None:
                raise self._error(what, failure, retried=attempt, retry_after=retry_after) from None
            self._log(f"{what}: {self._error(what, failure)}; retry {attempt + 1} of {self.max_retries} in {delay:.1f}s")
            _sleep(delay)
            attempt += 1
            if recheck is not None and getattr(failure, "status_code", None) != 429:
                found = recheck()
                if found is not None:
                    return found

    def _error(self, what: str, exc: Exception, retried: int = 0, retry_after: float | None = None) -> CloudflareError:
        after = f" (after {retried} retries)" if retried else ""
        if isinstance(exc, cloudflare.APIStatusError):
            errors = _api_errors(exc.body)
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or str(exc.message)
            msg = f"{what}: Cloudflare answered HTTP {exc.status_code}{after}: {detail}"
            if exc.status_code == 401:
                msg += (". Cloudflare did not accept the API token; check api_token (or CLOUDFLARE_API_TOKEN) and "
                        f"that the token is active. {_PERMISSIONS_HINT}")
            elif exc.status_code == 403:
                msg += f". The API token is valid but not allowed to do this. {_PERMISSIONS_HINT}"
            elif exc.status_code == 429 and retry_after is not None and retried < self.max_retries:
                msg += f". Cloudflare asked to wait {retry_after:.0f}s before retrying, longer than this task waits"
            return CloudflareError(msg, status=exc.status_code, errors=errors)
        if isinstance(exc, cloudflare.APITimeoutError):
            return CloudflareError(f"{what}: no answer from {self.base_url} within {self.timeout:g}s{after}")
        if isinstance(exc, cloudflare.APIConnectionError):
            cause = exc.__cause__ or exc
            return CloudflareError(f"{what}: cannot reach the Cloudflare API at {self.base_url}{after}: {cause}")
        return CloudflareError(f"{what}: {exc}")

    def list_all(self, what: str, method, **filters) -> list[dict]:
        page = self.call(what, method, **filters)
        items: list[dict] = []
        while True:
            batch = page.result or []
            items.extend(_plain(item) for item in batch)
            per_page = page.result_info.per_page if page.result_info is not None else None
            # The SDK's paginator asks for pages until one is empty; a short page is already the last one.
            if not batch or (per_page and len(batch) < per_page):
                return items
            page = self.call(what, page.get_next_page)

    # -- accounts and zones ------------------------------------------------------------------------------
    def resolve_account(self, account: str | None) -> dict:
        """An account id (32 hex characters) is used as given; a name is looked up; none means the only one."""
        if account and _HEX_ID.match(account):
            return {"id": account}
        accounts = self.list_all("list accounts", self.sdk.accounts.list, **_given(name=account))
        matches = [a for a in accounts if account is None or a.get("name") == account]
        if len(matches) == 1:
            return {"id": matches[0]["id"], "name": matches[0].get("name")}
        visible = ", ".join(sorted(f"{a.get('name')} ({a['id']})" for a in accounts)) or "none"
        if not matches:
            raise CloudflareError(f"account {account!r} not found; accounts this token can see: {visible}")
        if account is None:
            raise CloudflareError(f"the token can see several accounts ({visible}); set account to a name or id")
        raise CloudflareError(f"several accounts are named {account!r} ({visible}); set account to the id")

    def resolve_zone(self, zone: str) -> dict:
        """A zone id (32 hex characters) is fetched to learn its name; a name is looked up."""
        if _HEX_ID.match(zone):
            found = _plain(self.call("get zone", self.sdk.zones.get, zone_id=zone))
            return {"id": found["id"], "name": found["name"]}
        name = zone.lower().rstrip(".")
        zones = [z for z in self.list_all("find zone", self.sdk.zones.list, name=name) if z.get("name") == name]
        if len(zones) == 1:
            return {"id": zones[0]["id"], "name": zones[0]["name"]}
        if not zones:
            raise CloudflareError(f"zone {name!r} not found, or the API token may not read it. {_PERMISSIONS_HINT}")
        ids = ", ".join(z["id"] for z in zones)
        raise CloudflareError(f"several zones are named {name!r} ({ids}); set zone to the id")

    # -- tunnels ---------------------------------------------------------------------------------------
    @property
    def _tunnels(self):
        return self.sdk.zero_trust.tunnels.cloudflared

    def find_tunnels(self, account_id: str, name: str) -> list[dict]:
        return self.list_all("list tunnels", self._tunnels.list, account_id=account_id, name=name, is_deleted=False)

    def create_tunnel(self, account_id: str, name: str, recheck=None) -> dict:
        return _plain(self.call("create tunnel", self._tunnels.create, account_id=account_id, name=name,
                                config_src="cloudflare", idempotent=False, recheck=recheck))

    def tunnel_configuration(self, account_id: str, tunnel_id: str) -> dict:
        """The tunnel's remote configuration (``config``), {} when it has none yet."""
        found = _plain(self.call("get tunnel configuration", self._tunnels.configurations.get, tunnel_id,
                                 account_id=account_id))
        return (found or {}).get("config") or {}

    def put_tunnel_configuration(self, account_id: str, tunnel_id: str, config: dict) -> dict:
        found = _plain(self.call("set tunnel configuration", self._tunnels.configurations.update, tunnel_id,
                                 account_id=account_id, config=config))
        return (found or {}).get("config") or {}

    def tunnel_token(self, account_id: str, tunnel_id: str) -> str:
        return self.call("get tunnel token", self._tunnels.token.get, tunnel_id, account_id=account_id)

    # The schema requires a JSON body on these DELETEs, which the SDK does not send by default.
    def clean_up_tunnel_connections(self, account_id: str, tunnel_id: str) -> None:
        self.call("clean up tunnel connections", self._tunnels.connections.delete, tunnel_id, account_id=account_id,
                  extra_body={}, missing_ok=True)

    def delete_tunnel(self, account_id: str, tunnel_id: str) -> None:
        self.call("delete tunnel", self._tunnels.delete, tunnel_id, account_id=account_id, extra_body={},
                  missing_ok=True)

    # -- DNS records -----------------------------------------------------------------------------------
    def find_records(self, zone_id: str, name: str, record_type: str) -> list[dict]:
        return self.list_all("list DNS records", self.sdk.dns.records.list, zone_id=zone_id, name={"exact": name},
                             type=record_type, per_page=100)

    def create_record(self, zone_id: str, record: dict, recheck=None) -> dict:
        return _plain(self.call("create DNS record", self.sdk.dns.records.create, zone_id=zone_id, idempotent=False,
                                recheck=recheck, **_given(**record)))

    def edit_record(self, zone_id: str, record_id: str, record: dict) -> dict:
        return _plain(self.call("update DNS record", self.sdk.dns.records.edit, record_id, zone_id=zone_id,
                                **_given(**record)))

    def delete_record(self, zone_id: str, record_id: str) -> None:
        self.call("delete DNS record", self.sdk.dns.records.delete, record_id, zone_id=zone_id, extra_body={},
                  missing_ok=True)


def run_module(argument_spec: dict, ensure, **kwargs) -> None:
    """``main()`` of a Cloudflare module: the connection options plus ``argument_spec``, then
    ``ensure(api, params, check_mode)``; a CloudflareError is turned into ``fail_json`` here, once."""
    spec = cloudflare_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    try:
        api = CloudflareApi.connect(module.params, log=module.debug)
        result = ensure(api, module.params, check_mode=module.check_mode)
    except CloudflareError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    if not module._diff:
        del result["diff"]
    module.exit_json(**result)
