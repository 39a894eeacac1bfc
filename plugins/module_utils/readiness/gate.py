# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The polling loop of a readiness gate, and aphex.platform.readiness_gate's ``run``.

Nothing here imports the kubernetes client: the cluster is reached through a reader (``module.reader()``, a
``k8s.reader.ClusterReader``), so the whole gate, timeouts included, runs in unit tests against plain dicts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError
from ansible_collections.aphex.platform.plugins.module_utils.readiness.checks import (
    DEFAULT_REQUIRES_CONTROLLER,
    POD_CATEGORIES,
    Evaluator,
    ReadinessError,
    build_checks,
    not_running_reason,
    split_checks,
)
from ansible_collections.aphex.platform.plugins.module_utils.readiness.diagnostics import (
    collect_diagnostics,
    format_diagnostics,
)

FATAL_STATUSES = (401, 403)


# The gate
@dataclass
class GateResult:
    passed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    not_running_reason: str = ""
    elapsed: float = 0.0
    rounds: int = 0
    diagnostics: dict = field(default_factory=dict)
    check_mode: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def message(self, timeout) -> str:
        if self.ok:
            parts = [f"{len(self.passed)} check(s) passed"]
            if self.skipped:
                parts.append(f"{len(self.skipped)} skipped")
            return "; ".join(parts) + f" (after {self.elapsed:.0f}s)"
        failing = "\n".join(f"- {f['check']}: {f['reason']}" for f in self.failed)
        text = (f"Readiness gate timed out after {timeout}s: {len(self.failed)} of "
                f"{len(self.failed) + len(self.passed)} check(s) not satisfied:\n{failing}")
        diagnostic = format_diagnostics(self.diagnostics)
        return text + ("\nDiagnostic:\n" + diagnostic if diagnostic else "")


def run_gate(reader, params: dict, check_mode: bool = False, clock=time.monotonic, sleep=time.sleep) -> GateResult:
    """Poll until every check that is not skipped passes, or until ``wait_timeout`` seconds have passed.

    In check mode the checks are evaluated once: what is not satisfied yet (the run that would install it
    has not happened) is reported as skipped with that reason, not waited for.
    """
    checks = build_checks(params)
    reason = not_running_reason(params.get("component"), params.get("not_running"))
    requires = list(DEFAULT_REQUIRES_CONTROLLER if params.get("requires_controller") is None
                    else params["requires_controller"])
    if not params.get("not_running_pods_ready", True):
        # Real nodes: the pods of a component that cannot run never become Ready.
        requires += [c for c in POD_CATEGORIES if c not in requires]
    to_run, skipped = split_checks(checks, reason, requires)
    timeout, interval = params.get("wait_timeout", 300), max(params.get("wait_sleep", 3), 0)
    evaluator = Evaluator(reader)
    result = GateResult(skipped=skipped, check_mode=check_mode, not_running_reason=reason)
    start = clock()
    while True:
        result.rounds += 1
        passed, failed = [], []
        for check in to_run:
            try:
                ok, detail = evaluator.evaluate(check)
            except K8sError as exc:
                if exc.status in FATAL_STATUSES:
                    raise ReadinessError(f"{check.name}: {exc.msg}") from exc
                ok, detail = False, exc.msg
            (passed if ok else failed).append({"check": check.name, "reason": detail})
        result.passed = [p["check"] for p in passed]
        result.elapsed = clock() - start
        if not failed:
            result.failed = []
            return result
        if check_mode:
            result.failed = []
            result.skipped = skipped + [
                {"check": f["check"], "reason": f"check mode: not satisfied yet ({f['reason']}); a real run "
                                                f"waits up to {timeout}s for it"} for f in failed]
            return result
        if result.elapsed >= timeout:
            result.failed = failed
            result.diagnostics = collect_diagnostics(reader, [c for c in to_run if c.name in
                                                              {f["check"] for f in failed}])
            return result
        sleep(min(interval, max(timeout - result.elapsed, 0)) or 0)


def run(module) -> dict:
    """aphex.platform.readiness_gate's whole job; ``module`` is an AphexK8sModule.

    Raises ReadinessError (with the result: failed checks and diagnostics) when the gate times out.
    """
    params = module.params
    gate = run_gate(module.reader(), params, check_mode=module.check_mode)
    result = {"changed": False, "passed": gate.passed, "skipped_checks": gate.skipped,
              "not_running_reason": gate.not_running_reason, "elapsed": round(gate.elapsed, 1),
              "msg": gate.message(params["wait_timeout"])}
    if gate.skipped:
        module.warn("readiness gate skipped " + "; ".join(f"[{s['check']}]: {s['reason']}" for s in gate.skipped))
    if not gate.ok:
        result.update(failed_checks=gate.failed, diagnostics=gate.diagnostics)
        raise ReadinessError(result.pop("msg"), result=result)
    return result
