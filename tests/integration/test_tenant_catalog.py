"""The module catalog against real tools: every base and overlay built by kustomize (`kubectl kustomize`), every
built object accepted by the local control plane (server-side dry run; pods of every workload dry-run created
in a namespace that enforces the restricted Pod Security level), and tenant isolation checked on the cluster:
the API server evaluates the NetworkPolicies' namespace selectors, and SubjectAccessReviews show a module's
ServiceAccount cannot read another tenant's Secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import (
    CATALOG_NAMES, catalog_entry, render_module)

pytestmark = pytest.mark.cluster

GPU_TENANT = {"name": "catalog-gpu", "domain": "gpu.example.com", "gpu": {"enabled": True}}
CPU_TENANT = {"name": "catalog-cpu", "domain": "cpu.example.org"}
IMAGE = "registry.example.com/team/app:1.2.3"
ENVS = ("dev", "staging", "production")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "CronJob")
FIELD_MANAGER = "aphex-platform"


def options_for(tenant, module):
    options = {"image": IMAGE} if catalog_entry(module)["image_required"] else {}
    if module in ("langfuse", "jupyter", "microservice", "frontend"):
        options.update({"auth": True, "roles": catalog_entry(module)["default_roles"]})
    if tenant is CPU_TENANT and catalog_entry(module)["gpu"]["required"]:
        options["gpu"] = 0  # CPU only; without it the module is refused (unit tests)
    return options


def write_tree(root, files):
    for relpath, content in files.items():
        path = os.path.join(root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)


@pytest.fixture(scope="module")
def kubectl(toolchain):
    return toolchain.path("kubectl")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Both tenants' trees: {tenant name: tree root}."""
    roots = {}
    for tenant in (GPU_TENANT, CPU_TENANT):
        root = str(tmp_path_factory.mktemp(tenant["name"]))
        for module in CATALOG_NAMES:
            write_tree(root, render_module(tenant, module, options_for(tenant, module)))
        roots[tenant["name"]] = root
    return roots


@pytest.fixture(scope="module")
def built(rendered, kubectl):
    """`kubectl kustomize` of every base and overlay: {(tenant, module, env or 'base'): [objects]}."""
    result = {}
    for tenant, root in rendered.items():
        for module in CATALOG_NAMES:
            for env in ("base",) + ENVS:
                path = os.path.join(root, "modules", module, "base" if env == "base" else f"overlays/{env}")
                proc = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True, check=False)
                assert proc.returncode == 0, f"kustomize build {path} failed:\n{proc.stderr}"
                result[(tenant, module, env)] = [o for o in yaml.safe_load_all(proc.stdout) if o]
    return result


def pod_template(obj):
    return obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]


def test_every_overlay_builds_with_tenant_context(built):
    assert len(built) == 2 * len(CATALOG_NAMES) * 4
    for (tenant, module, env), objs in built.items():
        where = f"{tenant}/{module}/{env}"
        namespace = f"{tenant}-{module}"
        assert objs, where
        for obj in objs:
            labels = obj["metadata"].get("labels", {})
            assert labels.get("orchestr8.platform/tenant") == tenant, (where, obj["kind"], obj["metadata"]["name"])
            assert labels.get("orchestr8.platform/module") == module, (where, obj["kind"])
            assert obj["metadata"].get("namespace", namespace) == namespace, where
        configmaps = [o["metadata"]["name"] for o in objs if o["kind"] == "ConfigMap"]
        assert len(configmaps) == 1 and configmaps[0].startswith(f"{module}-config-"), where  # hashed name
        config = next(o for o in objs if o["kind"] == "ConfigMap").get("data", {})
        if env != "base":
            assert config["ENVIRONMENT"] == env, where
        for workload in (o for o in objs if o["kind"] in WORKLOAD_KINDS):
            for container in pod_template(workload)["spec"]["containers"]:
                # the generator's hashed name replaced the base name in every reference
                assert container["envFrom"] == [{"configMapRef": {"name": configmaps[0]}}], where
        quota = next(o for o in objs if o["kind"] == "ResourceQuota")["spec"]["hard"]
        totals = catalog_entry(module)["per_environment"]["dev" if env == "base" else env]
        if tenant == "catalog-gpu":
            assert quota["requests.cpu"] == totals["requests"]["cpu"], where
            assert quota["pods"] == str(totals["pods"]), where


