"""The desired objects and status of one KnowledgeBase, built with no API call."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase import naming, objects, status
from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase.validation import normalize_spec

SPEC = {
    "displayName": "Platform documentation",
    "description": "How the platform works",
    "repositories": [
        {"url": "https://github.com/acme-corp/platform", "branch": "main"},
        {"url": "https://github.com/acme-corp/runbooks", "paths": [".kiro/docs/runbooks", ".kiro/docs/adr"]},
    ],
    "mcp": {"image": "ghcr.io/acme-corp/archon-mcp-server:1.4.2", "port": 8090, "replicas": 2},
}
RECORD = {"apiVersion": "aphex.io/v1alpha1", "kind": "KnowledgeBase",
          "metadata": {"name": "docs", "namespace": "org-acme", "uid": "0b5e6c1e-uid"}}


def build(spec=None, owner="record", resources=None):
    owner = RECORD if owner == "record" else owner
    normalized = normalize_spec(spec or SPEC, "org-acme")
    return objects.derived_objects("docs", "org-acme", normalized, objects.merged_resources(resources), owner)


def by_kind(objs):
    return {o["kind"]: o for o in objs}


def test_config_map_lists_the_repositories_like_the_reference():
    cm = by_kind(build())["ConfigMap"]
    assert cm["metadata"]["name"] == "docs-repos"
    assert cm["data"] == {
        "displayName": "Platform documentation", "description": "How the platform works", "repositoryCount": "2",
        "repo.0.url": "https://github.com/acme-corp/platform", "repo.0.branch": "main",
        "repo.0.paths": ".kiro/docs",
        "repo.1.url": "https://github.com/acme-corp/runbooks", "repo.1.branch": "mainline",
        "repo.1.paths": ".kiro/docs/runbooks,.kiro/docs/adr",
    }
    labels = cm["metadata"]["labels"]
    assert labels["knowledgebase"] == "docs" and labels["app.kubernetes.io/managed-by"] == "aphex-platform"
    assert labels["app.kubernetes.io/component"] == "config" and labels["app.kubernetes.io/part-of"] == "archon"


def test_no_description_key_when_there_is_none():
    spec = {**SPEC, "description": ""}
    assert "description" not in by_kind(build(spec))["ConfigMap"]["data"]


def test_every_object_is_controlled_by_the_record():
    for obj in build():
        assert obj["metadata"]["ownerReferences"] == [{"apiVersion": "aphex.io/v1alpha1", "kind": "KnowledgeBase",
                                                       "name": "docs", "uid": "0b5e6c1e-uid", "controller": True}]
    assert all("ownerReferences" not in o["metadata"] for o in build(owner=None))
    assert all("ownerReferences" not in o["metadata"] for o in build(owner={"metadata": {"name": "docs"}}))


def test_mcp_deployment_is_restricted_with_probes_and_resources():
    deployment = by_kind(build())["Deployment"]
    assert deployment["metadata"]["name"] == "mcp-server-docs"
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"app": "mcp-server", "knowledgebase": "docs"}}
    pod = spec["template"]["spec"]
    assert set(spec["selector"]["matchLabels"].items()) <= set(spec["template"]["metadata"]["labels"].items())
    assert "app.kubernetes.io/managed-by" not in spec["template"]["metadata"]["labels"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/acme-corp/archon-mcp-server:1.4.2"
    assert container["ports"] == [{"name": "http", "containerPort": 8090, "protocol": "TCP"}]
    assert container["env"] == [{"name": "QUERY_SERVICE_URL", "value": "http://query.org-acme:8080"}]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["periodSeconds"] == 10
    assert container["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"},
                                      "limits": {"cpu": "200m", "memory": "256Mi"}}
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_resources_merge_over_the_defaults():
    deployment = by_kind(build(resources={"limits": {"memory": "1Gi"}}))["Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "1Gi"}}
    assert naming.DEFAULT_MCP_RESOURCES["limits"]["memory"] == "256Mi"  # not modified


def test_service_selects_the_mcp_pods():
    service = by_kind(build())["Service"]
    assert service["spec"] == {"type": "ClusterIP", "selector": {"app": "mcp-server", "knowledgebase": "docs"},
                               "ports": [{"name": "http", "port": 8090, "targetPort": "http", "protocol": "TCP"}]}


def test_without_mcp_only_the_config_map():
    spec = {k: v for k, v in SPEC.items() if k != "mcp"}
    assert [o["kind"] for o in build(spec)] == ["ConfigMap"]


def test_record_carries_the_spec_as_given():
    record = objects.record("docs", "org-acme", SPEC)
    assert record["spec"] == SPEC and record["spec"] is not SPEC
    assert record["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aphex-platform"}


NOW, LATER = "2026-11-30T01:00:00Z", "2026-11-30T02:00:00Z"


def kb_status(previous=None, changed=False, now=NOW, **kwargs):
    spec = kwargs.pop("spec", normalize_spec(SPEC, "org-acme"))
    return status.knowledgebase_status("docs", "org-acme", spec, 3, now, previous, changed, **kwargs)


def test_ready_status():
    result = kb_status(ready_replicas=2)
    assert result["phase"] == "Ready" and result["message"] == "Tracking 2 repositories"
    assert result["observedGeneration"] == 3 and result["lastReconcileTime"] == NOW
    assert result["mcp"] == {"deployed": True, "serviceName": "mcp-server-docs",
                             "serviceURL": "http://mcp-server-docs.org-acme:8090", "readyReplicas": 2}
    (ready,) = result["conditions"]
    assert ready["type"] == "Ready" and ready["status"] == "True" and ready["lastTransitionTime"] == NOW


def test_a_converged_rerun_keeps_the_timestamps():
    first = kb_status(ready_replicas=2, changed=True)
    again = kb_status(previous=first, ready_replicas=2, now=LATER)
    assert again == first


def test_a_change_moves_last_reconcile_time_but_not_the_transition():
    first = kb_status(ready_replicas=2, changed=True)
    again = kb_status(previous=first, ready_replicas=2, now=LATER, changed=True)
    assert again["lastReconcileTime"] == LATER
    assert again["conditions"][0]["lastTransitionTime"] == NOW


def test_failed_status_keeps_the_mcp_part():
    first = kb_status(ready_replicas=2, changed=True)
    failed = kb_status(previous=first, now=LATER, spec=None, error="spec.repositories: at least one")
    assert failed["phase"] == "Failed" and failed["message"] == "spec.repositories: at least one"
    assert failed["mcp"] == first["mcp"]
    assert failed["conditions"][0]["status"] == "False" and failed["conditions"][0]["lastTransitionTime"] == LATER
    assert kb_status(spec=None, error="x")["mcp"] == {"deployed": False}


@pytest.mark.parametrize("count, message", [(1, "Tracking 1 repository"), (3, "Tracking 3 repositories")])
def test_ready_message(count, message):
    assert status.ready_message({"repositories": [{}] * count}) == message
