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

import kubernetes
import pytest

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
