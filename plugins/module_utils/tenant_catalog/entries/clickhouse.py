# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ClickHouse (analytics database), one replica with its data on a volume claim."""

ENTRY = {
    "name": "clickhouse",
    "version": "25.8.2",
    "description": "Column-oriented analytics database",
    "category": "data",
    "dependencies": [],
    "auth": None,
    "gpu": None,
    "expose": None,
    "internet_egress": False,
    "config": {"CLICKHOUSE_USER": "${tenant}", "CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT": "1"},
    "secret_keys": ["password"],
    "workloads": [
        {
            "name": "",
            "kind": "StatefulSet",
            "image": "docker.io/clickhouse/clickhouse-server:25.8.2",
            "ports": [{"name": "http", "port": 8123}, {"name": "native", "port": 9000}],
            "probe": {"type": "http", "path": "/ping", "port": "http", "startup_seconds": 120},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
            "user": 101,
            # the entrypoint writes the CLICKHOUSE_USER account into users.d
            "writable": ["/tmp", "/var/log/clickhouse-server", "/etc/clickhouse-server/users.d"],
            "storage": {"path": "/var/lib/clickhouse", "size": "20Gi"},
            "secret_env": {"CLICKHOUSE_PASSWORD": "password"},
            "replicas": {"dev": 1, "staging": 1, "production": 1},
        },
    ],
}
