# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/bootstrap.yml against a fresh cluster of its own: check mode creates nothing, and a run
killed in the middle is completed by the next run, after which a further run changes nothing.
(Converge, idempotence and the platform's readiness are the molecule scenario `bootstrap`.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes
import pytest
from kubernetes import client as k8s

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def fresh_cluster(tmp_path_factory, toolchain):
    from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import LocalCluster

    cluster = LocalCluster(str(tmp_path_factory.mktemp("bootstrap-cluster")), toolchain, nodes=2)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def _command(kubeconfig: str, *extra: str) -> list:
    return [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"),
            str(ROOT / "playbooks" / "bootstrap.yml"), "-e", "aphex_cluster_provider=existing",
            "-e", f"aphex_kubeconfig={kubeconfig}", "-e", "aphex_simulated_workloads=true",
            "-e", f"ansible_python_interpreter={sys.executable}", *extra]


def _env(toolchain) -> dict:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / "collections"))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PATH"] = os.pathsep.join([os.path.dirname(toolchain.path("helm")), os.path.dirname(toolchain.path("kubectl")),
                                   os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def _run(kubeconfig: str, toolchain, *extra: str) -> str:
    proc = subprocess.run(_command(kubeconfig, *extra), env=_env(toolchain), cwd=str(ROOT), capture_output=True,
                          text=True, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-15000:]
    return output


def _recap(output: str) -> dict:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, output[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def _snapshot(kubeconfig: str) -> dict:
    """Names of everything a bootstrap run would create, cluster-wide."""
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    core, rbac = k8s.CoreV1Api(api), k8s.RbacAuthorizationV1Api(api)
    ext, adm = k8s.ApiextensionsV1Api(api), k8s.AdmissionregistrationV1Api(api)
    apps = k8s.AppsV1Api(api)

    def names(items):
        return sorted(f"{i.metadata.namespace or ''}/{i.metadata.name}" for i in items)

    return {
        "namespaces": names(core.list_namespace().items),
        "crds": names(ext.list_custom_resource_definition().items),
        "clusterroles": names(rbac.list_cluster_role().items),
        "clusterrolebindings": names(rbac.list_cluster_role_binding().items),
        "webhooks": names(adm.list_validating_webhook_configuration().items)
        + names(adm.list_mutating_webhook_configuration().items),
        "secrets": names(core.list_secret_for_all_namespaces().items),
        "configmaps": [n for n in names(core.list_config_map_for_all_namespaces().items)
                       if not n.endswith("/kube-root-ca.crt")],
        "deployments": names(apps.list_deployment_for_all_namespaces().items),
    }


def test_check_mode_on_a_fresh_cluster_creates_nothing(fresh_cluster, toolchain):
    before = _snapshot(fresh_cluster.kubeconfig)
    output = _run(fresh_cluster.kubeconfig, toolchain, "--check", "--diff")
    assert _recap(output)["failed"] == 0
    assert _recap(output)["changed"] > 0  # it predicts the installation ...
    assert _snapshot(fresh_cluster.kubeconfig) == before  # ... and creates nothing


def test_an_interrupted_run_is_completed_by_the_next(fresh_cluster, toolchain):
    # Kill the run as soon as the third layer starts: two layers are in, the rest is not.
    proc = subprocess.Popen(_command(fresh_cluster.kubeconfig), env=_env(toolchain), cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    deadline = time.monotonic() + 900
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("TASK [aphex.platform.ingress"):
                break
            assert time.monotonic() < deadline, "the run never reached the ingress layer"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any(line.startswith("TASK [aphex.platform.ingress") for line in seen), "".join(seen)[-5000:]
    assert "PLAY RECAP" not in "".join(seen)

    completed = _run(fresh_cluster.kubeconfig, toolchain)
    assert _recap(completed)["failed"] == 0
    again = _run(fresh_cluster.kubeconfig, toolchain)
    assert _recap(again)["changed"] == 0, again[-15000:]