def test_overlay_replicas_and_hosts_after_build(built):
    objs = {env: built[("catalog-gpu", "langfuse", env)] for env in ENVS}
    replicas = {env: {o["metadata"]["name"]: o["spec"]["replicas"] for o in objs[env] if o["kind"] == "Deployment"}
                for env in ENVS}
    assert replicas == {"dev": {"langfuse-web": 1, "langfuse-worker": 1},
                        "staging": {"langfuse-web": 2, "langfuse-worker": 1},
                        "production": {"langfuse-web": 3, "langfuse-worker": 2}}
    hosts = {env: next(o for o in objs[env] if o["kind"] == "Ingress")["spec"] for env in ENVS}
    assert hosts["production"]["rules"][0]["host"] == "langfuse.gpu.example.com"
    assert hosts["production"]["tls"] == [{"hosts": ["langfuse.gpu.example.com"], "secretName": "langfuse-tls"}]
    assert hosts["dev"]["rules"][0]["host"] == "langfuse.dev.gpu.example.com" and "tls" not in hosts["dev"]
    limits = next(o for o in objs["production"] if o["kind"] == "Deployment" and o["metadata"]["name"] == "langfuse-web")
    assert pod_template(limits)["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}


def test_gpu_only_where_the_tenant_allows_it(built):
    for env in ENVS:
        gpu = next(o for o in built[("catalog-gpu", "ollama", env)] if o["kind"] == "StatefulSet")
        cpu = next(o for o in built[("catalog-cpu", "ollama", env)] if o["kind"] == "StatefulSet")
        assert pod_template(gpu)["spec"]["runtimeClassName"] == "nvidia"
        assert pod_template(gpu)["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert "runtimeClassName" not in pod_template(cpu)["spec"]
        assert "nvidia.com/gpu" not in pod_template(cpu)["spec"]["containers"][0]["resources"]["limits"]


# --- on the local control plane ------------------------------------------------------------------------

def run_kubectl(kubectl, kubeconfig, args, documents=None, check=True):
    stdin = yaml.safe_dump_all(documents, sort_keys=True) if documents is not None else None
    proc = subprocess.run([kubectl, "--kubeconfig", kubeconfig, *args], input=stdin, capture_output=True,
                          text=True, check=False)
    if check:
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def cluster_namespaces(built, kubectl, local_cluster):
    """The modules' namespaces (with their Pod Security labels) and ServiceAccounts created for real (namespaced
    objects cannot be dry-run into a namespace that does not exist, pods not without their ServiceAccount)."""
    base = [o for key, objs in built.items() if key[2] == "base" for o in objs]
    namespaces = [o for o in base if o["kind"] == "Namespace"]
    for kind in ("Namespace", "ServiceAccount"):
        run_kubectl(kubectl, local_cluster["kubeconfig"],
                    ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"],
                    [o for o in base if o["kind"] == kind])
    yield [ns["metadata"]["name"] for ns in namespaces]
    run_kubectl(kubectl, local_cluster["kubeconfig"],
                ["delete", "namespace", "--wait=false", "--ignore-not-found",
                 *[ns["metadata"]["name"] for ns in namespaces]], check=False)


def test_server_side_dry_run_of_every_overlay(built, kubectl, local_cluster, cluster_namespaces):
    kubeconfig = local_cluster["kubeconfig"]
    count = 0
    # One call per tenant and environment (all modules together): the environments share names, so not more.
    for tenant in ("catalog-gpu", "catalog-cpu"):
        for env in ("base",) + ENVS:
            objs = [o for module in CATALOG_NAMES for o in built[(tenant, module, env)]]
            proc = run_kubectl(kubectl, kubeconfig, ["apply", "--server-side", "--dry-run=server",
                                                     f"--field-manager={FIELD_MANAGER}", "-f", "-"], objs)
            # Workloads whose pods would break the restricted level come back with a warning.
            assert "Warning" not in proc.stderr, f"{tenant}/{env}: {proc.stderr}"
            assert proc.stdout.count("serverside-applied (server dry run)") == len(objs), proc.stdout
            count += len(objs)
    assert count > 500


def test_every_workload_pod_passes_restricted_pod_security(built, kubectl, local_cluster, cluster_namespaces):
    """Pod Security admission enforces `restricted` on the namespaces: a non-compliant pod is rejected."""
    kubeconfig = local_cluster["kubeconfig"]
    # A GPU cluster has the nvidia RuntimeClass (the kind_cluster role creates it; on k3s the NVIDIA container
    # toolkit does); without it the GPU pods are refused, so create it when this cluster lacks it.
    created_runtime_class = run_kubectl(kubectl, kubeconfig, ["get", "runtimeclass", "nvidia"],
                                        check=False).returncode != 0
    if created_runtime_class:
        run_kubectl(kubectl, kubeconfig, ["create", "-f", "-"], [{
            "apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "nvidia"},
            "handler": "nvidia"}])
    pods = []
    for (tenant, module, env), objs in built.items():
        if env != "production":
            continue
        for workload in (o for o in objs if o["kind"] in WORKLOAD_KINDS):
            template = pod_template(workload)
            # what the StatefulSet controller adds: one volume per claim template
            template["spec"].setdefault("volumes", []).extend(
                {"name": claim["metadata"]["name"], "emptyDir": {}}
                for claim in workload["spec"].get("volumeClaimTemplates", []))
            pods.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": f"{workload['metadata']['name']}-probe",
                                      "namespace": workload["metadata"]["namespace"],
                                      "labels": template["metadata"]["labels"]},
                         "spec": template["spec"]})
    assert len(pods) >= 2 * len(CATALOG_NAMES)
    try:
        run_kubectl(kubectl, kubeconfig, ["create", "--dry-run=server", "-f", "-"], pods)
    finally:
        if created_runtime_class:
            run_kubectl(kubectl, kubeconfig, ["delete", "runtimeclass", "nvidia"], check=False)
    # The check is live: the same pod with a root container is refused by the same namespaces.
    bad = json.loads(json.dumps(pods[0]))
    bad["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = False
    proc = run_kubectl(kubectl, kubeconfig, ["create", "--dry-run=server", "-f", "-"], [bad], check=False)
    assert proc.returncode != 0 and "violates PodSecurity" in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def applied_langfuse(built, kubectl, local_cluster, cluster_namespaces):
    """Both tenants' production langfuse (and its dependencies) applied for real."""
    for tenant in ("catalog-gpu", "catalog-cpu"):
        for module in ("langfuse", "postgresql", "clickhouse", "redis"):
            run_kubectl(kubectl, local_cluster["kubeconfig"],
                        ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"],
                        built[(tenant, module, "production")])


def namespaces_matching(kubectl, kubeconfig, selector):
    labels = ",".join(f"{k}={v}" for k, v in sorted(selector["matchLabels"].items()))
    assert set(selector) == {"matchLabels"}, selector  # no matchExpressions in our policies
    proc = run_kubectl(kubectl, kubeconfig, ["get", "namespaces", "-l", labels, "-o", "json"])
    return {item["metadata"]["name"] for item in json.loads(proc.stdout)["items"]}


def test_network_policies_keep_other_tenants_out(kubectl, local_cluster, applied_langfuse):
    """The API server evaluates every namespace selector of the live policies: none picks another tenant."""
    kubeconfig = local_cluster["kubeconfig"]
    proc = run_kubectl(kubectl, kubeconfig, ["get", "networkpolicies", "-n", "catalog-gpu-langfuse", "-o", "json"])
    policies = {p["metadata"]["name"]: p["spec"] for p in json.loads(proc.stdout)["items"]}
    assert policies["default-deny-all"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    other_tenant = namespaces_matching(kubectl, kubeconfig, {"matchLabels": {
        "orchestr8.platform/tenant": "catalog-cpu"}})
    assert "catalog-cpu-langfuse" in other_tenant and "catalog-cpu-postgresql" in other_tenant
    reached = set()
    for name, spec in policies.items():
        peers = [peer for rule in spec.get("ingress", []) for peer in rule["from"]] + \
                [peer for rule in spec.get("egress", []) for peer in rule["to"]]
        for peer in peers:
            if "namespaceSelector" in peer:
                matched = namespaces_matching(kubectl, kubeconfig, peer["namespaceSelector"])
                assert not matched & other_tenant, (name, peer, matched & other_tenant)
                reached |= matched
            else:  # public internet only: every private range (pod and service networks) is excluded
                assert set(peer) == {"ipBlock"}, (name, peer)
                assert "10.0.0.0/8" in peer["ipBlock"]["except"] and "172.16.0.0/12" in peer["ipBlock"]["except"]
    # and the allowed flows do reach the own tenant's modules (the selectors are not simply empty)
    assert {"catalog-gpu-langfuse", "catalog-gpu-postgresql", "catalog-gpu-clickhouse",
            "catalog-gpu-redis"} <= reached
    same_tenant = policies["allow-same-tenant-ingress"]["ingress"][0]["from"][0]["namespaceSelector"]
    assert namespaces_matching(kubectl, kubeconfig, same_tenant) == {
        f"catalog-gpu-{m}" for m in CATALOG_NAMES}


def access_review(kubectl, kubeconfig, namespace, service_account, target_namespace, verb="get"):
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": f"system:serviceaccount:{namespace}:{service_account}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
        "resourceAttributes": {"namespace": target_namespace, "verb": verb, "resource": "secrets"}}}
    proc = run_kubectl(kubectl, kubeconfig, ["create", "-o", "json", "-f", "-"], [review])
    return json.loads(proc.stdout)["status"]


