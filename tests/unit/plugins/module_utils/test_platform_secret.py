from __future__ import annotations

import base64
import math
import re
import string

import pytest

from ansible_collections.aphex.platform.plugins.module_utils import platform_secret as ps
from ansible_collections.aphex.platform.plugins.module_utils.platform_secret import (
    KeySpec,
    PlatformSecretError,
    generate,
    normalize_keys,
    owned_data_keys,
    plan,
    result,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def live_secret(data: dict, labels=None, managed=None, annotations=None) -> dict:
    meta = {"name": "s", "namespace": "ns", "labels": labels if labels is not None else dict(ps.MANAGED_BY)}
    if annotations:
        meta["annotations"] = annotations
    if managed is not None:
        meta["managedFields"] = managed
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "data": {k: b64(v) for k, v in data.items()}}


def fixed(spec):
    return f"new-{spec.name}-value"


SPECS = normalize_keys([{"name": "a"}, {"name": "b", "generator": "hex"}, {"name": "c", "generator": "token_urlsafe"}], [])[0]


# --- which keys to generate, keep, rotate -------------------------------------------------

def test_new_secret_creates_every_key():
    p = plan(None, "ns", "s", SPECS, set(), generator=fixed)
    assert p.statuses == {"a": "created", "b": "created", "c": "created"} and p.changed
    assert p.definition["data"] == {k: b64(f"new-{k}-value") for k in "abc"}
    assert p.definition["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aphex-platform"}
    assert "type" not in p.definition  # immutable: an existing Secret keeps its own


def test_existing_keys_are_kept_and_nothing_changes():
    live = live_secret({"a": "A", "b": "B", "c": "C"})
    p = plan(live, "ns", "s", SPECS, set(), generator=fixed)
    assert p.statuses == {"a": "kept", "b": "kept", "c": "kept"}
    assert not p.changed and p.definition is None
    assert p.values == {"a": "A", "b": "B", "c": "C"}


def test_missing_key_is_added_others_untouched():
    live = live_secret({"a": "A", "c": "C"})
    p = plan(live, "ns", "s", SPECS, set(), generator=fixed)
    assert p.statuses == {"a": "kept", "b": "created", "c": "kept"} and p.changed
    assert p.definition["data"] == {"a": b64("A"), "b": b64("new-b-value"), "c": b64("C")}


def test_rotate_one_key():
    live = live_secret({"a": "A", "b": "B", "c": "C"})
    rotate = normalize_keys([{"name": "a"}, {"name": "b"}, {"name": "c"}], ["b"])[1]
    p = plan(live, "ns", "s", SPECS, rotate, generator=fixed)
    assert p.statuses == {"a": "kept", "b": "rotated", "c": "kept"}
    assert p.definition["data"]["b"] == b64("new-b-value") and p.definition["data"]["a"] == b64("A")


def test_rotate_all_and_rotating_a_missing_key_creates_it():
    rotate = normalize_keys([{"name": "a"}, {"name": "b"}], ["all"])[1]
    assert rotate == {"a", "b"}
    p = plan(live_secret({"a": "A"}), "ns", "s", SPECS[:2], rotate, generator=fixed)
    assert p.statuses == {"a": "rotated", "b": "created"}


def test_key_literally_named_all_is_rotated_by_name():
    rotate = normalize_keys([{"name": "all"}, {"name": "b"}], ["all"])[1]
    assert rotate == {"all"}


def test_rotate_unknown_key_is_an_error():
    with pytest.raises(PlatformSecretError, match="rotate: nope not in keys"):
        normalize_keys([{"name": "a"}], ["nope"])


def test_missing_managed_by_label_is_a_change_but_values_stay():
    live = live_secret({"a": "A", "b": "B", "c": "C"}, labels={})
    p = plan(live, "ns", "s", SPECS, set(), generator=fixed)
    assert p.changed and set(p.statuses.values()) == {"kept"}
    assert p.definition["data"] == {"a": b64("A"), "b": b64("B"), "c": b64("C")}


