# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generated secrets: "generate once, keep, rotate on request", for platform_secret and the organization webhook.

`keep_or_generate()` is the one rule (used per key by `plan()` and by the organization module for its webhook
secret). `plan()` takes the live Secret (a dict, or None) and the key specs and decides, per key, created / kept /
rotated; it returns the object to server-side apply and a result that never carries values unless asked to.
`run()` drives it through the Kubernetes adapter for aphex.platform.platform_secret.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
import string
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import FIELD_MANAGER, MANAGED_BY, K8sError

GENERATORS = ("password", "hex", "base64", "token_urlsafe")
BYTE_GENERATORS = ("hex", "base64", "token_urlsafe")
ALPHABETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "ascii_letters": string.ascii_letters,
    "lowercase_alphanumeric": string.ascii_lowercase + string.digits,
    "digits": string.digits,
    "hexdigits": "0123456789abcdef",
    # punctuation that survives YAML, shell, URLs and connection strings unquoted
    "safe_punctuation": string.ascii_letters + string.digits + "-_.~+=",
}
DEFAULT_LENGTH = 32
DEFAULT_BYTES = 32
MIN_BYTES = 16                 # 128 bits: below that a random key is not a key
MIN_PASSWORD_BITS = 128
KEY_NAME_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
STATUS_CREATED, STATUS_KEPT, STATUS_ROTATED, STATUS_PROVIDED = "created", "kept", "rotated", "provided"
# Values shorter than this are not masked in messages: masking "a" would garble every message,
# and a value is only ever put into a message by accident.
MIN_MASK_LENGTH = 8


class PlatformSecretError(K8sError):
    """Invalid input or a failed API call; the message never contains a secret value."""


@dataclass(frozen=True)
class KeySpec:
    name: str
    generator: str = "password"
    length: int = DEFAULT_LENGTH
    alphabet: str = ALPHABETS["alphanumeric"]
    nbytes: int = DEFAULT_BYTES

    def entropy_bits(self) -> float:
        if self.generator == "password":
            return self.length * math.log2(len(set(self.alphabet)))
        return self.nbytes * 8.0


@dataclass
class Plan:
    statuses: dict                              # key -> created | kept | rotated
    changed: bool
    definition: dict | None                     # what to server-side apply; None when nothing changes
    values: dict = field(default_factory=dict)  # key -> plain value, for `show` and for no_log masking
    exists: bool = False
    before_keys: list = field(default_factory=list)


