# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests proving the local cluster is a real Kubernetes control plane, not a mock."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster.cluster import LocalCluster

pytestmark = pytest.mark.cluster


def wait_for(predicate, timeout=90, interval=0.5, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def namespace(api_client):
    core = k8s.CoreV1Api(api_client)
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    # Pods need the namespace's default ServiceAccount (ServiceAccount admission is on).
    wait_for(lambda: core.list_namespaced_service_account(name).items, what="default ServiceAccount")
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def test_nodes_are_ready(api_client, local_cluster, toolchain):
    nodes = k8s.CoreV1Api(api_client).list_node(label_selector="type=kwok").items
    assert len(nodes) >= 2
    for node in nodes:
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", node.metadata.name
    # kubectl, as a user would run it, sees the same Ready nodes.
    out = subprocess.run([toolchain.path("kubectl"), "--kubeconfig", local_cluster["kubeconfig"], "get", "nodes",
                          "-o", "json"], capture_output=True, text=True, check=True).stdout
    assert len(json.loads(out)["items"]) == len(nodes)


def test_server_reports_pinned_version(api_client, toolchain):
    info = k8s.VersionApi(api_client).get_code()
    assert info.git_version == f"v{toolchain.versions['kubernetes']}"


def test_crd_schema_rejects_invalid_object(api_client):
    group = "smoke.aphex.dev"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {
                        "type": "object", "required": ["size"],
                        "properties": {"size": {"type": "integer", "minimum": 1, "maximum": 10},
                                       "colour": {"type": "string", "enum": ["red", "blue"]}},
                        "x-kubernetes-validations": [{"rule": "self.size < 5 || self.colour == 'red'",
                                                      "message": "big widgets must be red"}],
                    }},
                }},
            }],
        },
    }
    dyn = DynamicClient(api_client)
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.server_side_apply(body=crd, field_manager="aphex-platform-tests")
    try:
        wait_for(lambda: any(c["type"] == "Established" and c["status"] == "True"
                             for c in (crds.get(name=crd["metadata"]["name"]).status.conditions or [])),
                 what="CRD Established")
        custom = k8s.CustomObjectsApi(api_client)

        def widget(name, spec):
            return {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}

        created = custom.create_namespaced_custom_object(group, "v1", "default", "widgets",
                                                         widget("ok", {"size": 3}))
        assert created["spec"]["size"] == 3
        for name, spec, message in (
            ("too-big", {"size": 11}, "spec.size"),
            ("no-size", {"colour": "red"}, "spec.size: Required value"),
            ("wrong-colour", {"size": 2, "colour": "green"}, "spec.colour"),
            ("cel", {"size": 7, "colour": "blue"}, "big widgets must be red"),
        ):
            with pytest.raises(ApiException) as err:
                custom.create_namespaced_custom_object(group, "v1", "default", "widgets", widget(name, spec))
            assert err.value.status == 422, name
            assert message in err.value.body, (name, err.value.body)
    finally:
        crds.delete(name=crd["metadata"]["name"])


def test_unprivileged_service_account_is_denied(api_client, local_cluster, namespace):
    core = k8s.CoreV1Api(api_client)
    core.create_namespaced_service_account(namespace, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="nobody")))
    user = f"system:serviceaccount:{namespace}:nobody"

    attributes = k8s.V1ResourceAttributes(namespace="kube-system", verb="list", resource="secrets")
    review = k8s.AuthorizationV1Api(api_client).create_subject_access_review(k8s.V1SubjectAccessReview(
        spec=k8s.V1SubjectAccessReviewSpec(user=user, groups=["system:serviceaccounts"],
                                           resource_attributes=attributes)))
    assert review.status.allowed is False

    token = core.create_namespaced_service_account_token(
        "nobody", namespace, k8s.AuthenticationV1TokenRequest(
            spec=k8s.V1TokenRequestSpec(audiences=[], expiration_seconds=600))).status.token
    config = k8s.Configuration()
    config.host = api_client.configuration.host
    config.ssl_ca_cert = api_client.configuration.ssl_ca_cert
    config.api_key = {"authorization": f"Bearer {token}"}
    as_nobody = k8s.CoreV1Api(k8s.ApiClient(config))
    # The token authenticates (a self-review works) ...
    whoami = k8s.AuthenticationV1Api(k8s.ApiClient(config)).create_self_subject_review(
        k8s.V1SelfSubjectReview())
    assert whoami.status.user_info.username == user
    # ... and RBAC denies the real request.
    with pytest.raises(ApiException) as err:
        as_nobody.list_namespaced_secret("kube-system")
    assert err.value.status == 403
    assert user in err.value.body


