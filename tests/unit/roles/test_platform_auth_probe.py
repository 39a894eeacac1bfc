# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The in-pod probe of the platform_auth role (roles/platform_auth/files/oidc_probe.py).

On the local cluster no container runs, so the role never executes the probe there. These tests run it exactly as
the role does (python3 -c "exec(base64...)" MODE URL [HOST]) against a local HTTP server that behaves like
Authentik (issuer from the Host and X-Forwarded-Proto headers) and Dex (302 to the upstream's authorize URL).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[3] / "roles" / "platform_auth" / "files" / "oidc_probe.py"


class Handler(BaseHTTPRequestHandler):
    followed = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.startswith("/application/o/platform-services/.well-known/openid-configuration"):
            host = self.headers.get("Host")
            proto = self.headers.get("X-Forwarded-Proto", "http")
            body = json.dumps({"issuer": f"{proto}://{host}/application/o/platform-services/",
                               "authorization_endpoint": f"{proto}://{host}/application/o/authorize/"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())
        elif self.path.startswith("/auth/authentik"):
            self.send_response(302)
            self.send_header("Location", f"http://{self.headers.get('Host')}/followed?to=authorize")
            self.end_headers()
        elif self.path.startswith("/followed"):
            Handler.followed.append(self.path)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def run_probe(*args: str) -> dict:
    """Invoke the probe the way tasks/verify.yml does (argv split by shlex in kubernetes.core.k8s_exec)."""
    code = base64.b64encode(PROBE.read_bytes()).decode()
    proc = subprocess.run([sys.executable, "-c", f"import base64;exec(base64.b64decode('{code}'))", *args],
                          capture_output=True, text=True, timeout=30, check=True)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def test_discovery_reports_the_issuer_for_the_public_host(server):
    result = run_probe("discovery", f"{server}/application/o/platform-services/.well-known/openid-configuration",
                       "auth.example.test")
    assert result["status"] == 200
    assert result["issuer"] == "https://auth.example.test/application/o/platform-services/"


def test_discovery_without_host_uses_the_url(server):
    result = run_probe("discovery", f"{server}/application/o/platform-services/.well-known/openid-configuration")
    assert result["issuer"] == f"{server}/application/o/platform-services/"


def test_redirect_is_reported_not_followed(server):
    Handler.followed.clear()
    result = run_probe("redirect", f"{server}/auth/authentik?client_id=argocd&state=x")
    assert result["status"] == 302
    assert result["location"].endswith("/followed?to=authorize")
    assert Handler.followed == []


def test_errors_are_reported_as_json_not_raised(server):
    result = run_probe("discovery", f"{server}/nothing-here")
    assert result["status"] == 0
    assert "404" in result["error"]
    result = run_probe("discovery", "http://127.0.0.1:1/unreachable")
    assert result["status"] == 0 and result["error"]
