# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a repository's Trigger lets through: its CEL filter and the webhook signature GitHub sends (pure).

The organization's EventListener runs two interceptors in front of every repository's Trigger:

* the ``github`` ClusterInterceptor with ``secretRef`` (the org's ``github-webhook-secret``) checks the
  ``X-Hub-Signature-256`` header (``sha256=`` + HMAC-SHA256 of the raw body, hex) and then the event type;
* the ``cel`` ClusterInterceptor evaluates :func:`cel_filter` against the JSON body.

The reference controller hard-coded ``bdchatham/<repoName>`` in the filter and never checked the branch
(aphex-reference.md §7.4, §12 item 3); here the filter names the repository's real full name and the branches.
``tests/unit/plugins/module_utils/repobinding/test_webhook_acceptance.py`` evaluates the filter with a real CEL
implementation and checks :func:`signature` the way the interceptor does.
"""

from __future__ import annotations

import hashlib
import hmac

BRANCH_REF_PREFIX = "refs/heads/"
SIGNATURE_HEADER = "X-Hub-Signature-256"  # the interceptor prefers it over the legacy SHA-1 X-Hub-Signature
SIGNATURE_PREFIX = "sha256="
# CEL's own escape sequences; other control characters become \\uXXXX.
_CEL_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def cel_string(value: str) -> str:
    """A CEL string literal for ``value`` (double-quoted; backslash, quotes and control characters escaped).

    Callers validate names before they get here; the escaping only makes sure no value can end the literal
    early and change the expression.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    out = []
    for char in value:
        if char in _CEL_ESCAPES:
            out.append(_CEL_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def branch_ref(branch: str) -> str:
    """``main`` -> ``refs/heads/main`` (what a push event carries in ``body.ref``)."""
    return BRANCH_REF_PREFIX + branch


def cel_filter(repo_full_name: str, branches: list[str]) -> str:
    """The CEL ``filter`` of a repository's Trigger.

    True exactly when ``body.repository.full_name`` is ``repo_full_name`` (as GitHub spells it, ``owner/name``)
    and ``body.ref`` is ``refs/heads/<branch>`` for one of ``branches``. The ``has()`` guards make events
    without a ``ref`` (``ping``, ``pull_request``) evaluate to false instead of an evaluation error.
    """
    if not isinstance(repo_full_name, str) or not repo_full_name:
        raise ValueError("repo_full_name must be a non-empty 'owner/name' string")
    if isinstance(branches, str) or not branches:
        raise ValueError("branches must be a non-empty list of branch names")
    refs: list[str] = []
    for branch in branches:
        if not isinstance(branch, str) or not branch:
            raise ValueError("every branch must be a non-empty string")
        ref = branch_ref(branch)
        if ref not in refs:
            refs.append(ref)
    ref_list = ", ".join(cel_string(ref) for ref in refs)
    return (
        "has(body.repository) && has(body.repository.full_name)"
        f" && body.repository.full_name == {cel_string(repo_full_name)}"
        f" && has(body.ref) && body.ref in [{ref_list}]"
    )


def _as_bytes(value: bytes | str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected bytes or str, got {type(value).__name__}")


def signature(secret: bytes | str, body: bytes | str) -> str:
    """``sha256=<hex HMAC-SHA256 of body keyed with secret>``: the ``X-Hub-Signature-256`` value GitHub sends.

    ``body`` must be the exact bytes sent (the interceptor hashes the raw request body); a ``str`` is
    encoded as UTF-8, as is a ``str`` secret.
    """
    digest = hmac.new(_as_bytes(secret), _as_bytes(body), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest
