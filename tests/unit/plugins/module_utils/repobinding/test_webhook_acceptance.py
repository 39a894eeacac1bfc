"""Webhook acceptance at unit level: a GitHub push goes through the same checks the org's EventListener applies.

The EventListener (organization module, ``objects.triggers``) runs the ``github`` ClusterInterceptor with the
org's ``secretRef`` and ``eventTypes``, then each repository's Trigger runs the ``cel`` ClusterInterceptor with
:func:`webhook_filter.cel_filter`. This file replays both:

* ``github_interceptor`` follows Tekton Triggers' ``pkg/interceptors/github/github.go`` (``Process``): a
  form-encoded body is refused; the ``X-GitHub-Event`` header must be in ``eventTypes``; the signature comes
  from ``X-Hub-Signature-256``, else ``X-Hub-Signature``, and none is an error; go-github's
  ``ValidateSignature`` splits ``<algo>=<hex>``, accepts sha1/sha256/sha512, hex-decodes and compares the
  HMAC of the raw body in constant time. Header names are case-insensitive (Go canonicalises them).
* the CEL filter is compiled and evaluated by ``cel-python`` (a real CEL implementation, not a regex) on the
  JSON body, as the ``cel`` interceptor does with ``body``; anything but ``true`` drops the event.

The end-to-end proof on a real Triggers installation belongs to another issue (issue 8, item 5).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

celpy = pytest.importorskip("celpy", reason="cel-python (requirements-dev.txt) evaluates the CEL filter")

from ansible_collections.aphex.platform.plugins.module_utils.organization import naming, objects  # noqa: E402
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import webhook_filter  # noqa: E402
from ansible_collections.aphex.platform.plugins.module_utils.repobinding.webhook_filter import (  # noqa: E402
    cel_filter, signature)

ORG = "acme"
ORG_SECRET = "6f0c1b9e2d7a4c3f8e5b0a1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4"
REPO = "acme-corp/payments-api"


# --------------------------------------------------------------------------------------------------
# The EventListener's checks


def _github_interceptor_params():
    """secretRef and eventTypes as the organization module writes them into the org's EventListener."""
    listener = next(o for o in objects.triggers(ORG, list(naming.DEFAULT_EVENTS), [])
                    if o["kind"] == "EventListener")
    (group,) = listener["spec"]["triggerGroups"]
    (interceptor,) = group["interceptors"]
    assert interceptor["ref"] == {"name": "github", "kind": "ClusterInterceptor"}
    return {p["name"]: p["value"] for p in interceptor["params"]}


class Rejected(Exception):
    pass


_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _validate_signature(header: str, payload: bytes, secret: bytes) -> None:
    """go-github ValidateSignature: '<algo>=<hex>', known algorithm, hex, constant-time HMAC compare."""
    if not header:
        raise Rejected("missing signature")
    algo, sep, hex_mac = header.partition("=")
    if not sep:
        raise Rejected(f"error parsing signature {header!r}")
    if algo not in _HASHES:
        raise Rejected(f"unknown hash type prefix: {algo!r}")
    try:
        given = bytes.fromhex(hex_mac)
    except ValueError as exc:
        raise Rejected(f"error decoding signature {header!r}") from exc
    expected = hmac.new(secret, payload, _HASHES[algo]).digest()
    if not hmac.compare_digest(given, expected):
        raise Rejected("payload signature check failed")


def github_interceptor(headers: dict, body: bytes, secrets: dict) -> None:
    params = _github_interceptor_params()
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("content-type") == "application/x-www-form-urlencoded":
        raise Rejected("form parameter encoding not supported")
    event = lowered.get("x-github-event", "")
    if params.get("eventTypes") is not None and event not in params["eventTypes"]:
        raise Rejected(f"event type {event} is not allowed")
    ref = params["secretRef"]
    header = lowered.get("x-hub-signature-256") or lowered.get("x-hub-signature") or ""
    if not header:
        raise Rejected("Must set X-Hub-Signature-256 or X-Hub-Signature header")
    secret = secrets[ref["secretName"]][ref["secretKey"]]
    _validate_signature(header, body, secret.encode())


def cel_interceptor(expression: str, body: bytes) -> None:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    result = program.evaluate({"body": celpy.json_to_cel(json.loads(body))})
    if result is not True and not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
        raise Rejected(f"expression {expression} did not return true (got {result!r})")


