# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each platform layer proves beyond the bootstrap sequence, on the platform it installed.

test_bootstrap.py proves, for every layer at once: check mode on a fresh cluster creates nothing, a first run
installs it, a second run changes nothing, workloads ready, CRDs Established, Applications in wave order, no
secret printed. This file keeps what only a single layer shows, on the same (bootstrapped) cluster:

- role-specific options, read from the cluster (cert-manager's ACME issuer, token Secret, per-certificate issuer,
  charts without their CRDs; ingress TLS routes);
- each layer's readiness gate as on a cluster where the component runs (`layer_not_running: {}`): it fails with
  its diagnostic (failed checks and diagnostics as data) while a precondition is missing, and passes once it is
  provided; what a test breaks or adds, it restores;
- ingress with an existing controller (k3s' Traefik): nothing installed, the gate waits for its IngressClass;
- platform_auth: rotation on request changes only what was asked and restarts the readers; the gate says why
  when the database volume cannot be bound;
- Argo CD: the hand-off (its first sync changes nothing; a later playbook run leaves what it tracks alone) and the
  Applications gate; Tekton: the ko:// guard, the webhook gate, the hand-off.

Runs are one level deep (pytest -> ansible-playbook) and read through the jsonl callback.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import kubernetes
import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from ansible_collections.aphex.platform.tests.support.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
pytestmark = [pytest.mark.cluster]
GATE = "aphex.platform.readiness_gate"
CA_BUNDLE = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBaphexlayertest\n-----END CERTIFICATE-----\n").decode()


@pytest.fixture(scope="module", autouse=True)
def _platform_installed(bootstrap_state):
    # APHEX_TEST_PLATFORM_INSTALLED=1: iterate on these tests against a cluster bootstrapped earlier (same session
    # settings, APHEX_TEST_KUBECONFIG); never set in make test.
    if os.environ.get("APHEX_TEST_PLATFORM_INSTALLED") == "1":
        return
    if not bootstrap_state.get("completed"):
        pytest.fail("not run: the layer tests need the platform the bootstrap sequence (test_bootstrap.py) installs")


@pytest.fixture(scope="module")
def api(local_cluster):
    return kubernetes.config.new_client_from_config(config_file=local_cluster["kubeconfig"])


@pytest.fixture(scope="module")
def layer(platform_env, upstream_mirror):  # pylint: disable=unused-argument
    """Runs one layer role (playbooks/layer.yml) with the local inventory and the given variables."""

    def run(role, tags=(), not_running=None, **role_vars):
        extra = {"layer_role": role, **role_vars}
        if not_running is not None:
            extra["layer_not_running"] = not_running
        return run_playbook(PLAYBOOKS / "layer.yml", inventory=ROOT / "inventories" / "local", extra_vars=extra,
                            tags=tags, env=platform_env)

    return run


@pytest.fixture(scope="module")
def playbook(platform_env, upstream_mirror):  # pylint: disable=unused-argument
    def run(name, **extra):
        return run_playbook(PLAYBOOKS / name, extra_vars=extra, env=platform_env)

    return run


def failed_gate(run) -> dict:
    """The one failed task of a run, which must be a readiness gate; returns its result."""
    failed = run.failed_tasks()
    assert not run.ok and len(failed) == 1, run.summary()
    assert failed[0].action == GATE, f"failed, but not at a readiness gate: {failed[0].name}\n{run.summary()}"
    return failed[0].result


def checks(result: dict, key: str = "failed_checks") -> list:
    return [c["check"] for c in result.get(key) or []]


def gate_results(run) -> list:
    return [r.result for r in run.results if r.action == GATE and not r.skipped]


def patch_ca_bundle(api, kind: str, name: str, value) -> None:
    """Write (value) or remove (None) the caBundle of every webhook of a configuration, as cainjector would."""
    adm = k8s.AdmissionregistrationV1Api(api)
    read = adm.read_validating_webhook_configuration if kind == "validating" else adm.read_mutating_webhook_configuration
    patch = (adm.patch_validating_webhook_configuration if kind == "validating"
             else adm.patch_mutating_webhook_configuration)
    config = read(name)
    ops = []
    for index, hook in enumerate(config.webhooks or []):
        if value is not None:
            ops.append({"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": value})
        elif hook.client_config.ca_bundle:
            ops.append({"op": "remove", "path": f"/webhooks/{index}/clientConfig/caBundle"})
    if ops:
        patch(name, ops)


def delete_namespaces(api, *names) -> None:
    for name in names:
        try:
            k8s.CoreV1Api(api).delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def helm_values(toolchain, kubeconfig, release, namespace) -> dict:
    out = subprocess.run([toolchain.path("helm"), "--kubeconfig", kubeconfig, "get", "values", release, "-n", namespace,
                          "-o", "json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out) or {}


# ---- cert-manager ---------------------------------------------------------------------------------------------------

def test_cert_manager_options_as_specified(api, toolchain, local_cluster, cloudflare_token):
    """ACME issuer with a DNS-01 Cloudflare solver, token Secret, platform CA chain, per-certificate issuer, chart
    without CRDs (switched on in the bootstrap runs: conftest.bootstrap_vars)."""
    custom = k8s.CustomObjectsApi(api)
    issuers = {i["metadata"]["name"]: i for i in
               custom.list_cluster_custom_object("cert-manager.io", "v1", "clusterissuers")["items"]}
    assert sorted(issuers) == ["letsencrypt", "platform-ca", "selfsigned"]
    acme = issuers["letsencrypt"]["spec"]["acme"]
    assert acme["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert acme["email"] == "it@aphex.test"
    solver = acme["solvers"][0]
    assert solver["dns01"]["cloudflare"]["apiTokenSecretRef"] == {"name": "cloudflare-api-token", "key": "api-token"}
    assert solver["selector"]["dnsZones"] == ["it.aphex.test"]
    assert issuers["platform-ca"]["spec"]["ca"]["secretName"] == "platform-ca"
    ca = custom.get_namespaced_custom_object("cert-manager.io", "v1", "cert-manager", "certificates", "platform-ca")
    assert ca["spec"]["isCA"] and ca["spec"]["issuerRef"]["name"] == "selfsigned"

    token = k8s.CoreV1Api(api).read_namespaced_secret("cloudflare-api-token", "cert-manager")
    assert base64.b64decode(token.data["api-token"]).decode() == cloudflare_token

    certificates = {c["metadata"]["name"]: c for c in
                    custom.list_namespaced_custom_object("cert-manager.io", "v1", "auth-system", "certificates")["items"]}
    assert certificates["dex-tls"]["spec"]["issuerRef"]["name"] == "letsencrypt"  # its own issuer
    assert certificates["authentik-tls"]["spec"]["issuerRef"]["name"] == "platform-ca"  # the default

    assert helm_values(toolchain, local_cluster["kubeconfig"], "cert-manager", "cert-manager")["crds"]["enabled"] is False
    assert helm_values(toolchain, local_cluster["kubeconfig"], "external-secrets", "external-secrets")[
        "installCRDs"] is False


def test_cert_manager_gate_fails_without_ca_bundle_and_passes_with_it(api, layer, cloudflare_token):
    try:
        run = layer("aphex.platform.cert_manager", tags=["cert_manager_install"], not_running={},
                    cert_manager_wait_timeout=4, cert_manager_cloudflare_api_token=cloudflare_token)
        gate = failed_gate(run)
        assert {"webhook caBundle validating cert-manager-webhook", "webhook caBundle mutating cert-manager-webhook"} \
            <= set(checks(gate)), gate.get("failed_checks")
        assert "cert-manager/cert-manager-webhook" in [e["service"] for e in gate["diagnostics"]["endpoints"]]
        assert "cert-manager" in gate["diagnostics"]["events"]
        assert gate["not_running_reason"] == ""
        assert cloudflare_token not in run.raw

        patch_ca_bundle(api, "validating", "cert-manager-webhook", CA_BUNDLE)
        patch_ca_bundle(api, "mutating", "cert-manager-webhook", CA_BUNDLE)
        run = layer("aphex.platform.cert_manager", tags=["cert_manager_install"], not_running={},
                    cert_manager_wait_timeout=30, cert_manager_cloudflare_api_token=cloudflare_token)
        assert run.ok, run.summary()
        gates = gate_results(run)
        assert gates and all(g["skipped_checks"] == [] for g in gates), gates
        assert "webhook caBundle validating cert-manager-webhook" in sum((g["passed"] for g in gates), [])
    finally:  # the bootstrapped state: nothing injects a caBundle on this cluster
        patch_ca_bundle(api, "validating", "cert-manager-webhook", None)
        patch_ca_bundle(api, "mutating", "cert-manager-webhook", None)


# ---- External Secrets -----------------------------------------------------------------------------------------------

def test_external_secrets_store_can_be_created_although_no_webhook_answers(api):
    """Its webhooks (failurePolicy Fail, applied unmodified) cannot block the local cluster."""
    custom = k8s.CustomObjectsApi(api)
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "it-store"},
             "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}}}
    custom.create_namespaced_custom_object("external-secrets.io", "v1", "external-secrets", "secretstores", store)
    custom.delete_namespaced_custom_object("external-secrets.io", "v1", "external-secrets", "secretstores", "it-store")


def test_external_secrets_gate_fails_without_ca_bundle(layer):
    run = layer("aphex.platform.external_secrets", tags=["external_secrets_verify"], not_running={},
                external_secrets_wait_timeout=4)
    gate = failed_gate(run)
    assert "webhook caBundle validating secretstore-validate" in checks(gate), gate.get("failed_checks")
    assert "external-secrets/external-secrets-webhook" in [e["service"] for e in gate["diagnostics"]["endpoints"]]
    assert "external-secrets" in gate["diagnostics"]["events"]


# ---- ingress --------------------------------------------------------------------------------------------------------

def test_ingress_routes_are_tls_ingresses_as_specified(api):
    net = k8s.NetworkingV1Api(api)
    argocd = net.read_namespaced_ingress("argocd", "argocd")
    assert argocd.spec.ingress_class_name == "nginx"
    assert len(argocd.spec.tls) == 1 and argocd.spec.tls[0].secret_name == "argocd-tls"
    host = argocd.spec.rules[0].host
    assert argocd.spec.tls[0].hosts == [host] and host.startswith("argocd.")
    backend = argocd.spec.rules[0].http.paths[0].backend.service
    assert backend.name == "argocd-server" and backend.port.number == 80
    assert argocd.metadata.annotations["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    dex = net.read_namespaced_ingress("dex", "auth-system")
    assert dex.spec.rules[0].http.paths[0].backend.service.port.number == 5556
    assert dex.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "8m"
    assert "nginx.ingress.kubernetes.io/backend-protocol" not in dex.metadata.annotations
    https = net.read_namespaced_ingress("it-https-backend", "auth-system")
    assert https.metadata.annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    assert https.spec.rules[0].http.paths[0].backend.service.port.number == 443
    assert [c.metadata.name for c in net.list_ingress_class().items] == ["nginx"]


def _bundle_crds(paths) -> set:
    names = set()
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            names |= {doc["metadata"]["name"] for doc in yaml.safe_load_all(handle)
                      if doc and doc.get("kind") == "CustomResourceDefinition"}
    return names


def _established_crds(api, group: str) -> set:
    crds = k8s.ApiextensionsV1Api(api).list_custom_resource_definition().items
    return {crd.metadata.name for crd in crds if crd.spec.group == group
            and any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])}


def test_every_crd_of_the_pinned_bundles_is_established(api, upstream_mirror):
    """External Secrets' CRD bundle and the Gateway API's standard channel (ingress_gateway_api_enabled in the
    bootstrap runs): every CRD the pinned artifact holds is served, counted from the artifact itself."""
    mirror = Path(upstream_mirror)
    eso = _bundle_crds(mirror.glob("external-secrets/*/crds/bundle.yaml"))
    assert eso and _established_crds(api, "external-secrets.io") | _established_crds(
        api, "generators.external-secrets.io") == eso
    gateway = _bundle_crds(mirror.glob("gateway-api/*/standard/*.yaml"))
    assert len(gateway) == 10 and _established_crds(api, "gateway.networking.k8s.io") == gateway


def test_ingress_gate_fails_without_ca_bundle(layer):
    run = layer("aphex.platform.ingress", tags=["ingress_verify"], not_running={}, ingress_wait_timeout=4)
    gate = failed_gate(run)
    assert "webhook caBundle validating ingress-nginx-admission" in checks(gate), gate.get("failed_checks")
    assert "ingress-nginx/ingress-nginx-controller-admission" in [e["service"] for e in gate["diagnostics"]["endpoints"]]
    assert "ingress-nginx" in gate["diagnostics"]["events"]


def test_ingress_with_an_existing_controller(api, layer):
    """k3s' Traefik: nothing of ingress-nginx is installed; the gate waits for the controller's IngressClass and
    Deployment, and passes once they exist; the routes use its class, without ingress-nginx annotations."""
    namespace, traefik_ns = "aphex-it-ing-routes", "aphex-it-ing-traefik"
    existing = {
        "ingress_cluster_provider": "k3s", "ingress_gateway_api_enabled": False, "ingress_class_name": "it-traefik",
        "ingress_existing_controller_deployments": [{"namespace": traefik_ns, "name": "traefik"}],
        "ingress_domain": "it.aphex.test",
        "ingress_routes": [{"name": "it-app", "namespace": namespace, "host": "app.it.aphex.test", "service": "app",
                            "port": 80, "tls_secret": "app-tls"}],
    }
    try:
        run = layer("aphex.platform.ingress", ingress_wait_timeout=3, **existing)
        gate = failed_gate(run)
        assert {"deployment aphex-it-ing-traefik/traefik"} <= set(checks(gate)), gate.get("failed_checks")
        assert any("it-traefik" in check for check in checks(gate)), gate.get("failed_checks")

        core, apps, net = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.NetworkingV1Api(api)
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=traefik_ns)))
        net.create_ingress_class(k8s.V1IngressClass(metadata=k8s.V1ObjectMeta(name="it-traefik"),
                                                    spec=k8s.V1IngressClassSpec(controller="traefik.io/ingress-controller")))
        apps.create_namespaced_deployment(traefik_ns, {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "traefik"},
            "spec": {"selector": {"matchLabels": {"app": "traefik"}},
                     "template": {"metadata": {"labels": {"app": "traefik"}},
                                  "spec": {"containers": [{"name": "traefik", "image": "registry.k8s.io/pause:3.10"}]}}}})

        run = layer("aphex.platform.ingress", ingress_wait_timeout=60, **existing)
        assert run.ok, run.summary()
        assert not [t.name for t in run.changed_tasks() if "nginx" in t.name.lower()], run.summary()
        ingress = net.read_namespaced_ingress("it-app", namespace)
        assert ingress.spec.ingress_class_name == "it-traefik"
        assert not [k for k in (ingress.metadata.annotations or {}) if "nginx" in k]
    finally:
        try:
            k8s.NetworkingV1Api(api).delete_ingress_class("it-traefik")
        except ApiException as exc:
            if exc.status != 404:
                raise
        delete_namespaces(api, namespace, traefik_ns)


