# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platform on kind, as bootstrap.yml leaves it: its gates, a broken controller, and the GitOps hand-off.

* A running component that is broken fails its gate with the diagnostic: Tekton's webhook Deployment scaled to 0
  (what `kubectl scale` does by mistake, and what nothing repairs: the manifest has no replicas, and its
  HorizontalPodAutoscaler does not scale up from 0) makes the Pipelines gate of a re-run fail, naming the webhook
  Service without ready endpoints.
* The hand-off: the export of the first run is pushed to the in-cluster git server; bootstrap.yml runs again with
  every gate (including the Argo CD sync gate): the root Application syncs the exported manifests and reports Synced
  (and Healthy but for the Tekton Dashboard, which cannot run here), the objects it took over kept their spec,
  platform-tekton syncs what the tekton role applied without changing the running Tekton, and the run reports
  changed=0. The gates of
  the components that run skipped nothing; those that cannot run said why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kubernetes import client

# The fixture of tests/e2e/gitserver.py.
from gitserver import git_server  # noqa: F401 pylint: disable=unused-import

GITOPS_REPO = "platform-gitops"
ARGOCD_NS = "argocd"
ROOT_APP = "platform-root"
TEKTON_APP = "platform-tekton"
TRACKING = "argocd.argoproj.io/tracking-id"
# Gate components that run on the kind cluster: their gates must skip nothing.
RUNNING = ("tekton", "argocd", "dex")


def _wait(predicate, timeout: float, what: str, interval: float = 3.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def _scale(apps: client.AppsV1Api, namespace: str, name: str, replicas: int) -> None:
    apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})


def test_webhook_scaled_to_zero_fails_the_pipelines_gate(e2e_platform):
    apps = client.AppsV1Api(e2e_platform.api)
    namespace, name = "tekton-pipelines", "tekton-pipelines-webhook"
    _scale(apps, namespace, name, 0)
    try:
        core = client.CoreV1Api(e2e_platform.api)
        selector = "app.kubernetes.io/name=webhook,app.kubernetes.io/part-of=tekton-pipelines"
        _wait(lambda: not core.list_namespaced_pod(namespace, label_selector=selector).items, 120,
              "the webhook pods to be gone")
        run = e2e_platform.playbook("bootstrap.yml", tags=["tekton"], extra_vars={"tekton_wait_timeout": 45})
        print(run.summary(3000))
        assert not run.ok, "the Tekton gate passed with the webhook scaled to 0"
        failed = run.failed_tasks()
        assert [t.name for t in failed] == ["aphex.platform.tekton : Tekton | Pipelines readiness gate (CRDs Established, "
                                            "Deployments Available, webhooks)"], [t.name for t in failed]
        result = failed[0].result
        print("failed_checks:", result.get("failed_checks"))
        print("diagnostics.endpoints:", (result.get("diagnostics") or {}).get("endpoints"))
        checks = {c["check"]: c["reason"] for c in result["failed_checks"]}
        assert any("webhook" in check and name in reason for check, reason in checks.items()), checks
        assert not result.get("skipped_checks"), result.get("skipped_checks")
        assert name in result["msg"] and "Diagnostic" in result["msg"], result["msg"][-2000:]
    finally:
        _scale(apps, namespace, name, 1)
        _wait(lambda: (apps.read_namespaced_deployment(name, namespace).status.ready_replicas or 0) >= 1, 240,
              "the webhook to be back")


def _gitops_files(export_dir: Path) -> dict:
    return {str(path.relative_to(export_dir)): path.read_text(encoding="utf-8")
            for path in sorted(export_dir.rglob("*")) if path.is_file()}


def _argocd_objects(api) -> dict:
    """(kind, name) -> object of the AppProject and Applications the playbook applied in argocd."""
    custom = client.CustomObjectsApi(api)
    found = {}
    for plural, kind in (("appprojects", "AppProject"), ("applications", "Application")):
        for item in custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD_NS, plural)["items"]:
            found[(kind, item["metadata"]["name"])] = item
    return found