def normalize_keys(raw_keys: list, rotate: list | None) -> tuple[list, set]:
    """Validate the module's `keys`/`rotate` options; return (specs, names to rotate)."""
    specs, seen = [], set()
    for raw in raw_keys or []:
        name = raw.get("name") or ""
        if not KEY_NAME_RE.match(name) or len(name) > 253:
            raise PlatformSecretError(f"keys: {name!r} is not a valid Secret key (letters, digits, '-', '_', '.')")
        if name in seen:
            raise PlatformSecretError(f"keys: {name!r} is listed twice")
        seen.add(name)
        generator = raw.get("generator") or "password"
        if generator not in GENERATORS:
            raise PlatformSecretError(f"keys: {name}: unknown generator {generator!r}")
        if generator == "password":
            if raw.get("bytes") is not None:
                raise PlatformSecretError(f"keys: {name}: 'bytes' applies to {', '.join(BYTE_GENERATORS)}, "
                                          f"use 'length' for a password")
            if raw.get("alphabet") and raw.get("characters"):
                raise PlatformSecretError(f"keys: {name}: give either 'alphabet' or 'characters'")
            alphabet = raw.get("characters") or ALPHABETS[raw.get("alphabet") or "alphanumeric"]
            alphabet = "".join(dict.fromkeys(alphabet))  # unique, order kept: duplicates would bias choice
            length = DEFAULT_LENGTH if raw.get("length") is None else raw["length"]
            if len(alphabet) < 2:
                raise PlatformSecretError(f"keys: {name}: the alphabet needs at least two different characters")
            if length < 1:
                raise PlatformSecretError(f"keys: {name}: length must be positive")
            spec = KeySpec(name=name, generator=generator, length=length, alphabet=alphabet)
            if spec.entropy_bits() < MIN_PASSWORD_BITS:
                raise PlatformSecretError(
                    f"keys: {name}: a password of {length} characters from {len(alphabet)} symbols has "
                    f"{spec.entropy_bits():.0f} bits of entropy; at least {MIN_PASSWORD_BITS} are required")
        else:
            for option in ("length", "alphabet", "characters"):
                if raw.get(option) is not None:
                    raise PlatformSecretError(f"keys: {name}: '{option}' only applies to the password generator")
            nbytes = DEFAULT_BYTES if raw.get("bytes") is None else raw["bytes"]
            if nbytes < MIN_BYTES:
                raise PlatformSecretError(f"keys: {name}: bytes must be at least {MIN_BYTES} ({MIN_BYTES * 8} bits)")
            spec = KeySpec(name=name, generator=generator, nbytes=nbytes)
        specs.append(spec)
    if not specs:
        raise PlatformSecretError("keys: at least one key is required")

    names = [s.name for s in specs]
    rotate = list(rotate or [])
    if rotate == ["all"] and "all" not in names:
        return specs, set(names)
    unknown = [r for r in rotate if r not in names]
    if unknown:
        raise PlatformSecretError(f"rotate: {', '.join(unknown)} not in keys (use 'all' to rotate every key)")
    return specs, set(rotate)


def generate(spec: KeySpec) -> str:
    """A new value from the OS CSPRNG (the `secrets` module only)."""
    if spec.generator == "password":
        return "".join(secrets.choice(spec.alphabet) for dummy in range(spec.length))
    if spec.generator == "hex":
        return secrets.token_hex(spec.nbytes)
    if spec.generator == "base64":
        return base64.b64encode(secrets.token_bytes(spec.nbytes)).decode("ascii")
    if spec.generator == "token_urlsafe":
        return secrets.token_urlsafe(spec.nbytes)
    raise PlatformSecretError(f"unknown generator {spec.generator!r}")


def keep_or_generate(existing: str | None, spec: KeySpec, rotate: bool = False, provided: str | None = None,
                     generator=generate) -> tuple[str, str]:
    """The one "generate once, keep, rotate on request" rule: ``(value, status)``.

    status: ``kept`` (already stored; re-runs never change it), ``created`` (none stored yet), ``rotated``
    (asked for), ``provided`` (the caller's value replaces what is stored).
    """
    if provided is not None:
        return provided, STATUS_KEPT if provided == existing else STATUS_PROVIDED
    if existing is not None and not rotate:
        return existing, STATUS_KEPT
    return generator(spec), STATUS_CREATED if existing is None else STATUS_ROTATED


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def decode_value(encoded: str) -> str:
    raw = base64.b64decode(encoded or "")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return encoded  # binary data: show it base64-encoded rather than mangled