def event_listener(headers: dict, body: bytes, repo: str = REPO, branches=("main",)) -> str:
    """'accepted', or raises Rejected with the interceptor's reason."""
    secrets = {naming.WEBHOOK_SECRET_NAME: {naming.WEBHOOK_SECRET_KEY: ORG_SECRET}}
    github_interceptor(headers, body, secrets)
    cel_interceptor(cel_filter(repo, list(branches)), body)
    return "accepted"


# --------------------------------------------------------------------------------------------------
# GitHub's side


def push_payload(repo: str = REPO, branch: str = "main", ref: str | None = None) -> bytes:
    owner, name = repo.split("/", 1)
    payload = {
        "ref": ref or f"refs/heads/{branch}",
        "before": "0" * 40,
        "after": "9f2c1e5d3b7a4e6f8091a2b3c4d5e6f708192a3b",
        "repository": {"id": 4242, "name": name, "full_name": repo, "private": True,
                       "owner": {"login": owner, "name": owner},
                       "clone_url": f"https://github.com/{repo}.git",
                       "pushed_at": 1764460800},
        "pusher": {"name": "alice", "email": "alice@acme.example"},
        "head_commit": {"id": "9f2c1e5d3b7a4e6f8091a2b3c4d5e6f708192a3b", "message": "Fix the ledger"},
    }
    # GitHub's own serialisation is not Python's; the signature covers these exact bytes either way.
    return json.dumps(payload, separators=(",", ":")).encode()


def github_headers(body: bytes, secret: str | None = ORG_SECRET, event: str = "push") -> dict:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "User-Agent": "GitHub-Hookshot/abc"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(secret, body)
    return headers


# --------------------------------------------------------------------------------------------------
# signature()


