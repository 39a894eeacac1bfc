# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argo CD configuration, the app of apps and its sources, rendered from the real upstream lock."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lupa import lua51  # requirements-dev.txt: runs Argo CD's health check in a real Lua 5.1

from ansible_collections.aphex.platform.plugins.module_utils import gitops
from ansible_collections.aphex.platform.plugins.module_utils.gitops import GitOpsError

ROOT = Path(__file__).resolve().parents[4]
LOCK = yaml.safe_load((ROOT / "upstream" / "lock.yml").read_text())
ENTRIES = {entry["name"]: entry for entry in LOCK["components"]}
ROLE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "argocd" / "defaults" / "main.yml").read_text())
REPO = "https://git.example.com/platform-gitops.git"


def settings(**extra):
    base = {"repo_url": REPO, "path": "platform", "namespace": "argocd", "layers": ROLE_DEFAULTS["argocd_layers"],
            "helm_values": ROLE_DEFAULTS["argocd_helm_values"], "host": "argocd.example.com"}
    base.update(extra)
    return base


# ---- sources -------------------------------------------------------------------------------------------------
def test_every_lock_component_has_a_faithful_source():
    for name, entry in ENTRIES.items():
        source = gitops.upstream_source(entry)
        assert source["repoURL"].startswith("https://"), name


def test_helm_chart_source_is_the_pinned_chart_with_the_playbooks_values():
    source = gitops.upstream_source(ENTRIES["cert-manager-chart"], release_name="cert-manager",
                                    values={"crds": {"enabled": False}})
    assert source == {"repoURL": "https://charts.jetstack.io", "chart": "cert-manager",
                      "targetRevision": ENTRIES["cert-manager-chart"]["helm"]["version"],
                      "helm": {"releaseName": "cert-manager", "valuesObject": {"crds": {"enabled": False}}}}


def test_single_release_file_is_its_repository_at_the_tag_including_only_that_file():
    source = gitops.upstream_source(ENTRIES["argocd-install"])
    version = ENTRIES["argocd-install"]["version"]
    assert source == {"repoURL": "https://github.com/argoproj/argo-cd.git", "targetRevision": version,
                      "path": "manifests", "directory": {"include": "install.yaml"}}


def test_git_directory_source_includes_exactly_the_pinned_files_at_the_pinned_commit():
    entry = ENTRIES["tekton-pipelines"]
    source = gitops.upstream_source(entry)
    commit = entry["files"][0]["url"].split("/")[5]
    assert source["repoURL"] == "https://github.com/tektoncd/pipeline.git"
    assert source["targetRevision"] == commit and len(commit) == 40
    assert source["path"] == "config"
    assert source["directory"]["recurse"] is True
    included = source["directory"]["include"].strip("{}").split(",")
    pinned = sorted(f["path"][len(entry["mirror_path"]) + 1:] for f in entry["files"])
    assert included == pinned


def test_kustomization_directory_is_rendered_by_kustomize():
    source = gitops.upstream_source(ENTRIES["tekton-dashboard"])
    assert "directory" not in source and source["path"] == "config"
    with pytest.raises(GitOpsError, match="needs a kustomization.yaml"):
        gitops.upstream_source(ENTRIES["tekton-pipelines"], render="kustomize")


def test_values_for_a_non_chart_and_unusable_lock_entries_are_errors():
    with pytest.raises(GitOpsError, match="not a Helm chart"):
        gitops.upstream_source(ENTRIES["argocd-install"], values={"a": 1})
    with pytest.raises(GitOpsError, match="no git or Helm source"):
        gitops.upstream_source({"name": "x", "fetch": {"method": "none"}})
    mixed = dict(ENTRIES["gateway-api-standard"])
    mixed["files"] = [dict(f) for f in mixed["files"]]
    mixed["files"][0]["url"] = mixed["files"][0]["url"].replace(mixed["files"][0]["url"].split("/")[5], "0" * 40)
    with pytest.raises(GitOpsError, match="do not come from one directory of one commit"):
        gitops.upstream_source(mixed)


@pytest.mark.parametrize("url", ["https://github.com/a/b/c", "https://raw.githubusercontent.com/a/b", ""])
def test_only_raw_github_urls_are_split(url):
    with pytest.raises(GitOpsError):
        gitops.split_raw_github(url)


