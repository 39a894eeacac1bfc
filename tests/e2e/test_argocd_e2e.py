# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argo CD really deploys a team's repository, inside the bounds its repository binding set, and nowhere else.

An organization and its repository are onboarded with the collection's playbook (``playbooks/onboard_org.yml``,
run twice: the second run changes nothing). The repository binding (``aphex.platform.repobinding``) made the
pipeline namespace, the ``pipeline-runner`` ServiceAccount allowed to manage Argo CD Applications there, and the
AppProject ``<pipeline>``: sources ``https://github.com/<owner>/<repo>(.git)``, destinations the pipeline
namespace and ``<pipeline>-*``, Applications only from the pipeline namespace.

The repository's manifests are pushed to the in-cluster git server (I3's ``git_server``). GitHub is not reachable
here, so the test inventory gives Argo CD's repo-server a system git config whose ``insteadOf`` maps
``https://github.com/`` to the git server (``argocd_repo_server_git_config``): the Applications name the
repository exactly as in production. The target revision is the pushed commit (a full sha: the repo-server then
only runs ``git fetch``, which honours ``insteadOf``).

Then, acting as the pipeline's ``pipeline-runner`` (impersonated), the test creates in the pipeline namespace:
- an Application in the repository's project to the pipeline namespace: Argo CD syncs it at the pushed commit and
  it becomes Healthy (a Deployment whose pod serves, a ConfigMap with the pushed content);
- Applications Argo CD itself refuses, each with its condition: a destination outside the project, a repository
  the project does not allow, and the ``default`` project (which admits no Application from this namespace).
"""

from __future__ import annotations

import copy
import json
import time

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

import gitserver  # I3's in-cluster git server (tests/e2e/gitserver.py)

ARGOCD_NAMESPACE = "argocd"
ORG = "e2e-argo"
GITHUB_OWNER = "e2e-argo-org"
REPO = "web"
PIPELINE = "e2e-argo-web"  # the pipeline namespace and the AppProject
OUTSIDE = "e2e-argo-outside"  # a namespace that exists but is not among the project's destinations
REPO_URL = f"https://github.com/{GITHUB_OWNER}/{REPO}.git"
GIT_SERVER_REPO = f"{GITHUB_OWNER}/{REPO}"  # served as http://git-server.e2e-git.svc/<owner>/<repo>.git
RUNNER = f"system:serviceaccount:{PIPELINE}:pipeline-runner"
APP_GROUP, APP_VERSION = "argoproj.io", "v1alpha1"
SYNC_TIMEOUT = 420

PIPELINE_SPEC = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: e2e-argo-web
spec:
  tasks:
    - name: noop
      taskSpec:
        steps:
          - name: noop
            image: docker.io/aphex/git:bookworm
            script: "true"
"""

ORGANIZATION = {
    "name": ORG,
    "display_name": "E2E Argo CD",
    "admin_users": ["admin@e2e-argo.invalid"],
    "exposure": "none",
    "events": ["push"],
    "github_owners": [GITHUB_OWNER],
    "repositories": [{"repo_org": GITHUB_OWNER, "repo_name": REPO, "pipeline_name": PIPELINE, "branches": ["main"],
                      "pipeline_spec": PIPELINE_SPEC}],
}


def app_manifests(message: str) -> dict:
    """The repository's deploy/ directory: a ConfigMap carrying ``message`` and a Deployment whose pod serves HTTP
    (the git server image: it exists in the local registry and listens on 8080), restricted like the namespace."""
    labels = {"app.kubernetes.io/name": "e2e-argo-web"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "e2e-argo-web", "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                    "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "web", "image": gitserver.IMAGE, "imagePullPolicy": "IfNotPresent",
                    "env": [{"name": "HOME", "value": "/tmp"}, {"name": "GIT_PROJECT_ROOT", "value": "/srv/git"}],
                    "ports": [{"name": "http", "containerPort": gitserver.CONTAINER_PORT}],
                    "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "volumeMounts": [{"name": "repos", "mountPath": "/srv/git"}, {"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "repos", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
            }}},
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e2e-argo-web", "labels": labels},
              "data": {"message": message}}
    return {"deploy/deployment.yaml": yaml.safe_dump(deployment, sort_keys=False),
            "deploy/configmap.yaml": yaml.safe_dump(config, sort_keys=False)}


def application(name: str, destination_namespace: str, revision: str, project: str = PIPELINE,
                repo_url: str = REPO_URL, cascade: bool = False) -> dict:
    metadata = {"name": name, "namespace": PIPELINE}
    if cascade:  # deleting the Application deletes what it deployed (only where Argo CD manages it)
        metadata["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    return {
        "apiVersion": f"{APP_GROUP}/{APP_VERSION}", "kind": "Application",
        "metadata": metadata,
        "spec": {
            "project": project,
            "source": {"repoURL": repo_url, "targetRevision": revision, "path": "deploy"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": destination_namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": {"limit": 2}},
        },
    }


