# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/reset.yml for the local provider, for real, in one sequence on a cluster of its own:

1. bootstrap.yml (--tags cluster, inventories/local) starts a local cluster in a fresh state directory;
2. the refusals delete nothing: no answer (stdin not a terminal), a wrong -e confirm, an unknown provider;
3. the name typed at the prompt (a pseudo-terminal) resets it: the API server stops answering, the state directory
   is gone, no process of the cluster is left;
4. the bootstrap again, then reset with -e confirm=local; a second reset reports changed=0.

And provider existing on the session cluster, with stand-in objects of the layers (see its docstring).
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
import yaml
from kubernetes import client as k8s
from kubernetes import config as kube_config
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import LocalCluster, _pid_alive
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


CRDS = [
    {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
     "metadata": {"name": "applications.argoproj.io"},
     "spec": {"group": "argoproj.io", "scope": "Namespaced",
              "names": {"kind": "Application", "plural": "applications", "singular": "application"},
              "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                  "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}},
    {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
     "metadata": {"name": "clusterissuers.cert-manager.io"},
     "spec": {"group": "cert-manager.io", "scope": "Cluster",
              "names": {"kind": "ClusterIssuer", "plural": "clusterissuers", "singular": "clusterissuer"},
              "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                  "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}},
]


@pytest.fixture(name="own_cluster", scope="module")
def fixture_own_cluster(tmp_path_factory, toolchain):
    """A private control plane: the reset deletes platform namespaces and stands in for CRDs, which the shared
    cluster of `make test` holds for real (its other tests and molecule scenarios use them)."""
    cluster = LocalCluster(str(tmp_path_factory.mktemp("reset-existing")), toolchain, nodes=1)
    cluster.start()
    try:
        yield {"kubeconfig": cluster.kubeconfig}
    finally:
        cluster.destroy()


def test_reset_existing_provider_deletes_only_the_platform_objects(own_cluster, toolchain):
    """Provider existing against a real API server: the layers' namespaces, Applications (finalizer dropped, no
    cascade) and ClusterIssuers go; a namespace and a ClusterIssuer that are not the platform's stay, and so do the
    CRDs. Stand-in objects only (no controller runs here); the second run changes nothing."""
    local_cluster = own_cluster
    api_client = kube_config.new_client_from_config(config_file=own_cluster["kubeconfig"])
    dynamic = DynamicClient(api_client)
    core = k8s.CoreV1Api(api_client)
    crd_api = dynamic.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    for crd in CRDS:
        crd_api.server_side_apply(body=crd, field_manager="aphex-reset-test")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            dynamic.resources.invalidate_cache()
            applications = dynamic.resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
            issuers = dynamic.resources.get(api_version="cert-manager.io/v1", kind="ClusterIssuer")
            break
        except ResourceNotFoundError:  # not served yet
            time.sleep(1)
    for name in ("argocd", "cert-manager", "keep-me-not-platform"):
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    applications.create(namespace="argocd", body={
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "platform-cert-manager", "namespace": "argocd",
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"]}, "spec": {}})
    for name in ("platform-ca", "not-the-platforms"):
        issuers.create(body={"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": name},
                             "spec": {"selfSigned": {}}})
    try:
        context = yaml.safe_load(Path(local_cluster["kubeconfig"]).read_text())["current-context"]
        path = os.pathsep.join([os.path.dirname(toolchain.path("helm")), os.environ.get("PATH", "")])
        extra = {"aphex_cluster_provider": "existing", "aphex_kubeconfig": local_cluster["kubeconfig"]}
        wrong = run_playbook(RESET, extra_vars=dict(extra, confirm="local"), diff=False, env={"PATH": path})
        assert f"confirm: 'local' is not the cluster name '{context}'" in wrong.summary()
        assert wrong.changed_tasks() == []

        first = run_playbook(RESET, extra_vars=dict(extra, confirm=context), diff=False, env={"PATH": path})
        assert first.ok and first.changed() > 0, first.summary()
        names = [ns.metadata.name for ns in core.list_namespace().items]
        assert "argocd" not in names and "cert-manager" not in names and "keep-me-not-platform" in names
        assert [i.metadata.name for i in issuers.get().items] == ["not-the-platforms"]
        assert {crd["metadata"]["name"] for crd in CRDS} <= {c.metadata.name for c in crd_api.get().items}

        second = run_playbook(RESET, extra_vars=dict(extra, confirm=context), diff=False, env={"PATH": path})
        assert second.ok and second.changed() == 0, second.summary()
    finally:
        for name in ("keep-me-not-platform", "argocd", "cert-manager"):
            try:
                core.delete_namespace(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        for crd in CRDS:
            try:
                crd_api.delete(name=crd["metadata"]["name"])
            except NotFoundError:
                pass