# ---- Argo CD --------------------------------------------------------------------------------------------------------

def test_argocd_hand_off_changes_nothing_and_the_playbook_leaves_tracked_objects_alone(
        api, playbook, gitops_dir, tmp_path, bootstrap_playbook):
    run = playbook("argocd_handoff.yml", argocd_gitops_dir=gitops_dir, scratch_dir=str(tmp_path))
    assert run.ok, run.summary()
    again = bootstrap_playbook(tags=["argocd"])
    assert again.ok, again.summary()
    assert again.changed() == 0, "after the hand-off: " + ", ".join(t.name for t in again.changed_tasks())
    cm = k8s.CoreV1Api(api).read_namespaced_config_map("argocd-cm", "argocd")
    assert cm.metadata.annotations["argocd.argoproj.io/tracking-id"] == "platform-argocd:simulated-sync"

    # A file the role no longer writes (a layer switched off, a file an earlier version named) goes from the
    # directories it owns, or the root would keep syncing it; the other roles' directories are not its business.
    platform = Path(gitops_dir) / "platform"
    stale = [platform / "apps" / "platform-retired.yaml", platform / "layers" / "argocd" / "old" / "patch.yaml"]
    foreign = platform / "layers" / "tekton" / "not-argocds.yaml"
    for path in stale + [foreign]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kind: ConfigMap\n", encoding="utf-8")
    try:
        pruned = bootstrap_playbook(tags=["argocd"])
        assert pruned.ok, pruned.summary()
        changed = [t.name for t in pruned.changed_tasks()]
        assert changed and all("Remove the GitOps files the role no longer writes" in name for name in changed), \
            changed
        assert not any(path.exists() for path in stale) and foreign.exists()
        assert (platform / "apps" / "platform-tekton.yaml").exists()
    finally:
        foreign.unlink()


