"""main() of aphex.platform.platform_secret against the in-memory API server of the adapter tests."""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.modules import platform_secret
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import FakeK8sClient, api_error

ARGS = {"namespace": "dex", "name": "oidc", "keys": [
    {"name": "argocd", "generator": "token_urlsafe"},
    {"name": "admin-password"},
]}


def decode(data: dict) -> dict:
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


@pytest.fixture(name="cluster")
def fixture_cluster():
    client = FakeK8sClient()
    client.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dex"}})
    return client


@pytest.fixture(name="run")
def fixture_run(cluster):
    def _run(args, check_mode=False, diff=False):
        cluster.dry_run = check_mode
        with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock, return_value=cluster):
            result = run_module(platform_secret.main, args, check_mode=check_mode, diff=diff)
        return result, json.dumps(result)
    return _run


def stored(cluster) -> dict:
    return decode(cluster.object("v1", "Secret", "oidc", "dex")["data"])


def seed(cluster, values: dict) -> None:
    cluster.put({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": "oidc", "namespace": "dex",
                              "labels": {"app.kubernetes.io/managed-by": "aphex-platform"}},
                 "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}})


def test_create_applies_and_never_outputs_values(cluster, run):
    result, raw = run(ARGS)
    assert not result.get("failed") and result["changed"] is True
    assert result["keys"] == {"admin-password": "created", "argocd": "created"}
    assert result["secret"] == {"namespace": "dex", "name": "oidc"} and "values" not in result
    secret = cluster.object("v1", "Secret", "oidc", "dex")
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aphex-platform"
    assert secret["metadata"]["managedFields"][-1] == {"manager": "aphex-platform", "operation": "Apply"}
    values = stored(cluster)
    assert len(values["admin-password"]) == 32 and len(values["argocd"]) == 43
    for value in values.values():
        assert value not in raw and base64.b64encode(value.encode()).decode() not in raw


def test_check_mode_is_a_server_side_dry_run_and_writes_nothing(cluster, run):
    result, _raw = run(ARGS, check_mode=True)
    assert result["changed"] is True and result["keys"]["argocd"] == "created"
    assert ("apply", "Secret", "oidc", "dex", True) in cluster.calls
    assert cluster.mutating_calls() == [] and cluster.object("v1", "Secret", "oidc", "dex") is None


def test_check_mode_in_a_namespace_an_earlier_step_creates(cluster, run):
    with mock.patch.object(AphexK8sModule, "warn") as warn:
        result, _raw = run(dict(ARGS, namespace="later"), check_mode=True)
    assert not result.get("failed") and result["changed"] is True
    assert "namespace later does not exist yet" in warn.call_args.args[0]
    assert [c for c in cluster.calls if c[0] == "apply"] == []


def test_missing_collection_fails_cleanly(run, monkeypatch):
    from ansible_collections.aphex.platform.plugins.module_utils.k8s import client
    monkeypatch.setattr(client, "HAS_KUBERNETES_COLLECTION", False)
    monkeypatch.setattr(client, "KUBERNETES_COLLECTION_ERROR", "Traceback")
    result, _raw = run(ARGS)
    assert result["failed"] and "kubernetes.core (collection)" in result["msg"]


def test_rerun_keeps_values_and_reports_unchanged(cluster, run):
    seed(cluster, {"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    result, raw = run(ARGS)
    assert result["changed"] is False and result["keys"] == {"admin-password": "kept", "argocd": "kept"}
    assert cluster.mutating_calls() == []
    assert "tok-123456789" not in raw and "pw-123456789" not in raw


def test_add_key_keeps_existing_value(cluster, run):
    seed(cluster, {"argocd": "tok-123456789"})
    result, _raw = run(ARGS)
    assert result["keys"] == {"admin-password": "created", "argocd": "kept"}
    assert stored(cluster)["argocd"] == "tok-123456789"


def test_rotate(cluster, run):
    seed(cluster, {"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    result, _raw = run(dict(ARGS, rotate=["argocd"]))
    assert result["changed"] is True and result["keys"] == {"admin-password": "kept", "argocd": "rotated"}
    values = stored(cluster)
    assert values["admin-password"] == "pw-123456789" and values["argocd"] != "tok-123456789"


def test_rotate_all_as_a_string(cluster, run):
    seed(cluster, {"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    result, _raw = run(dict(ARGS, rotate="all"))
    assert set(result["keys"].values()) == {"rotated"}


def test_show_returns_values(cluster, run):
    seed(cluster, {"argocd": "tok-123456789"})
    result, _raw = run(dict(ARGS, show=True))
    assert result["values"]["argocd"] == "tok-123456789"
    assert result["values"]["admin-password"] == stored(cluster)["admin-password"]


def test_diff_shows_key_names_only(cluster, run):
    seed(cluster, {"argocd": "tok-123456789"})
    result, raw = run(ARGS, diff=True)
    assert result["diff"]["before"] == {"data": {"argocd": "(hidden)"}}
    assert result["diff"]["after"] == {"data": {"admin-password": "(hidden) created", "argocd": "(hidden)"}}
    assert "tok-123456789" not in raw


def test_values_are_masked_even_in_an_error_message(cluster, run):
    seed(cluster, {"argocd": "tok-123456789"})
    from kubernetes.dynamic.exceptions import UnprocessibleEntityError
    cluster.fail_on[("apply", "Secret", "oidc")] = api_error(
        UnprocessibleEntityError, 422, "invalid: data had tok-123456789")
    result, raw = run(ARGS)
    assert result["failed"] and result["msg"].startswith("Failed to apply Secret dex/oidc: invalid")
    assert "tok-123456789" not in raw and "********" in result["msg"]


def test_invalid_rotate_fails_before_any_api_call(cluster, run):
    result, _raw = run(dict(ARGS, rotate=["nope"]))
    assert result["failed"] and "rotate: nope not in keys" in result["msg"]
    assert cluster.calls == []


def test_bad_generator_option_is_rejected_by_the_argspec(run):
    result, _raw = run(dict(ARGS, keys=[{"name": "x", "generator": "rsa"}]))
    assert result["failed"] and "generator" in result["msg"] and "rsa" in result["msg"]


def test_api_errors_are_reported_once(cluster, run):
    from kubernetes.dynamic.exceptions import ForbiddenError
    cluster.get = mock.Mock(side_effect=api_error(ForbiddenError, 403, 'secrets "oidc" is forbidden'))
    result, _raw = run(ARGS)
    assert result["failed"] and result["msg"] == 'Failed to read Secret dex/oidc: secrets "oidc" is forbidden'
