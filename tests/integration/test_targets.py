# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs every integration target against the session's local cluster, one pytest test per target.

Targets follow ansible-test's layout (tests/integration/targets/<name>/{aliases,tasks/main.yml}); each is one
ansible-playbook run (run-target.yml) whose tasks call the modules directly, register their results and
assert on them and on the cluster's state. Two levels only: pytest -> ansible-playbook -> module.
The run's own result is read from the jsonl callback (tests/support/playbook.py), never from its wording.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ansible_collections.aphex.platform.tests.support.playbook import run_playbook

HERE = Path(__file__).resolve().parent
# setup_* targets are shared set-up that other targets depend on (ansible-test's convention), not tests.
TARGETS = sorted(p.name for p in (HERE / "targets").iterdir()
                 if (p / "tasks" / "main.yml").is_file() and not p.name.startswith("setup_"))
# Targets that install pinned upstream artifacts (aphex.platform.upstream_artifact) need the offline mirror.
NEEDS_MIRROR = {name for name in TARGETS
                if "upstream_artifact" in "".join(f.read_text() for f in (HERE / "targets" / name).rglob("*.yml"))}


@pytest.mark.cluster
@pytest.mark.parametrize("target", TARGETS)
def test_integration_target(target, local_cluster, toolchain, tmp_path, request):
    if target in NEEDS_MIRROR:
        request.getfixturevalue("upstream_mirror")
    path = os.pathsep.join([os.path.dirname(toolchain.path("kubectl")), os.path.dirname(toolchain.path("helm")),
                            os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    run = run_playbook(HERE / "run-target.yml", extra_vars={"target": target}, env={
        "K8S_AUTH_KUBECONFIG": local_cluster["kubeconfig"],
        "ANSIBLE_ROLES_PATH": str(HERE / "targets"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "PATH": path,
    })
    assert run.ok, run.summary()
    assert run.results, run.summary()  # the target really ran tasks
