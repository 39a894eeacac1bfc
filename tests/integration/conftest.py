# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One real local control plane for the whole test run.

Set APHEX_TEST_KUBECONFIG to run against a cluster that is already up (e.g. `make cluster-up`);
otherwise the session starts its own cluster in a temporary directory and stops it at the end.
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
        yield {"kubeconfig": existing, "server": None, "state_dir": None, "cluster": None}
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
