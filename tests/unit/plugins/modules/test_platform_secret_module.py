"""main() of aphex.platform.platform_secret with the API adapter mocked; the JSON output is parsed."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.aphex.platform.plugins.module_utils.platform_secret import PlatformSecretError
from ansible_collections.aphex.platform.plugins.modules import platform_secret

ARGS = {"namespace": "dex", "name": "oidc", "keys": [
    {"name": "argocd", "generator": "token_urlsafe"},
    {"name": "admin-password"},
]}


def decode(data: dict) -> dict:
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def live(values: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "oidc", "namespace": "dex",
                         "labels": {"app.kubernetes.io/managed-by": "aphex-platform"}},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}


@pytest.fixture
def client(mocker):
    factory = mocker.patch.object(platform_secret, "SecretClient", autospec=True)
    instance = factory.return_value
    instance.get.return_value = None
    instance.apply.side_effect = lambda definition: definition
    return instance


def run(args: dict, capsys) -> tuple[int, dict, str]:
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        platform_secret.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def applied_values(client) -> dict:
    assert client.apply.call_count == 1
    return decode(client.apply.call_args.args[0]["data"])


def test_create_applies_and_never_outputs_values(client, capsys):
    rc, result, raw = run(ARGS, capsys)
    assert rc == 0 and result["changed"] is True
    assert result["keys"] == {"admin-password": "created", "argocd": "created"}
    assert result["secret"] == {"namespace": "dex", "name": "oidc"}
    assert "values" not in result
    client.get.assert_called_once_with("dex", "oidc")
    values = applied_values(client)
    definition = client.apply.call_args.args[0]
    assert definition["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aphex-platform"
    assert len(values["admin-password"]) == 32 and len(values["argocd"]) == 43
    for value in values.values():
        assert value not in raw and base64.b64encode(value.encode()).decode() not in raw


def test_check_mode_predicts_and_writes_nothing(client, capsys):
    rc, result, _raw = run(dict(ARGS, _ansible_check_mode=True), capsys)
    assert rc == 0 and result["changed"] is True and result["keys"]["argocd"] == "created"
    client.apply.assert_not_called()


def test_rerun_keeps_values_and_reports_unchanged(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    rc, result, raw = run(ARGS, capsys)
    assert rc == 0 and result["changed"] is False
    assert result["keys"] == {"admin-password": "kept", "argocd": "kept"}
    client.apply.assert_not_called()
    assert "tok-123456789" not in raw and "pw-123456789" not in raw


def test_add_key_keeps_existing_value(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789"})
    rc, result, _raw = run(ARGS, capsys)
    assert result["keys"] == {"admin-password": "created", "argocd": "kept"}
    assert applied_values(client)["argocd"] == "tok-123456789"


def test_rotate(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    rc, result, _raw = run(dict(ARGS, rotate=["argocd"]), capsys)
    assert result["changed"] is True and result["keys"] == {"admin-password": "kept", "argocd": "rotated"}
    values = applied_values(client)
    assert values["admin-password"] == "pw-123456789" and values["argocd"] != "tok-123456789"


def test_rotate_all_as_a_string(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789", "admin-password": "pw-123456789"})
    rc, result, _raw = run(dict(ARGS, rotate="all"), capsys)
    assert set(result["keys"].values()) == {"rotated"}


def test_show_returns_values(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789"})
    rc, result, _raw = run(dict(ARGS, show=True), capsys)
    assert result["values"]["argocd"] == "tok-123456789"
    assert result["values"]["admin-password"] == applied_values(client)["admin-password"]


def test_diff_shows_key_names_only(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789"})
    rc, result, raw = run(dict(ARGS, _ansible_diff=True), capsys)
    assert result["diff"]["before"] == {"data": {"argocd": "(hidden)"}}
    assert result["diff"]["after"] == {"data": {"admin-password": "(hidden) created", "argocd": "(hidden)"}}
    assert "tok-123456789" not in raw


def test_values_are_masked_even_in_an_error_message(client, capsys):
    client.get.return_value = live({"argocd": "tok-123456789"})

    def leaky(definition):
        raise PlatformSecretError(f"apply failed, body had {decode(definition['data'])}")

    client.apply.side_effect = leaky
    rc, result, raw = run(ARGS, capsys)
    assert rc == 1 and result["msg"].startswith("apply failed")
    assert "tok-123456789" not in raw
    assert "'argocd': '********'" in result["msg"]


def test_invalid_rotate_fails_before_any_api_call(client, capsys):
    rc, result, _raw = run(dict(ARGS, rotate=["nope"]), capsys)
    assert rc == 1 and "rotate: nope not in keys" in result["msg"]
    platform_secret.SecretClient.assert_not_called()


def test_bad_generator_option_is_rejected_by_the_argspec(client, capsys):
    rc, result, _raw = run(dict(ARGS, keys=[{"name": "x", "generator": "rsa"}]), capsys)
    assert rc == 1 and "generator" in result["msg"] and "rsa" in result["msg"]


def test_auth_options_reach_the_client_and_are_not_logged(client, capsys):
    rc, result, raw = run(dict(ARGS, kubeconfig="/tmp/kc", context="ctx", api_key="sekrit-api-key"), capsys)
    auth = platform_secret.SecretClient.call_args.args[0]
    assert auth["kubeconfig"] == "/tmp/kc" and auth["context"] == "ctx" and auth["api_key"] == "sekrit-api-key"
    assert "sekrit-api-key" not in raw


def test_missing_kubernetes_library_fails_cleanly(client, capsys, monkeypatch):
    monkeypatch.setattr(platform_secret, "KUBERNETES_IMPORT_ERROR", "Traceback: no module named kubernetes")
    rc, result, _raw = run(ARGS, capsys)
    assert rc == 1 and "Failed to import the required Python library (kubernetes)" in result["msg"]
    platform_secret.SecretClient.assert_not_called()


def test_missing_collection_fails_cleanly(client, capsys, monkeypatch):
    monkeypatch.setattr(platform_secret, "KUBERNETES_CORE_IMPORT_ERROR", "Traceback")
    rc, result, _raw = run(ARGS, capsys)
    assert rc == 1 and "kubernetes.core collection" in result["msg"]


def test_api_errors_are_reported_once(client, capsys):
    client.get.side_effect = PlatformSecretError("reading Secret dex/oidc failed: forbidden")
    rc, result, _raw = run(ARGS, capsys)
    assert rc == 1 and result["msg"] == "reading Secret dex/oidc failed: forbidden"
