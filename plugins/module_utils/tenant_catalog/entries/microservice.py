# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generic template: an HTTP API (the team's own image, options.image) behind <module>.<tenant domain>."""

ENTRY = {
    "name": "microservice",
    "version": "1.0.0",
    "description": "Generic HTTP API service (template)",
    "category": "application",
    "dependencies": [],
    "auth": {
        "roles": ["admin", "user"],
        "default_roles": ["user"],
        "config": {"OIDC_ISSUER_URL": "${oidc_issuer}", "OIDC_CLIENT_ID": "${oidc_client_id}"},
        "secret_env": {"OIDC_CLIENT_SECRET": "oidc-client-secret"},
    },
    "gpu": None,
    "expose": {"workload": "", "port": "http"},
    "internet_egress": False,
    "config": {"PORT": "8080"},
    "secret_keys": [],
    "workloads": [
        {
            "name": "",
            "kind": "Deployment",
            "image": None,
            "ports": [{"name": "http", "port": 8080}],
            "probe": {"type": "http", "path": "/healthz", "port": "http"},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "user": 65532,
            "writable": ["/tmp"],
            "replicas": {"dev": 1, "staging": 2, "production": 3},
        },
    ],
}
