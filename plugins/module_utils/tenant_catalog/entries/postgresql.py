# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL (relational database), one replica with its data on a volume claim."""

ENTRY = {
    "name": "postgresql",
    "version": "17.6",
    "description": "Relational database",
    "category": "data",
    "dependencies": [],
    "auth": None,
    "gpu": None,
    "expose": None,
    "internet_egress": False,
    "config": {"POSTGRES_USER": "${tenant}", "POSTGRES_DB": "${tenant}", "PGDATA": "/var/lib/postgresql/data/pgdata"},
    "secret_keys": ["password"],
    "workloads": [
        {
            "name": "",
            "kind": "StatefulSet",
            "image": "docker.io/library/postgres:17.6-bookworm",
            "ports": [{"name": "postgres", "port": 5432}],
            "probe": {"type": "exec", "command": ["pg_isready", "-h", "127.0.0.1", "-p", "5432"],
                      "startup_seconds": 60},
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "user": 999,
            "writable": ["/tmp", "/var/run/postgresql"],
            "storage": {"path": "/var/lib/postgresql/data", "size": "10Gi"},
            "secret_env": {"POSTGRES_PASSWORD": "password"},
            "replicas": {"dev": 1, "staging": 1, "production": 1},
        },
    ],
}
