# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pipeline catalog runs on real Tekton (issue 10, deliverable 3, first bullet).

The catalog (role aphex.platform.tekton, namespace pipeline-catalog) is what bootstrap.yml installed; the runs
reference it through the cluster resolver exactly as the organizations' PipelineRuns do. Sources come from the
in-cluster git server. The runs live in namespace e2e-tekton-catalog under a ServiceAccount that may only manage
ConfigMaps there, so what kubectl-deploy applied is checked in the cluster afterwards.

* catalog Tasks git-clone + kubectl-deploy with valid manifests: Succeeded, the ConfigMap carries the commit's
  content;
* the same with a manifest the API server rejects: kubectl's failure fails the deploy TaskRun and the
  PipelineRun (the catalog's scripts never mask a failure).

* the catalog Pipeline build-and-deploy itself: clone, a real rootless buildah build of the commit's Dockerfile
  pushed to an in-cluster registry (plain HTTP: tls-verify "false"), then the deploy: Succeeded, its image-digest
  result is the digest the registry serves for the tag, and the manifests are applied.

Not exercised: build-and-sync (the same build, then an Argo CD sync through the API server with a token, which the
Argo CD tests cover separately), and a Deployment running the built image (kind's containerd pulls through the
session registry, which cannot see the in-cluster one); Dockerfiles with RUN steps (rootless buildah in a pod has a
single id mapping here, hack/images/README.md).
"""

from __future__ import annotations

import pytest
from kubernetes import client

from gitserver import git_server  # noqa: F401  # pylint: disable=unused-import
import tekton_support as ts

NS = "e2e-tekton-catalog"
SA = "deployer"
CATALOG_NS = "pipeline-catalog"
REPO = "catalog-app"


def _cluster_ref(kind: str, name: str) -> dict:
    params = [{"name": "kind", "value": kind}, {"name": "name", "value": name},
              {"name": "namespace", "value": CATALOG_NS}]
    return {"resolver": "cluster", "params": params}


def _pod_template() -> dict:
    return {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}}}


def _workspace() -> dict:
    return {"name": "source", "volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}


@pytest.fixture(scope="module")
def catalog_ns(e2e_platform, git_server):  # noqa: F811
    api = e2e_platform.api
    for name in ("git-clone", "kubectl-deploy", "buildah-build"):
        assert ts.get(api, ts.TEKTON, "Task", name, CATALOG_NS), f"catalog Task {name} missing in {CATALOG_NS}"
    assert ts.get(api, ts.TEKTON, "Pipeline", "build-and-deploy", CATALOG_NS), "catalog Pipeline missing"
    # buildah (rootless, SETFCAP) needs Pod Security baseline, as the catalog's comment says.
    ts.apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {
        "pod-security.kubernetes.io/enforce": "baseline"}}})
    ts.apply(api, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SA, "namespace": NS}})
    ts.apply(api, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                   "metadata": {"name": SA, "namespace": NS},
                   "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                              "verbs": ["get", "list", "watch", "create", "update", "patch"]}]})
    ts.apply(api, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": SA, "namespace": NS},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SA},
                   "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": NS}]})
    ts.ensure_workspace_volumes(api, count=4, helper_image=_helper_image())
    yield NS
    if not getattr(e2e_platform, "reused", False):
        client.CoreV1Api(api).delete_namespace(NS)
        ts.delete_released_volumes(api)


def _helper_image() -> str:
    import gitserver

    return gitserver.IMAGE


def _clone_and_deploy_run(name: str, git_url: str, revision: str) -> dict:
    """A PipelineRun of the catalog Tasks git-clone and kubectl-deploy (cluster resolver), as a team's
    Pipeline would chain them."""
    return {
        "apiVersion": ts.TEKTON, "kind": "PipelineRun",
        "metadata": {"generateName": f"{name}-", "namespace": NS, "labels": {"aphex.platform/e2e": name}},
        "spec": {
            "pipelineSpec": {
                "workspaces": [{"name": "source"}],
                "results": [{"name": "commit", "value": "$(tasks.clone.results.commit)"}],
                "tasks": [
                    {"name": "clone", "taskRef": _cluster_ref("task", "git-clone"),
                     "params": [{"name": "url", "value": git_url}, {"name": "revision", "value": revision}],
                     "workspaces": [{"name": "output", "workspace": "source"}]},
                    {"name": "deploy", "runAfter": ["clone"], "taskRef": _cluster_ref("task", "kubectl-deploy"),
                     "params": [{"name": "manifests", "value": "deploy"}, {"name": "namespace", "value": NS}],
                     "workspaces": [{"name": "source", "workspace": "source"}]},
                ],
            },
            "workspaces": [_workspace()],
            "taskRunTemplate": {"serviceAccountName": SA, "podTemplate": _pod_template()},
            "timeouts": {"pipeline": "15m0s"},
        },
    }


def _run(api, run: dict, timeout: float = 600) -> tuple[dict, str]:
    created = ts.create(api, run)
    done = ts.wait_for_run_done(api, "PipelineRun", created["metadata"]["name"], NS, timeout=timeout)
    logs = ts.taskrun_logs(api, done)
    print(ts.describe_run(api, done))
    print(logs)
    return done, logs


def _taskrun_status(api, run: dict) -> dict:
    trs = ts.list_objects(api, ts.TEKTON, "TaskRun", NS, f"tekton.dev/pipelineRun={run['metadata']['name']}")
    return {tr["metadata"]["labels"].get("tekton.dev/pipelineTask"): ts.succeeded_condition(tr) for tr in trs}


def test_catalog_tasks_clone_and_deploy_succeed(e2e_platform, git_server, catalog_ns):  # noqa: F811
    api = e2e_platform.api
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e2e-deployed"},
                 "data": {"release": "good-1"}}
    import json

    sha = git_server.push(REPO, {"deploy/configmap.json": json.dumps(configmap)}, branch="good",
                          message="a valid manifest")
    done, logs = _run(api, _clone_and_deploy_run("clone-deploy", git_server.url(REPO), "good"))
    assert ts.succeeded_condition(done).get("status") == "True", ts.describe_run(api, done) + "\n" + logs
    results = {r["name"]: r["value"] for r in done["status"].get("results", [])}
    assert results.get("commit") == sha, results
    applied = client.CoreV1Api(api).read_namespaced_config_map("e2e-deployed", NS)
    assert applied.data == {"release": "good-1"}
    assert any(m.manager == "tekton-deploy" for m in applied.metadata.managed_fields or [])


def test_failing_deploy_command_fails_the_run(e2e_platform, git_server, catalog_ns):  # noqa: F811
    api = e2e_platform.api
    # A ConfigMap whose name the API server refuses (not a DNS subdomain): `kubectl apply` exits non-zero.
    bad = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_A_Valid_Name"}, "data": {"a": "b"}}'
    git_server.push(REPO, {"deploy/configmap.json": bad}, branch="bad", message="an invalid manifest")
    done, logs = _run(api, _clone_and_deploy_run("deploy-fails", git_server.url(REPO), "bad"))
    cond = ts.succeeded_condition(done)
    assert cond.get("status") == "False", ts.describe_run(api, done)
    tasks = _taskrun_status(api, done)
    assert tasks["clone"].get("status") == "True", tasks
    assert tasks["deploy"].get("status") == "False", tasks
    assert "Not_A_Valid_Name" in logs, logs


# ---- the catalog Pipeline build-and-deploy, with an in-cluster registry ---------------------------------------------
REGISTRY = "registry"
REGISTRY_PORT = 5000
REGISTRY_IMAGE = "docker.io/aphex/registry:2.8.2"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def registry(e2e_platform, catalog_ns):
    """Distribution (Debian's docker-registry, hack/images) in the runs' namespace: plain HTTP, emptyDir storage."""
    api = e2e_platform.api
    labels = {"app.kubernetes.io/name": REGISTRY}
    restricted = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "allowPrivilegeEscalation": False,
                  "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    ts.apply(api, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": REGISTRY, "namespace": NS},
                   "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                       "metadata": {"labels": labels},
                       "spec": {"automountServiceAccountToken": False, "securityContext": {"fsGroup": 65532},
                                "containers": [{"name": REGISTRY, "image": REGISTRY_IMAGE,
                                                "imagePullPolicy": "IfNotPresent",
                                                "ports": [{"name": "http", "containerPort": REGISTRY_PORT}],
                                                "readinessProbe": {"httpGet": {"path": "/v2/", "port": "http"},
                                                                   "periodSeconds": 2},
                                                "securityContext": restricted,
                                                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/registry"}]}],
                                "volumes": [{"name": "data", "emptyDir": {}}]}}}})
    ts.apply(api, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": REGISTRY, "namespace": NS},
                   "spec": {"selector": labels, "ports": [{"name": "http", "port": REGISTRY_PORT,
                                                           "targetPort": "http"}]}})

    def ready():
        dep = client.AppsV1Api(api).read_namespaced_deployment(REGISTRY, NS)
        return (dep.status.ready_replicas or 0) >= 1

    ts.wait_for(ready, 300, what=f"deployment {NS}/{REGISTRY} ready")
    return f"{REGISTRY}.{NS}.svc:{REGISTRY_PORT}"


def _registry_digest(api, repository: str, tag: str) -> str:
    """The digest the in-cluster registry serves for repository:tag (through the API server's service proxy)."""
    cfg = api.configuration
    url = f"{cfg.host}/api/v1/namespaces/{NS}/services/{REGISTRY}:{REGISTRY_PORT}/proxy/v2/{repository}/manifests/{tag}"
    headers = {"Accept": OCI_MANIFEST}
    auth = cfg.auth_settings().get("BearerToken")
    if auth and auth.get("value"):
        headers["Authorization"] = auth["value"]
    resp = api.rest_client.pool_manager.request("GET", url, headers=headers, preload_content=True, timeout=60,
                                                retries=False)
    assert resp.status == 200, f"GET {url}: {resp.status} {resp.data[:500]!r}"
    return resp.headers.get("Docker-Content-Digest", "")


def test_catalog_pipeline_build_and_deploy_succeeds(e2e_platform, git_server, catalog_ns, registry):  # noqa: F811
    api = e2e_platform.api
    import json

    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e2e-built"},
                 "data": {"release": "built-1"}}
    files = {"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n", "hello.txt": "built by the catalog\n",
             "deploy/configmap.json": json.dumps(configmap)}
    sha = git_server.push("built-app", files, branch="main", message="an image and its manifests")
    image = f"{registry}/built-app:{sha[:12]}"
    run = {
        "apiVersion": ts.TEKTON, "kind": "PipelineRun",
        "metadata": {"generateName": "build-and-deploy-", "namespace": NS,
                     "labels": {"aphex.platform/e2e": "build-and-deploy"}},
        "spec": {
            "pipelineRef": _cluster_ref("pipeline", "build-and-deploy"),
            "params": [{"name": "git-url", "value": git_server.url("built-app")},
                       {"name": "git-revision", "value": sha},
                       {"name": "image", "value": image},
                       {"name": "tls-verify", "value": "false"},
                       {"name": "namespace", "value": NS}],
            "workspaces": [_workspace()],
            # No pod-level seccomp profile: rootless buildah enters a user namespace (unshare(CLONE_NEWUSER)),
            # which the runtime's default seccomp profile refuses without CAP_SYS_ADMIN. Pod Security baseline
            # (the namespace's level, as the catalog's buildah-build Task requires) allows that.
            "taskRunTemplate": {"serviceAccountName": SA, "podTemplate": {
                "securityContext": {k: v for k, v in _pod_template()["securityContext"].items()
                                    if k != "seccompProfile"}}},
            "timeouts": {"pipeline": "15m0s"},
        },
    }
    done, logs = _run(api, run)
    assert ts.succeeded_condition(done).get("status") == "True", ts.describe_run(api, done) + "\n" + logs
    results = {r["name"]: r["value"] for r in done["status"].get("results", [])}
    assert results.get("commit") == sha, results
    served = _registry_digest(api, "built-app", sha[:12])
    assert served.startswith("sha256:") and results.get("image-digest") == served, (results, served)
    applied = client.CoreV1Api(api).read_namespaced_config_map("e2e-built", NS)
    assert applied.data == {"release": "built-1"}