def test_argocd_configuration_is_argo_cds_completed_by_the_role(api, bootstrap_playbook):
    core = k8s.CoreV1Api(api)
    cm = core.read_namespaced_config_map("argocd-cm", "argocd")
    assert cm.metadata.labels["app.kubernetes.io/part-of"] == "argocd"
    assert cm.data["application.resourceTrackingMethod"] == "annotation"
    assert "obj.status.health.status" in cm.data["resource.customizations.health.argoproj.io_Application"]
    assert cm.data["url"].startswith("https://argocd.")
    assert "clientSecret: $argocd-oidc:clientSecret" in cm.data["oidc.config"]  # a reference, not the value
    params = core.read_namespaced_config_map("argocd-cmd-params-cm", "argocd")
    assert params.data["server.insecure"] == "true" and params.data["controller.diff.server.side"] == "true"
    # Applications in any namespace (repository pipelines' namespaces; the AppProjects' sourceNamespaces guard them),
    # with the RBAC argocd-server lacks in install.yaml to write Applications outside its namespace.
    assert params.data["application.namespaces"] == "*"
    rbac = k8s.RbacAuthorizationV1Api(api)
    server = rbac.read_cluster_role("argocd-server-cluster-apps")
    assert any("applications" in (r.resources or []) and "create" in r.verbs for r in server.rules)
    subjects = rbac.read_cluster_role_binding("argocd-server-cluster-apps").subjects
    assert [(s.kind, s.name, s.namespace) for s in subjects] == [("ServiceAccount", "argocd-server", "argocd")]
    assert core.read_namespaced_config_map("argocd-rbac-cm", "argocd").data["scopes"] == "[groups]"
    copied = core.read_namespaced_secret("argocd-oidc", "argocd")
    assert copied.metadata.labels["app.kubernetes.io/part-of"] == "argocd"
    clients = core.read_namespaced_secret("platform-auth-oidc-clients", "auth-system")
    assert copied.data["clientSecret"] == clients.data["argocd"]  # the auth layer's client secret, copied

    # Argo CD's bundled Dex is left out (the platform's Dex serves its OIDC), and one an earlier install left running
    # is deleted (stand-ins for two of its objects).
    assert [d.metadata.name for d in k8s.AppsV1Api(api).list_namespaced_deployment("argocd").items
            if "dex" in d.metadata.name] == []
    core.create_namespaced_service_account("argocd", k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(
        name="argocd-dex-server")))
    core.create_namespaced_service("argocd", k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="argocd-dex-server"), spec=k8s.V1ServiceSpec(ports=[k8s.V1ServicePort(port=5556)])))
    run = bootstrap_playbook(tags=["argocd"])
    assert run.ok, run.summary()
    assert [t.name for t in run.changed_tasks()] == [
        "aphex.platform.argocd : Argo CD | Remove Argo CD's bundled Dex (argocd_bundled_dex_enabled false; the "
        "platform's Dex serves OIDC)"], run.summary()
    assert "argocd-dex-server" not in [a.metadata.name for a in core.list_namespaced_service_account("argocd").items]
    assert "argocd-dex-server" not in [a.metadata.name for a in core.list_namespaced_service("argocd").items]