# ---- configuration ---------------------------------------------------------------------------------------------
def config(**extra):
    return {p["metadata"]["name"]: p["data"] for p in gitops.config_patches(settings(**extra))}


def test_argocd_cm_tracks_by_annotation_and_assesses_application_health():
    cm = config()["argocd-cm"]
    assert cm["application.resourceTrackingMethod"] == "annotation"
    assert cm[gitops.HEALTH_KEY] == gitops.APPLICATION_HEALTH_LUA
    assert cm["url"] == "https://argocd.example.com"
    assert cm["users.anonymous.enabled"] == "false"
    assert "oidc.config" not in cm


def test_oidc_config_references_the_secret_never_a_value():
    cm = config(oidc={"issuer": "https://dex.example.com", "client_id": "argocd", "client_secret_name": "argocd-oidc",
                      "requested_scopes": ["openid", "groups"], "groups_claim": "roles", "root_ca": "PEM"})["argocd-cm"]
    oidc = yaml.safe_load(cm["oidc.config"])
    assert oidc == {"name": "SSO", "issuer": "https://dex.example.com", "clientID": "argocd",
                    "clientSecret": "$argocd-oidc:clientSecret", "requestedScopes": ["openid", "groups"],
                    "requestedIDTokenClaims": {"roles": {"essential": True}}, "rootCA": "PEM"}


def test_oidc_needs_host_and_secret():
    with pytest.raises(GitOpsError, match="host"):
        gitops.config_patches({"oidc": {"issuer": "https://dex", "client_id": "a", "client_secret_name": "s"}})
    with pytest.raises(GitOpsError, match="client id"):
        gitops.config_patches({"host": "h", "oidc": {"issuer": "https://dex", "client_id": "a"}})


def test_rbac_maps_groups_to_roles_from_the_groups_claim():
    rbac = config(rbac={"policy": ["g, platform-admins, role:admin", "  ", "g, devs, role:readonly"],
                        "default_policy": "role:readonly"}, oidc={"groups_claim": "roles"})["argocd-rbac-cm"]
    assert rbac["policy.csv"] == "g, platform-admins, role:admin\ng, devs, role:readonly\n"
    assert rbac["policy.default"] == "role:readonly"
    assert rbac["scopes"] == "[roles]"
    assert config()["argocd-rbac-cm"]["policy.default"] == ""


def test_cmd_params_run_insecure_behind_the_ingress_with_server_side_diff():
    params = config(cmd_params_extra={"reposerver.parallelism.limit": 2})["argocd-cmd-params-cm"]
    assert params == {"server.insecure": "true", "controller.diff.server.side": "true",
                      "reposerver.parallelism.limit": "2"}
    assert config(server_insecure="false")["argocd-cmd-params-cm"]["server.insecure"] == "false"


def test_applications_in_any_namespace_are_listed_in_cmd_params():
    params = config(application_namespaces=["*"])["argocd-cmd-params-cm"]
    assert params["application.namespaces"] == "*"
    params = config(application_namespaces=" team-*, /^ci-.*$/ ,team-*,")["argocd-cmd-params-cm"]
    assert params["application.namespaces"] == "team-*, /^ci-.*$/"
    assert "application.namespaces" not in config(application_namespaces=[])["argocd-cmd-params-cm"]
    assert "application.namespaces" not in config()["argocd-cmd-params-cm"]
    # The extra keys still win (a deliberate override).
    override = config(application_namespaces=["*"], cmd_params_extra={"application.namespaces": "x"})
    assert override["argocd-cmd-params-cm"]["application.namespaces"] == "x"


def test_the_role_default_lets_every_pipeline_namespace_hold_applications():
    assert ROLE_DEFAULTS["argocd_application_namespaces"] == ["*"]


