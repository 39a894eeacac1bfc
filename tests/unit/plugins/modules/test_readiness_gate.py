"""main() of aphex.platform.readiness_gate against the in-memory API server of the adapter tests."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.modules import readiness_gate
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import DEFAULT_KINDS, FakeK8sClient

AVAILABLE = {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1, "availableReplicas": 1,
             "conditions": [{"type": "Available", "status": "True"}]}


@pytest.fixture(name="cluster")
def fixture_cluster():
    client = FakeK8sClient(kinds=DEFAULT_KINDS | {("cert-manager.io/v1", "ClusterIssuer")})
    client.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"replicas": 1}, "status": AVAILABLE})
    return client


def run(cluster, args, check_mode=False):
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock, return_value=cluster):
        return run_module(readiness_gate.main, args, check_mode=check_mode)


ISSUER = {"api_version": "cert-manager.io/v1", "kind": "ClusterIssuer", "name": "ca"}


def test_passes_and_reports_that_the_component_runs(cluster):
    result = run(cluster, {"deployments": ["ns/web"], "component": "web", "not_running": {"argocd": "x"}})
    assert not result.get("failed") and result["changed"] is False
    assert result["passed"] == ["deployment ns/web"] and result["not_running_reason"] == ""


def test_not_running_component_skips_controller_checks_and_says_why(cluster):
    result = run(cluster, {"deployments": ["ns/web"], "resources": [ISSUER], "component": "cert-manager",
                           "not_running": {"*": "kwok runs no containers"}})
    assert not result.get("failed") and result["passed"] == ["deployment ns/web"]
    assert result["not_running_reason"] == "cert-manager does not run on this cluster: kwok runs no containers"
    assert result["skipped_checks"] == [{"check": "ClusterIssuer ca Ready=True",
                                         "reason": result["not_running_reason"]}]


def test_timeout_fails_once_with_the_failed_checks_and_diagnostics(cluster):
    result = run(cluster, {"resources": [ISSUER], "wait_timeout": 0})
    assert result["failed"] and result["msg"].startswith("Readiness gate timed out after 0s")
    assert result["failed_checks"] == [{"check": "ClusterIssuer ca Ready=True", "reason": "ClusterIssuer not found"}]
    assert set(result["diagnostics"]) == {"events", "pods_not_ready", "endpoints", "webhook_configurations"}


def test_invalid_input_fails_before_waiting(cluster):
    result = run(cluster, {"deployments": ["noslash"]})
    assert result["failed"] and "deployments: every entry needs a namespace and a name" in result["msg"]
