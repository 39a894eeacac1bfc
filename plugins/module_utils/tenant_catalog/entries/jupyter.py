# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jupyter (notebook server); GPUs only on request (options.gpu) for a tenant that allows them."""

ENTRY = {
    "name": "jupyter",
    "version": "2025-09-15",
    "description": "Notebook environment",
    "category": "ai-ml",
    "dependencies": [],
    "auth": {
        "roles": ["admin", "user"],
        "default_roles": ["user"],
        "config": {"OIDC_ISSUER": "${oidc_issuer}", "OIDC_CLIENT_ID": "${oidc_client_id}"},
        "secret_env": {"OIDC_CLIENT_SECRET": "oidc-client-secret"},
    },
    "gpu": {"count": 0, "required": False},
    "expose": {"workload": "", "port": "http"},
    # Notebooks install packages from PyPI and friends.
    "internet_egress": True,
    "config": {"JUPYTER_PORT": "8888", "HOME": "/home/jovyan", "JUPYTER_RUNTIME_DIR": "/tmp/runtime"},
    "secret_keys": ["token"],
    "workloads": [
        {
            "name": "",
            "kind": "StatefulSet",
            "image": "quay.io/jupyter/minimal-notebook:2025-09-15",
            # jupyter-server reads its token from JUPYTER_TOKEN.
            "args": ["start-notebook.py", "--ServerApp.base_url=/"],
            "ports": [{"name": "http", "port": 8888}],
            "probe": {"type": "http", "path": "/api", "port": "http", "startup_seconds": 60},
            "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
            "user": 1000,
            "writable": ["/tmp"],
            "storage": {"path": "/home/jovyan", "size": "10Gi"},
            "secret_env": {"JUPYTER_TOKEN": "token"},
            "gpu": True,
            "replicas": {"dev": 1, "staging": 1, "production": 1},
        },
    ],
}
