# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loading, ordering, placing and patching manifest sets (aphex.platform.k8s_manifests' pure part)."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils import manifests
from ansible_collections.aphex.platform.plugins.module_utils.manifests import ManifestError


def obj(kind, name, namespace=None, api_version="v1", **extra):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **extra}


def crd(group, kind, plural, scope="Namespaced"):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope, "names": {"kind": kind, "plural": plural},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def test_directory_is_read_like_kubectl_apply_recursive(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "200-role.yaml").write_text("kind: Role\n")
    (tmp_path / "100-ns.yml").write_text("kind: Namespace\n")
    (tmp_path / "b" / "x.json").write_text("{}")
    (tmp_path / "README.md").write_text("not a manifest")
    (tmp_path / ".hidden" / "y.yaml").write_text("kind: Secret\n")
    found = [p.replace(str(tmp_path) + "/", "") for p in manifests.manifest_files(str(tmp_path))]
    assert found == ["100-ns.yml", "200-role.yaml", "b/x.json"]
    flat = [p.replace(str(tmp_path) + "/", "") for p in manifests.manifest_files(str(tmp_path), recursive=False)]
    assert flat == ["100-ns.yml", "200-role.yaml"]


def test_missing_path_and_empty_directory_are_errors(tmp_path):
    with pytest.raises(ManifestError, match="no such file"):
        manifests.manifest_files(str(tmp_path / "nope"))
    with pytest.raises(ManifestError, match="no manifest files"):
        manifests.load_files([str(tmp_path)])


def test_streams_drop_empty_documents_and_flatten_lists():
    text = "---\n# comment only\n---\nkind: List\napiVersion: v1\nitems:\n- {kind: A}\n- {kind: B}\n---\nkind: C\n"
    assert [o["kind"] for o in manifests.parse_stream(text, "x")] == ["A", "B", "C"]
    with pytest.raises(ManifestError, match="document 0 is not a mapping"):
        manifests.parse_stream("- a\n- b\n", "x")
    with pytest.raises(ManifestError, match="not valid YAML"):
        manifests.parse_stream("a: [b\n", "x")


def test_validate_names_the_origin():
    with pytest.raises(ManifestError, match="f.yaml: every object needs apiVersion, kind and metadata.name"):
        manifests.validate([("f.yaml", {"kind": "ConfigMap", "metadata": {}})])


def test_namespaces_and_crds_go_first_keeping_the_given_order():
    loaded = [("a", obj("ConfigMap", "c1", "ns")), ("b", crd("x.io", "Widget", "widgets")),
              ("c", obj("Namespace", "ns")), ("d", obj("ConfigMap", "c2", "ns")), ("e", crd("x.io", "Gadget", "gadgets"))]
    assert [origin for origin, _obj in manifests.ordered(loaded)] == ["c", "b", "e", "a", "d"]


@pytest.mark.parametrize("served,scope,kind,expected", [
    (True, None, "Widget", True),
    (False, None, "Widget", False),
    (None, "Namespaced", "Widget", True),
    (None, "Cluster", "Widget", False),
    (None, None, "ClusterRole", False),
    (None, None, "Unknown", None),
])
def test_scope_comes_from_the_cluster_then_the_sets_crds_then_known_kinds(served, scope, kind, expected):
    scopes = {("x.io", "Widget"): scope} if scope else {}
    assert manifests.is_namespaced(obj(kind, "w", api_version="x.io/v1"), served, scopes) is expected


def test_crd_scopes_of_the_set():
    loaded = [("a", crd("x.io", "Widget", "widgets", "Cluster")), ("b", crd("y.io", "Thing", "things"))]
    assert manifests.crd_scopes(loaded) == {("x.io", "Widget"): "Cluster", ("y.io", "Thing"): "Namespaced"}


def test_place_fills_the_default_namespace_and_drops_it_from_cluster_scoped_objects():
    assert manifests.place(obj("ConfigMap", "c"), True, "argocd", "f")["metadata"]["namespace"] == "argocd"
    assert manifests.place(obj("ConfigMap", "c", "other"), True, "argocd", "f")["metadata"]["namespace"] == "other"
    assert "namespace" not in manifests.place(obj("ClusterRole", "r", "argocd"), False, "argocd", "f")["metadata"]
    assert manifests.place(obj("Widget", "w"), None, "argocd", "f")["metadata"]["namespace"] == "argocd"
    assert "namespace" not in manifests.place(obj("Widget", "w"), None, None, "f")["metadata"]
    with pytest.raises(ManifestError, match="f: ConfigMap c is namespaced but has no namespace"):
        manifests.place(obj("ConfigMap", "c"), True, None, "f")


