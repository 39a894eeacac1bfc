# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generic template: a scheduled batch job or worker (options.image, options.schedule)."""

ENTRY = {
    "name": "job",
    "version": "1.0.0",
    "description": "Generic scheduled job / worker (template)",
    "category": "application",
    "dependencies": [],
    "auth": None,
    "gpu": None,
    "expose": None,
    "internet_egress": False,
    "config": {},
    "secret_keys": [],
    "workloads": [
        {
            "name": "",
            "kind": "CronJob",
            "image": None,
            "schedule": "0 3 * * *",
            "deadline_seconds": 3600,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "user": 65532,
            "writable": ["/tmp"],
        },
    ],
}