def test_argocd_applications_gate_waits_for_the_controller_status(api, layer):
    custom = k8s.CustomObjectsApi(api)
    role_vars = {"argocd_gitops_repo_url": "https://git.invalid/aphex/platform-gitops.git"}
    run = layer("aphex.platform.argocd", tags=["argocd_verify"], not_running={}, argocd_wait_timeout=4, **role_vars)
    gate = failed_gate(run)
    assert any("platform-root" in check for check in checks(gate)), gate.get("failed_checks")
    assert "argocd" in gate["diagnostics"]["events"]

    applications = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications")["items"]
    for app in applications:
        # Argo CD's Application CRD has no status subresource: the controller writes status like any field.
        custom.patch_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", app["metadata"]["name"],
            {"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}})
    run = layer("aphex.platform.argocd", tags=["argocd_verify"], not_running={}, argocd_wait_timeout=30, **role_vars)
    assert run.ok, run.summary()
    gates = gate_results(run)
    assert gates and all(g["skipped_checks"] == [] for g in gates), gates

    # A layer with a component the cluster cannot run (the Tekton Dashboard on kind) is never Healthy there:
    # argocd_verify_sync_only waits for its sync only; without it the gate fails on that Application's health alone.
    custom.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "platform-tekton",
                                          {"status": {"health": {"status": "Degraded"}}})
    try:
        gate = failed_gate(layer("aphex.platform.argocd", tags=["argocd_verify"], not_running={},
                                 argocd_wait_timeout=4, **role_vars))
        assert checks(gate) and all("platform-tekton" in check for check in checks(gate)), gate.get("failed_checks")
        run = layer("aphex.platform.argocd", tags=["argocd_verify"], not_running={}, argocd_wait_timeout=30,
                    argocd_verify_sync_only=["platform-tekton"], **role_vars)
        assert run.ok, run.summary()
        (gate,) = gate_results(run)
        assert gate["skipped_checks"] == [] and len(gate["passed"]) == 2 * 7 - 1, gate
    finally:
        custom.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "platform-tekton",
                                              {"status": {"health": {"status": "Healthy"}}})