def test_signature_matches_githubs_documented_example():
    # docs.github.com "Validating webhook deliveries": secret and payload below give this header value.
    assert signature("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_signature_accepts_bytes_and_text_alike():
    assert signature(ORG_SECRET.encode(), b"{}") == signature(ORG_SECRET, "{}")
    assert webhook_filter.SIGNATURE_HEADER == "X-Hub-Signature-256"
    with pytest.raises(TypeError):
        signature(None, b"{}")


# --------------------------------------------------------------------------------------------------
# Acceptance


def test_a_correctly_signed_push_to_main_of_this_repository_is_accepted():
    body = push_payload()
    assert event_listener(github_headers(body), body) == "accepted"


def test_header_names_are_case_insensitive_as_in_go():
    body = push_payload()
    headers = {k.lower(): v for k, v in github_headers(body).items()}
    assert event_listener(headers, body) == "accepted"


def test_a_legacy_sha1_signature_alone_is_still_checked():
    # The interceptor falls back to X-Hub-Signature; it must be a valid HMAC of the body too.
    body = push_payload()
    headers = github_headers(body, secret=None)
    headers["X-Hub-Signature"] = "sha1=" + hmac.new(ORG_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert event_listener(headers, body) == "accepted"
    headers["X-Hub-Signature"] = "sha1=" + hmac.new(b"another-secret", body, hashlib.sha1).hexdigest()
    with pytest.raises(Rejected, match="signature check failed"):
        event_listener(headers, body)


@pytest.mark.parametrize("case, make, reason", [
    ("signed with another secret",
     lambda b: github_headers(b, secret="not-the-org-secret-at-all-0000000"), "signature check failed"),
    ("unsigned", lambda b: github_headers(b, secret=None), "Must set X-Hub-Signature-256"),
    ("empty signature", lambda b: {**github_headers(b), "X-Hub-Signature-256": ""}, "Must set X-Hub-Signature-256"),
    ("bare hex without prefix",
     lambda b: {**github_headers(b), "X-Hub-Signature-256": signature(ORG_SECRET, b)[len("sha256="):]},
     "error parsing signature"),
    ("unknown algorithm",
     lambda b: {**github_headers(b), "X-Hub-Signature-256": "md5=" + hashlib.md5(b).hexdigest()},
     "unknown hash type"),
    ("not hex", lambda b: {**github_headers(b), "X-Hub-Signature-256": "sha256=zz"}, "error decoding"),
    ("signature of another body",
     lambda b: {**github_headers(b), "X-Hub-Signature-256": signature(ORG_SECRET, b + b" ")},
     "signature check failed"),
    ("event type not subscribed", lambda b: github_headers(b, event="pull_request"), "not allowed"),
    ("ping", lambda b: github_headers(b, event="ping"), "not allowed"),
    ("form-encoded delivery", lambda b: {**github_headers(b), "Content-Type": "application/x-www-form-urlencoded"},
     "form parameter encoding"),
])
def test_bad_deliveries_are_rejected_by_the_github_interceptor(case, make, reason):
    body = push_payload()
    with pytest.raises(Rejected, match=reason):
        event_listener(make(body), body)


def test_a_tampered_body_fails_the_signature():
    body = push_payload()
    headers = github_headers(body)
    tampered = body.replace(b"payments-api", b"payments-apj")
    with pytest.raises(Rejected, match="signature check failed"):
        event_listener(headers, tampered)


@pytest.mark.parametrize("body", [
    push_payload(repo="acme-corp/other-repo"),
    push_payload(repo="evil-corp/payments-api"),
    push_payload(repo="acme-corp/payments-api-fork"),
    push_payload(repo="ACME-CORP/payments-api"),  # full names are compared exactly, as GitHub spells them
    push_payload(branch="develop"),
    push_payload(branch="main-old"),
    push_payload(branch="feature/main"),
    push_payload(ref="refs/tags/main"),
    push_payload(ref="main"),
], ids=["other-repo", "other-owner", "name-prefix", "owner-case", "other-branch", "branch-prefix",
        "branch-suffix", "tag-named-main", "bare-ref"])
def test_correctly_signed_pushes_of_other_repositories_or_branches_are_filtered_out(body):
    with pytest.raises(Rejected, match="did not return true"):
        event_listener(github_headers(body), body)


def test_events_without_ref_or_repository_evaluate_to_false_not_to_an_error():
    for payload in ({"zen": "Keep it simple", "hook_id": 1}, {"repository": {"full_name": REPO}},
                    {"ref": "refs/heads/main"}):
        body = json.dumps(payload).encode()
        with pytest.raises(Rejected, match=r"got BoolType\(False\)|got False"):
            cel_interceptor(cel_filter(REPO, ["main"]), body)


def test_several_branches():
    branches = ["main", "release/2026.11", "hotfix"]
    for branch in branches:
        body = push_payload(branch=branch)
        assert event_listener(github_headers(body), body, branches=branches) == "accepted"
    for branch in ("develop", "release/2026.12", "release"):
        body = push_payload(branch=branch)
        with pytest.raises(Rejected, match="did not return true"):
            event_listener(github_headers(body), body, branches=branches)


NAMES_THAT_NEED_QUOTING = [
    'quote"branch', "apostrophe's", "back\\slash", 'end\\', "tab\there", "new\nline", "control\x01char",
    "ünïcode/ブランチ", "dollar$(body.ref)", "emoji-🚀",
]


@pytest.mark.parametrize("branch", NAMES_THAT_NEED_QUOTING)
def test_branch_names_that_need_quoting_match_exactly_themselves(branch):
    body = push_payload(branch=branch)
    assert event_listener(github_headers(body), body, branches=["main", branch]) == "accepted"
    other = push_payload(branch=branch + "x")
    with pytest.raises(Rejected, match="did not return true"):
        event_listener(github_headers(other), other, branches=["main", branch])


@pytest.mark.parametrize("repo", ["o'wner/re\"po", "owner/re\\po", "owner/repo.with_chars-1"])
def test_repository_names_that_need_quoting_match_exactly_themselves(repo):
    body = push_payload(repo=repo)
    assert event_listener(github_headers(body), body, repo=repo) == "accepted"
    other = push_payload(repo=REPO)
    with pytest.raises(Rejected, match="did not return true"):
        event_listener(github_headers(other), other, repo=repo)


@pytest.mark.parametrize("repo, branches", [
    ('x" || true || "', ["main"]),
    (REPO, ['main"] || true || body.ref in ["']),
    (REPO, ["main\") || true || (\""]),
    ("x' || true || '", ["main"]),
])
def test_injection_attempts_stay_string_literals(repo, branches):
    """A name crafted to close the literal and add '|| true' would accept everything; escaping prevents it."""
    expression = cel_filter(repo, branches)
    body = push_payload(branch="develop")
    with pytest.raises(Rejected, match="did not return true"):
        cel_interceptor(expression, body)
    body = push_payload(repo="someone/else")
    with pytest.raises(Rejected, match="did not return true"):
        cel_interceptor(expression, body)


def test_bad_filter_arguments_are_refused():
    for repo, branches in ((REPO, []), (REPO, "main"), ("", ["main"]), (REPO, [""]), (REPO, [None]), (None, ["main"])):
        with pytest.raises(ValueError):
            cel_filter(repo, branches)


def test_duplicate_branches_are_listed_once():
    assert cel_filter(REPO, ["main", "main"]).count('"refs/heads/main"') == 1
