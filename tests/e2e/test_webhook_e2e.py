# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A signed GitHub push really starts a pipeline (issue 10, deliverable 3, second bullet).

An organization and a repository are onboarded with the collection's modules (organization, repobinding;
exposure none: no Cloudflare, no ingress). A commit is pushed to the in-cluster git server, and a GitHub
``push`` payload for it, signed with the organization's webhook secret (read from its Secret, as an admin
configuring GitHub would), is POSTed to the organization's EventListener through the API server's service proxy.
Tekton Triggers' sink, its ``github`` and ``cel`` ClusterInterceptors and the Pipelines controller do the rest:
a PipelineRun appears in the repository's namespace under ``pipeline-runner``, clones the repository from the
git server at the pushed revision (catalog Task git-clone through the cluster resolver) and Succeeds.

A wrong signature, an unsigned request, another repository and another branch each create no PipelineRun. The
sink answers every delivery ``202 Accepted`` with an eventID before the interceptors decide (Triggers v0.37
processes asynchronously; its sink logs the stop reason at debug level only), so "the listener's answer says
why" is read from the listener's interceptors: the core-interceptors server logs every answer it gives the
listener at info level ("Interceptor response is: ... Continue:false Status:{Code:FailedPrecondition
Message:payload signature check failed}"). Deliveries are sent one at a time and the test takes the interceptor
answers logged after its delivery, waiting until the refusal is there, so "no PipelineRun" is checked after the
decision, not after a sleep.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from kubernetes import client

from gitserver import git_server  # noqa: F401  (fixture)
import tekton_support as ts

ORG = "e2etekton"
ORG_NS = f"org-{ORG}"
OWNER = "e2e-owner"
REPO = "web"
PIPELINE = "e2e-tekton-web"
LISTENER_SERVICE = "el-github-listener"
LISTENER_PORT = "http-listener"
CATALOG_NS = "pipeline-catalog"
INTERCEPTORS = ("tekton-pipelines", "app.kubernetes.io/name=core-interceptors")
EXCHANGES = []


def _pipeline_spec(step_image: str) -> str:
    """The repository's pipeline: the catalog's git-clone (cluster resolver), then a step that proves the
    checkout is the pushed commit with the pushed content."""
    pipeline = {
        "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
        "spec": {
            "params": [{"name": "git-url", "type": "string"}, {"name": "git-revision", "type": "string"},
                       {"name": "repo-full-name", "type": "array"}, {"name": "event-type", "type": "string"},
                       {"name": "event-id", "type": "string"}, {"name": "triggered-at", "type": "string"},
                       {"name": "org-name", "type": "string"}],
            "workspaces": [{"name": "source"}],
            "results": [{"name": "commit", "value": "$(tasks.clone.results.commit)"}],
            "tasks": [
                {"name": "clone",
                 "taskRef": {"resolver": "cluster", "params": [
                     {"name": "kind", "value": "task"}, {"name": "name", "value": "git-clone"},
                     {"name": "namespace", "value": CATALOG_NS}]},
                 "params": [{"name": "url", "value": "$(params.git-url)"},
                            {"name": "revision", "value": "$(params.git-revision)"}],
                 "workspaces": [{"name": "output", "workspace": "source"}]},
                {"name": "check", "runAfter": ["clone"],
                 "workspaces": [{"name": "source", "workspace": "source"}],
                 "params": [{"name": "revision", "value": "$(params.git-revision)"},
                            {"name": "commit", "value": "$(tasks.clone.results.commit)"}],
                 "taskSpec": {
                     "params": [{"name": "revision"}, {"name": "commit"}],
                     "workspaces": [{"name": "source"}],
                     "steps": [{
                         "name": "check", "image": step_image,
                         "env": [{"name": "REVISION", "value": "$(params.revision)"},
                                 {"name": "COMMIT", "value": "$(params.commit)"},
                                 {"name": "SRC", "value": "$(workspaces.source.path)"}],
                         "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                             "allowPrivilegeEscalation": False,
                                             "capabilities": {"drop": ["ALL"]},
                                             "seccompProfile": {"type": "RuntimeDefault"}},
                         "script": "#!/bin/sh\nset -eu\n"
                                   "test \"$COMMIT\" = \"$REVISION\"\n"
                                   "echo \"marker=$(cat \"$SRC/MARKER\")\"\n"
                                   "echo \"checked out $COMMIT\"\n",
                     }],
                 }},
            ],
        },
    }
    return json.dumps(pipeline, indent=2)


