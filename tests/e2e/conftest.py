# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platform on a real kind cluster, bootstrapped once per pytest session: fixture ``e2e_platform``.

Needs the kind test session (hack/kind/session: private dockerd, offline node image, local registry holding the
images of hack/images), i.e. its environment (DOCKER_HOST, APHEX_KIND_*): `make test-kind` provides it, or
`. <session dir>/env.sh` by hand. Without it every e2e test fails with that message (never a silent skip).

    e2e_platform.kubeconfig        path of the cluster's kubeconfig
    e2e_platform.api               kubernetes.client.ApiClient on it
    e2e_platform.inventory         tests/e2e/inventory (the platform's inventory for this cluster)
    e2e_platform.registry          host:port of the session registry (push images there)
    e2e_platform.run_playbook(name, *args) -> (rc, stdout)   playbooks/<name> on this inventory, default output
    e2e_platform.playbook(name, **kwargs) -> PlaybookRun     the same, structured (tests/support/playbook.py)

APHEX_E2E_KUBECONFIG=<path> reuses a cluster that is already bootstrapped (the shared development cluster):
nothing is bootstrapped and nothing torn down. Otherwise the cluster ``aphex-e2e`` (APHEX_E2E_CLUSTER_NAME) is
created by bootstrap.yml itself (provider kind, tests/e2e/inventory) and deleted at the end of the session.

The first bootstrap's Argo CD sync gate waits for no Application (argocd_verify_applications=[]): the GitOps
repository Argo CD syncs from is the in-cluster git server, filled from the playbook's export only after that run, as
a user commits the export after the first run. test_handoff.py pushes the export and runs bootstrap.yml again with every gate.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "tests" / "e2e" / "inventory"
SESSION_ENV = ("DOCKER_HOST", "APHEX_KIND_SESSION_DIR", "APHEX_KIND_NODE_IMAGE", "APHEX_KIND_REGISTRY_ENDPOINT",
               "APHEX_KIND_REGISTRY_HOST_PORT")
# Until the export is in the GitOps repository, Argo CD has nothing to sync (see the module docstring): the first run's
# hand-off gate waits for no Application. (Not --skip-tags argocd_verify: the role's render step carries that tag too.)
FIRST_RUN_VARS = '{"argocd_verify_applications": []}'


def _support():
    # Imported like tests/integration does: the collection is on the collections path as aphex.platform.
    from ansible_collections.aphex.platform.tests.support import playbook  # pylint: disable=import-outside-toplevel
    return playbook


@dataclasses.dataclass
class E2EPlatform:
    kubeconfig: str
    inventory: str
    registry: str
    cluster_name: str
    reused: bool
    timings: dict = dataclasses.field(default_factory=dict)
    _api: object = None

    @property
    def api(self):
        if self._api is None:
            from kubernetes import config  # pylint: disable=import-outside-toplevel
            self._api = config.new_client_from_config(config_file=self.kubeconfig)
        return self._api

    def env(self) -> dict:
        env = dict(os.environ)
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
        env.setdefault("ANSIBLE_FORCE_COLOR", "false")
        env["K8S_AUTH_KUBECONFIG"] = self.kubeconfig
        env["APHEX_E2E_CLUSTER_NAME"] = self.cluster_name
        bindir = os.path.dirname(sys.executable)
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
        return env

    def run_playbook(self, name: str, *args: str) -> tuple:
        """ansible-playbook -i tests/e2e/inventory playbooks/<name> ARGS; (rc, stdout + stderr), also printed."""
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory,
                   str(ROOT / "playbooks" / name), *args]
        start = time.monotonic()
        proc = subprocess.run(command, cwd=str(ROOT), env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False)
        print(f"\n$ {' '.join(command)}\n(rc {proc.returncode} in {time.monotonic() - start:.0f}s)\n"
              f"{proc.stdout[-4000:]}", flush=True)
        return proc.returncode, proc.stdout

    def playbook(self, name: str, **kwargs):
        """The same run with the jsonl callback: a PlaybookRun (stats, task results) of tests/support/playbook.py."""
        env = dict(self.env(), **(kwargs.pop("env", None) or {}))
        return _support().run_playbook(str(ROOT / "playbooks" / name), inventory=self.inventory, env=env, **kwargs)

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kubectl = os.environ.get("APHEX_KIND_KUBECTL") or "kubectl"
        proc = subprocess.run([kubectl, "--kubeconfig", self.kubeconfig, *args], capture_output=True, text=True,
                              check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc


# What cert-manager (which does not run here) would have written and a running component mounts: the Secret of the
# Authentik host certificate, whose ca.crt (the platform CA) Dex trusts for its upstream. Stand-in data, made here.
CERT_MANAGER_STAND_INS = (("auth-system", "authentik-tls", "auth.platform.127.0.0.1.nip.io"),)


def _self_signed(host: str) -> dict:
    """A CA-signed serving certificate for ``host`` (tls.crt, tls.key, ca.crt, as cert-manager's CA issuer writes)."""
    import base64  # pylint: disable=import-outside-toplevel
    import datetime  # pylint: disable=import-outside-toplevel
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aphex e2e stand-in platform CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {name: base64.b64encode(value).decode() for name, value in
            (("tls.crt", cert.public_bytes(pem)), ("tls.key", key_pem), ("ca.crt", ca.public_bytes(pem)))}


def stand_in_for_cert_manager(api) -> None:
    """Create the Secrets cert-manager would write (only when missing: a second call changes nothing)."""
    from kubernetes.client import CoreV1Api  # pylint: disable=import-outside-toplevel
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel
    core = CoreV1Api(api)
    for namespace, name, host in CERT_MANAGER_STAND_INS:
        try:
            core.read_namespace(namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            core.create_namespace({"metadata": {"name": namespace}})
        try:
            core.read_namespaced_secret(name, namespace)
            continue
        except ApiException as exc:
            if exc.status != 404:
                raise
        core.create_namespaced_secret(namespace, {
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "aphex-platform-e2e"},
                         "annotations": {"aphex.platform/e2e-stand-in": "cert-manager does not run on this cluster"}},
            "type": "kubernetes.io/tls", "data": _self_signed(host)})
        print(f"e2e: stand-in Secret {namespace}/{name} (cert-manager does not run here)", flush=True)


