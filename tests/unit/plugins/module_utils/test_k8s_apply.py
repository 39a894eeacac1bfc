"""The Kubernetes adapter against an in-memory API (tests/unit/plugins/module_utils/fake_k8s.py)."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.applier import (
    REDACTED,
    REDACTED_CHANGED,
    ObjectApplier,
    comparable,
    diff_pair,
    redact,
)
from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import FakeK8sClient, unprocessable


def ns(name="org-acme"):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"a": "b"}}}


def secret(value="s3cr3t", namespace="org-acme"):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hook", "namespace": namespace},
            "type": "Opaque", "data": {"secret": base64.b64encode(value.encode()).decode()}}


def role(verbs=("get",)):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "org-acme"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": list(verbs)}]}


def listener():
    return {"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "EventListener",
            "metadata": {"name": "github-listener", "namespace": "org-acme"}, "spec": {"serviceAccountName": "x"}}


def applier(client, check_mode=False, **kwargs):
    client.dry_run = check_mode
    return ObjectApplier(client, check_mode=check_mode, **kwargs)


def actions(applier_):
    return [(r["kind"], r["name"], r["action"]) for r in applier_.results]


def test_create_then_unchanged_then_update():
    client = FakeK8sClient()
    first = applier(client)
    first.apply_all([ns(), role()])
    assert actions(first) == [("Namespace", "org-acme", "create"), ("Role", "reader", "create")]
    assert first.changed

    again = applier(client)
    again.apply_all([ns(), role()])
    assert actions(again) == [("Namespace", "org-acme", "unchanged"), ("Role", "reader", "unchanged")]
    assert not again.changed
    assert again.diffs == []

    edit = applier(client)
    edit.apply(role(verbs=("get", "list")))
    assert actions(edit) == [("Role", "reader", "update")]
    assert edit.diffs[0]["after"] == {"rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                 "verbs": ["get", "list"]}]}


def test_every_apply_is_server_side_with_the_field_manager():
    client = FakeK8sClient()
    applier(client, field_manager="aphex-platform").apply(ns())
    assert client.object("v1", "Namespace", "org-acme")["metadata"]["managedFields"][-1] == \
        {"manager": "aphex-platform", "operation": "Apply"}


def test_bookkeeping_noise_is_not_a_change():
    before = {"kind": "Role", "metadata": {"name": "r", "resourceVersion": "1", "generation": 1,
                                           "managedFields": [{"manager": "a"}]}, "status": {"x": 1}, "rules": []}
    after = {"kind": "Role", "metadata": {"name": "r", "resourceVersion": "9", "generation": 2,
                                          "managedFields": [{"manager": "b"}]}, "status": {"x": 2}, "rules": []}
    assert comparable(before) == comparable(after)
    assert diff_pair(before, after) == ({}, {})


def test_check_mode_makes_no_change_and_predicts():
    client = FakeK8sClient()
    applier(client).apply(ns())
    client.calls.clear()
    dry = applier(client, check_mode=True)
    dry.apply_all([ns(), role()])
    assert actions(dry) == [("Namespace", "org-acme", "unchanged"), ("Role", "reader", "create")]
    assert client.mutating_calls() == []
    assert client.object("rbac.authorization.k8s.io/v1", "Role", "reader", "org-acme") is None


def test_check_mode_objects_in_a_namespace_this_run_creates_are_predicted_without_a_request():
    client = FakeK8sClient()
    dry = applier(client, check_mode=True)
    dry.apply_all([ns(), role(), secret()])
    assert actions(dry) == [("Namespace", "org-acme", "create"), ("Role", "reader", "create"),
                            ("Secret", "hook", "create")]
    assert [c[1] for c in client.calls if c[0] == "apply"] == ["Namespace"]


def test_missing_kind_is_a_predicted_create_in_check_mode_and_an_error_otherwise():
    client = FakeK8sClient(kinds={("v1", "Namespace")})
    dry = applier(client, check_mode=True)
    dry.apply(listener())
    assert actions(dry) == [("EventListener", "github-listener", "create")]
    assert "not installed" in dry.results[0]["warning"]
    assert dry.warnings

    with pytest.raises(K8sError, match="does not serve EventListener.*install its CustomResourceDefinition"):
        applier(client).apply(listener())


def test_api_errors_become_one_exception_with_the_server_message():
    client = FakeK8sClient()
    applier(client).apply(ns())
    client.fail_on[("apply", "Role", "reader")] = unprocessable('Role.rbac "reader" is invalid: rules[0].verbs')
    with pytest.raises(K8sError) as caught:
        applier(client).apply(role())
    assert caught.value.status == 422
    assert str(caught.value) == 'Failed to apply Role org-acme/reader: Role.rbac "reader" is invalid: rules[0].verbs'


def test_apply_into_a_missing_namespace_fails_with_the_server_message():
    with pytest.raises(K8sError, match='namespaces "org-acme" not found'):
        applier(FakeK8sClient()).apply(role())


def test_secret_values_never_reach_results_or_diffs():
    client = FakeK8sClient()
    first = applier(client)
    first.apply_all([ns(), secret("first-value")])
    rotated = applier(client)
    rotated.apply(secret("second-value"))
    dumped = json.dumps([first.results, first.diffs, rotated.results, rotated.diffs, first.live and "x"])
    for value in ("first-value", "second-value"):
        assert value not in dumped
        assert base64.b64encode(value.encode()).decode() not in dumped
    assert rotated.diffs[0]["before"] == {"data": {"secret": REDACTED}}
    assert rotated.diffs[0]["after"] == {"data": {"secret": REDACTED_CHANGED}}


def test_redact_hidden_fields_and_last_applied_annotation():
    obj = {"kind": "Organization", "spec": {"webhookSecret": "abc", "displayName": "A"}}
    assert redact(obj, {"Organization": ["spec.webhookSecret"]}) == \
        {"kind": "Organization", "spec": {"webhookSecret": REDACTED, "displayName": "A"}}
    annotated = {"kind": "Secret", "metadata": {"annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"k":"dmFsdWU="}}'}}, "data": {"k": "dmFsdWU="}}
    assert "dmFsdWU=" not in json.dumps(redact(annotated))


def test_delete_absent_and_present_and_wait():
    client = FakeK8sClient()
    applier(client).apply_all([ns(), role()])
    deleting = applier(client)
    deleting.delete("v1", "Namespace", "org-acme", wait=True, wait_timeout=5)
    deleting.delete("v1", "Namespace", "org-acme")
    deleting.delete("triggers.tekton.dev/v1beta1", "EventListener", "x", "org-acme")
    assert actions(deleting) == [("Namespace", "org-acme", "delete"), ("Namespace", "org-acme", "absent"),
                                 ("EventListener", "x", "absent")]
    assert client.store == {}


def test_delete_in_check_mode_is_a_dry_run():
    client = FakeK8sClient()
    applier(client).apply(ns())
    dry = applier(client, check_mode=True)
    dry.delete("v1", "Namespace", "org-acme", wait=True)
    assert actions(dry) == [("Namespace", "org-acme", "delete")]
    assert client.object("v1", "Namespace", "org-acme") is not None


def test_delete_timeout_names_the_object(monkeypatch):
    client = FakeK8sClient()
    applier(client).apply(ns())
    # A namespace stuck in Terminating: the delete is accepted but the object stays.
    monkeypatch.setattr(client, "delete", lambda resource, **params: None)
    with pytest.raises(K8sError, match="Timed out after .* waiting for Namespace org-acme to be deleted"):
        applier(client).delete("v1", "Namespace", "org-acme", wait=True, wait_timeout=0)


def test_delete_by_label_keeps_named_objects():
    client = FakeK8sClient()
    for name in ("a", "b", "c"):
        client.put({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": name, "labels": {"org": "acme" if name != "c" else "other"}}})
    deleting = applier(client)
    deleting.delete_by_label("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "org=acme", keep={"a"})
    assert actions(deleting) == [("ClusterRoleBinding", "b", "delete")]
    assert sorted(k[3] for k in client.store) == ["a", "c"]


def test_list_returns_full_objects_and_nothing_for_missing_kinds():
    client = FakeK8sClient()
    applier(client).apply_all([ns(), role()])
    items = applier(client).list("rbac.authorization.k8s.io/v1", "Role", "org-acme")
    assert [(i["apiVersion"], i["kind"], i["metadata"]["name"]) for i in items] == \
        [("rbac.authorization.k8s.io/v1", "Role", "reader")]
    assert applier(FakeK8sClient(kinds=set())).list("v1", "Secret") == []


def test_status_is_written_through_the_subresource_and_only_when_it_differs():
    client = FakeK8sClient()
    org = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization",
           "metadata": {"name": "acme", "namespace": "platform-system"}, "spec": {"displayName": "A"}}
    applier(client).apply_all([ns("platform-system"), org])
    writing = applier(client)
    writing.apply_status(org, {"phase": "Ready"})
    writing.apply_status(org, {"phase": "Ready"})
    assert actions(writing) == [("Organization/status", "acme", "update"), ("Organization/status", "acme", "unchanged")]
    assert client.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")["status"] == {"phase": "Ready"}

    dry = applier(client, check_mode=True)
    dry.apply_status(org, {"phase": "Failed"})
    assert actions(dry) == [("Organization/status", "acme", "update")]
    assert client.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")["status"] == {"phase": "Ready"}


def test_connection_failures_become_the_same_exception():
    client = FakeK8sClient()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    client.get = refuse
    with pytest.raises(K8sError, match=r"Failed to read Namespace org-acme: \[Errno 111\] Connection refused"):
        applier(client).apply(ns())


def test_client_creation_errors_are_reported_once(monkeypatch):
    from ansible_collections.aphex.platform.plugins.module_utils.k8s import client

    def broken(module=None):
        raise RuntimeError("Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(client, "get_api_client", broken)
    module = client.AphexK8sModule.__new__(client.AphexK8sModule)
    module._client = None
    with pytest.raises(K8sError, match="Could not create the Kubernetes API client: Invalid kube-config file"):
        module.client  # pylint: disable=pointless-statement


def test_a_field_manager_conflict_says_how_to_take_over():
    from kubernetes.dynamic.exceptions import ConflictError

    from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import api_error

    client = FakeK8sClient()
    applier(client).apply(ns())
    client.fail_on[("apply", "Role", "reader")] = api_error(
        ConflictError, 409, 'Apply failed with 1 conflict: conflict with "kubectl-edit": .rules')
    with pytest.raises(K8sError, match=r'conflict with "kubectl-edit": \.rules \(another field manager owns '
                                       r'these fields; force_conflicts takes them over\)'):
        applier(client).apply(role())
