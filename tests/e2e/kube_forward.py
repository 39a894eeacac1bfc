# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reach an in-cluster Service from the tests over ``kubectl port-forward`` (no ingress runs on the kind cluster).

    with port_forward(e2e_platform.kubeconfig, "auth-system", "svc/dex", 5556) as base:
        requests.get(f"{base}/.well-known/openid-configuration")

A port-forward carries the bytes unchanged (headers, redirects, form posts), which the API server's service proxy
does not promise: it rewrites redirects and drops some headers. Test infrastructure only.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import threading
import time

_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


def kubectl() -> str:
    """The kubectl the session uses: $APHEX_KIND_KUBECTL (kind session env), PATH, or the pinned cached one."""
    candidates = [os.environ.get("APHEX_KIND_KUBECTL", ""), shutil.which("kubectl") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.cache/aphex-platform/bin/kubernetes-*/kubectl")), reverse=True)
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise AssertionError("no kubectl: set APHEX_KIND_KUBECTL or put kubectl on PATH (make toolchain links the pinned one)")


@contextlib.contextmanager
def port_forward(kubeconfig: str, namespace: str, target: str, remote_port: int, timeout: float = 60):
    """Yield ``http://127.0.0.1:<local port>`` forwarded to ``target`` (``svc/name`` or ``pod/name``) port
    ``remote_port`` in ``namespace``; the forward is stopped on exit."""
    command = [kubectl(), "--kubeconfig", str(kubeconfig), "-n", namespace, "port-forward", "--address", "127.0.0.1",
               target, f":{remote_port}"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list = []
    found = threading.Event()
    port: list = []

    def read() -> None:
        for line in proc.stdout:  # keep draining: a full pipe would block kubectl
            output.append(line)
            match = _FORWARDING.search(line)
            if match and not port:
                port.append(int(match.group(1)))
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not found.wait(0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"kubectl port-forward {namespace}/{target}:{remote_port} did not start: "
                                     f"{''.join(output)[-2000:]}")
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