def test_applications_in_any_namespace_get_the_cluster_rbac_argocd_server_lacks():
    rendered = gitops.render(settings(application_namespaces=["*"]), LOCK["components"])
    local = rendered["install_files"]
    assert yaml.safe_load(local["kustomization.yaml"])["resources"] == ["install.yaml", "argocd-cluster-apps.yaml"]
    objects = list(yaml.safe_load_all(local["argocd-cluster-apps.yaml"]))
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert sorted(by_name) == [("ClusterRole", "argocd-notifications-controller-cluster-apps"),
                               ("ClusterRole", "argocd-server-cluster-apps"),
                               ("ClusterRoleBinding", "argocd-notifications-controller-cluster-apps"),
                               ("ClusterRoleBinding", "argocd-server-cluster-apps")]
    server = by_name[("ClusterRole", "argocd-server-cluster-apps")]["rules"]
    assert {"apiGroups": ["argoproj.io"], "resources": ["applications"],
            "verbs": ["create", "delete", "update", "patch"]} in server
    assert all("secrets" not in rule["resources"] and "*" not in rule["resources"] for o in objects
               for rule in o.get("rules", []))
    binding = by_name[("ClusterRoleBinding", "argocd-server-cluster-apps")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "argocd-server", "namespace": "argocd"}]
    # The GitOps repository's layers/argocd holds the same files (Argo CD manages the same RBAC after the hand-off).
    text = rendered["export_text"]
    assert text["layers/argocd/argocd-cluster-apps.yaml"] == local["argocd-cluster-apps.yaml"]
    assert yaml.safe_load(text["layers/argocd/kustomization.yaml"])["resources"][1:] == ["argocd-cluster-apps.yaml"]
    # Without the feature: neither the file nor the resource.
    plain = gitops.render(settings(application_namespaces=[]), LOCK["components"])["install_files"]
    assert "argocd-cluster-apps.yaml" not in plain
    assert yaml.safe_load(plain["kustomization.yaml"])["resources"] == ["install.yaml"]


# ---- applications ----------------------------------------------------------------------------------------------
def test_default_layers_render_in_bootstrap_order_with_increasing_waves():
    rendered = gitops.render(settings(), LOCK["components"])
    apps = rendered["applications"]
    assert [a["metadata"]["name"] for a in apps] == [
        "platform-cert-manager", "platform-external-secrets", "platform-ingress", "platform-auth",
        "platform-argocd", "platform-tekton"]
    waves = [int(a["metadata"]["annotations"][gitops.SYNC_WAVE]) for a in apps]
    assert waves == sorted(waves) and len(set(waves)) == len(waves)
    assert rendered["application_names"][0] == "platform-root"
    assert [o["kind"] for o in rendered["objects"]] == ["AppProject"] + ["Application"] * 7


def test_children_source_what_the_playbook_installed():
    apps = {a["metadata"]["name"]: a for a in gitops.render(settings(), LOCK["components"])["applications"]}
    cert = apps["platform-cert-manager"]["spec"]
    assert [s.get("chart") or s["path"] for s in cert["sources"]] == ["deploy/crds", "cert-manager"]
    assert cert["sources"][1]["helm"]["valuesObject"] == {"crds": {"enabled": False}}
    eso = apps["platform-external-secrets"]["spec"]["sources"]
    assert eso[1]["helm"] == {"releaseName": "external-secrets", "valuesObject": {"installCRDs": False}}
    argocd = apps["platform-argocd"]["spec"]
    assert argocd["source"] == {"repoURL": REPO, "targetRevision": "HEAD", "path": "platform/layers/argocd"}
    assert {"kind": "Secret", "name": "argocd-secret", "jsonPointers": ["/data"]} in argocd["ignoreDifferences"]
    # Tekton: only what the tekton role exported (it applied the sources transformed), recursively.
    tekton = apps["platform-tekton"]["spec"]
    assert "sources" not in tekton
    assert tekton["source"] == {"repoURL": REPO, "targetRevision": "HEAD", "path": "platform/layers/tekton",
                                "directory": {"recurse": True}}
    for app in apps.values():
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert "ServerSideApply=true" in policy["syncOptions"]
        assert "finalizers" not in app["metadata"]