def test_handoff_root_application_synced_and_rerun_unchanged(e2e_platform, git_server):  # noqa: F811
    export_dir = Path(os.environ["APHEX_KIND_SESSION_DIR"]) / "clusters" / e2e_platform.cluster_name / "gitops"
    files = _gitops_files(export_dir)
    assert "platform/root.yaml" in files and "platform/apps/00-appproject.yaml" in files, sorted(files)
    sha = git_server.push(GITOPS_REPO, files, message="platform export of bootstrap.yml")
    print(f"pushed {len(files)} files of {export_dir} to {git_server.url(GITOPS_REPO)} at {sha}")
    before = _argocd_objects(e2e_platform.api)
    assert ("Application", ROOT_APP) in before, sorted(before)
    tekton_before = _tekton_state(e2e_platform.api)
    assert not any(image.startswith("ko://") for image in tekton_before["images"].values()), tekton_before

    # Argo CD polls Git every ~3 minutes; ask for a refresh now (what a Git webhook to Argo CD would do).
    for app in (ROOT_APP, TEKTON_APP):
        client.CustomObjectsApi(e2e_platform.api).patch_namespaced_custom_object(
            "argoproj.io", "v1alpha1", ARGOCD_NS, "applications", app,
            {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})

    run = e2e_platform.playbook("bootstrap.yml")
    print(run.summary(3000))
    assert run.ok, run.summary()
    assert run.stats["localhost"]["changed"] == 0, [t.name for t in run.changed_tasks()]

    # The run's sync gate waited for Synced; Argo CD assesses health after a sync, and the root's health follows its
    # Applications' on its next reconcile: wait until the picture is settled (or 5 minutes), then judge it.
    snapshot = _settled_applications(e2e_platform.api, sha, timeout=300)
    apps = snapshot["apps"]
    print("Applications (sync, revision, health, last operation):", apps)
    print(f"{TEKTON_APP} Deployments not available:", snapshot["tekton_unhealthy"])
    status = snapshot["root"]
    assert apps[ROOT_APP][:2] == ("Synced", sha), apps[ROOT_APP]
    # App of apps: the root is as healthy as its Applications. Only platform-tekton may be unhealthy, and in it only
    # the Tekton Dashboard (declared not running here: its image cannot be built), which never becomes available.
    # (The other layers' Applications name upstream Git sources this machine cannot reach: sync Unknown, and they
    # are not gated here.)
    unhealthy_apps = sorted(name for name, app in apps.items() if name != ROOT_APP and app[2] != "Healthy")
    assert unhealthy_apps in ([], [TEKTON_APP]), apps
    assert all("dashboard" in name for _kind, _ns, name, _health in snapshot["tekton_unhealthy"]), snapshot
    if unhealthy_apps:
        assert snapshot["tekton_unhealthy"], snapshot  # the Application's health has a resource that explains it
        assert apps[ROOT_APP][2] in ("Degraded", "Progressing"), apps
    else:
        assert apps[ROOT_APP][2] == "Healthy", apps

    # What the root took over (the AppProject and the layer Applications) kept the spec the playbook applied.
    after = _argocd_objects(e2e_platform.api)
    synced = {(r["kind"], r["name"]) for r in status.get("resources") or []}
    assert synced, "the root Application tracks nothing"
    for key in sorted(synced):
        assert key in before and key in after, key
        assert TRACKING in (after[key]["metadata"].get("annotations") or {}), f"{key} not tracked by Argo CD"
        # The spec, not metadata.generation: Application has no status subresource, so every status write of the
        # application controller bumps its generation.
        assert after[key]["spec"] == before[key]["spec"], f"{key}: spec changed at the hand-off"

    # The Tekton layer: Argo CD synced what the tekton role applied (ko references resolved, image overrides,
    # feature flags) from the exported components, and the running Tekton kept exactly that.
    tekton_status = snapshot["tekton"]
    assert apps[TEKTON_APP][:2] == ("Synced", sha), apps[TEKTON_APP]
    tracked = {(r["kind"], r.get("namespace", ""), r["name"]) for r in tekton_status.get("resources") or []}
    assert ("Deployment", "tekton-pipelines", "tekton-pipelines-controller") in tracked, sorted(tracked)[:20]
    assert _tekton_state(e2e_platform.api) == tekton_before

    # Gates: the components that run skipped nothing; the others said why.
    gates = [t for t in run.tasks(action="aphex.platform.readiness_gate") if not t.skipped]
    assert gates
    for task in gates:
        reason = task.result.get("not_running_reason", "")
        skipped = task.result.get("skipped_checks") or []
        print(f"gate {task.name}: passed {len(task.result.get('passed') or [])}, skipped {len(skipped)}"
              + (f" ({reason})" if reason else ""))
        if not reason:
            assert skipped == [], (task.name, skipped)
        else:
            assert all(item["reason"] == reason for item in skipped), (task.name, skipped)
    ran = {t.name for t in gates if not t.result.get("not_running_reason")}
    for component in ("Tekton | Pipelines readiness gate", "Tekton | Triggers readiness gate",
                      "Argo CD | Readiness gate", "Argo CD | Applications Synced and Healthy"):
        assert any(component in name for name in ran), (component, sorted(ran))


