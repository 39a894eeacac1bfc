# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pipeline catalog of role aphex.platform.tekton: strict-mode scripts that fail when a command fails.

Reference bug (aphex-reference.md §12.19): a deploy task masked its exit status (``… | grep … || true``) and
always reported success. Every step script here must start in strict mode, never mask a failure, and the deploy,
sync and build scripts are executed with fake CLIs to show that a failing command fails the step.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "roles" / "tekton" / "templates" / "catalog.yaml.j2"
NAMESPACE = "pipeline-catalog"
MASKING = [r"\|\|\s*true\b", r"\|\|\s*:", r"\|\|\s*exit\s+0\b", r";\s*true\s*$", r"\bset\s+\+e\b", r"\bset\s+\+o\s+pipefail"]


def render() -> list:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = json.dumps
    text = env.from_string(TEMPLATE.read_text()).render(
        tekton_catalog_namespace=NAMESPACE, _tekton_catalog_version="0.1.0",
        _tekton_images={"git": "git:1", "buildah": "buildah:1", "kubectl": "kubectl:1", "argocd": "argocd:1"})
    return [doc for doc in yaml.safe_load_all(text) if doc]


OBJECTS = render()
TASKS = {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == "Task"}
PIPELINES = {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == "Pipeline"}
STEPS = [(name, step) for name, task in TASKS.items() for step in task["spec"]["steps"]]


def test_catalog_contents():
    assert [o["kind"] for o in OBJECTS][0] == "Namespace"
    assert sorted(TASKS) == ["argocd-sync", "buildah-build", "git-clone", "kubectl-deploy"]
    assert sorted(PIPELINES) == ["build-and-deploy", "build-and-sync"]
    for obj in OBJECTS[1:]:
        assert obj["apiVersion"] == "tekton.dev/v1"
        assert obj["metadata"]["namespace"] == NAMESPACE


@pytest.mark.parametrize("task,step", STEPS, ids=[f"{t}/{s['name']}" for t, s in STEPS])
def test_every_script_starts_in_strict_mode_and_masks_nothing(task, step):
    lines = step["script"].splitlines()
    assert lines[0] in ("#!/bin/sh", "#!/usr/bin/env bash"), f"{task}: unexpected shebang {lines[0]!r}"
    assert lines[1] == "set -euo pipefail", f"{task}/{step['name']}: the first command must be set -euo pipefail"
    for number, line in enumerate(lines, 1):
        code = line.split(" #", 1)[0]
        for pattern in MASKING:
            assert not re.search(pattern, code), f"{task}/{step['name']} line {number} masks failures: {line!r}"