def test_module_service_account_cannot_read_another_tenants_secrets(kubectl, local_cluster, applied_langfuse):
    kubeconfig = local_cluster["kubeconfig"]
    proc = run_kubectl(kubectl, kubeconfig, ["get", "serviceaccount", "langfuse", "-n", "catalog-gpu-langfuse",
                                             "-o", "json"])
    assert json.loads(proc.stdout)["automountServiceAccountToken"] is False
    for verb in ("get", "list", "watch"):
        for target in ("catalog-cpu-langfuse", "catalog-cpu-postgresql", "catalog-gpu-postgresql"):
            status = access_review(kubectl, kubeconfig, "catalog-gpu-langfuse", "langfuse", target, verb)
            assert status["allowed"] is False, (verb, target, status)
    # The reviews are live: grant the other tenant's module SA its own Secrets and the same review says yes.
    grant = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "metadata": {"name": "test-secret-reader", "namespace": "catalog-cpu-langfuse"},
              "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]},
             {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "test-secret-reader", "namespace": "catalog-cpu-langfuse"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "test-secret-reader"},
              "subjects": [{"kind": "ServiceAccount", "name": "langfuse", "namespace": "catalog-cpu-langfuse"}]}]
    run_kubectl(kubectl, kubeconfig, ["apply", "--server-side", "-f", "-"], grant)
    assert access_review(kubectl, kubeconfig, "catalog-cpu-langfuse", "langfuse", "catalog-cpu-langfuse")[
        "allowed"] is True
    assert access_review(kubectl, kubeconfig, "catalog-gpu-langfuse", "langfuse", "catalog-cpu-langfuse")[
        "allowed"] is False


