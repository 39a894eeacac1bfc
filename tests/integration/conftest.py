# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One real local control plane for the whole test run.

`make test` starts one shared cluster for the integration tests and the molecule scenarios and exports
APHEX_TEST_KUBECONFIG (and APHEX_TEST_CLUSTER_DIR, its state directory); the session uses it. Without it
(plain `pytest tests/integration`) the session starts its own cluster in a temporary directory and stops it
at the end. Only tests about the cluster's own life cycle start another one.

Order: the tests run in the order of ORDER below, so the bootstrap sequence (which needs a cluster on which
the platform was never installed) runs first and the tests that need the installed platform run after it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import kubernetes
import pytest

ROOT = Path(__file__).resolve().parents[2]

# The collection is imported inside the fixtures: this conftest loads before pytest-ansible puts
# ansible_collections.aphex.platform on the import path.


def _log(message: str) -> None:
    print(message, file=sys.stderr)


# Test files in the order they must run (files not listed run last, in pytest's order).
ORDER = ["test_bootstrap.py", "test_layers.py", "test_targets.py", "test_local_cluster.py"]


def pytest_collection_modifyitems(session, config, items):  # pylint: disable=unused-argument
    def rank(item):
        name = item.path.name
        return ORDER.index(name) if name in ORDER else len(ORDER)

    items.sort(key=rank)  # stable: keeps the order of the tests within a file


@pytest.fixture(scope="session")
def upstream_mirror():
    """The offline upstream mirror (APHEX_UPSTREAM_MIRROR); tests that install upstream manifests need it."""
    mirror = os.environ.get("APHEX_UPSTREAM_MIRROR", "")
    if not mirror or not os.path.isdir(mirror):
        pytest.skip("needs the offline upstream mirror of manifests and charts: set APHEX_UPSTREAM_MIRROR "
                    "(CI always sets it; .ci/run fails on any skip)")
    return mirror


@pytest.fixture(scope="session")
def toolchain():
    from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.toolchain import ensure_toolchain

    return ensure_toolchain(log=_log)


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory, toolchain):
    """Yields a dict with `kubeconfig`, `server`, `state_dir` and `cluster` (the LocalCluster)."""
    from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import LocalCluster

    existing = os.environ.get("APHEX_TEST_KUBECONFIG")
    if existing:
        state_dir = os.environ.get("APHEX_TEST_CLUSTER_DIR") or os.path.dirname(existing)
        cluster = LocalCluster(state_dir, toolchain, log=_log)
        running = os.path.isfile(os.path.join(state_dir, "cluster.json")) and cluster.is_running()
        yield {"kubeconfig": existing, "server": cluster.info()["server"] if running else None,
               "state_dir": state_dir if running else None, "cluster": cluster if running else None}
        return
    cluster = LocalCluster(str(tmp_path_factory.mktemp("local-cluster")), toolchain, nodes=2, log=_log)
    cluster.start()
    try:
        info = cluster.info()
        yield {"kubeconfig": cluster.kubeconfig, "server": info["server"], "state_dir": cluster.state_dir,
               "cluster": cluster}
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def api_client(local_cluster):
    return kubernetes.config.new_client_from_config(config_file=local_cluster["kubeconfig"])


@pytest.fixture(scope="session")
def bootstrap_state():
    """What the bootstrap sequence (test_bootstrap.py) leaves for the layer tests: runs, secrets, step flags."""
    return {"runs": []}


