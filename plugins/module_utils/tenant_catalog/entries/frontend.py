# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generic template: a web front end served by unprivileged nginx (or the team's image, options.image)."""

ENTRY = {
    "name": "frontend",
    "version": "1.0.0",
    "description": "Generic web front end (template)",
    "category": "application",
    "dependencies": [],
    "auth": {
        "roles": ["user"],
        "default_roles": ["user"],
        "config": {"OIDC_ISSUER_URL": "${oidc_issuer}", "OIDC_CLIENT_ID": "${oidc_client_id}"},
        "secret_env": {},
    },
    "gpu": None,
    "expose": {"workload": "", "port": "http"},
    "internet_egress": False,
    "config": {"PUBLIC_URL": "https://${host}"},
    "secret_keys": [],
    "workloads": [
        {
            "name": "",
            "kind": "Deployment",
            "image": "docker.io/nginxinc/nginx-unprivileged:1.29-bookworm",
            "ports": [{"name": "http", "port": 8080}],
            "probe": {"type": "http", "path": "/", "port": "http"},
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}},
            "user": 101,
            "writable": ["/tmp", "/var/cache/nginx"],
            "replicas": {"dev": 1, "staging": 2, "production": 3},
        },
    ],
}