@pytest.fixture(scope="module")
def onboarded(e2e_platform, git_server):  # noqa: F811
    """Organization + repository onboarded with onboard_org.yml (run twice: the second changes nothing)."""
    api = e2e_platform.api
    catalog_task = ts.get(api, ts.TEKTON, "Task", "git-clone", CATALOG_NS)
    assert catalog_task, f"catalog Task git-clone missing in {CATALOG_NS}: the tekton role did not install the catalog"
    step_image = catalog_task["spec"]["steps"][0]["image"]

    ts.ensure_workspace_volumes(api, count=2, helper_image=_helper_image())
    # Onboarded as an operator does: onboard_org.yml with the organization and its repository (exposure none:
    # no Cloudflare tunnel, no ingress). Twice: the second run changes nothing.
    org = {"name": ORG, "display_name": "E2E Tekton", "admin_users": ["admin@e2e.example"], "exposure": "none",
           "github_owners": [OWNER],
           "repositories": [{
               "repo_org": OWNER, "repo_name": REPO, "pipeline_name": PIPELINE, "branches": ["main"],
               "pipeline_spec": _pipeline_spec(step_image),
               # The git server is a ClusterIP Service on port 80 (pod port 8080) inside the cluster.
               "network": {"gitEgress": {"cidrs": ["10.0.0.0/8"], "ports": [80, 8080]}},
           }]}
    for attempt in ("first", "second"):
        run = e2e_platform.playbook("onboard_org.yml", extra_vars={"org": org})
        assert run.ok, f"onboard_org.yml ({attempt} run) failed:\n{run.raw[-6000:]}"
        if attempt == "second":
            assert run.stats["localhost"]["changed"] == 0, [t.name for t in run.changed_tasks()]
    binding = ts.get(api, "aphex.io/v1alpha1", "RepoBinding", PIPELINE, ORG_NS)
    assert binding and binding["status"]["phase"] == "Ready", binding

    secret = client.CoreV1Api(api).read_namespaced_secret("github-webhook-secret", ORG_NS)
    webhook_secret = base64.b64decode(secret.data["secret"])
    _wait_listener_ready(api)
    yield {"secret": webhook_secret, "git": git_server}
    print("\n".join(EXCHANGES))


def _helper_image() -> str:
    import gitserver

    return gitserver.IMAGE


