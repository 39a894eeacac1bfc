# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception type of the GitHub module_utils. No HTTP import, so pure code can raise it."""

from __future__ import annotations

# What a token needs to manage a repository's webhooks, as GitHub's token settings name it.
TOKEN_PERMISSIONS_HINT = (
    "The token needs, on the repository: a fine-grained token 'Webhooks: Read and write' (plus the "
    "automatic 'Metadata: Read'), or a classic token the 'admin:repo_hook' scope (or 'repo'); its owner "
    "must be an admin of the repository."
)


class GitHubError(Exception):
    """Anything that stops a GitHub task: bad input, an API error, an unreachable API.

    ``status`` is GitHub's HTTP status when it answered; ``details`` the extra keys for fail_json
    (``status``, ``github_errors``: the ``errors`` list of GitHub's answer), the empty ones left out.
    """

    def __init__(self, msg: str, status: int | None = None, errors: list | None = None):
        super().__init__(msg)
        self.status = status
        self.details = {key: value for key, value in (("status", status), ("github_errors", errors)) if value}
