# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the Tekton end-to-end tests (test_tekton_pipelines.py, test_webhook_e2e.py): wait for runs, read
pod logs, deliver a webhook to an EventListener through the API server's service proxy, give PipelineRun
workspaces a volume.

Nothing here decides a test's outcome on its own: waits return the object they waited for and raise with a
diagnostic (conditions, TaskRun reasons, pod states, events) when the deadline passes.
"""

from __future__ import annotations

import json
import time

from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

TEKTON = "tekton.dev/v1"
FIELD_MANAGER = "aphex-e2e"


def dyn(api) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)


def apply(api, obj: dict) -> dict:
    resource = dyn(api).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.server_side_apply(body=obj, namespace=obj["metadata"].get("namespace"),
                                      field_manager=FIELD_MANAGER, force_conflicts=True).to_dict()


def create(api, obj: dict) -> dict:
    resource = dyn(api).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.create(body=obj, namespace=obj["metadata"].get("namespace")).to_dict()


def get(api, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
    resource = dyn(api).resources.get(api_version=api_version, kind=kind)
    try:
        return resource.get(name=name, namespace=namespace).to_dict()
    except dynamic.exceptions.NotFoundError:
        return None


def list_objects(api, api_version: str, kind: str, namespace: str | None = None, label_selector: str = "") -> list:
    resource = dyn(api).resources.get(api_version=api_version, kind=kind)
    return [item.to_dict() for item in resource.get(namespace=namespace, label_selector=label_selector).items]


def succeeded_condition(obj: dict) -> dict:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Succeeded":
            return cond
    return {}


def describe_run(api, run: dict) -> str:
    """Conditions of a PipelineRun/TaskRun, its TaskRuns' reasons, their pods' container states and the
    namespace's recent events: what a failing e2e test prints."""
    ns = run["metadata"]["namespace"]
    name = run["metadata"]["name"]
    lines = [f"{run['kind']} {ns}/{name}: {succeeded_condition(run)}"]
    selector = f"tekton.dev/pipelineRun={name}" if run["kind"] == "PipelineRun" else f"tekton.dev/taskRun={name}"
    if run["kind"] == "PipelineRun":
        for tr in list_objects(api, TEKTON, "TaskRun", ns, selector):
            lines.append(f"  TaskRun {tr['metadata']['name']}: {succeeded_condition(tr)}")
    core = client.CoreV1Api(api)
    for pod in core.list_namespaced_pod(ns, label_selector=selector).items:
        lines.append(f"  pod {pod.metadata.name}: {pod.status.phase}")
        for status in (pod.status.init_container_statuses or []) + (pod.status.container_statuses or []):
            state = status.state
            detail = (state.waiting and f"waiting {state.waiting.reason} {state.waiting.message or ''}") or (
                state.terminated and f"terminated {state.terminated.reason} rc={state.terminated.exit_code} "
                                     f"{(state.terminated.message or '')[:300]}") or "running"
            lines.append(f"    {status.name}: {detail}")
    for event in core.list_namespaced_event(ns).items[-20:]:
        lines.append(f"  event {event.involved_object.kind}/{event.involved_object.name}: {event.reason}: "
                     f"{event.message}")
    return "\n".join(lines)


def wait_for_run_done(api, kind: str, name: str, namespace: str, timeout: float = 600) -> dict:
    """Wait until the run's Succeeded condition is True or False; return the run."""
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        run = get(api, TEKTON, kind, name, namespace)
        if run and succeeded_condition(run).get("status") in ("True", "False"):
            return run
        time.sleep(3)
    raise AssertionError(f"{kind} {namespace}/{name} not done after {timeout}s\n"
                         + (describe_run(api, run) if run else "(not found)"))


