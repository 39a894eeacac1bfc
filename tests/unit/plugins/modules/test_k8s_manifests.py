# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""aphex.platform.k8s_manifests' run() against the in-memory API server of fake_k8s."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils import k8s_manifests
from ansible_collections.aphex.platform.plugins.module_utils.k8s.applier import ObjectApplier
from ansible_collections.aphex.platform.plugins.module_utils.k8s.reader import refresh_discovery
from ansible_collections.aphex.platform.plugins.module_utils.manifests import ManifestError
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import FakeK8sClient

KINDS = {("v1", "Namespace"), ("v1", "ConfigMap"), ("apps/v1", "Deployment"),
         ("rbac.authorization.k8s.io/v1", "ClusterRole"),
         ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")}


class FakeModule:
    def __init__(self, client, check_mode=False, **params):
        self.client = client
        self.check_mode = check_mode
        self.diff_mode = False
        self.warnings = []
        self.params = {"src": [], "recursive": True, "kustomize": [], "kustomization": None, "kubectl": None,
                       "definitions": [],
                       "namespace": None, "yield_to_argocd": False,
                       "reject_images": [], "state": "present", "field_manager": "aphex-platform",
                       "force_conflicts": False, "wait_timeout": 30}
        self.params.update(params)

    def warn(self, message):
        self.warnings.append(message)

    def refresh_discovery(self):
        refresh_discovery(self.client)

    def applier(self, **kwargs):
        return ObjectApplier(self.client, check_mode=self.check_mode, warn=self.warn, **kwargs)


@pytest.fixture(name="client")
def fixture_client():
    return FakeK8sClient(kinds=KINDS)


@pytest.fixture(name="manifest_dir")
def fixture_manifest_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "10-config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: x}\n"
        "rules: []\n")
    (tmp_path / "sub" / "20-app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n"
        "spec: {template: {spec: {containers: [{name: c, image: 'ko://example.com/cmd/app'}]}}}\n---\n"
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
        "metadata: {name: hooks}\nwebhooks: [{name: v.example.com, failurePolicy: Fail}]\n")
    return str(tmp_path)


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}


def test_a_directory_is_applied_in_order_and_a_second_run_changes_nothing(client, manifest_dir):
    module = FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE])
    first = k8s_manifests.run(module)
    assert [(r["kind"], r["action"]) for r in first["results"]] == [
        ("Namespace", "create"), ("ConfigMap", "create"), ("ClusterRole", "create"), ("Deployment", "create"),
        ("ValidatingWebhookConfiguration", "create")]
    assert first["changed"] and first["objects"] == 5
    assert client.object("v1", "ConfigMap", "settings", "apps")["data"] == {"a": "1"}
    assert "namespace" not in client.object("rbac.authorization.k8s.io/v1", "ClusterRole", "reader")["metadata"]
    assert first["images"] == ["ko://example.com/cmd/app"]
    assert first["gate"]["deployments"] == [{"namespace": "apps", "name": "app"}]
    assert first["gate"]["webhooks"] == [{"kind": "validating", "name": "hooks"}]
    assert client.invalidations == 1
    second = k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE]))
    assert not second["changed"] and second["counts"] == {"unchanged": 5}


def test_webhook_configurations_are_applied_unmodified(client, manifest_dir):
    k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE]))
    hooks = next(o for (_g, kind, _ns, name), o in client.store.items()
                 if kind == "ValidatingWebhookConfiguration" and name == "hooks")
    assert hooks["webhooks"] == [{"name": "v.example.com", "failurePolicy": "Fail"}]


def test_rejected_images_stop_the_set_before_any_request(client, manifest_dir):
    with pytest.raises(ManifestError, match=r"cannot be pulled \(ko://example.com/cmd/app\); nothing was applied"):
        k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE],
                                     reject_images=["ko://"]))
    assert client.mutating_calls() == []


def test_check_mode_plans_namespaces_an_earlier_step_creates(client, manifest_dir):
    module = FakeModule(client, check_mode=True, src=[manifest_dir], namespace="apps")
    client.dry_run = True
    result = k8s_manifests.run(module)
    assert result["changed"] and {r["action"] for r in result["results"]} == {"create"}
    assert any("namespace apps does not exist yet" in w for w in module.warnings)
    assert client.store == {}


def test_objects_argo_cd_tracks_are_left_to_it(client, manifest_dir):
    k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE]))
    tracked = client.object("v1", "ConfigMap", "settings", "apps")
    tracked["metadata"]["annotations"] = {"argocd.argoproj.io/tracking-id": "platform-x:/ConfigMap:apps/settings"}
    tracked["data"] = {"a": "changed through git"}
    result = k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE],
                                          yield_to_argocd=True))
    assert not result["changed"]
    assert {"kind": "ConfigMap", "apiVersion": "v1", "name": "settings", "namespace": "apps",
            "action": "managed-by-argocd"} in result["results"]
    assert result["counts"] == {"unchanged": 4, "managed-by-argocd": 1}
    assert client.object("v1", "ConfigMap", "settings", "apps")["data"] == {"a": "changed through git"}
    assert result["gate"]["deployments"] == [{"namespace": "apps", "name": "app"}]  # still gated
    reverted = k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE]))
    assert reverted["changed"]  # without yield_to_argocd the playbook would revert the Git change