# ---- platform_auth --------------------------------------------------------------------------------------------------

AUTH_NS = "auth-system"


def _auth_secret(api, name) -> dict:
    return dict(k8s.CoreV1Api(api).read_namespaced_secret(name, AUTH_NS).data or {})


def test_auth_layer_content_as_built(playbook):
    """Secrets, database, proxy, Authentik, Dex, blueprint and the outputs for Argo CD (playbooks/auth_content.yml);
    before the rotation test, which changes a client secret."""
    run = playbook("auth_content.yml")
    assert run.ok, run.summary()


def test_auth_rotation_changes_only_what_was_asked_and_restarts_the_readers(api, bootstrap_playbook):
    names = ["platform-auth-postgresql", "platform-auth-authentik", "platform-auth-oidc-clients",
             "platform-auth-oauth2-proxy"]
    before = {name: _auth_secret(api, name) for name in names}
    run = bootstrap_playbook(tags=["auth"], extra={"platform_auth_rotate_oidc_client_secrets": ["argocd"]})
    assert run.ok and run.changed() > 0, run.summary()
    after = {name: _auth_secret(api, name) for name in names}
    clients_before, clients_after = before["platform-auth-oidc-clients"], after["platform-auth-oidc-clients"]
    assert clients_after["argocd"] != clients_before["argocd"]
    assert {k: v for k, v in clients_after.items() if k != "argocd"} == \
        {k: v for k, v in clients_before.items() if k != "argocd"}
    for name in names:
        if name != "platform-auth-oidc-clients":
            assert after[name] == before[name], f"{name} changed"
    restarted = [d.metadata.name for d in k8s.AppsV1Api(api).list_namespaced_deployment(AUTH_NS).items
                 if "platform.aphex/restarted-at" in (d.spec.template.metadata.annotations or {})]
    assert restarted, "no reader of the client secrets was restarted"

    again = bootstrap_playbook(tags=["auth"])
    assert again.ok, again.summary()
    assert again.changed() == 0, "a rotation happens only on the run that asks for it: " + ", ".join(
        t.name for t in again.changed_tasks())