def impersonating(api, user: str):
    """An ApiClient that acts as ``user`` (the API server checks the caller may impersonate; the admin may)."""
    runner = k8s.ApiClient(copy.copy(api.configuration))
    runner.set_default_header("Impersonate-User", user)
    return runner


def wait_for(what: str, probe, timeout: float = SYNC_TIMEOUT, sleep: float = 3):
    """Poll ``probe()`` -> (done, detail) until done; fail with the last detail."""
    deadline = time.monotonic() + timeout
    detail = None
    while time.monotonic() < deadline:
        done, detail = probe()
        if done:
            return detail
        time.sleep(sleep)
    raise AssertionError(f"{what}: not after {timeout}s; last seen:\n{json.dumps(detail, indent=2, default=str)[:6000]}")


def onboard(e2e_platform, state: str = "present"):
    """playbooks/onboard_org.yml for this test's organization and its repository, as an operator runs it.

    Self-service reconciliation is off: the organizations other tests onboarded (with -e org=..., so in no
    inventory) would be reconciled here as self-service, and one of theirs that is broken would fail this run.
    (That reconciliation used to strip their RepoBindings' specs: fixed in the repobinding module, found here.)
    This test is about its own organization."""
    return e2e_platform.playbook("onboard_org.yml", timeout=900, extra_vars={
        "org": dict(ORGANIZATION, state=state), "organization_self_service": False, "repository_self_service": False})


def delete_applications(api, timeout: float = 180) -> None:
    """Delete every Application in the pipeline namespace and wait until they are gone (Argo CD runs the cascade
    finalizer of the one that deployed something, deleting what it deployed)."""
    custom = k8s.CustomObjectsApi(api)

    def names():
        try:
            items = custom.list_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications")["items"]
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise
        return [item["metadata"]["name"] for item in items]

    for name in names():
        try:
            custom.delete_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications", name)
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for(f"Applications in {PIPELINE} deleted", lambda: (not names(), names()), timeout=timeout)


@pytest.fixture(scope="module")
def onboarded(e2e_platform):
    first = onboard(e2e_platform)
    assert first.ok, first.summary()
    again = onboard(e2e_platform)
    assert again.ok, again.summary()
    assert again.changed() == 0, "second onboarding run changed: " + ", ".join(t.name for t in again.changed_tasks())
    core = k8s.CoreV1Api(e2e_platform.api)
    try:
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=OUTSIDE)))
    except ApiException as exc:
        if exc.status != 409:
            raise
    delete_applications(e2e_platform.api)  # left over by an earlier run on a reused cluster
    yield
    delete_applications(e2e_platform.api)
    if not getattr(e2e_platform, "reused", False):
        gone = onboard(e2e_platform, state="absent")
        assert gone.ok, gone.summary()
        core.delete_namespace(OUTSIDE)


# I3's session fixture, under this module's name for it.
git_repo = gitserver.git_server


def app_status(custom, name: str) -> dict:
    return custom.get_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications", name).get("status") or {}


def test_the_repository_project_is_what_the_binding_made(e2e_platform, onboarded):
    project = k8s.CustomObjectsApi(e2e_platform.api).get_namespaced_custom_object(
        APP_GROUP, APP_VERSION, ARGOCD_NAMESPACE, "appprojects", PIPELINE)
    spec = project["spec"]
    assert spec["sourceRepos"] == [REPO_URL[:-len(".git")], REPO_URL]
    assert spec["sourceNamespaces"] == [PIPELINE]
    assert {d["namespace"] for d in spec["destinations"]} == {PIPELINE, f"{PIPELINE}-*"}
    assert spec["clusterResourceWhitelist"] == []
    assert project["metadata"]["labels"]["platform.aphex/pipeline"] == PIPELINE