def test_extra_labels_and_annotations():
    live = live_secret({"a": "A", "b": "B", "c": "C"})
    p = plan(live, "ns", "s", SPECS, set(), labels={"team": "x"}, annotations={"note": "y"}, generator=fixed)
    assert p.changed
    assert p.definition["metadata"]["labels"] == {"team": "x", "app.kubernetes.io/managed-by": "aphex-platform"}
    assert p.definition["metadata"]["annotations"] == {"note": "y"}
    live2 = live_secret({"a": "A", "b": "B", "c": "C"}, labels={"team": "x", **ps.MANAGED_BY},
                        annotations={"note": "y", "other": "z"})
    assert not plan(live2, "ns", "s", SPECS, set(), labels={"team": "x"}, annotations={"note": "y"}).changed


def test_unlisted_keys_we_applied_before_are_kept_in_the_apply():
    managed = [
        {"manager": "aphex-platform", "operation": "Apply", "fieldsV1": {"f:data": {"f:old": {}, "f:a": {}}}},
        {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:data": {"f:theirs": {}}}},
    ]
    live = live_secret({"a": "A", "old": "O", "theirs": "T"}, managed=managed)
    assert owned_data_keys(live) == {"old", "a"}
    p = plan(live, "ns", "s", SPECS, set(), generator=fixed)
    # old: ours, so it must stay in the apply or the server would delete it;
    # theirs: not ours, left out so we do not take ownership of it.
    assert set(p.definition["data"]) == {"a", "b", "c", "old"}
    assert p.definition["data"]["old"] == b64("O")
    assert set(p.statuses) == {"a", "b", "c"}


# --- result and diff never carry values ----------------------------------------------------

def test_result_without_show_has_no_values():
    p = plan(live_secret({"a": "A-secret-value"}), "ns", "s", SPECS, set(), generator=fixed)
    out = result(p, "ns", "s", show=False, diff=True)
    assert out["keys"] == {"a": "kept", "b": "created", "c": "created"}
    assert "values" not in out
    text = repr(out)
    assert "A-secret-value" not in text and "new-b-value" not in text and b64("A-secret-value") not in text
    assert out["diff"]["before"] == {"data": {"a": "(hidden)"}}
    assert out["diff"]["after"] == {"data": {"a": "(hidden)", "b": "(hidden) created", "c": "(hidden) created"}}


def test_result_with_show_returns_values_but_not_check_mode_samples():
    p = plan(live_secret({"a": "A"}), "ns", "s", SPECS, set(), generator=fixed)
    assert result(p, "ns", "s", show=True, diff=False)["values"] == {
        "a": "A", "b": "new-b-value", "c": "new-c-value"}
    assert result(p, "ns", "s", show=True, diff=False, check_mode=True)["values"] == {"a": "A"}


def test_diff_for_new_secret_has_empty_before():
    out = result(plan(None, "ns", "s", SPECS, set(), generator=fixed), "ns", "s", show=False, diff=True)
    assert out["diff"]["before"] == {}


def test_binary_live_value_is_shown_base64():
    live = live_secret({})
    live["data"] = {"a": base64.b64encode(b"\xff\xfe").decode()}
    p = plan(live, "ns", "s", SPECS[:1], set())
    assert p.values["a"] == live["data"]["a"]


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("keys, message", [
    ([], "at least one key"),
    ([{"name": "bad key"}], "not a valid Secret key"),
    ([{"name": "a"}, {"name": "a"}], "listed twice"),
    ([{"name": "a", "bytes": 32}], "'bytes' applies to"),
    ([{"name": "a", "alphabet": "digits", "characters": "ab"}], "either 'alphabet' or 'characters'"),
    ([{"name": "a", "characters": "aaaa"}], "at least two different characters"),
    ([{"name": "a", "length": 0}], "length must be positive"),
    ([{"name": "a", "length": 8}], "bits of entropy; at least 128"),
    ([{"name": "a", "alphabet": "digits", "length": 32}], "106 bits of entropy"),
    ([{"name": "a", "generator": "hex", "length": 10}], "'length' only applies to the password"),
    ([{"name": "a", "generator": "hex", "bytes": 8}], "bytes must be at least 16"),
    ([{"name": "a", "generator": "rsa"}], "unknown generator"),
])
def test_invalid_keys(keys, message):
    with pytest.raises(PlatformSecretError, match=message):
        normalize_keys(keys, [])


def test_defaults():
    specs, rotate = normalize_keys([{"name": "p"}, {"name": "t", "generator": "token_urlsafe"}], None)
    assert specs[0] == KeySpec("p", "password", 32, string.ascii_letters + string.digits, 32)
    assert specs[1].nbytes == 32 and rotate == set()


# --- generator outputs ----------------------------------------------------------------------

def test_password_length_and_alphabet():
    specs = normalize_keys([{"name": "p", "length": 40, "alphabet": "safe_punctuation"},
                            {"name": "q", "characters": "abcdefghijklmnopqrstuvwxyz0123", "length": 30}], [])[0]
    for dummy in range(50):
        value = generate(specs[0])
        assert len(value) == 40 and set(value) <= set(ps.ALPHABETS["safe_punctuation"])
        assert re.fullmatch(r"[0-9a-z]{30}", generate(specs[1]))


def test_password_uses_the_whole_alphabet():
    spec, = normalize_keys([{"name": "p", "length": 64}], [])[0]
    seen = set("".join(generate(spec) for dummy in range(200)))
    assert seen == set(string.ascii_letters + string.digits)


def test_hex_base64_token_lengths_and_alphabets():
    specs = normalize_keys([{"name": "h", "generator": "hex"},
                            {"name": "b", "generator": "base64", "bytes": 48},
                            {"name": "t", "generator": "token_urlsafe"}], [])[0]
    hexv, b64v, tok = (generate(s) for s in specs)
    assert re.fullmatch(r"[0-9a-f]{64}", hexv)
    assert len(base64.b64decode(b64v, validate=True)) == 48
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", tok)  # 32 bytes, no padding


def test_tokens_and_default_password_have_at_least_256_bits():
    specs = normalize_keys([{"name": g, "generator": g} for g in ("hex", "base64", "token_urlsafe")], [])[0]
    assert all(s.entropy_bits() >= 256 for s in specs)
    # encoded length proves the amount of randomness drawn, not only the declared number
    assert len(generate(specs[0])) * 4 >= 256
    assert len(base64.b64decode(generate(specs[1]))) * 8 >= 256
    assert math.floor(len(generate(specs[2])) * 6) >= 256
    password, = normalize_keys([{"name": "p"}], [])[0]
    assert password.entropy_bits() == pytest.approx(32 * math.log2(62))  # 190 bits, >= the 128 required


def test_values_do_not_repeat():
    spec, = normalize_keys([{"name": "t", "generator": "token_urlsafe"}], [])[0]
    assert len({generate(spec) for dummy in range(1000)}) == 1000


def test_only_the_secrets_module_is_used(monkeypatch):
    import random

    def forbidden(*args, **kwargs):
        raise AssertionError("random module used")

    for name in ("choice", "choices", "randbytes", "getrandbits", "random"):
        monkeypatch.setattr(random, name, forbidden)
    specs = normalize_keys([{"name": g, "generator": g} for g in ps.GENERATORS], [])[0]
    assert all(generate(s) for s in specs)
    assert "import random" not in open(ps.__file__, encoding="utf-8").read()


@pytest.mark.parametrize("existing, provided, rotate, expected", [
    (None, None, False, ("generated-1", "created")),
    ("stored", None, False, ("stored", "kept")),
    ("stored", None, True, ("generated-1", "rotated")),
    (None, None, True, ("generated-1", "created")),
    ("stored", "mine", False, ("mine", "provided")),
    ("mine", "mine", False, ("mine", "kept")),
    (None, "mine", False, ("mine", "provided")),
])
def test_keep_or_generate(existing, provided, rotate, expected):
    counter = iter(range(1, 10))
    spec = ps.KeySpec(name="secret", generator="hex")
    assert ps.keep_or_generate(existing, spec, rotate, provided, generator=lambda s: f"generated-{next(counter)}") \
        == expected


def test_a_rerun_never_regenerates():
    calls = []
    value, action = ps.keep_or_generate("stored", ps.KeySpec(name="x"), generator=lambda s: calls.append(1) or "n")
    assert (value, action, calls) == ("stored", "kept", [])