def test_auth_gate_says_why_when_the_database_volume_cannot_be_bound(api, layer):
    namespace = "aphex-it-auth-nopv"
    try:
        run = layer("aphex.platform.platform_auth", not_running={},
                    platform_auth_namespace=namespace, platform_auth_authentik_release="it2-authentik",
                    platform_auth_dex_release="it2-dex", platform_auth_domain="it.aphex.test",
                    platform_auth_postgresql_static_volume=False, platform_auth_wait_timeout=15)
        gate = failed_gate(run)
        assert f"statefulset {namespace}/platform-auth-postgresql" in checks(gate), gate.get("failed_checks")
    finally:
        delete_namespaces(api, namespace)


# ---- Tekton ---------------------------------------------------------------------------------------------------------

def test_tekton_catalog_interceptors_and_eventlistener_access(api):
    """The pipeline catalog, the core interceptors, and the one ClusterRole eventlistener-access (the same rules as
    the organization role ships)."""
    custom = k8s.CustomObjectsApi(api)

    def names(group, version, plural, namespace=None):
        items = (custom.list_namespaced_custom_object(group, version, namespace, plural) if namespace
                 else custom.list_cluster_custom_object(group, version, plural))["items"]
        return sorted(i["metadata"]["name"] for i in items), items

    tasks, task_items = names("tekton.dev", "v1", "tasks", "pipeline-catalog")
    assert tasks == ["argocd-sync", "buildah-build", "git-clone", "kubectl-deploy"]
    assert names("tekton.dev", "v1", "pipelines", "pipeline-catalog")[0] == ["build-and-deploy", "build-and-sync"]
    assert names("triggers.tekton.dev", "v1alpha1", "clusterinterceptors")[0] == [
        "bitbucket", "cel", "github", "gitlab", "slack"]
    deploy = next(t for t in task_items if t["metadata"]["name"] == "kubectl-deploy")
    assert deploy["spec"]["steps"][0]["script"].startswith("#!/usr/bin/env bash\nset -euo pipefail\n")
    shipped = yaml.safe_load((ROOT / "roles" / "organization" / "files" / "rbac" / "eventlistener-access.yaml").read_text())
    live = k8s.RbacAuthorizationV1Api(api).read_cluster_role("eventlistener-access")
    assert api.sanitize_for_serialization(live.rules) == shipped["rules"]


