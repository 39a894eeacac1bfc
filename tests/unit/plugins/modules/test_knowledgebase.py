"""main() of aphex.platform.knowledgebase against the in-memory API server of the adapter tests."""

from __future__ import annotations

import copy
from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.modules import knowledgebase
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import (
    DEFAULT_KINDS,
    FakeK8sClient,
    unprocessable,
)

NS = "org-acme"
SPEC = {
    "displayName": "Platform documentation",
    "repositories": [{"url": "https://github.com/acme-corp/platform", "branch": "main"}],
    "mcp": {"image": "ghcr.io/acme-corp/archon-mcp-server:1.4.2", "port": 8090},
}
KINDS = DEFAULT_KINDS | {("v1", "ConfigMap"), ("v1", "Service"), ("aphex.io/v1alpha1", "KnowledgeBase")}


@pytest.fixture
def cluster():
    client = FakeK8sClient(kinds=KINDS)
    client.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return client


@pytest.fixture
def run(cluster):
    def _run(check_mode=False, diff=False, **overrides):
        args = {"name": "docs", "namespace": NS, "spec": SPEC, "wait": False}
        args.update(overrides)
        args = {key: value for key, value in args.items() if value is not ...}  # ... leaves an option out
        cluster.dry_run = check_mode
        with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock, return_value=cluster):
            return run_module(knowledgebase.main, args, check_mode=check_mode, diff=diff)
    return _run


def actions(result, action=None):
    return [(o["kind"], o["name"]) for o in result["objects"] if action is None or o["action"] == action]


def stored(cluster, kind, name, api_version="v1"):
    return cluster.object(api_version, kind, name, NS)


def kb(cluster):
    return stored(cluster, "KnowledgeBase", "docs", "aphex.io/v1alpha1")


def test_check_mode_predicts_and_changes_nothing(run, cluster):
    result = run(check_mode=True, diff=True)
    assert result["changed"] is True
    assert actions(result, "create") == [("KnowledgeBase", "docs"), ("ConfigMap", "docs-repos"),
                                         ("Deployment", "mcp-server-docs"), ("Service", "mcp-server-docs"),
                                         ("KnowledgeBase/status", "docs")]
    assert result["status"]["phase"] == "Ready"
    assert cluster.mutating_calls() == [] and kb(cluster) is None


def test_apply_then_again_unchanged(run, cluster):
    first = run()
    assert first["changed"] is True
    assert first["config_map"] == "docs-repos"
    assert first["mcp_service_url"] == "http://mcp-server-docs.org-acme:8090"
    record = kb(cluster)
    assert record["status"]["phase"] == "Ready" and record["status"]["mcp"]["deployed"] is True
    assert record["status"]["observedGeneration"] == record["metadata"]["generation"]
    cm = stored(cluster, "ConfigMap", "docs-repos")
    assert cm["data"]["repo.0.branch"] == "main"
    assert cm["metadata"]["ownerReferences"][0]["uid"] == record["metadata"]["uid"]
    deployment = stored(cluster, "Deployment", "mcp-server-docs", "apps/v1")
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True

    second = run()
    assert second["changed"] is False, actions(second)
    assert {o["action"] for o in second["objects"]} == {"unchanged"}
    assert run(check_mode=True)["changed"] is False


def test_dropping_mcp_deletes_the_server(run, cluster):
    run()
    spec = {k: v for k, v in SPEC.items() if k != "mcp"}
    result = run(spec=spec)
    assert result["changed"] is True
    assert set(actions(result, "delete")) == {("Deployment", "mcp-server-docs"), ("Service", "mcp-server-docs")}
    assert stored(cluster, "Deployment", "mcp-server-docs", "apps/v1") is None
    assert kb(cluster)["status"]["mcp"] == {"deployed": False}
    assert result["mcp_service_url"] is None
    assert run(spec=spec)["changed"] is False


def test_spec_change_updates_only_what_changed(run):
    run()
    spec = copy.deepcopy(SPEC)
    spec["repositories"].append({"url": "https://github.com/acme-corp/runbooks", "branch": "main"})
    result = run(spec=spec)
    assert ("ConfigMap", "docs-repos") in actions(result, "update")
    assert ("Deployment", "mcp-server-docs") in actions(result, "unchanged")
    assert result["status"]["message"] == "Tracking 2 repositories"


def test_self_service_reads_the_record(run, cluster):
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "KnowledgeBase",
                 "metadata": {"name": "docs", "namespace": NS}, "spec": SPEC})
    result = run(spec=...)
    assert result["changed"] is True
    assert ("KnowledgeBase", "docs") not in actions(result)  # the module does not write the record itself
    assert kb(cluster)["status"]["phase"] == "Ready"
    assert run(spec=...)["changed"] is False


def test_self_service_without_a_record_fails(run, cluster):
    result = run(spec=...)
    assert result["failed"] is True and "does not exist" in result["msg"] and result["msg"].startswith("spec:")
    assert cluster.mutating_calls() == []


def test_a_bad_self_service_object_gets_failed_status_naming_the_field(run, cluster):
    bad = copy.deepcopy(SPEC)
    bad["repositories"][0]["url"] = "https://gitlab.com/acme-corp/platform"
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "KnowledgeBase",
                 "metadata": {"name": "docs", "namespace": NS}, "spec": bad})
    result = run(spec=...)
    assert result["failed"] is True
    assert "spec.repositories[0].url" in result["msg"]
    status = kb(cluster)["status"]
    assert status["phase"] == "Failed" and "spec.repositories[0].url" in status["message"]
    assert stored(cluster, "ConfigMap", "docs-repos") is None


def test_bad_arguments_fail_before_any_change(run, cluster):
    result = run(name="Docs")
    assert result["failed"] is True and "name: 'Docs'" in result["msg"]
    assert cluster.calls == []


def test_a_bad_new_spec_marks_the_existing_record_failed(run, cluster):
    run()
    bad = copy.deepcopy(SPEC)
    bad["mcp"]["port"] = 80
    result = run(spec=bad)
    assert result["failed"] is True and "spec.mcp.port" in result["msg"]
    assert kb(cluster)["spec"]["mcp"]["port"] == 8090  # not applied
    assert kb(cluster)["status"]["phase"] == "Failed"
    assert run()["changed"] is True and kb(cluster)["status"]["phase"] == "Ready"


def test_api_failure_is_reported_and_recorded(run, cluster):
    cluster.fail_on[("apply", "Deployment", "mcp-server-docs")] = unprocessable("spec.replicas: Invalid value")
    result = run()
    assert result["failed"] is True and "Invalid value" in result["msg"]
    assert ("ConfigMap", "docs-repos") in [(o["kind"], o["name"]) for o in result["objects"]]
    assert kb(cluster)["status"]["phase"] == "Failed"


def test_absent_removes_everything_then_is_a_no_op(run, cluster):
    run()
    result = run(state="absent", spec=...)
    assert result["changed"] is True
    assert set(actions(result, "delete")) == {("Deployment", "mcp-server-docs"), ("Service", "mcp-server-docs"),
                                              ("ConfigMap", "docs-repos"), ("KnowledgeBase", "docs")}
    assert [k for k in cluster.store if k[2] == NS] == []
    again = run(state="absent", spec=...)
    assert again["changed"] is False and result["status"] is None


def test_absent_in_check_mode_deletes_nothing(run, cluster):
    run()
    result = run(state="absent", check_mode=True)
    assert result["changed"] is True and kb(cluster) is not None
