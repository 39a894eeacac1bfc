# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs every integration target against the session's local cluster, one pytest test per target.

Targets follow ansible-test's layout (tests/integration/targets/<name>/{aliases,tasks/main.yml});
running them here lets them share the one control plane the test run starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# setup_* targets are shared set-up that other targets depend on (ansible-test's convention), not tests.
TARGETS = sorted(p.name for p in (HERE / "targets").iterdir()
                 if (p / "tasks" / "main.yml").is_file() and not p.name.startswith("setup_"))


def _collections_path() -> str:
    # The Makefile exports one; under plain pytest, pytest-ansible's farm at <repo>/collections serves.
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(ROOT / "collections")


@pytest.mark.cluster
@pytest.mark.parametrize("target", TARGETS)
def test_integration_target(target, local_cluster, toolchain, tmp_path):
    env = dict(os.environ)
    env.update(
        K8S_AUTH_KUBECONFIG=local_cluster["kubeconfig"],
        ANSIBLE_COLLECTIONS_PATH=_collections_path(),
        ANSIBLE_ROLES_PATH=str(HERE / "targets"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        PATH=os.pathsep.join([os.path.dirname(toolchain.path("kubectl")), os.path.dirname(toolchain.path("helm")),
                              os.path.dirname(sys.executable), env.get("PATH", "")]),
    )
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "--diff",
         "-e", f"target={target}", "-e", f"ansible_python_interpreter={sys.executable}",
         str(HERE / "run-target.yml")],
        env=env, capture_output=True, text=True, cwd=str(ROOT), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"target {target} failed:\n{output[-12000:]}"
    assert "failed=0" in output
