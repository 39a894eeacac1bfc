# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Promotion's pure parts: the step rule, what is copied, the workload rules. The promotion itself (git commit,
kustomize builds, refusal) runs in tests/integration/test_module_packages.py."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import promote
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.promote import PromotionError


def test_one_environment_at_a_time():
    assert promote.next_environment("dev") == "staging"
    assert promote.next_environment("staging") == "production"
    promote.check_step("dev", "staging")
    with pytest.raises(PromotionError, match=r"^to: promotion goes one environment at a time \(dev -> staging -> "
                                             r"production\); from dev the next is staging, not 'production'$"):
        promote.check_step("dev", "production")
    with pytest.raises(PromotionError, match=r"^from: must be one of dev, staging \(got 'production'\)$"):
        promote.next_environment("production")


def test_images_move_everything_else_stays():
    source = {"images": [{"name": "app", "newTag": "1.2.0"}], "replicas": [{"name": "app", "count": 1}]}
    target = {"images": [{"name": "app", "newTag": "1.1.0"}], "replicas": [{"name": "app", "count": 3}],
              "resources": ["../../base"]}
    assert promote.promoted_kustomization(source, target) == {
        "images": [{"name": "app", "newTag": "1.2.0"}], "replicas": [{"name": "app", "count": 3}],
        "resources": ["../../base"]}
    assert target["images"][0]["newTag"] == "1.1.0"  # the input is not changed
    assert promote.promoted_kustomization({}, target).get("images") is None  # source uses the base's images


GOOD_CONTAINER = {"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}},
                  "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                  "livenessProbe": {"httpGet": {"path": "/"}}, "readinessProbe": {"httpGet": {"path": "/"}}}


def deployment(**container_changes):
    container = {**GOOD_CONTAINER, **container_changes}
    container = {k: v for k, v in container.items() if v is not None}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
            "spec": {"template": {"spec": {"securityContext": {"runAsNonRoot": True}, "containers": [container]}}}}


def test_a_good_workload_passes():
    assert promote.workload_errors([deployment(), {"apiVersion": "v1", "kind": "Service",
                                                   "metadata": {"name": "app"}}]) == []


def test_workload_rules_name_the_field():
    bad = deployment(resources={"requests": {"cpu": "1"}}, livenessProbe=None,
                     securityContext={"capabilities": {"drop": ["NET_RAW"]}})
    del bad["spec"]["template"]["spec"]["securityContext"]
    where = "Deployment app: spec.template.spec.containers[0]"
    assert promote.workload_errors([bad, {"kind": "ConfigMap"}]) == [
        f"{where}.resources.limits: missing",
        f"{where}.securityContext.allowPrivilegeEscalation: must be false",
        f"{where}.securityContext.capabilities.drop: must include ALL",
        f"{where}.securityContext.runAsNonRoot: must be true (here or for the pod)",
        f"{where}.livenessProbe: missing",
        "object 1: apiVersion, kind and metadata.name are required"]


def test_cronjob_needs_no_probes():
    job = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
           "spec": {"jobTemplate": {"spec": {"template": {"spec": {
               "securityContext": {"runAsNonRoot": True},
               "containers": [{k: v for k, v in GOOD_CONTAINER.items() if not k.endswith("Probe")}]}}}}}}
    assert promote.workload_errors([job]) == []
