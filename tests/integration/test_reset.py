# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/reset.yml for the local provider, for real, in one sequence on a cluster of its own:

1. bootstrap.yml (--tags cluster, inventories/local) starts a local cluster in a fresh state directory;
2. the refusals delete nothing: no answer (stdin not a terminal), a wrong -e confirm, an unknown provider;
3. the name typed at the prompt (a pseudo-terminal) resets it: the API server stops answering, the state directory
   is gone, no process of the cluster is left;
4. the bootstrap again, then reset with -e confirm=local; a second reset reports changed=0.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import _pid_alive
from ansible_collections.aphex.platform.tests.support.playbook import ansible_env, playbook_command, run_playbook

pytestmark = [pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "local"
RESET = ROOT / "playbooks" / "reset.yml"


def cluster_processes(records: dict) -> list:
    """The processes of cluster.json's records that still run (pid and start time, as the cluster checks them)."""
    return [name for name, record in records.items() if _pid_alive(record)]


def process_records(state_dir: Path) -> dict:
    return json.loads((state_dir / "cluster.json").read_text())["processes"]


def bootstrap_cluster(state_dir: Path):
    run = run_playbook(ROOT / "playbooks" / "bootstrap.yml", inventory=INVENTORY, tags=["cluster"],
                       extra_vars={"aphex_local_cluster_path": str(state_dir)})
    assert run.ok, run.summary()
    records = process_records(state_dir)
    assert (state_dir / "kubeconfig").is_file() and len(cluster_processes(records)) == len(records) > 0, records
    return records


def reset(state_dir: Path, **extra):
    return run_playbook(RESET, inventory=INVENTORY, extra_vars={"aphex_local_cluster_path": str(state_dir), **extra},
                        diff=False)


def _controlling_terminal():
    """In the child: a session of its own whose controlling terminal is the pty on stdin, as in a shell (the
    pause module puts the terminal in raw mode, which needs that)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def reset_typing(state_dir: Path, answer: str, timeout: float = 120) -> tuple:
    """reset.yml on a pseudo-terminal, answering the prompt with `answer`; returns (rc, output)."""
    command = playbook_command(RESET, INVENTORY, {"aphex_local_cluster_path": str(state_dir)}, diff=False)
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"})
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(command, cwd=str(ROOT), env=env, stdin=terminal, stdout=terminal, stderr=terminal,
                            preexec_fn=_controlling_terminal)  # pylint: disable=subprocess-popen-preexec-fn
    os.close(terminal)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready = select.select([controller], [], [], 1)[0]
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"Type the cluster name" in output:
                    # pause flushes pending input when it starts reading: answer once it waits.
                    time.sleep(2)
                    os.write(controller, answer.encode() + b"\r")
                    answered = True
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=60), output.decode(errors="replace")
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()


def test_reset_local_provider(tmp_path):
    state_dir = tmp_path / "local-cluster"
    records = bootstrap_cluster(state_dir)
    try:
        # ---- refusals: nothing is deleted ------------------------------------------------------------------
        no_answer = reset(state_dir)
        assert not no_answer.ok
        assert "confirm: '' is not the cluster name 'local'" in no_answer.summary()
        wrong = reset(state_dir, confirm="aphex")
        assert "confirm: 'aphex' is not the cluster name 'local'" in wrong.summary()
        unknown = reset(state_dir, confirm="local", aphex_cluster_provider="k8s")
        assert "aphex_cluster_provider: 'k8s' is not one of local, kind, k3s, existing" in unknown.summary()
        for run in (no_answer, wrong, unknown):
            assert run.changed_tasks() == [], run.summary()
        assert (state_dir / "kubeconfig").is_file() and len(cluster_processes(records)) == len(records)

        # ---- the name typed at the prompt ------------------------------------------------------------------
        rc, output = reset_typing(state_dir, "local")
        assert rc == 0, output[-4000:]
        assert "Type the cluster name 'local'" in output
        assert not state_dir.exists() and cluster_processes(records) == [], output[-4000:]

        # ---- -e confirm, then again: changed=0 ---------------------------------------------------------------
        records = bootstrap_cluster(state_dir)
        first = reset(state_dir, confirm="local")
        assert first.ok and [t.name for t in first.changed_tasks()] == [
            "aphex.platform.local_cluster : Local cluster | Ensure state absent"], \
            first.summary()
        assert not state_dir.exists() and cluster_processes(records) == []
        second = reset(state_dir, confirm="local")
        assert second.ok and second.changed() == 0, second.summary()
    finally:
        if state_dir.exists():
            subprocess.run([sys.executable, str(ROOT / "hack" / "local-cluster"), "down", "--dir", str(state_dir)],
                           check=False)
