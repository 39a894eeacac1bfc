# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/bootstrap.yml, proven once, on the session's shared cluster, in one sequence:

1. `--check --diff` on the fresh cluster predicts changes and creates nothing (gates report what is not there yet
   as skipped instead of failing);
2. a run SIGKILLed when the ingress layer starts leaves the first layers in and the rest out;
3. the next run completes the platform; every gate names its component as not running on this cluster (the one
   declared place, inventory aphex_components_not_running) and skips only controller-dependent checks;
4. a further run reports changed=0 and keeps every generated secret;
5. check mode on the converged platform predicts no change;
6. verify: every Deployment/StatefulSet of every layer ready, every CRD Established, upstream webhooks unmodified,
   one Argo CD Application per layer with sync waves in bootstrap order;
7. no generated secret value (nor the Cloudflare token) appears in the output of any of these runs.

The steps depend on each other and run in this order (the session runs this file first, on a cluster where
the platform was never installed); the layer tests (test_layers.py) run afterwards on the installed platform.
The playbook runs as `make bootstrap` runs it: inventories/local, provider `local` pointed at the session's
cluster (the local_cluster role finds it running), so the provider path is exercised as well.
"""

from __future__ import annotations

import base64
import hashlib

import kubernetes
import pytest
from kubernetes import client as k8s

pytestmark = [pytest.mark.cluster]

LAYER_NAMESPACES = ["cert-manager", "external-secrets", "ingress-nginx", "auth-system", "argocd", "tekton-pipelines"]
LAYER_APPLICATIONS = [f"platform-{layer}" for layer in
                      ("cert-manager", "external-secrets", "ingress", "auth", "argocd", "tekton")]
GENERATED = "app.kubernetes.io/managed-by=aphex-platform"
INGRESS_ROLE = "aphex.platform.ingress"
GATE = "aphex.platform.readiness_gate"

# What each step leaves for the next one; a step whose predecessor failed says so instead of running.
# Shared with test_layers.py through the session fixture bootstrap_state.
STATE: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _state(bootstrap_state):
    global STATE  # pylint: disable=global-statement
    STATE = bootstrap_state
    STATE.setdefault("runs", [])


@pytest.fixture(scope="module")
def bootstrap(bootstrap_playbook):
    """Runs playbooks/bootstrap.yml against the session cluster and keeps every run for the output checks."""

    def run(check=False, kill_when=None):
        result = bootstrap_playbook(check=check, kill_when=kill_when)
        STATE["runs"].append(result)
        return result

    return run


@pytest.fixture(scope="module")
def api(local_cluster):
    return kubernetes.config.new_client_from_config(config_file=local_cluster["kubeconfig"])


def _require(step: str) -> None:
    if not STATE.get(step):
        pytest.fail(f"not run: the earlier step '{step}' of the bootstrap sequence did not pass")


def _snapshot(api) -> dict:
    """Names of everything a bootstrap run would create, cluster-wide."""
    core, rbac = k8s.CoreV1Api(api), k8s.RbacAuthorizationV1Api(api)
    ext, adm, apps = k8s.ApiextensionsV1Api(api), k8s.AdmissionregistrationV1Api(api), k8s.AppsV1Api(api)

    def names(items):
        return sorted(f"{i.metadata.namespace or ''}/{i.metadata.name}" for i in items)

    return {
        "namespaces": names(core.list_namespace().items),
        "crds": names(ext.list_custom_resource_definition().items),
        "clusterroles": names(rbac.list_cluster_role().items),
        "clusterrolebindings": names(rbac.list_cluster_role_binding().items),
        "webhooks": names(adm.list_validating_webhook_configuration().items)
        + names(adm.list_mutating_webhook_configuration().items),
        "secrets": names(core.list_secret_for_all_namespaces().items),
        "configmaps": [n for n in names(core.list_config_map_for_all_namespaces().items)
                       if not n.endswith("/kube-root-ca.crt")],
        "deployments": names(apps.list_deployment_for_all_namespaces().items),
    }


def _generated_secrets(api) -> dict:
    """namespace/name -> data of every Secret the platform generated."""
    items = k8s.CoreV1Api(api).list_secret_for_all_namespaces(label_selector=GENERATED).items
    return {f"{s.metadata.namespace}/{s.metadata.name}": dict(s.data or {}) for s in items}


def _digests(secrets: dict) -> dict:
    return {name: hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest() for name, data in secrets.items()}


def test_check_mode_on_the_fresh_cluster_predicts_changes_and_creates_nothing(bootstrap, api):
    namespaces = {n.metadata.name for n in k8s.CoreV1Api(api).list_namespace().items}
    assert not namespaces & set(LAYER_NAMESPACES), (
        f"the bootstrap sequence needs a cluster without the platform; found {namespaces & set(LAYER_NAMESPACES)}")
    before = _snapshot(api)
    run = bootstrap(check=True)
    assert run.ok, run.summary()
    assert run.changed() > 0, run.summary()  # it predicts the installation ...
    assert _snapshot(api) == before  # ... and creates nothing
    # The gates do not fail on what check mode did not create: they report those checks as skipped.
    gates = [r.result for r in run.results if r.action == GATE and not r.skipped]
    assert gates and any(g.get("skipped_checks") for g in gates), gates
    STATE["check"] = True


def test_a_run_killed_when_the_ingress_layer_starts_leaves_the_first_layers_in(bootstrap, api):
    _require("check")
    run = bootstrap(kill_when=lambda task: task.startswith(f"{INGRESS_ROLE} : "))
    assert run.killed, f"the run never reached the ingress layer:\n{run.summary()}"
    assert not run.stats  # killed before its recap
    assert not run.failed_tasks(), run.summary()
    roles_done = {r.role for r in run.results}
    assert {"aphex.platform.cert_manager", "aphex.platform.external_secrets"} <= roles_done, roles_done
    namespaces = {n.metadata.name for n in k8s.CoreV1Api(api).list_namespace().items}
    assert {"cert-manager", "external-secrets"} <= namespaces
    # The later layers are not in (cert-manager creates the namespaces of its certificates, nothing more).
    assert not {"ingress-nginx", "tekton-pipelines"} & namespaces
    apps = k8s.AppsV1Api(api)
    assert not [d.metadata.name for ns in ("argocd", "auth-system") if ns in namespaces
                for d in apps.list_namespaced_deployment(ns).items]
    STATE["killed"] = True


def test_the_next_run_completes_the_platform(bootstrap, api):
    _require("killed")
    run = bootstrap()
    assert run.ok, run.summary()
    assert run.changed() > 0, run.summary()
    assert any(r.role == INGRESS_ROLE and r.changed for r in run.results), "the ingress layer was not completed"
    # The one declared place (inventory aphex_components_not_running, handed to every gate by bootstrap.yml): each
    # gate names its component as not running and skips only the controller-dependent checks, with that reason.
    gates = [r.result for r in run.results if r.action == GATE and not r.skipped]
    assert gates
    for gate in gates:
        reason = gate["not_running_reason"]
        assert "does not run on this cluster" in reason, gate
        assert all(c["reason"] == reason for c in gate["skipped_checks"]), gate
    assert any(g["skipped_checks"] for g in gates)
    STATE["secrets"] = _generated_secrets(api)
    assert STATE["secrets"], f"no Secret labelled {GENERATED}"
    STATE["completed"] = True


def test_a_further_run_changes_nothing_and_keeps_the_generated_secrets(bootstrap, api):
    _require("completed")
    run = bootstrap()
    assert run.ok, run.summary()
    assert run.changed() == 0, "changed on a converged cluster: " + ", ".join(r.name for r in run.changed_tasks())
    after = _generated_secrets(api)
    assert _digests(after) == _digests(STATE["secrets"]), (
        f"changed or missing: {set(after) ^ set(STATE['secrets'])} / values differ")
    STATE["idempotent"] = True


def test_check_mode_on_the_converged_platform_predicts_no_change(bootstrap):
    _require("idempotent")
    run = bootstrap(check=True)
    assert run.ok, run.summary()
    assert run.changed() == 0, "check mode would change: " + ", ".join(r.name for r in run.changed_tasks())


def test_the_platform_is_ready(api):
    _require("completed")
    apps = k8s.AppsV1Api(api)
    not_ready = []
    for namespace in LAYER_NAMESPACES:
        deployments = apps.list_namespaced_deployment(namespace).items
        assert deployments, f"no Deployment in {namespace}"
        for workload in deployments + apps.list_namespaced_stateful_set(namespace).items:
            wanted = workload.spec.replicas if workload.spec.replicas is not None else 1
            if (workload.status.ready_replicas or 0) != wanted:
                not_ready.append(f"{workload.kind or ''} {namespace}/{workload.metadata.name}")
    assert not not_ready, f"not ready: {not_ready}"

    crds = k8s.ApiextensionsV1Api(api).list_custom_resource_definition().items
    not_established = [c.metadata.name for c in crds
                       if not any(x.type == "Established" and x.status == "True" for x in c.status.conditions or [])]
    assert not not_established, f"CRDs not Established: {not_established}"

    # Upstream webhooks are applied unmodified (the local API server does not call them).
    adm = k8s.AdmissionregistrationV1Api(api)
    configs = adm.list_validating_webhook_configuration().items + adm.list_mutating_webhook_configuration().items
    assert configs
    assert not [c.metadata.name for c in configs if any("neutraliz" in k for k in (c.metadata.annotations or {}))]
    policies = {c.metadata.name: {h.failure_policy for h in c.webhooks or []} for c in configs}
    assert policies.get("ingress-nginx-admission") == {"Fail"}, policies
    assert policies.get("cert-manager-webhook") == {"Fail"}, policies

    applications = k8s.CustomObjectsApi(api).list_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications")["items"]
    waves = {a["metadata"]["name"]: (a["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave")
             for a in applications}
    missing = [name for name in LAYER_APPLICATIONS if waves.get(name) is None]
    assert not missing, f"Applications or sync waves missing: {missing} (found {waves})"
    in_order = [int(waves[name]) for name in LAYER_APPLICATIONS]
    assert in_order == sorted(in_order) and len(set(in_order)) == len(in_order), f"waves not in bootstrap order: {waves}"


def test_no_generated_secret_value_appears_in_any_output(cloudflare_token):
    _require("completed")
    values = {cloudflare_token}  # given, not generated: cert-manager's DNS-01 token
    for data in STATE["secrets"].values():
        for encoded in data.values():
            value = base64.b64decode(encoded).decode("utf-8", "replace")
            if len(value) >= 16:  # generated passwords, keys and tokens; not short flags or user names
                values.add(value)
    assert values, "no generated secret value to look for"
    for run in STATE["runs"]:
        leaked = [v[:4] + "..." for v in values if v in run.raw]
        assert not leaked, f"secret values printed by {' '.join(run.command[-6:])}: {leaked}"