def _wait_listener_ready(api) -> None:
    def ready():
        el = ts.get(api, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", ORG_NS)
        conds = ((el or {}).get("status") or {}).get("conditions") or []
        ok = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
        if not ok:
            return None
        endpoints = client.CoreV1Api(api).read_namespaced_endpoints(LISTENER_SERVICE, ORG_NS)
        return any(subset.addresses for subset in (endpoints.subsets or []))

    try:
        ts.wait_for(ready, 300, what=f"EventListener {ORG_NS}/github-listener Ready with an endpoint")
    except AssertionError as exc:
        el = ts.get(api, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", ORG_NS)
        raise AssertionError(f"{exc}\nstatus: {json.dumps((el or {}).get('status'), indent=1)}\n"
                             f"pods: {ts.pod_logs(api, ORG_NS, 'eventlistener=github-listener')[-3000:]}") from exc


def _payload(git_url: str, sha: str, full_name: str = f"{OWNER}/{REPO}", ref: str = "refs/heads/main") -> dict:
    owner, name = full_name.split("/")
    return {
        "ref": ref, "before": "0" * 40, "after": sha, "created": False, "deleted": False, "forced": False,
        "repository": {"id": 1296269, "name": name, "full_name": full_name, "private": False,
                       "owner": {"login": owner, "name": owner}, "clone_url": git_url,
                       "default_branch": "main", "pushed_at": int(time.time())},
        "pusher": {"name": "e2e", "email": "e2e@aphex.invalid"}, "sender": {"login": "e2e"},
        "head_commit": {"id": sha, "message": "e2e"},
    }


def _deliver(api, title: str, body: bytes, signature: str | None) -> tuple[int, dict, str]:
    """POST a push event like GitHub does; returns (status, parsed answer, delivery id)."""
    from ansible_collections.aphex.platform.plugins.module_utils.repobinding.webhook_filter import SIGNATURE_HEADER

    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/e2e", "X-GitHub-Event": "push",
               "X-GitHub-Delivery": delivery}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    status, resp_headers, resp_body = ts.post_to_service(api, ORG_NS, LISTENER_SERVICE, LISTENER_PORT, body, headers)
    url = f"/api/v1/namespaces/{ORG_NS}/services/{LISTENER_SERVICE}:{LISTENER_PORT}/proxy/"
    text = ts.format_exchange(title, url, headers, body, status, resp_headers, resp_body)
    print(text)
    EXCHANGES.append(text)
    try:
        answer = json.loads(resp_body)
    except ValueError:
        answer = {"raw": resp_body.decode("utf-8", "replace")}
    return status, answer, delivery


def _runs_for(api, delivery: str) -> list:
    return ts.list_objects(api, ts.TEKTON, "PipelineRun", None, f"platform.aphex/event-id={delivery}")


def _interceptor_answers(api) -> list:
    """The answers the core interceptors gave so far (one log line each), oldest first."""
    logs = ts.pod_logs(api, *INTERCEPTORS)
    return [line for line in logs.splitlines() if "Interceptor response is:" in line]


def test_signed_push_starts_pipelinerun_that_clones_the_pushed_revision(e2e_platform, onboarded):
    api = e2e_platform.api
    git = onboarded["git"]
    git.push(REPO, {"MARKER": "first\n"}, message="parent")
    sha = git.push(REPO, {"MARKER": "pushed\n", "README.md": "e2e\n"}, message="pushed commit")
    assert git.head(REPO) == sha

    from ansible_collections.aphex.platform.plugins.module_utils.repobinding.webhook_filter import signature

    body = ts.to_json_bytes(_payload(git.url(REPO), sha))
    before = len(_interceptor_answers(api))
    status, answer, delivery = _deliver(api, "signed push (org secret)", body, signature(onboarded["secret"], body))
    assert status == 202, answer
    assert answer.get("eventListener") == "github-listener" and answer.get("eventID"), answer

    runs = ts.wait_for(lambda: _runs_for(api, delivery), 120, what=f"a PipelineRun for delivery {delivery}")
    # Both interceptors let it through: github (signature, event type), then the repository's cel filter.
    answers = _interceptor_answers(api)[before:]
    print("interceptor answers for the signed push:\n" + "\n".join(answers))
    assert len(answers) == 2 and all("Continue:true" in line for line in answers), answers
    assert len(runs) == 1, [r["metadata"]["name"] for r in runs]
    run = runs[0]
    assert run["metadata"]["namespace"] == PIPELINE
    assert run["spec"]["taskRunTemplate"]["serviceAccountName"] == "pipeline-runner"
    assert run["metadata"]["labels"]["triggers.tekton.dev/triggers-eventid"] == answer["eventID"]
    params = {p["name"]: p["value"] for p in run["spec"]["params"]}
    assert params["git-revision"] == sha and params["git-url"] == git.url(REPO), params

    done = ts.wait_for_run_done(api, "PipelineRun", run["metadata"]["name"], PIPELINE)
    logs = ts.taskrun_logs(api, done)
    print(logs)
    assert ts.succeeded_condition(done).get("status") == "True", ts.describe_run(api, done) + "\n" + logs
    results = {r["name"]: r["value"] for r in done["status"].get("results", [])}
    assert results.get("commit") == sha, results
    assert f"cloned {git.url(REPO)} at {sha}" in logs
    assert "marker=pushed" in logs and f"checked out {sha}" in logs, logs


REJECTIONS = {
    # case: (how the body differs, how it is signed, the interceptor's refusal)
    "wrong-signature": ({}, "wrong", "Message:payload signature check failed"),
    "unsigned": ({}, None, "Message:no X-Hub-Signature-256 header set"),
    "another-repository": ({"full_name": f"{OWNER}/other"}, "org", "did not return true"),
    "another-branch": ({"ref": "refs/heads/feature"}, "org", "did not return true"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejected_delivery_creates_no_pipelinerun(e2e_platform, onboarded, case):
    from ansible_collections.aphex.platform.plugins.module_utils.repobinding.webhook_filter import signature

    api = e2e_platform.api
    git = onboarded["git"]
    change, signed_with, refusal = REJECTIONS[case]
    sha = git.push(REPO, {"MARKER": f"{case}\n"}, message=case)
    body = ts.to_json_bytes(_payload(git.url(REPO), sha, **change))
    sig = {"org": signature(onboarded["secret"], body),
           "wrong": signature(b"not-the-org-secret-" + b"0" * 32, body),
           None: None}[signed_with]
    before = len(_interceptor_answers(api))
    status, answer, delivery = _deliver(api, f"rejected: {case}", body, sig)
    # The sink accepts the delivery before the interceptors decide (asynchronous processing).
    assert status == 202, answer
    assert answer.get("eventListener") == "github-listener" and answer.get("eventID"), answer

    def refused():
        return [line for line in _interceptor_answers(api)[before:] if "Continue:false" in line]

    lines = ts.wait_for(refused, 60, what=f"the interceptors' refusal of delivery {delivery}")
    print(f"interceptor answers for {case} (eventID {answer['eventID']}):\n"
          + "\n".join(_interceptor_answers(api)[before:]))
    assert len(lines) == 1 and refusal in lines[0], lines
    assert _runs_for(api, delivery) == []
    assert ts.list_objects(api, ts.TEKTON, "PipelineRun", None,
                           f"triggers.tekton.dev/triggers-eventid={answer['eventID']}") == []