def test_tekton_layer_syncs_server_side_and_ignores_what_tektons_webhooks_fill_in():
    app = next(a for a in gitops.render(settings(), LOCK["components"])["applications"]
               if a["metadata"]["name"] == "platform-tekton")["spec"]
    assert app["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "ServerSideApply=true"]
    ignored = {(d.get("kind"), d.get("name")): d for d in app["ignoreDifferences"]}
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert ".webhooks[]?.clientConfig.caBundle" in ignored[(kind, None)]["jqPathExpressions"]
        assert ".webhooks[]?.rules" in ignored[(kind, None)]["jqPathExpressions"]
    assert ".spec.conversion.webhook.clientConfig.caBundle" in ignored[
        ("CustomResourceDefinition", None)]["jqPathExpressions"]
    assert ignored[("ClusterInterceptor", None)]["jsonPointers"] == ["/spec/clientConfig/caBundle"]
    # The Secrets Tekton's upstream manifests ship empty, filled by its webhooks; no other Secret's data is ignored.
    secrets = sorted(name for kind, name in ignored if kind == "Secret")
    assert secrets == ["tekton-triggers-core-interceptors-certs", "triggers-webhook-certs", "webhook-certs"]


def test_an_exported_component_has_no_upstream_source_and_the_platform_source_recurses():
    layer = {"name": "t", "namespace": "t", "platform_manifests": True,
             "upstream": [{"component": "tekton-pipelines", "exported": True},
                          {"component": "tekton-dashboard", "render": "kustomize"}]}
    (app,) = gitops.render(settings(layers=[layer]), LOCK["components"])["applications"]
    assert [s["repoURL"] for s in app["spec"]["sources"]] == ["https://github.com/tektoncd/dashboard.git", REPO]
    assert app["spec"]["sources"][1]["directory"] == {"recurse": True}
    # Without an exported component the platform source is not recursive, and says nothing (Argo CD drops false).
    plain = dict(layer, upstream=[{"component": "tekton-pipelines", "exported": "false"}])
    (app,) = gitops.render(settings(layers=[plain]), LOCK["components"])["applications"]
    assert "directory" not in app["spec"]["sources"][1]


@pytest.mark.parametrize("item,platform,message", [
    ({"component": "tekton-pipelines", "exported": True}, False, "needs platform_manifests: true"),
    ({"component": "tekton-dashboard", "exported": "yes", "render": "kustomize"}, True, "render would not be used"),
    ({"component": "cert-manager-chart", "exported": True, "values": {}}, True, "values would not be used"),
])
def test_exported_components_reject_settings_they_cannot_honour(item, platform, message):
    layer = {"name": "t", "namespace": "t", "platform_manifests": platform, "upstream": [item]}
    with pytest.raises(GitOpsError, match=message):
        gitops.render(settings(layers=[layer]), LOCK["components"])


def test_root_manages_the_apps_directory_and_the_project_allows_exactly_the_sources():
    rendered = gitops.render(settings(cascade_delete=True), LOCK["components"])
    root = rendered["root"]
    assert root["spec"]["source"] == {"repoURL": REPO, "targetRevision": "HEAD", "path": "platform/apps"}
    assert root["metadata"]["finalizers"] == [gitops.CASCADE_FINALIZER]
    repos = set()
    for app in rendered["applications"]:
        repos.update(s["repoURL"] for s in app["spec"].get("sources") or [app["spec"]["source"]])
    assert set(rendered["project"]["spec"]["sourceRepos"]) == repos | {REPO}
    assert rendered["project"]["metadata"]["annotations"][gitops.SYNC_WAVE] == "-1"


def test_export_holds_the_apps_and_the_argocd_kustomization():
    rendered = gitops.render(settings(), LOCK["components"])
    text = rendered["export_text"]
    assert sorted(text) == sorted(
        ["apps/00-appproject.yaml", "root.yaml"] + [f"apps/{n}.yaml" for n in rendered["application_names"][1:]]
        + ["layers/argocd/kustomization.yaml", "layers/argocd/argocd-cm.yaml", "layers/argocd/argocd-rbac-cm.yaml",
           "layers/argocd/argocd-cmd-params-cm.yaml"])
    for path, obj in rendered["export"].items():
        assert yaml.safe_load(text[path]) == obj
    exported = yaml.safe_load(text["layers/argocd/kustomization.yaml"])
    assert exported["resources"] == [ENTRIES["argocd-install"]["fetch"]["url"]]
    assert exported["namespace"] == "argocd"
    assert "namespace" not in yaml.safe_load(text["layers/argocd/argocd-cm.yaml"])["metadata"]
    assert "resource.customizations.health.argoproj.io_Application: |" in text["layers/argocd/argocd-cm.yaml"]
    # What the playbook applies is the same kustomization, with the local copy of the same install.yaml.
    local = rendered["install_files"]
    assert yaml.safe_load(local["kustomization.yaml"]) == {**exported, "resources": ["install.yaml"]}
    for name in gitops.CONFIG_MAPS:
        assert local[f"{name}.yaml"] == text[f"layers/argocd/{name}.yaml"]
    sync = rendered["sync_checks"]
    assert len(sync) == 2 * len(rendered["application_names"])
    assert {c["field"] for c in sync} == {"status.sync.status", "status.health.status"}


def test_without_applications_only_the_configuration_is_rendered():
    rendered = gitops.render({"applications": "false", "host": "h"}, [])
    assert rendered["objects"] == [] and len(rendered["config_patches"]) == 3
    assert sorted(rendered["install_files"]) == ["argocd-cm.yaml", "argocd-cmd-params-cm.yaml",
                                                 "argocd-rbac-cm.yaml", "kustomization.yaml"]


def test_repo_server_git_config_is_a_configmap_the_repo_server_reads_as_system_config():
    """argocd_repo_server_git_config (e.g. a mirror through insteadOf): a ConfigMap in the kustomization and a patch
    of argocd-repo-server; applied by the playbook and exported to layers/argocd alike. Without it nothing is added."""
    text = '[url "http://mirror.example/"]\n\tinsteadOf = https://github.com/'
    rendered = gitops.render(settings(repo_server_git_config=text), LOCK["components"])
    local = rendered["install_files"]
    kustomization = yaml.safe_load(local["kustomization.yaml"])
    assert kustomization["resources"][-1] == gitops.GIT_CONFIG_FILE
    assert kustomization["patches"][-1] == {"path": gitops.GIT_CONFIG_PATCH_FILE}
    config_map = yaml.safe_load(local[gitops.GIT_CONFIG_FILE])
    assert config_map["metadata"]["name"] == gitops.GIT_CONFIG_NAME and config_map["data"] == {"gitconfig": text + "\n"}
    patch = yaml.safe_load(local[gitops.GIT_CONFIG_PATCH_FILE])
    pod = patch["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "argocd-repo-server"
    assert container["env"] == [{"name": "GIT_CONFIG_SYSTEM", "value": "/etc/aphex/git/gitconfig"}]
    assert container["volumeMounts"][0]["mountPath"] == "/etc/aphex/git"
    assert pod["volumes"] == [{"name": "aphex-gitconfig", "configMap": {"name": gitops.GIT_CONFIG_NAME}}]
    for name in (gitops.GIT_CONFIG_FILE, gitops.GIT_CONFIG_PATCH_FILE):
        assert rendered["export_text"][f"layers/argocd/{name}"] == local[name]
    plain = gitops.render(settings(), LOCK["components"])["install_files"]
    assert gitops.GIT_CONFIG_FILE not in plain and gitops.GIT_CONFIG_FILE not in plain["kustomization.yaml"]


@pytest.mark.parametrize("layers,message", [
    ([{"name": "a", "namespace": "x", "wave": 2}, {"name": "b", "namespace": "x", "wave": 1}], "non-decreasing"),
    ([{"name": "a", "namespace": "x"}, {"name": "a", "namespace": "y"}], "listed twice"),
    ([{"name": "a"}], "needs namespace"),
    ([{"name": "a", "namespace": "x", "upstream": [{"component": "nope"}]}], "not in the upstream lock"),
    ([{"name": "a", "namespace": "x"}], "no upstream components and no platform manifests"),
])
def test_invalid_layers_are_rejected(layers, message):
    with pytest.raises(GitOpsError, match=message):
        gitops.render(settings(layers=layers), LOCK["components"])


def test_the_gitops_repository_is_required_for_the_hand_off():
    with pytest.raises(GitOpsError, match="argocd_gitops_repo_url is empty"):
        gitops.render(settings(repo_url=""), LOCK["components"])


# ---- the Application health check, run by a Lua 5.1 interpreter (Argo CD uses gopher-lua, Lua 5.1) ----------------


def test_health_lua_waits_while_the_child_has_no_health_yet():
    runtime = lua51.LuaRuntime()
    runtime.globals().obj = runtime.table_from({})
    assert dict(runtime.execute(gitops.APPLICATION_HEALTH_LUA).items()) == {"status": "Progressing", "message": ""}


@pytest.mark.parametrize("health_status,message", [("Healthy", None), ("Degraded", "Deployment x failed"),
                                                   ("Progressing", "waiting for rollout"), ("Missing", None)])
def test_health_lua_reports_the_childs_own_health(health_status, message):
    runtime = lua51.LuaRuntime()
    health_table = {"status": health_status}
    if message:
        health_table["message"] = message
    runtime.globals().obj = runtime.table_from(
        {"status": runtime.table_from({"health": runtime.table_from(health_table),
                                       "sync": runtime.table_from({"status": "Synced"})})})
    result = dict(runtime.execute(gitops.APPLICATION_HEALTH_LUA).items())
    assert result == {"status": health_status, "message": message or ""}


def test_health_lua_with_status_but_no_health_is_progressing():
    runtime = lua51.LuaRuntime()
    runtime.globals().obj = runtime.table_from({"status": runtime.table_from({"sync": runtime.table_from({})})})
    assert dict(runtime.execute(gitops.APPLICATION_HEALTH_LUA).items())["status"] == "Progressing"


def test_argocd_image_override_is_a_kustomize_images_entry():
    from ansible_collections.aphex.platform.plugins.module_utils import gitops as g
    assert g.image_override("") == []
    assert g.image_override("quay.io/argoproj/argocd:v3.5.2") == [{"name": "quay.io/argoproj/argocd", "newTag": "v3.5.2"}]
    assert g.image_override("registry.local:5000/argocd@sha256:ab") == [
        {"name": "quay.io/argoproj/argocd", "newName": "registry.local:5000/argocd", "digest": "sha256:ab"}]
    with pytest.raises(g.GitOpsError, match="argocd_image"):
        g.image_override("registry.local:5000/argocd")
    kustomization = g.kustomization("install.yaml", "argocd", image="quay.io/argoproj/argocd:v3.5.2")
    assert kustomization["images"] == [{"name": "quay.io/argoproj/argocd", "newTag": "v3.5.2"}]
    assert "images" not in g.kustomization("install.yaml", "argocd")


def test_without_the_bundled_dex_the_kustomization_deletes_it_in_the_apply_and_the_export_alike():
    rendered = gitops.render(settings(bundled_dex="false"), LOCK["components"])
    local = yaml.safe_load(rendered["install_files"]["kustomization.yaml"])
    exported = yaml.safe_load(rendered["export_text"]["layers/argocd/kustomization.yaml"])
    assert local == {**exported, "resources": ["install.yaml"]}
    deletions = [yaml.safe_load(p["patch"]) for p in local["patches"] if "patch" in p]
    assert all(d.pop("$patch") == "delete" for d in deletions)
    assert {(d["kind"], d["metadata"]["name"]) for d in deletions} == {
        ("ServiceAccount", "argocd-dex-server"), ("Role", "argocd-dex-server"), ("RoleBinding", "argocd-dex-server"),
        ("Service", "argocd-dex-server"), ("Deployment", "argocd-dex-server"),
        ("NetworkPolicy", "argocd-dex-server-network-policy")}
    assert [p for p in local["patches"] if "path" in p] == [{"path": f"{n}.yaml"} for n in gitops.CONFIG_MAPS]
    # What the playbook deletes when an earlier install left it running: the same objects, in Argo CD's namespace.
    assert [(o["kind"], o["metadata"]["name"], o["metadata"]["namespace"]) for o in rendered["bundled_dex_objects"]] \
        == [(d["kind"], d["metadata"]["name"], "argocd") for d in deletions]

    kept = gitops.render(settings(bundled_dex=True), LOCK["components"])
    assert all("path" in p for p in yaml.safe_load(kept["install_files"]["kustomization.yaml"])["patches"])
    assert kept["bundled_dex_objects"] == []
    assert ROLE_DEFAULTS["argocd_bundled_dex_enabled"] is False


def test_other_install_images_by_upstream_name():
    from ansible_collections.aphex.platform.plugins.module_utils import gitops as g
    assert g.image_override("ghcr.io/dexidp/dex:v2.44.0", "ghcr.io/dexidp/dex") == [
        {"name": "ghcr.io/dexidp/dex", "newTag": "v2.44.0"}]
    with pytest.raises(g.GitOpsError, match=r"argocd_image_overrides\[ghcr.io/dexidp/dex\]"):
        g.image_override("dex", "ghcr.io/dexidp/dex", "argocd_image_overrides[ghcr.io/dexidp/dex]")