@pytest.fixture(scope="session")
def platform_env(local_cluster, toolchain):
    """Environment of playbook runs against the session cluster: its kubeconfig, the pinned helm and kubectl."""
    path = os.pathsep.join([os.path.dirname(toolchain.path("helm")), os.path.dirname(toolchain.path("kubectl")),
                            os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return {"PATH": path, "K8S_AUTH_KUBECONFIG": local_cluster["kubeconfig"]}


@pytest.fixture(scope="session")
def gitops_dir(tmp_path_factory):
    """Where the bootstrap runs export the GitOps files (APHEX_TEST_GITOPS_DIR: reuse an earlier session's)."""
    return os.environ.get("APHEX_TEST_GITOPS_DIR") or str(tmp_path_factory.mktemp("gitops"))


@pytest.fixture(scope="session")
def bootstrap_vars(local_cluster, gitops_dir):
    """Extra vars of every bootstrap run: `make bootstrap`'s inventory, pointed at the session cluster.

    Provider `local` with the session cluster's state directory (the local_cluster role finds it running), so the
    provider path is exercised; cert-manager's ACME issuer with a DNS-01 solver, a Cloudflare token and one
    certificate with its own issuer are switched on, so those options are proven on the same runs.
    """
    extra = {
        "aphex_gitops_export_dir": gitops_dir,
        "cert_manager_acme_enabled": True,
        "cert_manager_acme_email": "it@aphex.test",
        "cert_manager_acme_server": "https://acme-staging-v02.api.letsencrypt.org/directory",
        "cert_manager_acme_dns_zones": ["it.aphex.test"],
        "cert_manager_cloudflare_api_token": CLOUDFLARE_TOKEN,
        "cert_manager_certificates": [
            {"name": "argocd-tls", "namespace": "argocd", "dns_names": ["argocd.{{ cert_manager_domain }}"]},
            {"name": "authentik-tls", "namespace": "auth-system", "dns_names": ["auth.{{ cert_manager_domain }}"]},
            {"name": "dex-tls", "namespace": "auth-system", "dns_names": ["dex.{{ cert_manager_domain }}"],
             "issuer": "letsencrypt"},
            {"name": "tekton-dashboard-tls", "namespace": "auth-system",
             "dns_names": ["tekton.{{ cert_manager_domain }}"]},
        ],
        # The Gateway API CRDs and the route options (HTTPS backend, extra annotations) ride on the same runs.
        "ingress_gateway_api_enabled": True,
        "ingress_routes": [
            {"name": "argocd", "namespace": "argocd", "host": "argocd.{{ ingress_domain }}", "service": "argocd-server",
             "port": 80, "tls_secret": "argocd-tls"},
            {"name": "authentik", "namespace": "auth-system", "host": "auth.{{ ingress_domain }}",
             "service": "authentik-server", "port": 80, "tls_secret": "authentik-tls"},
            {"name": "dex", "namespace": "auth-system", "host": "dex.{{ ingress_domain }}", "service": "dex",
             "port": 5556, "tls_secret": "dex-tls", "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}},
            {"name": "tekton-dashboard", "namespace": "auth-system", "host": "tekton.{{ ingress_domain }}",
             "service": "tekton-dashboard-oauth2-proxy", "port": 4180, "tls_secret": "tekton-dashboard-tls"},
            {"name": "it-https-backend", "namespace": "auth-system", "host": "it-https.{{ ingress_domain }}",
             "service": "it-https-backend", "port": 443, "backend_protocol": "HTTPS", "tls_secret": "dex-tls"},
        ],
    }
    if local_cluster["state_dir"]:
        extra.update(aphex_cluster_provider="local", aphex_local_cluster_path=local_cluster["state_dir"])
    else:  # a cluster this session did not start and cannot locate: reach it as an existing cluster
        extra.update(aphex_cluster_provider="existing", aphex_kubeconfig=local_cluster["kubeconfig"])
    return extra


# A value that must never appear in any output (cert-manager's DNS-01 solver token).
CLOUDFLARE_TOKEN = "it-cloudflare-token-must-never-be-printed-4f1c2a"


@pytest.fixture(scope="session")
def cloudflare_token():
    return CLOUDFLARE_TOKEN


@pytest.fixture(scope="session")
def bootstrap_playbook(bootstrap_vars, platform_env, upstream_mirror):  # pylint: disable=unused-argument
    """Runs playbooks/bootstrap.yml as `make bootstrap` does, on the session cluster; returns the PlaybookRun."""
    from ansible_collections.aphex.platform.tests.support.playbook import run_playbook

    def run(check=False, kill_when=None, tags=(), extra=None):
        return run_playbook(ROOT / "playbooks" / "bootstrap.yml", inventory=ROOT / "inventories" / "local",
                            extra_vars={**bootstrap_vars, **(extra or {})}, check=check, diff=True, tags=tags,
                            kill_when=kill_when, env=platform_env)

    return run