def test_tekton_refuses_ko_images_before_applying_anything(layer):
    run = layer("aphex.platform.tekton", tags=["tekton_install"], tekton_allow_ko_images=False)
    failed = run.failed_tasks()
    assert not run.ok and len(failed) == 1, run.summary()
    assert failed[0].action == "aphex.platform.k8s_manifests" and not failed[0].changed, run.summary()
    assert not run.changed_tasks(), run.summary()
    assert "ko://" in failed[0].result.get("msg", ""), failed[0].result  # names the unpullable images


# Settings Argo CD would undo if it synced Tekton's pinned sources: ko:// resolved to a registry, the digest-pinned
# shell image replaced, one more feature flag (set-security-context "true" is the role's default).
TEKTON_KO_REPOSITORY = "registry.aphex.test/tektoncd"
TEKTON_SHELL_IMAGE = ("cgr.dev/chainguard/busybox@sha256:"
                      "19f02276bf8dbdd62f069b922f10c65262cc34b710eea26ff928129a736be791")
TEKTON_SETTINGS = {
    "tekton_ko_image_repository": TEKTON_KO_REPOSITORY,
    "tekton_image_overrides": {TEKTON_SHELL_IMAGE: "registry.aphex.test/busybox:1.37.0"},
    "tekton_pipelines_feature_flags": {"set-security-context": "true", "keep-pod-on-cancel": "true"},
}


def _changed_objects(results: list) -> set:
    return {f"{r['kind']} {r.get('namespace', '')}/{r['name']}" for r in results if r["action"] != "unchanged"}


def _tekton_hand_off(playbook, gitops_dir) -> set:
    """Runs tekton_handoff.yml (which asserts that syncing the Application changes nothing); returns what the pinned
    sources, synced unmodified (the Application before the export), would have changed."""
    run = playbook("tekton_handoff.yml", tekton_gitops_dir=gitops_dir)
    assert run.ok, run.summary()
    control = run.task("Control: apply the pinned sources").result["results"]
    return _changed_objects([r for item in control for r in item["results"]])


def _tekton_exports(gitops_dir) -> dict:
    layer = Path(gitops_dir) / "platform" / "layers" / "tekton"
    return {str(p.relative_to(layer)): p.read_bytes() for p in sorted(layer.rglob("*.yaml"))}