@pytest.mark.parametrize("task,step", STEPS, ids=[f"{t}/{s['name']}" for t, s in STEPS])
def test_parameters_reach_scripts_only_through_the_environment(task, step):
    assert "$(" not in step["script"].replace("$(git rev-parse HEAD)", "").replace("$(cat /tmp/image-digest)", ""), \
        f"{task}: Tekton substitutions belong in env, not spliced into the script"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_references_are_declared(name):
    spec = TASKS[name]["spec"]
    text = json.dumps(spec)
    params = {p["name"] for p in spec.get("params", [])}
    results = {r["name"] for r in spec.get("results", [])}
    workspaces = {w["name"] for w in spec.get("workspaces", [])}
    assert set(re.findall(r"\$\(params\.([\w-]+)\)", text)) <= params
    assert set(re.findall(r"\$\(results\.([\w-]+)\.path\)", text)) <= results
    assert set(re.findall(r"\$\(workspaces\.([\w-]+)\.", text)) <= workspaces
    env_names = {e["name"] for s in spec["steps"] for e in s.get("env", [])}
    for step in spec["steps"]:
        used = set(re.findall(r"\$\{(\w+)", step["script"]))
        local = set(re.findall(r"^\s*(\w+)=", step["script"], re.M)) | {"REGISTRY_AUTH_FILE"}
        assert used <= env_names | local, f"{name}: script uses undefined variables {used - env_names - local}"


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipelines_wire_catalog_tasks_correctly(name):
    spec = PIPELINES[name]["spec"]
    params = {p["name"] for p in spec["params"]}
    workspaces = {w["name"] for w in spec["workspaces"]}
    names = [t["name"] for t in spec["tasks"]]
    for item in spec["tasks"]:
        ref = {p["name"]: p["value"] for p in item["taskRef"]["params"]}
        assert item["taskRef"]["resolver"] == "cluster" and ref["kind"] == "task" and ref["namespace"] == NAMESPACE
        task = TASKS[ref["name"]]["spec"]
        declared = {p["name"]: p for p in task.get("params", [])}
        passed = {p["name"] for p in item.get("params", [])}
        assert passed <= set(declared), f"{item['name']} passes undeclared params {passed - set(declared)}"
        assert {n for n, p in declared.items() if "default" not in p} <= passed, f"{item['name']} misses required params"
        bound = {w["name"]: w["workspace"] for w in item.get("workspaces", [])}
        required = {w["name"] for w in task.get("workspaces", []) if not w.get("optional")}
        assert required <= set(bound) and set(bound.values()) <= workspaces
        for ran_after in item.get("runAfter", []):
            assert names.index(ran_after) < names.index(item["name"])
        text = json.dumps(item)
        assert set(re.findall(r"\$\(params\.([\w-]+)\)", text)) <= params
        for producer, result in re.findall(r"\$\(tasks\.([\w-]+)\.results\.([\w-]+)\)", text):
            assert producer in item.get("runAfter", []) or producer in names[: names.index(item["name"])]
            producer_ref = {p["name"]: p["value"] for p in spec["tasks"][names.index(producer)]["taskRef"]["params"]}
            assert result in {r["name"] for r in TASKS[producer_ref["name"]]["spec"]["results"]}


# ---- the scripts, executed ---------------------------------------------------------------------------------------
@pytest.fixture(name="fakebin")
def fixture_fakebin(tmp_path):
    """A directory of fake CLIs: each logs its arguments and exits with FAKE_<NAME>_RC (or per-subcommand RCs)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("kubectl", "argocd", "buildah", "git"):
        script = bindir / tool
        script.write_text(f"""#!/usr/bin/env bash
echo "{tool} $*" >> "{log}"
words=()
for arg in "$@"; do case "$arg" in -*) ;; *) words+=("$arg");; esac; done
sub="$(echo "${{words[0]:-}}" | tr '[:lower:]-' '[:upper:]_')"
var="FAKE_{tool.upper()}_${{sub}}_RC"
rc="${{!var:-${{FAKE_{tool.upper()}_RC:-0}}}}"
if [ "{tool}" = buildah ] && [ "$sub" = PUSH ] && [ "$rc" = 0 ]; then
  printf 'sha256:%064d' 0 > /tmp/image-digest