def _unavailable_deployments(api, resources: list) -> list:
    """(kind, namespace, name, reason) of the Deployments among an Application's resources that are not Available.
    Argo CD 3 no longer keeps each resource's health in the Application's status (only in its resource tree, behind
    its API's authentication); the cluster says it as well."""
    apps_api = client.AppsV1Api(api)
    found = []
    for resource in resources:
        if resource["kind"] != "Deployment":
            continue
        deployment = apps_api.read_namespaced_deployment(resource["name"], resource["namespace"])
        available = [c for c in deployment.status.conditions or [] if c.type == "Available"]
        if not (available and available[0].status == "True"):
            found.append(("Deployment", resource["namespace"], resource["name"],
                          available[0].reason if available else "no Available condition"))
    return found


def _settled_applications(api, sha: str, timeout: float) -> dict:
    """The Applications once Argo CD has settled after the sync of ``sha``: the root and platform-tekton Synced at
    it, platform-tekton's sync operation over and its resources assessed, and the root's health the worst of its
    Applications' (the app of apps health check). The last snapshot when that does not happen within ``timeout``."""
    custom = client.CustomObjectsApi(api)
    order = {"Healthy": 0, "Progressing": 1, "Degraded": 2}
    deadline = time.monotonic() + timeout
    while True:
        items = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD_NS, "applications")["items"]
        statuses = {item["metadata"]["name"]: item.get("status") or {} for item in items}
        apps = {name: ((st.get("sync") or {}).get("status"), (st.get("sync") or {}).get("revision"),
                       (st.get("health") or {}).get("status"), (st.get("operationState") or {}).get("phase"))
                for name, st in statuses.items()}
        tekton = statuses.get(TEKTON_APP) or {}
        resources = tekton.get("resources") or []
        snapshot = {"apps": apps, "root": statuses.get(ROOT_APP) or {}, "tekton": tekton,
                    "tekton_unhealthy": _unavailable_deployments(api, resources)}
        children = [app[2] for name, app in apps.items() if name != ROOT_APP]
        worst = max(children, key=lambda health: order.get(health, 3)) if children else "Healthy"
        settled = (apps.get(ROOT_APP, (None, None))[:2] == ("Synced", sha)
                   and apps.get(TEKTON_APP, (None, None))[:2] == ("Synced", sha)
                   and apps[TEKTON_APP][3] != "Running"
                   and any(r["kind"] == "Deployment" and r["name"] == "tekton-pipelines-controller" for r in resources)
                   and (apps[ROOT_APP][2] == "Healthy") == (worst == "Healthy"))
        if settled or time.monotonic() > deadline:
            return snapshot
        time.sleep(5)


def _tekton_state(api) -> dict:
    """What the hand-off must not change in the running Tekton: every container image of its Deployments, the
    controller's arguments (the -*-image flags) and the feature flags."""
    apps = client.AppsV1Api(api)
    images, args = {}, {}
    for ns in ("tekton-pipelines", "tekton-pipelines-resolvers"):
        for dep in apps.list_namespaced_deployment(ns).items:
            for container in dep.spec.template.spec.containers:
                images[f"{ns}/{dep.metadata.name}/{container.name}"] = container.image
                if dep.metadata.name == "tekton-pipelines-controller":
                    args[container.name] = list(container.args or [])
    flags = client.CoreV1Api(api).read_namespaced_config_map("feature-flags", "tekton-pipelines").data
    return {"images": images, "args": args, "feature_flags": flags}


@pytest.mark.parametrize("component", RUNNING)
def test_running_components_are_not_declared_not_running(e2e_platform, component):
    """The inventory never hides a component that runs behind aphex_components_not_running."""
    import yaml  # pylint: disable=import-outside-toplevel
    data = yaml.safe_load((Path(e2e_platform.inventory) / "group_vars" / "all" / "cluster.yml").read_text())
    assert component not in data["aphex_components_not_running"]
    assert "*" not in data["aphex_components_not_running"]