def owned_data_keys(live: dict | None, manager: str = FIELD_MANAGER) -> set:
    """Data keys our field manager owns through Apply (from metadata.managedFields)."""
    owned = set()
    for entry in ((live or {}).get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        data_fields = (entry.get("fieldsV1") or {}).get("f:data") or {}
        owned.update(k[2:] for k in data_fields if k.startswith("f:"))
    return owned


def build_definition(namespace: str, name: str, data: dict, labels: dict, annotations: dict) -> dict:
    metadata = {"name": name, "namespace": namespace, "labels": dict(labels, **MANAGED_BY)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    # No `type`: it defaults to Opaque on create and is immutable, so an existing Secret keeps its own.
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": dict(sorted(data.items()))}


def plan(live: dict | None, namespace: str, name: str, specs: list, rotate: set,
         labels: dict | None = None, annotations: dict | None = None, generator=generate) -> Plan:
    """Decide per key; re-use live values, generate only what is missing or asked to rotate."""
    labels, annotations = dict(labels or {}), dict(annotations or {})
    live_data = dict((live or {}).get("data") or {})
    statuses, data, values = {}, {}, {}
    for spec in specs:
        existing = decode_value(live_data[spec.name]) if spec.name in live_data else None
        values[spec.name], statuses[spec.name] = keep_or_generate(existing, spec, spec.name in rotate,
                                                                  generator=generator)
        # A kept value is written back as stored (binary data stays byte for byte what it was).
        data[spec.name] = live_data[spec.name] if statuses[spec.name] == STATUS_KEPT else _b64(values[spec.name])
    # Keys we applied earlier but are no longer listed stay as they are: dropping them from the
    # apply would make the server delete them, and a lost secret cannot be regenerated.
    for key in owned_data_keys(live) - set(data):
        if key in live_data:
            data[key] = live_data[key]

    live_meta = (live or {}).get("metadata") or {}
    wanted_labels = dict(labels, **MANAGED_BY)
    meta_differs = (any((live_meta.get("labels") or {}).get(k) != v for k, v in wanted_labels.items())
                    or any((live_meta.get("annotations") or {}).get(k) != v for k, v in annotations.items()))
    changed = live is None or meta_differs or any(s != STATUS_KEPT for s in statuses.values())
    return Plan(
        statuses=statuses, changed=changed, values=values, exists=live is not None,
        definition=build_definition(namespace, name, data, labels, annotations) if changed else None,
        before_keys=sorted(live_data),
    )


def result(plan_: Plan, namespace: str, name: str, show: bool, diff: bool, check_mode: bool = False) -> dict:
    """Module result: key names and statuses; values only when `show` is set."""
    out = {
        "changed": plan_.changed,
        "secret": {"namespace": namespace, "name": name},
        "keys": dict(sorted(plan_.statuses.items())),
    }
    if show:
        # In check mode a new value is only a sample that will never be stored: leave it out.
        out["values"] = {k: v for k, v in sorted(plan_.values.items())
                         if not check_mode or plan_.statuses[k] == STATUS_KEPT}
    if diff:
        hidden = "(hidden)"
        after = {k: hidden for k in plan_.before_keys}
        after.update({k: hidden if s == STATUS_KEPT else f"{hidden} {s}" for k, s in plan_.statuses.items()})
        out["diff"] = {
            "before": {"data": {k: hidden for k in plan_.before_keys}} if plan_.exists else {},
            "after": {"data": dict(sorted(after.items()))},
            "before_header": f"Secret {namespace}/{name}",
            "after_header": f"Secret {namespace}/{name}",
        }
    return out


def run(module) -> dict:
    """aphex.platform.platform_secret's whole job; ``module`` is an AphexK8sModule.

    The Secret is read and, when a key is created or rotated or the metadata differs, server-side applied
    (in check mode as a server-side dry run). Raises PlatformSecretError (input) or K8sError (API).
    """
    params = module.params
    specs, rotate = normalize_keys(params["keys"], params["rotate"])
    # force_conflicts: the module owns the keys it writes, and a rotation must win over a value another
    # manager once applied.
    applier = module.applier(force_conflicts=True)
    live = applier.get("v1", "Secret", params["name"], params["namespace"])
    planned = plan(live, params["namespace"], params["name"], specs, rotate,
                   labels=params["labels"], annotations=params["annotations"])
    if not params["show"]:
        # Defence in depth: Ansible masks these strings anywhere in the output, errors included.
        module.no_log_values.update(v for v in planned.values.values() if len(v) >= MIN_MASK_LENGTH)
    if planned.changed:
        applier.expect_namespaces([planned.definition])
        applier.apply(planned.definition)
    return result(planned, params["namespace"], params["name"], show=params["show"], diff=module.diff_mode,
                  check_mode=module.check_mode)