fi
exit "$rc"
""")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bindir, log


def run_step(task: str, env: dict, fakebin, tmp_path) -> subprocess.CompletedProcess:
    step = TASKS[task]["spec"]["steps"][0]
    script = tmp_path / f"{task}.sh"
    script.write_text(step["script"])
    bindir, _log = fakebin
    full_env = {"PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    for item in step.get("env", []):
        if "value" in item:
            full_env[item["name"]] = ""
    full_env.update(env)
    return subprocess.run([shutil.which("bash"), str(script)], env=full_env, capture_output=True, text=True,
                          check=False, cwd=str(tmp_path))


def deploy_env(tmp_path, **extra):
    (tmp_path / "src" / "deploy").mkdir(parents=True, exist_ok=True)
    env = {"WORKSPACE_SOURCE_PATH": str(tmp_path / "src"), "PARAM_MANIFESTS": "deploy", "PARAM_TIMEOUT": "60s"}
    env.update(extra)
    return env


def test_deploy_succeeds_when_every_command_succeeds(fakebin, tmp_path):
    proc = run_step("kubectl-deploy", deploy_env(tmp_path, PARAM_DEPLOYMENT="web", PARAM_CONTAINER="app",
                                                 PARAM_IMAGE="r/app@sha256:1", PARAM_NAMESPACE="apps"), fakebin, tmp_path)
    assert proc.returncode == 0, proc.stderr
    calls = fakebin[1].read_text().splitlines()
    assert calls[0].startswith("kubectl apply --server-side --field-manager=tekton-deploy --filename ")
    assert calls[0].endswith("--recursive --namespace apps")
    assert calls[1] == "kubectl set image deployment/web app=r/app@sha256:1 --namespace apps"
    assert calls[2] == "kubectl rollout status deployment/web --timeout=60s --namespace apps"


@pytest.mark.parametrize("failing", ["APPLY", "SET", "ROLLOUT"])
def test_deploy_fails_when_any_kubectl_command_fails(fakebin, tmp_path, failing):
    env = deploy_env(tmp_path, PARAM_DEPLOYMENT="web", PARAM_CONTAINER="app", PARAM_IMAGE="r/app@sha256:1",
                     **{f"FAKE_KUBECTL_{failing}_RC": "1"})
    proc = run_step("kubectl-deploy", env, fakebin, tmp_path)
    assert proc.returncode != 0
    assert len(fakebin[1].read_text().splitlines()) == ["APPLY", "SET", "ROLLOUT"].index(failing) + 1


def test_deploy_fails_when_the_manifests_are_missing(fakebin, tmp_path):
    proc = run_step("kubectl-deploy", deploy_env(tmp_path, PARAM_MANIFESTS="nope"), fakebin, tmp_path)
    assert proc.returncode == 1 and "nope does not exist" in proc.stderr
    assert not fakebin[1].exists()


@pytest.mark.parametrize("failing,calls", [("SYNC", 1), ("WAIT", 2)])
def test_argocd_sync_fails_when_the_sync_or_the_wait_fails(fakebin, tmp_path, failing, calls):
    env = {"PARAM_APPLICATION": "web", "PARAM_TIMEOUT": "30"}
    # both calls are "argocd app ...": fail the n-th one
    bindir = fakebin[0]
    (bindir / "argocd").write_text(f"""#!/usr/bin/env bash
echo "argocd $*" >> "{fakebin[1]}"
[ "$2" = "{failing.lower()}" ] && exit 20
exit 0
""")
    proc = run_step("argocd-sync", env, fakebin, tmp_path)
    assert proc.returncode == 20
    assert len(fakebin[1].read_text().splitlines()) == calls
    ok = run_step("argocd-sync", {"PARAM_APPLICATION": "web", "PARAM_TIMEOUT": "30"}, fakebin, tmp_path)
    assert ok.returncode == 20  # still failing the same call: nothing is retried or masked


def test_buildah_build_fails_when_the_push_fails_and_writes_results_when_it_works(fakebin, tmp_path):
    env = {"WORKSPACE_DOCKERCONFIG_BOUND": "false", "PARAM_IMAGE": "r/app:1", "PARAM_DOCKERFILE": "Dockerfile",
           "PARAM_CONTEXT": ".", "PARAM_TLS_VERIFY": "true", "PARAM_FORMAT": "oci",
           "RESULT_IMAGE_DIGEST": str(tmp_path / "digest"), "RESULT_IMAGE_URL": str(tmp_path / "url")}
    failed = run_step("buildah-build", {**env, "FAKE_BUILDAH_PUSH_RC": "125"}, fakebin, tmp_path)
    assert failed.returncode == 125 and not (tmp_path / "digest").exists()
    worked = run_step("buildah-build", env, fakebin, tmp_path)
    assert worked.returncode == 0, worked.stderr
    assert (tmp_path / "digest").read_text() == "sha256:" + "0" * 64
    assert (tmp_path / "url").read_text() == "r/app:1"


def test_git_clone_fails_when_the_fetch_fails(fakebin, tmp_path):
    env = {"WORKSPACE_OUTPUT_PATH": str(tmp_path / "out"), "PARAM_URL": "https://example.com/r.git",
           "PARAM_REVISION": "main", "PARAM_DEPTH": "1", "PARAM_SUBDIRECTORY": "",
           "RESULT_COMMIT": str(tmp_path / "commit"), "RESULT_URL": str(tmp_path / "url"), "FAKE_GIT_FETCH_RC": "128"}
    proc = run_step("git-clone", env, fakebin, tmp_path)
    assert proc.returncode == 128 and not (tmp_path / "commit").exists()