def test_a_second_apply_writes_nothing(built, kubectl, local_cluster, applied_langfuse):
    """The rendered objects read back as sent: re-applying them is no write (generations and, for objects the
    controllers never touch, resourceVersions stay), so Argo CD shows them Synced with no diff to chase."""
    kubeconfig = local_cluster["kubeconfig"]
    kinds = "namespaces,serviceaccounts,configmaps,services,limitranges,networkpolicies,ingresses,deployments," \
            "statefulsets,cronjobs,persistentvolumeclaims"

    def versions():
        proc = run_kubectl(kubectl, kubeconfig, ["get", kinds, "-A", "-l", "orchestr8.platform/tenant=catalog-gpu",
                                                 "-o", "json"])
        result = {}
        for item in json.loads(proc.stdout)["items"]:
            meta = item["metadata"]
            key = (item["kind"], meta.get("namespace"), meta["name"])
            result[key] = meta.get("generation") or meta["resourceVersion"]
        return result

    before = versions()
    assert len([k for k in before if k[0] == "Deployment"]) == 2
    for module in ("langfuse", "postgresql", "clickhouse", "redis"):
        run_kubectl(kubectl, kubeconfig, ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"],
                    built[("catalog-gpu", module, "production")])
    after = versions()
    assert after == before


def test_production_rollout_fits_the_module_quota(kubectl, local_cluster, applied_langfuse):
    """With the scheduler, the controllers and kwok nodes: production langfuse (web 3, worker 2) becomes ready
    inside its ResourceQuota, a rolling update's surge pod is admitted too, and one replica more than the quota
    was sized for is refused by the quota (so the quota is what admitted the others)."""
    kubeconfig = local_cluster["kubeconfig"]
    namespace = "catalog-gpu-langfuse"
    for name in ("langfuse-web", "langfuse-worker"):
        run_kubectl(kubectl, kubeconfig, ["rollout", "status", f"deployment/{name}", "-n", namespace,
                                          "--timeout=240s"])
    # a rolling update: one surge pod beside the full set, then the old ones go
    run_kubectl(kubectl, kubeconfig, ["patch", "deployment", "langfuse-web", "-n", namespace, "--type=merge",
                                      "-p", json.dumps({"spec": {"template": {"metadata": {"annotations": {
                                          "test.aphex.dev/restart": "1"}}}}})])
    run_kubectl(kubectl, kubeconfig, ["rollout", "status", "deployment/langfuse-web", "-n", namespace,
                                      "--timeout=240s"])
    quota = json.loads(run_kubectl(kubectl, kubeconfig, ["get", "resourcequota", "module-quota", "-n", namespace,
                                                         "-o", "json"]).stdout)
    assert quota["status"]["hard"]["pods"] == "7"
    assert int(quota["status"]["used"]["pods"]) == 5
    # production was sized for 7 pods (5 + 2 surge): 3 more web replicas cannot all be admitted
    run_kubectl(kubectl, kubeconfig, ["scale", "deployment", "langfuse-web", "-n", namespace, "--replicas=6"])
    events = ""
    for _attempt in range(60):
        events = run_kubectl(kubectl, kubeconfig, ["get", "events", "-n", namespace, "-o", "json"]).stdout
        if "exceeded quota: module-quota" in events:
            break
        time.sleep(2)
    assert "exceeded quota: module-quota" in events