def test_images_and_gate_inputs_cover_every_workload_kind():
    def workload(kind, name, image, path=("spec", "template", "spec")):
        o = obj(kind, name, "ns", api_version="apps/v1")
        node = o
        for key in path:
            node = node.setdefault(key, {})
        node["containers"] = [{"name": "c", "image": image}]
        node["initContainers"] = [{"name": "i", "image": "init:1"}]
        return o
    objects = [
        workload("Deployment", "d", "ko://github.com/tektoncd/pipeline/cmd/controller"),
        workload("StatefulSet", "s", "redis:8"),
        workload("DaemonSet", "ds", "agent:1"),
        workload("CronJob", "cj", "job:1", ("spec", "jobTemplate", "spec", "template", "spec")),
        crd("x.io", "Widget", "widgets"),
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "v"}, "webhooks": []},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "m"}, "webhooks": []},
    ]
    assert manifests.images(objects) == ["agent:1", "init:1", "job:1", "ko://github.com/tektoncd/pipeline/cmd/controller",
                                         "redis:8"]
    assert manifests.gate_inputs(objects) == {
        "crds": ["widgets.x.io"], "deployments": [{"namespace": "ns", "name": "d"}],
        "statefulsets": [{"namespace": "ns", "name": "s"}], "daemonsets": [{"namespace": "ns", "name": "ds"}],
        "webhooks": [{"kind": "validating", "name": "v"}, {"kind": "mutating", "name": "m"}]}


