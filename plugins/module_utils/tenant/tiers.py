# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tenant tiers: the tier decides the quota, the container limits, how many modules, replicas and GPUs.

``quota`` is the ResourceQuota of the tenant's namespace and the budget the enabled modules' requests must fit in
(checked at validation, summed over modules from the catalog). ``limit_range`` is the LimitRange's container
entry. ``gpu`` says whether the tenant may enable GPUs at all.
"""

from __future__ import annotations

TIERS = {
    "starter": {
        "quota": {
            "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "16", "limits.memory": "32Gi",
            "pods": "40", "services": "20", "persistentvolumeclaims": "10", "requests.storage": "100Gi",
            "requests.nvidia.com/gpu": "0",
        },
        "limit_range": {
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "2", "memory": "4Gi"},
        },
        "max_modules": 5,
        "max_replicas": 2,
        "gpu": False,
    },
    "standard": {
        "quota": {
            "requests.cpu": "16", "requests.memory": "32Gi", "limits.cpu": "64", "limits.memory": "128Gi",
            "pods": "150", "services": "60", "persistentvolumeclaims": "40", "requests.storage": "1Ti",
            "requests.nvidia.com/gpu": "0",
        },
        "limit_range": {
            "default": {"cpu": "1", "memory": "1Gi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "4", "memory": "16Gi"},
        },
        "max_modules": 12,
        "max_replicas": 5,
        "gpu": False,
    },
    "enterprise": {
        "quota": {
            "requests.cpu": "64", "requests.memory": "256Gi", "limits.cpu": "256", "limits.memory": "1Ti",
            "pods": "500", "services": "200", "persistentvolumeclaims": "200", "requests.storage": "10Ti",
            "requests.nvidia.com/gpu": "8",
        },
        "limit_range": {
            "default": {"cpu": "1", "memory": "2Gi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "16", "memory": "64Gi"},
        },
        "max_modules": 50,
        "max_replicas": 20,
        "gpu": True,
    },
}
TIER_NAMES = tuple(TIERS)