def test_tekton_webhook_gate_and_hand_off(playbook, layer, gitops_dir, api):
    """The webhook gate as where Tekton runs; then the hand-off changes nothing the tekton role applied, with the
    bootstrap's settings and with settings that transform Tekton's sources (ko:// resolved, an image override, feature
    flags): Argo CD's platform-tekton Application syncs the role's export, byte-stable, and a second run changes
    nothing. The control proves the check can fail: the pinned sources Argo CD used to sync would change exactly
    what the settings changed."""
    run = playbook("tekton_webhooks.yml")
    assert run.ok, run.summary()

    # The bootstrap's settings (local inventory): ko:// unresolved, the default feature flag set-security-context.
    drift = _tekton_hand_off(playbook, gitops_dir)
    assert drift == {"ConfigMap tekton-pipelines/feature-flags"}, drift
    bootstrap_export = _tekton_exports(gitops_dir)
    assert sorted(bootstrap_export) == ["components/dashboard.yaml", "components/interceptors.yaml",
                                        "components/pipelines.yaml", "components/triggers.yaml",
                                        "eventlistener-access.yaml", "pipeline-catalog.yaml"]

    try:
        first = layer("aphex.platform.tekton", tekton_gitops_export_dir=gitops_dir, **TEKTON_SETTINGS)
        assert first.ok, first.summary()
        assert first.changed() > 0, first.summary()
        exported = _tekton_exports(gitops_dir)
        again = layer("aphex.platform.tekton", tekton_gitops_export_dir=gitops_dir, **TEKTON_SETTINGS)
        assert again.ok and again.changed() == 0, ", ".join(t.name for t in again.changed_tasks()) + again.summary()
        assert _tekton_exports(gitops_dir) == exported  # byte-stable

        # What the settings made of Tekton is on the cluster and in the export.
        apps = k8s.AppsV1Api(api)
        controller = apps.read_namespaced_deployment("tekton-pipelines-controller", "tekton-pipelines")
        container = controller.spec.template.spec.containers[0]
        assert container.image == f"{TEKTON_KO_REPOSITORY}/github.com/tektoncd/pipeline/cmd/controller:v1.15.0"
        assert "registry.aphex.test/busybox:1.37.0" in container.args and TEKTON_SHELL_IMAGE not in container.args
        flags = k8s.CoreV1Api(api).read_namespaced_config_map("feature-flags", "tekton-pipelines").data
        assert flags["set-security-context"] == "true" and flags["keep-pod-on-cancel"] == "true"
        pipelines = [d for d in yaml.safe_load_all(exported["components/pipelines.yaml"]) if d]
        deployment = next(d for d in pipelines if d["kind"] == "Deployment"
                          and d["metadata"]["name"] == "tekton-pipelines-controller")
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == container.image
        assert not any("ko://" in text.decode() for text in exported.values())

        drift = _tekton_hand_off(playbook, gitops_dir)
        # Every workload (all their images were ko://) and the feature flags would have been undone.
        workloads = {f"Deployment {d['metadata']['namespace']}/{d['metadata']['name']}"
                     for name in ("pipelines", "triggers", "interceptors", "dashboard")
                     for d in yaml.safe_load_all(exported[f"components/{name}.yaml"]) if d and d["kind"] == "Deployment"}
        assert len(workloads) >= 8 and drift == workloads | {"ConfigMap tekton-pipelines/feature-flags"}, drift
    finally:
        # Back to the bootstrap's settings (cluster and export), as the other tests expect them.
        restored = layer("aphex.platform.tekton", tekton_gitops_export_dir=gitops_dir)
        assert restored.ok, restored.summary()
    assert _tekton_exports(gitops_dir) == bootstrap_export

    # Argo CD's real sync (not a dry run) makes its manager co-own every field it applies; the tekton role runs again
    # in the next bootstrap. A field the API server never stores (a v1 CRD's preserveUnknownFields: false) would then
    # conflict on every apply; the export carries none, and the role's next run passes unchanged.
    crds = [d for text in bootstrap_export.values() for d in yaml.safe_load_all(text)
            if d and d["kind"] == "CustomResourceDefinition"]
    assert len(crds) >= 10 and not any("preserveUnknownFields" in d["spec"] for d in crds)
    crd_api = DynamicClient(api).resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    for crd in crds:
        crd_api.server_side_apply(body=crd, field_manager="argocd-controller", force_conflicts=True)
    again = layer("aphex.platform.tekton", tekton_gitops_export_dir=gitops_dir)
    assert again.ok and again.changed() == 0, ", ".join(t.name for t in again.changed_tasks()) + again.summary()