def test_an_application_in_the_repository_project_syncs_from_git_and_becomes_healthy(e2e_platform, onboarded, git_repo):
    api = e2e_platform.api
    custom = k8s.CustomObjectsApi(api)
    sha = git_repo.push(GIT_SERVER_REPO, app_manifests("first"), message="deploy: first")
    print(f"pushed {GIT_SERVER_REPO}@main {sha} (served at {git_repo.url(GIT_SERVER_REPO)}, named {REPO_URL})")

    # The pipeline's ServiceAccount creates it, in its own namespace: what the binding's RBAC allows.
    runner = k8s.CustomObjectsApi(impersonating(api, RUNNER))
    runner.create_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications",
                                           application("web", PIPELINE, sha, cascade=True))

    def synced():
        status = app_status(custom, "web")
        ok = (status.get("sync", {}).get("status") == "Synced" and status.get("health", {}).get("status") == "Healthy"
              and status.get("sync", {}).get("revision") == sha)
        return ok, status

    status = wait_for(f"Application {PIPELINE}/web Synced and Healthy at {sha}", synced)
    shown = {key: status.get(key) for key in ("sync", "health", "operationState")}
    print("Application status:", json.dumps(shown, indent=2, default=str)[:4000])
    resources = {(r["kind"], r["name"]): r for r in status["resources"]}
    assert set(resources) == {("ConfigMap", "e2e-argo-web"), ("Deployment", "e2e-argo-web")}
    assert all(r["namespace"] == PIPELINE and r["status"] == "Synced" for r in resources.values())
    # Argo CD 3 keeps per-resource health out of the Application status (controller.resource.health.persist);
    # the Application's health (Healthy above) is the aggregate, and the Deployment itself says its pod is ready.
    assert status["operationState"]["phase"] == "Succeeded" and status["operationState"]["syncResult"]["revision"] == sha
    # What Argo CD applied is in the cluster: the pushed content, a pod that is ready.
    assert k8s.CoreV1Api(api).read_namespaced_config_map("e2e-argo-web", PIPELINE).data == {"message": "first"}
    deployment = k8s.AppsV1Api(api).read_namespaced_deployment("e2e-argo-web", PIPELINE)
    assert deployment.status.ready_replicas == 1
    assert "argocd.argoproj.io/tracking-id" in (deployment.metadata.annotations or {})

    # A new commit (target revision moved to it) is synced too: Argo CD follows the repository, not a copy.
    second = git_repo.push(GIT_SERVER_REPO, {"deploy/configmap.yaml": app_manifests("second")["deploy/configmap.yaml"]},
                           message="deploy: second")
    custom.patch_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications", "web",
                                          {"spec": {"source": {"targetRevision": second}}})
    wait_for("ConfigMap carries the second commit's content", lambda: (
        app_status(custom, "web").get("sync", {}).get("revision") == second
        and k8s.CoreV1Api(api).read_namespaced_config_map("e2e-argo-web", PIPELINE).data == {"message": "second"},
        app_status(custom, "web")))


def refusal(custom, name: str, kind: str = "InvalidSpecError") -> dict:
    """Wait for Argo CD's own condition ``kind`` on Application ``name``; return it."""
    def seen():
        status = app_status(custom, name)
        conditions = [c for c in status.get("conditions") or [] if c.get("type") == kind]
        return bool(conditions), conditions or status
    conditions = wait_for(f"Argo CD's {kind} on {PIPELINE}/{name}", seen, timeout=180)
    print(f"{PIPELINE}/{name}: {json.dumps(conditions, indent=2)}")
    return conditions[0]


def test_argocd_refuses_applications_outside_the_repository_project(e2e_platform, onboarded, git_repo):
    api = e2e_platform.api
    custom = k8s.CustomObjectsApi(api)
    sha = git_repo.head(GIT_SERVER_REPO) if _has_repo(git_repo) else git_repo.push(
        GIT_SERVER_REPO, app_manifests("refusal"), message="deploy: refusal")
    runner = k8s.CustomObjectsApi(impersonating(api, RUNNER))

    runner.create_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications",
                                           application("outside", OUTSIDE, sha))
    condition = refusal(custom, "outside")
    assert "do not match any of the allowed destinations in project" in condition["message"], condition
    assert OUTSIDE in condition["message"] and PIPELINE in condition["message"], condition

    runner.create_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications",
                                           application("other-repo", PIPELINE, sha,
                                                       repo_url=git_repo.url(GIT_SERVER_REPO)))
    condition = refusal(custom, "other-repo")
    assert "is not permitted in project" in condition["message"], condition

    runner.create_namespaced_custom_object(APP_GROUP, APP_VERSION, PIPELINE, "applications",
                                           application("default-project", PIPELINE, sha, project="default"))
    # The project check itself (AppProject default names no sourceNamespaces); Argo CD reports it as UnknownError.
    condition = refusal(custom, "default-project", kind="UnknownError")
    assert condition["message"] == (f"application 'default-project' in namespace '{PIPELINE}' is not permitted to use "
                                    "project 'default'"), condition

    # Refused means nothing was deployed: no sync ran, nothing in the outside namespace.
    for name in ("outside", "other-repo", "default-project"):
        status = app_status(custom, name)
        assert not status.get("operationState"), (name, status.get("operationState"))
    core = k8s.CoreV1Api(api)
    assert core.list_namespaced_config_map(OUTSIDE, label_selector="app.kubernetes.io/name=e2e-argo-web").items == []
    assert k8s.AppsV1Api(api).list_namespaced_deployment(OUTSIDE).items == []


def test_the_pipeline_runner_cannot_place_applications_in_argocds_namespace(e2e_platform, onboarded):
    """The guard before Argo CD: Kubernetes RBAC gives the runner Applications in its own namespace only."""
    runner = k8s.CustomObjectsApi(impersonating(e2e_platform.api, RUNNER))
    body = application("sneaky", PIPELINE, "0" * 40)
    body["metadata"]["namespace"] = ARGOCD_NAMESPACE
    with pytest.raises(ApiException) as refused:
        runner.create_namespaced_custom_object(APP_GROUP, APP_VERSION, ARGOCD_NAMESPACE, "applications", body)
    assert refused.value.status == 403, refused.value


def _has_repo(git_repo) -> bool:
    try:
        git_repo.head(GIT_SERVER_REPO)
        return True
    except AssertionError:
        return False