def _session_missing() -> list:
    return [name for name in SESSION_ENV if not os.environ.get(name)]


@pytest.fixture(scope="session")
def e2e_platform():
    missing = _session_missing()
    if missing:
        pytest.fail(f"the e2e tests need the kind test session's environment ({', '.join(missing)} not set): run "
                    "`make test-kind`, or `. <dir>/env.sh` after `hack/kind/session start --dir <dir>`",
                    pytrace=False)
    name = os.environ.get("APHEX_E2E_CLUSTER_NAME") or "aphex-e2e"
    registry = f"127.0.0.1:{os.environ['APHEX_KIND_REGISTRY_HOST_PORT']}"
    reused = os.environ.get("APHEX_E2E_KUBECONFIG", "")
    if reused:
        if not os.path.isfile(reused):
            pytest.fail(f"APHEX_E2E_KUBECONFIG={reused} does not exist", pytrace=False)
        platform = E2EPlatform(kubeconfig=reused, inventory=str(INVENTORY), registry=registry, cluster_name=name,
                               reused=True)
        print(f"\ne2e: reusing the bootstrapped cluster of {reused} (no bootstrap, no teardown)", flush=True)
        yield platform
        return
    kubeconfig = os.path.join(os.environ["APHEX_KIND_SESSION_DIR"], "clusters", name, "kubeconfig")
    platform = E2EPlatform(kubeconfig=kubeconfig, inventory=str(INVENTORY), registry=registry, cluster_name=name,
                           reused=False)
    try:
        start = time.monotonic()
        rc, out = platform.run_playbook("bootstrap.yml", "--tags", "cluster")
        if rc != 0:
            pytest.fail(f"bootstrap.yml --tags cluster could not create the kind cluster (rc {rc}):\n{out[-6000:]}",
                        pytrace=False)
        stand_in_for_cert_manager(platform.api)
        rc, out = platform.run_playbook("bootstrap.yml", "-e", FIRST_RUN_VARS)
        platform.timings["bootstrap"] = time.monotonic() - start
        print(f"e2e: bootstrap.yml on kind cluster {name}: rc {rc} in {platform.timings['bootstrap']:.0f}s", flush=True)
        if rc != 0:
            pytest.fail(f"bootstrap.yml failed on the kind cluster (rc {rc}):\n{out[-6000:]}", pytrace=False)
        yield platform
    finally:
        kind = os.environ.get("APHEX_KIND_BINARY") or "kind"
        proc = subprocess.run([kind, "delete", "cluster", "--name", name, "--kubeconfig", kubeconfig],
                              capture_output=True, text=True, check=False)
        print(f"e2e: kind delete cluster {name}: rc {proc.returncode} {proc.stderr.strip()[-300:]}", flush=True)
