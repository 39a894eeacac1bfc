# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe run inside an authentik pod (python3, standard library only) by the platform_auth role's verify step.

Prints one JSON line. Modes:
  discovery URL [HOST]   GET an OpenID discovery document (as if requested for https://HOST) -> status, issuer
  redirect URL           GET without following redirects -> status, location
"""

import json
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - stdlib signature
        return None


def main(argv):
    mode, url = argv[0], argv[1]
    if mode == "discovery":
        headers = {"Host": argv[2], "X-Forwarded-Proto": "https"} if len(argv) > 2 and argv[2] else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            document = json.load(response)
            return {"status": response.status, "issuer": document.get("issuer"),
                    "authorization_endpoint": document.get("authorization_endpoint")}
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return {"status": response.status, "location": None}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "location": exc.headers.get("Location")}


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:])))
    except Exception as exc:  # report, never raise: the role retries and shows the last error
        print(json.dumps({"status": 0, "error": f"{type(exc).__name__}: {exc}"}))
