# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a playbook from a test and get back what happened as data, not as text.

One level only: the test runs ``ansible-playbook`` (never a playbook that runs another ansible-playbook).
The stdout callback is ``ansible.posix.jsonl`` (the line-per-event form of ``ansible.posix.json``, shipped
in the ``ansible`` package): every task result arrives as one JSON line while the run goes on, so a test can
also act on an event (e.g. kill the run when a given role starts) and still read a structured result.

    run = run_playbook("playbooks/bootstrap.yml", inventory="inventories/local", extra_vars={...}, check=True)
    assert run.ok and run.stats["localhost"]["changed"] > 0
    assert [t.name for t in run.changed_tasks()] == []
    gate = run.task("Gate")            # the last result of the first task whose name contains "Gate"
    assert gate.result["failed_checks"]

Assert on ``stats``, ``results`` and the cluster's state; ``raw`` (stdout + stderr) is only for checks of the
absence of a value (a secret that must never be printed) and for failure messages.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "ansible.posix.jsonl"


@dataclasses.dataclass
class TaskResult:
    """One task's result for one host."""

    name: str  # as ansible names it, e.g. "aphex.platform.ingress : Apply the manifests"
    path: str  # file:line of the task
    host: str
    event: str  # v2_runner_on_ok / _failed / _skipped / _unreachable
    result: dict

    @property
    def action(self) -> str:
        return self.result.get("action", "")

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        # The jsonl callback does not say whether ignore_errors applied: stats["failures"] does not count those.
        return self.event == "v2_runner_on_failed"

    @property
    def skipped(self) -> bool:
        return self.event == "v2_runner_on_skipped" or bool(self.result.get("skipped"))

    @property
    def role(self) -> str:
        """The role the task belongs to ("aphex.platform.ingress"), "" for a play-level task."""
        return self.name.split(" : ", 1)[0] if " : " in self.name else ""


@dataclasses.dataclass
class PlaybookRun:
    command: list
    rc: int
    results: list  # [TaskResult] in the order they finished
    started: list  # names of the tasks that started, in order
    stats: dict  # host -> {ok, changed, failures, skipped, unreachable, rescued, ignored}
    raw: str  # stdout + stderr, for absence checks and failure messages only
    killed: bool = False
    seconds: float = 0.0

    def __repr__(self) -> str:  # short: pytest prints it in assertion messages
        return f"PlaybookRun(rc={self.rc}, killed={self.killed}, stats={self.stats}, {len(self.results)} results)"

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.killed and all(
            s.get("failures", 0) == 0 and s.get("unreachable", 0) == 0 for s in self.stats.values())

    def changed(self, host: str = "localhost") -> int:
        return self.stats.get(host, {}).get("changed", -1)

    def changed_tasks(self) -> list:
        return [r for r in self.results if r.changed]

    def failed_tasks(self) -> list:
        return [r for r in self.results if r.failed]

    def tasks(self, name_contains: str = "", action: str = "", role: str = "") -> list:
        return [r for r in self.results
                if name_contains in r.name and (not action or r.action == action) and (not role or r.role == role)]

    def task(self, name_contains: str = "", action: str = "", role: str = "") -> TaskResult:
        found = self.tasks(name_contains, action, role)
        assert found, f"no task result matching name~{name_contains!r} action={action!r} role={role!r}\n{self.summary()}"
        return found[-1]

    def summary(self, tail: int = 6000) -> str:
        """For assertion messages: what failed or changed, and the end of the raw output."""
        lines = [f"$ {' '.join(self.command)}", f"rc={self.rc} killed={self.killed} stats={self.stats}"]
        lines += [f"FAILED (or ignored) {r.name}: {str(r.result.get('msg', ''))[:2000]}" for r in self.failed_tasks()]
        lines += [f"changed {r.name}" for r in self.changed_tasks()]
        return "\n".join(lines) + "\n--- output (end) ---\n" + self.raw[-tail:]


def ansible_env(extra: Optional[dict] = None) -> dict:
    """The environment of a run: the collection from this checkout, the jsonl callback, no colours."""
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
    env.update(ANSIBLE_STDOUT_CALLBACK=CALLBACK, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    bindir = os.path.dirname(sys.executable)
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    env.update(extra or {})
    return env


def playbook_command(playbook, inventory="localhost,", extra_vars: Optional[dict] = None, check=False, diff=True,
                     tags: Iterable[str] = (), args: Iterable[str] = ()) -> list:
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
               str(playbook), "-e", f"ansible_python_interpreter={sys.executable}"]
    if str(inventory) == "localhost,":
        command += ["-c", "local"]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if tags:
        command += ["--tags", ",".join(tags)]
    return command + list(args)


def _event_task(event: dict) -> tuple:
    task = event.get("task", {})
    return task.get("name", ""), task.get("path", "")


def run_playbook(playbook, inventory="localhost,", extra_vars: Optional[dict] = None, check=False, diff=True,
                 tags: Iterable[str] = (), args: Iterable[str] = (), env: Optional[dict] = None,
                 kill_when: Optional[Callable[[str], bool]] = None, timeout: float = 1800) -> PlaybookRun:
    """Run a playbook and parse its jsonl events.

    kill_when: called with the name of every task that starts; when it returns True the whole run (its process
    group) is SIGKILLed there, as a crash or a lost connection would stop it.
    """
    command = playbook_command(playbook, inventory, extra_vars, check, diff, tags, args)
    started_at = time.monotonic()
    proc = subprocess.Popen(command, cwd=str(ROOT), env=ansible_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    raw, results, started, stats, killed = [], [], [], {}, False
    try:
        for line in proc.stdout:
            raw.append(line)
            if time.monotonic() - started_at > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                raise AssertionError(f"{playbook} ran longer than {timeout}s:\n{''.join(raw)[-6000:]}")
            if not line.startswith("{"):
                continue  # warnings and deprecations are plain text
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("_event", "")
            if kind in ("v2_playbook_on_task_start", "v2_runner_on_start", "v2_playbook_on_handler_task_start"):
                name = _event_task(event)[0]
                started.append(name)
                if kill_when is not None and kill_when(name):
                    os.killpg(proc.pid, signal.SIGKILL)
                    killed = True
                    break
            elif kind.startswith("v2_runner_on_"):
                name, path = _event_task(event)
                for host, result in event.get("hosts", {}).items():
                    results.append(TaskResult(name, path, host, kind, result))
            elif kind == "v2_playbook_on_stats":
                stats = event.get("stats", {})
    finally:
        if proc.poll() is None and not killed:
            proc.wait(timeout=60)
        proc.wait()
        rest = proc.stdout.read() if not proc.stdout.closed else ""
        raw.append(rest or "")
        proc.stdout.close()
    return PlaybookRun(command, proc.returncode, results, started, stats, "".join(raw), killed,
                       time.monotonic() - started_at)