def test_crd_schemas_are_shortened_in_diffs_only():
    big = crd("x.io", "Widget", "widgets")
    short = manifests.shorten_crd_schemas(big)
    text = short["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert text.startswith("<OpenAPI schema, ") and "sha256" in text
    assert big["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == {"type": "object"}
    part = {"spec": {"versions": [{"schema": {"openAPIV3Schema": {"a": 1}}}]}}
    assert manifests.shorten_crd_schemas(part, is_crd=True)["spec"]["versions"][0]["schema"]["openAPIV3Schema"] \
        .startswith("<OpenAPI schema")
    assert manifests.shorten_crd_schemas(obj("ConfigMap", "c")) == obj("ConfigMap", "c")


def test_a_kustomization_is_written_with_its_copies(tmp_path):
    source = tmp_path / "install.yaml"
    source.write_text("kind: ConfigMap\n")
    target = tmp_path / "render"
    target.mkdir()
    manifests.write_kustomization(str(target), {"kustomization.yaml": "resources: [install.yaml]\n",
                                                "argocd-cm.yaml": "data: {}\n"}, [str(source)])
    assert sorted(p.name for p in target.iterdir()) == ["argocd-cm.yaml", "install.yaml", "kustomization.yaml"]
    assert (target / "install.yaml").read_text() == "kind: ConfigMap\n"
    with pytest.raises(ManifestError, match="plain file name"):
        manifests.write_kustomization(str(target), {"../escape.yaml": ""}, [])
    with pytest.raises(ManifestError, match="given twice"):
        manifests.write_kustomization(str(tmp_path / "render"), {}, [str(source)])
    with pytest.raises(ManifestError, match="no such file"):
        manifests.write_kustomization(str(target), {}, [str(tmp_path / "missing.yaml")])


def _deployment(image, args=None):
    container = {"name": "c", "image": image}
    if args is not None:
        container["args"] = args
    return obj("Deployment", "d", "ns", "apps/v1", spec={"template": {"spec": {"containers": [container]}}})


def test_ko_references_resolve_in_images_and_args():
    source = _deployment("ko://github.com/tektoncd/pipeline/cmd/controller",
                         ["-entrypoint-image", "ko://github.com/tektoncd/pipeline/cmd/entrypoint",
                          "-shell-image", "cgr.dev/chainguard/busybox@sha256:abc"])
    [(origin, resolved)] = manifests.resolve_images([("f.yaml", source)], "ghcr.io/tektoncd", "v1.15.0",
                                                    {"cgr.dev/chainguard/busybox@sha256:abc": "docker.io/aphex/busybox:1"})
    container = resolved["spec"]["template"]["spec"]["containers"][0]
    assert origin == "f.yaml"
    assert container["image"] == "ghcr.io/tektoncd/github.com/tektoncd/pipeline/cmd/controller:v1.15.0"
    assert container["args"] == ["-entrypoint-image", "ghcr.io/tektoncd/github.com/tektoncd/pipeline/cmd/entrypoint:v1.15.0",
                                 "-shell-image", "docker.io/aphex/busybox:1"]
    # the input is left alone
    assert source["spec"]["template"]["spec"]["containers"][0]["image"].startswith("ko://")
    assert manifests.images([resolved]) == ["ghcr.io/tektoncd/github.com/tektoncd/pipeline/cmd/controller:v1.15.0"]


def test_no_resolution_settings_leave_the_set_as_it_is():
    objects = [_deployment("ko://x")]
    assert manifests.resolve_images(objects) is objects


def test_overrides_merge_into_the_named_object_only():
    flags = obj("ConfigMap", "feature-flags", "tekton-pipelines", data={"a": "1", "set-security-context": "false"})
    other = obj("ConfigMap", "other", "tekton-pipelines", data={"a": "1"})
    result = manifests.merge_overrides([flags, other], [{"kind": "ConfigMap", "name": "feature-flags",
                                                         "namespace": "tekton-pipelines",
                                                         "merge": {"data": {"set-security-context": "true"}}}])
    assert result[0]["data"] == {"a": "1", "set-security-context": "true"} and result[1] == other
    assert flags["data"]["set-security-context"] == "false"


def test_override_that_matches_nothing_names_itself():
    with pytest.raises(ManifestError, match=r"overrides\[0\]: no ConfigMap feature-flag in the set"):
        manifests.merge_overrides([obj("ConfigMap", "feature-flags", "x")],
                                  [{"kind": "ConfigMap", "name": "feature-flag", "merge": {"data": {}}}])


def test_a_crds_unstored_preserve_unknown_fields_false_is_dropped_and_nothing_else():
    def crd(api_version="apiextensions.k8s.io/v1", **spec):
        return {"apiVersion": api_version, "kind": "CustomResourceDefinition", "metadata": {"name": "foos.x.dev"},
                "spec": {"group": "x.dev", **spec}}

    stored_default, kept_true, beta = crd(preserveUnknownFields=False), crd(preserveUnknownFields=True), \
        crd("apiextensions.k8s.io/v1beta1", preserveUnknownFields=False)
    configmap = obj("ConfigMap", "c", "n", data={"preserveUnknownFields": False})
    result = manifests.without_unstored_defaults([("a.yaml", stored_default), kept_true, beta, configmap])
    assert result[0] == ("a.yaml", crd()) and result[1:] == [kept_true, beta, configmap]
    assert stored_default["spec"]["preserveUnknownFields"] is False  # the input is left alone


def test_export_text_is_sorted_round_trips_and_keeps_scripts_readable():
    script = "#!/bin/sh\nset -eu\necho hello\n"
    objects = [obj("ConfigMap", "b", "ns", data={"script": script, "x": "1"}),
               obj("Deployment", "d", "ns", api_version="apps/v1", spec={"replicas": 1}),
               obj("ConfigMap", "a", "ns"), crd("tekton.dev", "Task", "tasks"), obj("Namespace", "ns")]
    text = manifests.export_text(objects)
    assert text.startswith("# Written by aphex.platform.k8s_manifests")
    loaded = [d for d in yaml.safe_load_all(text) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in loaded] == [
        ("Namespace", "ns"), ("CustomResourceDefinition", "tasks.tekton.dev"), ("ConfigMap", "a"), ("ConfigMap", "b"),
        ("Deployment", "d")]
    assert loaded[3] == objects[0]
    assert "  script: |\n    #!/bin/sh\n" in text
    assert manifests.export_text(list(reversed(objects))) == text  # same objects, same bytes, whatever the order


def test_export_refuses_secret_values_but_not_empty_secrets():
    manifests.check_exportable([obj("Secret", "webhook-certs", "tekton-pipelines")])  # filled at run time
    for field in ("data", "stringData"):
        with pytest.raises(ManifestError, match="export: Secret ns/s has data"):
            manifests.check_exportable([obj("Secret", "s", "ns", **{field: {"k": "v"}})])


def test_write_if_changed_writes_only_differences(tmp_path):
    path = tmp_path / "a" / "b.yaml"
    assert manifests.write_if_changed(str(path), "x: 1\n", check_mode=True) and not path.exists()
    assert manifests.write_if_changed(str(path), "x: 1\n") and path.read_text() == "x: 1\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not manifests.write_if_changed(str(path), "x: 1\n")
    assert manifests.write_if_changed(str(path), "x: 2\n") and path.read_text() == "x: 2\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.yaml"]  # no temporary file left
