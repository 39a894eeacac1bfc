# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redis (cache and queue), one replica; the password comes from the module's credentials Secret."""

ENTRY = {
    "name": "redis",
    "version": "7.4.5",
    "description": "In-memory cache and queue",
    "category": "data",
    "dependencies": [],
    "auth": None,
    "gpu": None,
    "expose": None,
    "internet_egress": False,
    "config": {},
    "secret_keys": ["password"],
    "workloads": [
        {
            "name": "",
            "kind": "StatefulSet",
            "image": "docker.io/library/redis:7.4.5-bookworm",
            # The password is read from the environment at start, never written into a file or an argument.
            "command": ["sh", "-c", "exec redis-server --dir /data --requirepass \"$REDIS_PASSWORD\""],
            "ports": [{"name": "redis", "port": 6379}],
            "probe": {"type": "tcp", "port": "redis"},
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "user": 999,
            "writable": ["/tmp"],
            "storage": {"path": "/data", "size": "2Gi"},
            "secret_env": {"REDIS_PASSWORD": "password"},
            "replicas": {"dev": 1, "staging": 1, "production": 1},
        },
    ],
}
