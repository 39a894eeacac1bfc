# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An in-cluster git server for the end-to-end tests: pipelines clone from it, Argo CD syncs from it.

    def test_x(git_server):
        sha = git_server.push("demo", {"README.md": "hello\\n"}, message="first")
        url = git_server.url("demo")          # http://git-server.e2e-git.svc/demo.git (anonymous clone)
        git_server.push("acme/web", {...})    # owner/name: http://git-server.e2e-git.svc/acme/web.git

The fixture deploys the git server image (Debian git + a smart-HTTP server, built by hack/images) as one
Deployment in namespace ``e2e-git`` (Pod Security ``restricted``) with a Service on port 80. Repositories are
bare repositories under ``/srv/git`` on an emptyDir: they live as long as the pod. ``push`` runs a short sh
script in the server pod through the API server's exec (no port-forward, no credentials, nothing reachable from
the host needed): it creates the bare repository on first use, lays the files over the branch's current tree
in a temporary work tree, commits and pushes into the bare repository, and returns the commit's sha. A file
whose content is ``None`` is removed.

Test infrastructure only (the platform never runs a git server).
"""

from __future__ import annotations

import base64
import os
import posixpath
import re
import shlex
import time
import uuid

import pytest

NAMESPACE = "e2e-git"
NAME = "git-server"
# The upstream-looking name the local registry serves (docker.io is mirrored to it); see hack/images/README.md.
IMAGE = os.environ.get("APHEX_E2E_GIT_SERVER_IMAGE", "docker.io/aphex/git-server:bookworm")
REPO_ROOT = "/srv/git"
CONTAINER_PORT = 8080
FIELD_MANAGER = "aphex-e2e"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "aphex-platform-e2e"}
AUTHOR = ("Aphex E2E", "e2e@aphex.invalid")
# "name" or "owner/name" (Argo CD tests map https://github.com/<owner>/<name>.git onto this server).
_REPO_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62})?$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Scripts up to this size go in one exec; larger ones in chunks of SCRIPT_CHUNK characters (URL-encoded in the
# exec request: base64 grows by about a third there).
SCRIPT_INLINE_MAX = 60000
SCRIPT_CHUNK = 48000


def manifests(image: str = IMAGE) -> list:
    """Namespace, Deployment and Service of the git server."""
    restricted = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "allowPrivilegeEscalation": False,
                  "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": NAMESPACE, "labels": {**LABELS, "pod-security.kubernetes.io/enforce": "restricted"}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
         "spec": {
             "replicas": 1,
             # One pod owns the repositories (emptyDir): never two at once.
             "strategy": {"type": "Recreate"},
             "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
             "template": {
                 "metadata": {"labels": LABELS},
                 "spec": {
                     "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                         "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                     "automountServiceAccountToken": False,
                     "containers": [{
                         "name": "git-server",
                         "image": image,
                         "imagePullPolicy": "IfNotPresent",
                         "env": [{"name": "HOME", "value": "/tmp"},
                                 {"name": "GIT_PROJECT_ROOT", "value": REPO_ROOT}],
                         "ports": [{"name": "http", "containerPort": CONTAINER_PORT}],
                         "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
                         "securityContext": restricted,
                         "volumeMounts": [{"name": "repos", "mountPath": REPO_ROOT},
                                          {"name": "tmp", "mountPath": "/tmp"}],
                     }],
                     "volumes": [{"name": "repos", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                 },
             },
         }},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
         "spec": {"selector": {"app.kubernetes.io/name": NAME},
                  "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
    ]


def push_script(repo: str, files: dict, branch: str, message: str) -> str:
    """The sh script ``push`` runs in the server pod; prints ``sha=<commit>`` last."""
    if not _REPO_NAME.match(repo or ""):
        raise ValueError(f"repo: {repo!r} is not a repository name ('name' or 'owner/name'; lowercase letters, "
                         "digits, '.', '_', '-')")
    if not _BRANCH.match(branch or "") or ".." in branch:
        raise ValueError(f"branch: {branch!r} is not a branch name")
    if not isinstance(files, dict) or not files:
        raise ValueError("files: must be a non-empty mapping of path -> content (str, bytes or None to delete)")
    lines = [
        "set -eu",
        "umask 022",
        "export HOME=/tmp GIT_TERMINAL_PROMPT=0",
        f"export GIT_AUTHOR_NAME={shlex.quote(AUTHOR[0])} GIT_AUTHOR_EMAIL={shlex.quote(AUTHOR[1])}",
        'export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"',
        f"repo={shlex.quote(posixpath.join(REPO_ROOT, repo + '.git'))}",
        f"branch={shlex.quote(branch)}",
        'if [ ! -d "$repo" ]; then',
        '  mkdir -p "$(dirname "$repo")"',
        '  git init -q --bare "$repo"',
        '  git -C "$repo" symbolic-ref HEAD "refs/heads/$branch"',
        '  git -C "$repo" config http.receivepack true',
        '  touch "$repo/git-daemon-export-ok"',
        "fi",
        'work="$(mktemp -d /tmp/push.XXXXXX)"',
        "trap 'rm -rf \"$work\"' EXIT",
        'git init -q "$work"',
        'cd "$work"',
        'if git -C "$repo" rev-parse -q --verify "refs/heads/$branch" >/dev/null; then',
        '  git fetch -q "$repo" "refs/heads/$branch"',
        '  git checkout -q -B "$branch" FETCH_HEAD',
        "else",
        '  git checkout -q --orphan "$branch"',
        "fi",
    ]
    for path, content in sorted(files.items()):
        norm = posixpath.normpath(path)
        if not path or path.startswith("/") or norm.startswith("..") or norm == "." or "/.git" in "/" + norm:
            raise ValueError(f"files: {path!r} is not a relative path inside the repository")
        quoted = shlex.quote(norm)
        if content is None:
            lines.append(f"git rm -q -r --ignore-unmatch -- {quoted}")
            continue
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        encoded = base64.b64encode(data).decode("ascii")
        lines.append(f"mkdir -p \"$(dirname {quoted})\"")
        lines.append(f"printf '%s' '{encoded}' | base64 -d > {quoted}")
    lines += [
        "git add -A",
        f"git commit -q --allow-empty -m {shlex.quote(message)}",
        'git push -q "$repo" "HEAD:refs/heads/$branch"',
        'echo "sha=$(git rev-parse HEAD)"',
    ]
    return "\n".join(lines) + "\n"


class GitServer:
    """The deployed git server: in-cluster URLs and ``push``."""

    namespace = NAMESPACE
    service = NAME
    base_url = f"http://{NAME}.{NAMESPACE}.svc"

    def __init__(self, api_client):
        self.api = api_client

    def url(self, repo: str) -> str:
        """Anonymous clone URL inside the cluster."""
        return f"{self.base_url}/{repo}.git"

    def pod(self) -> str:
        from kubernetes import client

        pods = client.CoreV1Api(self.api).list_namespaced_pod(
            NAMESPACE, label_selector=f"app.kubernetes.io/name={NAME}").items
        ready = [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None and any(
            c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))]
        if not ready:
            raise AssertionError(f"no Ready git server pod in {NAMESPACE}: "
                                 f"{[(p.metadata.name, p.status.phase) for p in pods]}")
        return ready[0]

    def exec(self, script: str) -> str:
        """Run ``sh -c script`` in the server pod; return its output, raise with the output when it fails."""
        from kubernetes import client
        from kubernetes.stream import stream

        core = client.CoreV1Api(self.api)
        resp = stream(core.connect_get_namespaced_pod_exec, self.pod(), NAMESPACE, container="git-server",
                      command=["sh", "-c", script], stdout=True, stderr=True, stdin=False, tty=False,
                      _preload_content=False)
        resp.run_forever(timeout=300)
        if resp.is_open():
            resp.close()
            raise AssertionError(f"git server exec still running after 300s: {script[:200]}")
        stdout, stderr = resp.read_stdout(), resp.read_stderr()
        status = resp.read_channel(3)  # the exec's final status (JSON), {"status":"Success"} or the exit code
        if '"Success"' not in (status or ""):
            raise AssertionError(f"git server exec failed: {status}\nstdout: {stdout}\nstderr: {stderr}")
        return stdout

    def push(self, repo: str, files: dict, branch: str = "main", message: str = "e2e commit") -> str:
        """Commit ``files`` (path -> content; None deletes) on ``branch`` of ``repo``; return the commit sha.

        The exec's command travels in the request URL, which the API server limits (431 above ~1 MB of headers): a
        larger script (the platform's GitOps export with Tekton's CRDs) is written to a file in the pod in chunks
        first, then run."""
        script = push_script(repo, files, branch, message)
        if len(script) <= SCRIPT_INLINE_MAX:
            output = self.exec(script)
        else:
            staged = f"/tmp/push-{uuid.uuid4().hex}.sh"
            self.exec(f": > {staged}")
            for start in range(0, len(script), SCRIPT_CHUNK):
                self.exec(f"printf '%s' {shlex.quote(script[start:start + SCRIPT_CHUNK])} >> {staged}")
            output = self.exec(f"rc=0; sh {staged} || rc=$?; rm -f {staged}; exit $rc")
        shas = re.findall(r"^sha=([0-9a-f]{40})$", output, flags=re.M)
        if not shas:
            raise AssertionError(f"push to {repo}@{branch} printed no commit: {output!r}")
        return shas[-1]

    def head(self, repo: str, branch: str = "main") -> str:
        """The commit ``branch`` of ``repo`` points at (as the server has it)."""
        path = shlex.quote(posixpath.join(REPO_ROOT, repo + ".git"))
        sha = self.exec(f"git -C {path} rev-parse refs/heads/{shlex.quote(branch)}").strip()
        if not _SHA.match(sha):
            raise AssertionError(f"{repo}@{branch}: unexpected rev-parse output {sha!r}")
        return sha


def deploy(api_client, timeout: float = 300) -> GitServer:
    """Apply the git server's objects (server-side apply, idempotent) and wait until a pod is Ready."""
    from kubernetes import dynamic

    dyn = dynamic.DynamicClient(api_client)
    for obj in manifests():
        resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        resource.server_side_apply(body=obj, namespace=obj["metadata"].get("namespace"),
                                   field_manager=FIELD_MANAGER, force_conflicts=True)
    server = GitServer(api_client)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            server.pod()
            return server
        except AssertionError as exc:
            last = exc
            time.sleep(2)
    raise AssertionError(f"git server not Ready after {timeout}s: {last}\n{_diagnose(api_client)}")


def _diagnose(api_client) -> str:
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    lines = []
    for pod in core.list_namespaced_pod(NAMESPACE).items:
        for status in (pod.status.container_statuses or []):
            state = status.state
            waiting = state.waiting and f"waiting {state.waiting.reason}: {state.waiting.message}"
            terminated = state.terminated and f"terminated {state.terminated.reason} rc={state.terminated.exit_code}"
            lines.append(f"{pod.metadata.name}/{status.name}: {waiting or terminated or 'running'}")
    events = core.list_namespaced_event(NAMESPACE).items
    lines += [f"event {e.involved_object.kind}/{e.involved_object.name}: {e.reason}: {e.message}"
              for e in events[-15:]]
    return "\n".join(lines)


def remove(api_client, timeout: float = 120) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api_client)
    try:
        core.delete_namespace(NAMESPACE)
    except ApiException as exc:
        if exc.status != 404:
            raise
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespace(NAMESPACE)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(2)


@pytest.fixture(scope="session")
def git_server(e2e_platform):
    """The in-cluster git server (see the module docstring); removed at the end unless the cluster is reused."""
    server = deploy(e2e_platform.api)
    yield server
    if not getattr(e2e_platform, "reused", False):
        remove(e2e_platform.api)