def test_server_side_apply_conflict_between_field_managers(api_client, namespace):
    configmaps = DynamicClient(api_client).resources.get(api_version="v1", kind="ConfigMap")

    def body(value):
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": namespace},
                "data": {"owner": value}}

    configmaps.server_side_apply(body=body("alice"), field_manager="alice")
    with pytest.raises(ConflictError) as err:
        configmaps.server_side_apply(body=body("bob"), field_manager="bob")
    assert "conflict" in str(err.value.body).lower()
    forced = configmaps.server_side_apply(body=body("bob"), field_manager="bob", force_conflicts=True)
    assert forced.data.owner == "bob"


def test_restricted_namespace_rejects_privileged_pod(api_client):
    core = k8s.CoreV1Api(api_client)
    name = f"restricted-{uuid.uuid4().hex[:8]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted"})))
    try:
        wait_for(lambda: core.list_namespaced_service_account(name).items, what="default ServiceAccount")
        pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="privileged"), spec=k8s.V1PodSpec(containers=[
            k8s.V1Container(name="c", image="registry.invalid/busybox:1",
                            security_context=k8s.V1SecurityContext(privileged=True))]))
        with pytest.raises(ApiException) as err:
            core.create_namespaced_pod(name, pod)
        assert err.value.status == 403
        assert "violates PodSecurity" in err.value.body
        assert "restricted" in err.value.body
    finally:
        core.delete_namespace(name)


def test_deployment_becomes_available(api_client, namespace):
    apps = k8s.AppsV1Api(api_client)
    labels = {"app": "smoke"}
    apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="smoke"),
        spec=k8s.V1DeploymentSpec(
            replicas=2, selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="registry.invalid/app:1")])))))

    def available():
        status = apps.read_namespaced_deployment_status("smoke", namespace).status
        conditions = {c.type: c.status for c in status.conditions or []}
        return status.available_replicas == 2 and conditions.get("Available") == "True"

    wait_for(available, what="Deployment Available with 2 replicas")
    pods = k8s.CoreV1Api(api_client).list_namespaced_pod(namespace, label_selector="app=smoke").items
    assert len(pods) == 2
    assert all(p.spec.node_name and p.status.phase == "Running" for p in pods)


def test_deleted_namespace_disappears(api_client):
    core = k8s.CoreV1Api(api_client)
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="leftover")))
    core.delete_namespace(name)

    def gone():
        try:
            core.read_namespace(name)
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for(gone, timeout=120, what=f"namespace {name} to be deleted")


def _listening_ports() -> set:
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_second_cluster_runs_alongside_and_stops_cleanly(tmp_path, toolchain, local_cluster):
    second = LocalCluster(str(tmp_path / "second"), toolchain, nodes=1)
    assert second.start() is True
    try:
        state = second.read_state()
        assert state["server"] != local_cluster["server"]
        assert second.start() is False  # already running: nothing to do
        pids = [record["pid"] for record in state["processes"].values()]
        ports = set(state["ports"].values())
        assert ports <= _listening_ports() | {state["ports"]["etcd_peer"]}
    finally:
        assert second.stop() is True
    assert not second.running_components()
    for pid in pids:
        with pytest.raises(OSError):
            open(f"/proc/{pid}/cmdline", "rb").close()
    assert not (ports & _listening_ports())
    # The first cluster is unaffected.
    if local_cluster["cluster"] is not None:
        assert local_cluster["cluster"].is_running()