def test_state_absent_deletes_in_reverse_order(client, manifest_dir):
    k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE]))
    result = k8s_manifests.run(FakeModule(client, src=[manifest_dir], namespace="apps", definitions=[NAMESPACE],
                                          state="absent"))
    assert [r["kind"] for r in result["results"]] == [
        "ValidatingWebhookConfiguration", "Deployment", "ClusterRole", "ConfigMap", "Namespace"]
    assert {r["action"] for r in result["results"]} == {"delete"} and client.store == {}


def test_nothing_to_apply_is_an_error(client):
    with pytest.raises(ManifestError, match="nothing to apply"):
        k8s_manifests.run(FakeModule(client))


# ---- export: the set as applied, for the GitOps repository ----------------------------------------------------------

@pytest.fixture(name="gitops")
def fixture_gitops(tmp_path_factory):
    return tmp_path_factory.mktemp("gitops")  # beside manifest_dir, not in it (src reads it recursively)


def _export_run(client, gitops, check_mode=False, **params):
    export = gitops / "layers" / "x" / "components" / "app.yaml"
    params = {"namespace": "apps", "definitions": [NAMESPACE], "ko_image_repository": "registry.example/ko",
              "ko_image_tag": "v1.2.3", "image_overrides": {}, "overrides": [], "export": str(export), **params}
    if check_mode:
        client.dry_run = True
    return k8s_manifests.run(FakeModule(client, check_mode=check_mode, **params)), export


def test_export_holds_what_was_applied_and_is_byte_stable(client, manifest_dir, gitops):
    overrides = [{"kind": "ConfigMap", "name": "settings", "merge": {"data": {"flag": "true"}}}]
    image_overrides = {"registry.example/ko/example.com/cmd/app:v1.2.3": "mirror.example/app:v1.2.3"}
    first, export = _export_run(client, gitops, src=[manifest_dir], overrides=overrides,
                                image_overrides=image_overrides)
    assert first["changed"] and first["export"] == {"path": str(export), "changed": True}
    text = export.read_text()
    documents = [d for d in yaml.safe_load_all(text) if d]
    # Sorted: Namespace first, then by API group, kind, namespace, name; namespaces placed as applied.
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("Namespace", "apps"), ("ConfigMap", "settings"), ("ValidatingWebhookConfiguration", "hooks"),
        ("Deployment", "app"), ("ClusterRole", "reader")]
    by_kind = {d["kind"]: d for d in documents}
    assert by_kind["ConfigMap"]["metadata"]["namespace"] == "apps"
    assert by_kind["ConfigMap"]["data"] == {"a": "1", "flag": "true"}
    assert "namespace" not in by_kind["ClusterRole"]["metadata"]
    image = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "mirror.example/app:v1.2.3" == client.object("apps/v1", "Deployment", "app", "apps")[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    # Every exported object is exactly the live one's applied content.
    for doc in documents:
        live = client.object(doc["apiVersion"], doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))
        applied = {k: v for k, v in live.items() if k in doc}
        applied["metadata"] = {k: v for k, v in live["metadata"].items() if k in doc["metadata"]}
        assert applied == doc
    mtime = export.stat().st_mtime_ns
    second, _export = _export_run(client, gitops, src=[manifest_dir], overrides=overrides, image_overrides=image_overrides)
    assert not second["changed"] and second["export"]["changed"] is False, second
    assert export.read_text() == text and export.stat().st_mtime_ns == mtime


def test_export_changes_with_the_settings_and_check_mode_only_predicts(client, manifest_dir, gitops):
    _first, export = _export_run(client, gitops, src=[manifest_dir])
    before = export.read_bytes()
    predicted, _export = _export_run(client, gitops, check_mode=True, src=[manifest_dir], ko_image_tag="v1.2.4")
    assert predicted["changed"] and predicted["export"]["changed"] is True
    assert export.read_bytes() == before  # check mode writes nothing


def test_export_of_objects_argo_cd_tracks_is_still_written(client, manifest_dir, gitops):
    _export_run(client, gitops, src=[manifest_dir])
    tracked = client.object("v1", "ConfigMap", "settings", "apps")
    tracked["metadata"]["annotations"] = {"argocd.argoproj.io/tracking-id": "platform-x:/ConfigMap:apps/settings"}
    result, export = _export_run(client, gitops, src=[manifest_dir], yield_to_argocd=True,
                                 overrides=[{"kind": "ConfigMap", "name": "settings", "merge": {"data": {"b": "2"}}}])
    assert {"kind": "ConfigMap", "apiVersion": "v1", "name": "settings", "namespace": "apps",
            "action": "managed-by-argocd"} in result["results"]
    # The file, which Argo CD syncs, carries the change; the cluster gets it through Argo CD.
    assert result["export"]["changed"] and "b: '2'" in export.read_text()
    assert client.object("v1", "ConfigMap", "settings", "apps")["data"] == {"a": "1"}


def test_export_refuses_secret_values_before_any_request(client, gitops):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "apps"},
              "stringData": {"token": "never-in-git"}}
    with pytest.raises(ManifestError, match=r"export: Secret apps/token has data; secret values never go"):
        _export_run(client, gitops, definitions=[NAMESPACE, secret])
    assert client.mutating_calls() == []
    assert not (gitops / "layers").exists()