def wait_for(predicate, timeout: float, interval: float = 2, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; return that, raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pod_logs(api, namespace: str, label_selector: str, container: str | None = None) -> str:
    core = client.CoreV1Api(api)
    out = []
    for pod in core.list_namespaced_pod(namespace, label_selector=label_selector).items:
        try:
            out.append(core.read_namespaced_pod_log(pod.metadata.name, namespace, container=container))
        except ApiException as exc:
            out.append(f"<logs of {pod.metadata.name} unavailable: {exc.status} {exc.reason}>")
    return "\n".join(out)


def taskrun_logs(api, run: dict) -> str:
    """Logs of every step of every TaskRun of a PipelineRun (or of one TaskRun)."""
    core = client.CoreV1Api(api)
    ns = run["metadata"]["namespace"]
    name = run["metadata"]["name"]
    selector = f"tekton.dev/pipelineRun={name}" if run["kind"] == "PipelineRun" else f"tekton.dev/taskRun={name}"
    out = []
    for pod in core.list_namespaced_pod(ns, label_selector=selector).items:
        for container in pod.spec.containers:
            try:
                text = core.read_namespaced_pod_log(pod.metadata.name, ns, container=container.name)
            except ApiException as exc:
                text = f"<unavailable: {exc.status}>"
            out.append(f"--- {pod.metadata.name}/{container.name}\n{text}")
    return "\n".join(out)


def post_to_service(api, namespace: str, service: str, port: str, body: bytes, headers: dict,
                    path: str = "") -> tuple[int, dict, bytes]:
    """POST ``body`` (exact bytes) to a Service through the API server's service proxy; return status, headers,
    body of the Service's answer. Authenticates as the kubeconfig's user (client certificate or token)."""
    cfg = api.configuration
    url = f"{cfg.host}/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path}"
    send = dict(headers)
    auth = cfg.auth_settings().get("BearerToken")
    if auth and auth.get("value"):
        send["Authorization"] = auth["value"]
    resp = api.rest_client.pool_manager.request("POST", url, body=body, headers=send, preload_content=True,
                                                timeout=60, retries=False)
    return resp.status, dict(resp.headers), resp.data


def format_exchange(title: str, method_url: str, headers: dict, body: bytes, status: int, resp_headers: dict,
                    resp_body: bytes) -> str:
    """The request and the answer as text, for the test output (quoted in the closing note)."""
    keep = ("Content-Type", "Content-Length", "Date")
    lines = [f"===== {title}", f"> POST {method_url}"]
    lines += [f"> {k}: {v}" for k, v in headers.items()]
    lines += [">", "> " + body.decode("utf-8", "replace"), f"< HTTP {status}"]
    lines += [f"< {k}: {v}" for k, v in resp_headers.items() if k in keep]
    lines += ["<", "< " + resp_body.decode("utf-8", "replace").strip()]
    return "\n".join(lines)


# ---- PipelineRun workspaces -------------------------------------------------------------------------------------------
VOLUME_ROOT = "/var/lib/aphex-e2e-volumes"
VOLUME_LABEL = "aphex.platform/e2e-volume"


def default_storage_class(api) -> str:
    """Name of the default StorageClass, "" when there is none."""
    storage = client.StorageV1Api(api)
    for sc in storage.list_storage_class().items:
        if (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
            return sc.metadata.name
    return ""


def ensure_workspace_volumes(api, count: int, helper_image: str, size: str = "1Gi") -> list:
    """Static hostPath PersistentVolumes for PipelineRun volumeClaimTemplates, of the default StorageClass (or
    none). The kind node's default class "standard" is the controller-manager's hostpath provisioner, whose
    volumes are root-owned 0755 directories: the runs' non-root steps (Pod Security restricted) cannot write
    them, and hostPath volumes get no fsGroup ownership. The PV controller binds a claim to a matching Available
    PV before it provisions one, so these world-writable PVs (directories made by a one-shot root pod in a
    privileged test namespace) are used instead. Available PVs of an earlier session are reused; returns the
    names."""
    core = client.CoreV1Api(api)
    existing = [pv for pv in core.list_persistent_volume(label_selector=VOLUME_LABEL).items]
    free = [pv.metadata.name for pv in existing if pv.status.phase == "Available"]
    missing = max(0, count - len(free))
    if not missing:
        return free
    stamp = time.strftime("%H%M%S")
    names = [f"e2e-ws-{stamp}-{i}" for i in range(missing)]
    ns = "e2e-tekton-volumes"
    apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}})
    script = " && ".join(f"mkdir -p {VOLUME_ROOT}/{n} && chmod 0777 {VOLUME_ROOT}/{n}" for n in names)
    pod_name = f"mkdirs-{stamp}"
    create(api, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name, "namespace": ns}, "spec": {
        "restartPolicy": "Never", "automountServiceAccountToken": False,
        "containers": [{"name": "mkdirs", "image": helper_image, "command": ["sh", "-c", script],
                        "securityContext": {"runAsUser": 0, "runAsNonRoot": False},
                        "volumeMounts": [{"name": "root", "mountPath": VOLUME_ROOT}]}],
        "volumes": [{"name": "root", "hostPath": {"path": VOLUME_ROOT, "type": "DirectoryOrCreate"}}]}})

    def done():
        pod = core.read_namespaced_pod(pod_name, ns)
        return pod.status.phase if pod.status.phase in ("Succeeded", "Failed") else None

    phase = wait_for(done, 180, what=f"pod {ns}/{pod_name}")
    if phase != "Succeeded":
        raise AssertionError(f"creating volume directories failed: {pod_logs(api, ns, '')}")
    core.delete_namespaced_pod(pod_name, ns)
    for name in names:
        apply(api, {"apiVersion": "v1", "kind": "PersistentVolume",
                    "metadata": {"name": name, "labels": {VOLUME_LABEL: "true"}},
                    "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                             "persistentVolumeReclaimPolicy": "Retain",
                             "storageClassName": default_storage_class(api),
                             "hostPath": {"path": f"{VOLUME_ROOT}/{name}", "type": "Directory"}}})
    return free + names


def delete_released_volumes(api) -> None:
    """PVs whose claim is gone (Released): deleted, so a later session does not count them as free."""
    core = client.CoreV1Api(api)
    for pv in core.list_persistent_volume(label_selector=VOLUME_LABEL).items:
        if pv.status.phase in ("Released", "Failed"):
            core.delete_persistent_volume(pv.metadata.name)


def to_json_bytes(payload: dict) -> bytes:
    """The body as GitHub sends it: compact JSON; the exact bytes are what the signature covers."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=False).encode("utf-8")
