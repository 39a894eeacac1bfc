"""The module catalog and its one renderer: every entry rendered, checked object by object (no API calls).

Real kustomize builds and the server-side dry run are in tests/integration/test_tenant_catalog.py.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils import tenant_catalog
from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import (
    CATALOG_NAMES, CatalogError, catalog_entry, render_module, validate_module)
from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import quantity

TENANT = {"name": "test-company", "domain": "test-company.example.com", "gpu": {"enabled": True}}
NO_GPU = {"name": "acme", "domain": "acme.example.org"}
IMAGE = "registry.example.com/team/app:1.2.3"
EXPECTED = {"langfuse", "clickhouse", "postgresql", "redis", "ollama", "jupyter", "microservice", "frontend",
            "job", "database"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "CronJob"}
PACKAGE = pathlib.Path(tenant_catalog.__file__).parent


def default_options(module):
    return {"image": IMAGE} if catalog_entry(module)["image_required"] else {}


def objects(files, part):
    """Every object of the files under modules/<m>/<part>/ (kustomization files excluded)."""
    found = []
    for path, content in files.items():
        if f"/{part}/" in path and not path.endswith("kustomization.yaml"):
            found.extend(doc for doc in yaml.safe_load_all(content) if doc)
    return found


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def test_the_catalog_has_every_module_of_the_issue():
    assert set(CATALOG_NAMES) == EXPECTED


def test_the_renderer_has_no_branch_on_a_module_name():
    """Entries are data: no catalog name appears as a string in the renderer's code."""
    source = (PACKAGE / "render.py").read_text()
    strings = {node.value for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not strings & EXPECTED


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_catalog_entry(module):
    entry = catalog_entry(module)
    assert entry["name"] == module
    assert re.match(r"^\d", entry["version"])
    for part in ("requests", "limits"):
        assert quantity.parse(entry[part]["cpu"]) > 0
        assert quantity.parse(entry[part]["memory"]) > 0
        for env, totals in entry["per_environment"].items():
            assert quantity.parse(totals[part]["cpu"]) <= quantity.parse(entry[part]["cpu"]), env
    assert entry["pods"] >= 1
    for dep in entry["dependencies"]:
        assert dep["name"] in EXPECTED and dep["name"] != module
    assert set(entry["default_roles"]) <= set(entry["roles"])
    assert entry["auth"] == bool(entry["roles"])
    assert set(entry["gpu"]) == {"supported", "count", "required"}
    for port in entry["ports"]:
        assert 1024 <= port["port"] <= 65535 and port["protocol"] == "TCP"
    assert {w["kind"] for w in entry["workloads"]} <= WORKLOAD_KINDS


def test_catalog_entry_of_langfuse_totals():
    entry = catalog_entry("langfuse")
    assert [d["name"] for d in entry["dependencies"]] == ["postgresql", "clickhouse", "redis"]
    assert entry["roles"] == ["admin", "analyst", "viewer"]
    # production: web 3 replicas + 1 surge, worker 2 + 1; 250m/512Mi requests and (2x) 2/2Gi limits each.
    assert entry["pods"] == 7
    assert entry["requests"] == {"cpu": "1750m", "memory": "3584Mi"}
    assert entry["limits"] == {"cpu": "14", "memory": "14Gi"}
    assert entry["per_environment"]["dev"]["requests"] == {"cpu": "1", "memory": "2Gi"}


def test_unknown_module():
    with pytest.raises(CatalogError, match=r"^module: unknown module 'nginx'"):
        catalog_entry("nginx")
    assert validate_module(TENANT, "nginx", {})[0].startswith("module: unknown module 'nginx'")


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_render_every_module(module):
    files = render_module(TENANT, module, default_options(module))
    namespace = f"test-company-{module}"
    root = f"modules/{module}"
    assert f"{root}/base/kustomization.yaml" in files
    for env in ("dev", "staging", "production"):
        assert f"{root}/overlays/{env}/kustomization.yaml" in files
    assert all(path.startswith(f"{root}/") for path in files)

    base = objects(files, "base")
    kinds = [o["kind"] for o in base]
    assert "Secret" not in kinds  # secrets never land in git
    for obj in base:
        labels = obj["metadata"]["labels"]
        assert labels["orchestr8.platform/tenant"] == "test-company", obj["metadata"]["name"]
        assert labels["orchestr8.platform/module"] == module, obj["metadata"]["name"]
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == namespace
            assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        else:
            assert obj["metadata"]["namespace"] == namespace

    kustomization = yaml.safe_load(files[f"{root}/base/kustomization.yaml"])
    assert sorted(kustomization["resources"]) == sorted(p.rsplit("/", 1)[1] for p in files
                                                        if p.startswith(f"{root}/base/")
                                                        and not p.endswith("kustomization.yaml"))
    assert [o["metadata"]["name"] for o in base if o["kind"] == "ServiceAccount"] == [module]

    policies = {o["metadata"]["name"]: o for o in base if o["kind"] == "NetworkPolicy"}
    deny = policies["default-deny-all"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert "allow-dns-egress" in policies

    workloads = [o for o in base if o["kind"] in WORKLOAD_KINDS]
    assert workloads
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec["serviceAccountName"] == module
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        template_labels = (workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob"
                           else workload["spec"]["template"])["metadata"]["labels"]
        assert template_labels["orchestr8.platform/tenant"] == "test-company"
        assert template_labels["orchestr8.platform/module"] == module
        for container in spec["containers"]:
            assert container["securityContext"] == {"allowPrivilegeEscalation": False,
                                                    "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                                    "capabilities": {"drop": ["ALL"]}}
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][part])
            if workload["kind"] != "CronJob":
                assert "livenessProbe" in container and "readinessProbe" in container
            for ref in container.get("env", []):
                assert ref["valueFrom"]["secretKeyRef"]["name"] == f"{module}-credentials"
                assert ref["valueFrom"]["secretKeyRef"]["key"] in catalog_entry(module)["secrets"] + [
                    "oidc-client-secret"]
        if workload["kind"] != "CronJob":
            selector = workload["spec"]["selector"]["matchLabels"]
            assert selector.items() <= template_labels.items()

    ingresses = [o for o in base if o["kind"] == "Ingress"]
    if catalog_entry(module)["exposed"]:
        assert [r["host"] for r in ingresses[0]["spec"]["rules"]] == [f"{module}.test-company.example.com"]
        assert "allow-ingress-controller" in policies
    else:
        assert not ingresses and "allow-ingress-controller" not in policies


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_overlays_set_replicas_limits_config_and_hosts(module):
    files = render_module(TENANT, module, default_options(module))
    root = f"modules/{module}/overlays"
    entry = catalog_entry(module)
    for env in ("dev", "staging", "production"):
        kustomization = yaml.safe_load(files[f"{root}/{env}/kustomization.yaml"])
        assert kustomization["resources"] == ["../../base"]
        generator = kustomization["configMapGenerator"][0]
        assert generator["behavior"] == "merge" and f"ENVIRONMENT={env}" in generator["literals"]
        for patch in kustomization["patches"]:
            assert f"{root}/{env}/{patch['path']}" in files
        patches = {p["path"]: yaml.safe_load(files[f"{root}/{env}/{p['path']}"]) for p in kustomization["patches"]}
        quota = patches["patches/resourcequota.yaml"]["spec"]["hard"]
        totals = entry["per_environment"][env]
        assert quota["requests.cpu"] == totals["requests"]["cpu"]
        assert quota["pods"] == str(totals["pods"])
        if entry["exposed"]:
            ingress = patches["patches/ingress.yaml"]["spec"]
            host = {"dev": f"{module}.dev.test-company.example.com",
                    "staging": f"{module}.staging.test-company.example.com",
                    "production": f"{module}.test-company.example.com"}[env]
            assert ingress["rules"][0]["host"] == host
            assert ("tls" in ingress) == (env != "dev")
            if env != "dev":
                assert ingress["tls"] == [{"hosts": [host], "secretName": f"{module}-tls"}]


def test_overlay_replicas_and_limits_per_environment():
    files = render_module(TENANT, "microservice", {"image": IMAGE, "environments": {
        "staging": {"replicas": 4, "resources": {"limits": {"memory": "3Gi"}}, "config": {"FEATURE_X": "on"}}}})
    root = "modules/microservice/overlays"

    def patch(env):
        return yaml.safe_load(files[f"{root}/{env}/patches/deployment-microservice.yaml"])["spec"]

    assert [patch(env)["replicas"] for env in ("dev", "staging", "production")] == [1, 4, 3]
    assert patch("staging")["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "500m", "memory": "3Gi"}
    assert patch("production")["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "1", "memory": "1Gi"}
    staging = yaml.safe_load(files[f"{root}/staging/kustomization.yaml"])
    assert "FEATURE_X=on" in staging["configMapGenerator"][0]["literals"]


def test_rendering_is_byte_stable():
    options = {"auth": True, "roles": ["admin", "analyst"], "config": {"B": "2", "A": "1"}}
    first = render_module(TENANT, "langfuse", options)
    reordered = {"config": {"A": "1", "B": "2"}, "roles": ["admin", "analyst"], "auth": True}
    assert render_module(dict(reversed(list(TENANT.items()))), "langfuse", reordered) == first
    assert list(first) == sorted(first)
    for content in first.values():
        assert content.endswith("\n") and "&id" not in content and "*id" not in content


def test_auth_adds_oidc_settings_and_keycloak_egress():
    plain = render_module(TENANT, "langfuse", {})
    with_auth = render_module(TENANT, "langfuse", {"auth": True, "roles": ["admin", "analyst"]})
    literals = yaml.safe_load(with_auth["modules/langfuse/base/kustomization.yaml"])["configMapGenerator"][0][
        "literals"]
    assert "AUTH_CUSTOM_ISSUER=https://auth.test-company.example.com/realms/test-company" in literals
    assert "AUTH_CUSTOM_CLIENT_ID=langfuse" in literals
    assert "allow-keycloak-egress" in with_auth["modules/langfuse/base/networkpolicy.yaml"]
    assert "allow-keycloak-egress" not in plain["modules/langfuse/base/networkpolicy.yaml"]
    assert "AUTH_CUSTOM_CLIENT_SECRET" in with_auth["modules/langfuse/base/deployment.yaml"]
    assert "AUTH_CUSTOM_CLIENT_SECRET" not in plain["modules/langfuse/base/deployment.yaml"]


def test_dependencies_get_egress_only_to_their_own_tenant():
    policies = {o["metadata"]["name"]: o for o in objects(render_module(TENANT, "langfuse"), "base")
                if o["kind"] == "NetworkPolicy"}
    rules = policies["allow-tenant-egress"]["spec"]["egress"]
    targets = [rule["to"][0]["namespaceSelector"]["matchLabels"] for rule in rules]
    assert all(t["orchestr8.platform/tenant"] == "test-company" for t in targets)
    assert [t["orchestr8.platform/module"] for t in targets] == ["langfuse", "postgresql", "clickhouse", "redis"]
    assert rules[1]["ports"] == [{"protocol": "TCP", "port": 5432}]
    same = policies["allow-same-tenant-ingress"]["spec"]["ingress"][0]["from"]
    assert same == [{"namespaceSelector": {"matchLabels": {"orchestr8.platform/tenant": "test-company"}}}]


# --- GPUs ------------------------------------------------------------------------------------------------

def gpu_workload(files, module):
    workloads = [o for o in objects(files, "base") if o["kind"] in WORKLOAD_KINDS]
    return workloads[0]


def test_ollama_gets_a_gpu_on_a_gpu_tenant():
    files = render_module(TENANT, "ollama")
    spec = pod_spec(gpu_workload(files, "ollama"))
    assert spec["runtimeClassName"] == "nvidia"
    resources = spec["containers"][0]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == "1" and resources["requests"]["nvidia.com/gpu"] == "1"
    for env in ("dev", "staging", "production"):
        quota = yaml.safe_load(files[f"modules/ollama/overlays/{env}/patches/resourcequota.yaml"])
        assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "1"
        patch = yaml.safe_load(files[f"modules/ollama/overlays/{env}/patches/statefulset-ollama.yaml"])
        assert patch["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert catalog_entry("ollama")["requests"]["nvidia.com/gpu"] == "1"


def test_gpu_module_refused_for_a_tenant_without_gpus():
    with pytest.raises(CatalogError) as error:
        render_module(NO_GPU, "ollama")
    assert error.value.errors[0].startswith("gpu.enabled: ollama is a GPU module")
    assert "tenant 'acme' does not allow GPUs" in str(error.value)
    assert validate_module({**NO_GPU, "gpu": {"enabled": False}}, "ollama", {})[0].startswith("gpu.enabled:")


def test_gpu_module_on_cpu_only_when_asked():
    files = render_module(NO_GPU, "ollama", {"gpu": 0})
    spec = pod_spec(gpu_workload(files, "ollama"))
    assert "runtimeClassName" not in spec
    assert "nvidia.com/gpu" not in spec["containers"][0]["resources"]["limits"]
    assert "nvidia" not in "".join(v for k, v in files.items() if "networkpolicy" not in k).replace(
        "requests.nvidia.com/gpu: '0'", "")


def test_jupyter_gpu_only_on_request_and_only_on_gpu_tenants():
    plain = pod_spec(gpu_workload(render_module(TENANT, "jupyter"), "jupyter"))
    assert "runtimeClassName" not in plain
    gpu = pod_spec(gpu_workload(render_module(TENANT, "jupyter", {"gpu": 2}), "jupyter"))
    assert gpu["runtimeClassName"] == "nvidia" and gpu["containers"][0]["resources"]["limits"][
        "nvidia.com/gpu"] == "2"
    assert validate_module(NO_GPU, "jupyter", {"gpu": 1}) == [
        "gpu.enabled: options.gpu asks for 1 nvidia.com/gpu but tenant 'acme' does not allow GPUs "
        "(set gpu.enabled: true in tenant.yaml)"]


@pytest.mark.parametrize("module", sorted(EXPECTED - {"ollama", "jupyter"}))
def test_no_gpu_for_other_modules(module):
    files = render_module(TENANT, module, default_options(module))
    text = "".join(files.values())
    assert "runtimeClassName" not in text and "nvidia.com/gpu: '1'" not in text
    assert validate_module(TENANT, module, {**default_options(module), "gpu": 1}) == [
        f"options.gpu: {module} does not use GPUs"]


# --- bad input, named by field ---------------------------------------------------------------------------

@pytest.mark.parametrize("tenant, module, options, message", [
    ({**TENANT, "name": "Test_Co"}, "redis", {}, "name: the tenant name must be a DNS label"),
    ({**TENANT, "name": "a" * 60}, "redis", {}, "name: namespace aaaa"),
    ({**TENANT, "domain": "not a domain"}, "redis", {}, "domain: must be a lower-case DNS domain"),
    ({k: v for k, v in TENANT.items() if k != "domain"}, "redis", {}, "domain: must be"),
    (TENANT, "redis", {"replica": 2}, "options.replica: unknown option"),
    (TENANT, "redis", {"replicas": 2}, "options.replicas: redis runs a single StatefulSet replica"),
    (TENANT, "microservice", {"image": IMAGE, "replicas": 0}, "options.replicas: must be an integer >= 1"),
    (TENANT, "microservice", {"image": IMAGE, "replicas": True}, "options.replicas: must be an integer >= 1"),
    (TENANT, "microservice", {}, "options.image: required for the microservice template"),
    (TENANT, "job", {}, "options.image: required for the job template"),
    (TENANT, "microservice", {"image": "Bad Image"}, "options.image: must be an image reference"),
    (TENANT, "redis", {"resources": {"requests": {"cpu": "lots"}}}, "options.resources.requests.cpu: 'lots'"),
    (TENANT, "redis", {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}},
     "options.resources.requests.memory: 2Gi exceeds the limit 1Gi"),
    (TENANT, "redis", {"resources": {"requests": {"disk": "1Gi"}}}, "options.resources.requests: must be"),
    (TENANT, "redis", {"resources": {"minimum": {}}}, "options.resources: must be a mapping"),
    (TENANT, "redis", {"config": {"1BAD": "x"}}, "options.config.1BAD: not a valid environment variable name"),
    (TENANT, "redis", {"config": {"GOOD": ["x"]}}, "options.config.GOOD: must be a string or number"),
    (TENANT, "redis", {"auth": True}, "options.auth: redis has no login"),
    (TENANT, "langfuse", {"auth": "yes"}, "options.auth: must be true or false"),
    (TENANT, "langfuse", {"auth": True, "roles": ["admin", "root"]}, "options.roles: unknown role 'root'"),
    (TENANT, "langfuse", {"auth": True, "roles": "admin"}, "options.roles: must be a list"),
    (TENANT, "langfuse", {"auth": True, "roles": ["admin", "admin"]}, "options.roles: a role is listed twice"),
    (TENANT, "redis", {"roles": ["admin"]}, "options.roles: redis has no roles"),
    (TENANT, "jupyter", {"gpu": -1}, "options.gpu: must be an integer >= 0"),
    (TENANT, "microservice", {"image": IMAGE, "storage": "1Gi"}, "options.storage: microservice keeps no data"),
    (TENANT, "postgresql", {"storage": "big"}, "options.storage: 'big' is not a quantity"),
    (TENANT, "microservice", {"image": IMAGE, "port": 80}, "options.port: must be an unprivileged port"),
    (TENANT, "job", {"image": IMAGE, "port": 8080}, "options.port: job serves no port"),
    (TENANT, "redis", {"health_path": "/x"}, "options.health_path: redis has no HTTP health check"),
    (TENANT, "microservice", {"image": IMAGE, "health_path": "healthz"}, "options.health_path: must be a path"),
    (TENANT, "microservice", {"image": IMAGE, "schedule": "* * * * *"}, "options.schedule: microservice is not"),
    (TENANT, "job", {"image": IMAGE, "schedule": "every day"}, "options.schedule: must be a cron schedule"),
    (TENANT, "microservice", {"image": IMAGE, "environments": {"qa": {}}}, "options.environments.qa: unknown"),
    (TENANT, "microservice", {"image": IMAGE, "environments": {"dev": {"image": "x"}}},
     "options.environments.dev.image: unknown option"),
    (TENANT, "microservice", {"image": IMAGE, "environments": {"production": {"replicas": -2}}},
     "options.environments.production.replicas: must be an integer >= 1"),
    (TENANT, "microservice", {"image": IMAGE, "environments": {"staging": {"resources": {"limits": {"cpu": "x"}}}}},
     "options.environments.staging.resources.limits.cpu:"),
    (TENANT, "microservice", {"image": IMAGE, "environments": []}, "options.environments: must be a mapping"),
])
def test_bad_input_is_named_by_field(tenant, module, options, message):
    errors = validate_module(tenant, module, options)
    assert any(e.startswith(message) for e in errors), errors
    with pytest.raises(CatalogError) as error:
        render_module(tenant, module, options)
    assert error.value.errors == errors


def test_every_error_is_reported_at_once():
    errors = validate_module({"name": "X", "domain": ""}, "microservice", {"replicas": 0, "port": 1})
    fields = [e.split(":", maxsplit=1)[0] for e in errors]
    assert fields == ["name", "domain", "options.image", "options.replicas", "options.port"]


def test_options_apply_to_the_primary_workload():
    files = render_module(TENANT, "job", {"image": IMAGE, "schedule": "*/5 * * * *",
                                          "resources": {"limits": {"memory": "2Gi"}}})
    cron = objects(files, "base")
    cron = next(o for o in cron if o["kind"] == "CronJob")
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    container = pod_spec(cron)["containers"][0]
    assert container["image"] == IMAGE and container["resources"]["limits"]["memory"] == "2Gi"
    db = objects(render_module(TENANT, "database", {"storage": "50Gi"}), "base")
    sts = next(o for o in db if o["kind"] == "StatefulSet")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "50Gi"
    backup = next(o for o in db if o["kind"] == "CronJob")
    assert pod_spec(backup)["volumes"][-1] == {"name": "backup",
                                               "persistentVolumeClaim": {"claimName": "database-backup-backup"}}
    assert "${" not in "".join(render_module(TENANT, "database").values())


def test_quantities():
    assert quantity.parse("250m") * 4 == 1
    assert quantity.format_resource("requests.memory", quantity.parse("1536Mi")) == "1536Mi"
    assert quantity.format_resource("limits.cpu", quantity.parse("1500m")) == "1500m"
    assert quantity.format_resource("requests.storage", quantity.parse("2Gi") * 2) == "4Gi"
    for bad in ("1.5.5", "10Q", "", "-1", True):
        with pytest.raises(ValueError):
            quantity.parse(bad)


def test_module_usage_is_what_the_overlay_quota_admits():
    from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import module_usage

    options = {"environments": {"production": {"replicas": 5}}}
    files = render_module(TENANT, "frontend", options)
    for env in ("dev", "staging", "production"):
        usage = module_usage(TENANT, "frontend", options, env)
        hard = yaml.safe_load(files[f"modules/frontend/overlays/{env}/patches/resourcequota.yaml"])["spec"]["hard"]
        assert hard["requests.cpu"] == usage["requests"]["cpu"] and hard["limits.memory"] == usage["limits"]["memory"]
        assert hard["pods"] == str(usage["pods"])
    assert module_usage(TENANT, "frontend", options)["pods"] == 6  # 5 replicas + 1 surge
    assert module_usage(TENANT, "postgresql", {"storage": "30Gi"}, "dev")["requests"]["storage"] == "30Gi"
    assert module_usage(TENANT, "microservice", {}, "dev")["pods"] == 2  # image not needed to size it
    # not a validator: invalid options are sized as far as they can be, else as the defaults
    assert module_usage(TENANT, "redis", {"environments": {"production": {"replicas": 3}}})["pods"] == 3
    assert module_usage(TENANT, "redis", {"resources": {"requests": {"cpu": "lots"}}}) == module_usage(TENANT, "redis")
    with pytest.raises(CatalogError, match="module: unknown module 'nginx'"):
        module_usage(TENANT, "nginx", {})
    with pytest.raises(CatalogError, match="environment: unknown environment 'qa'"):
        module_usage(TENANT, "frontend", {}, "qa")


def test_langfuse_connects_to_its_dependencies_as_they_are_rendered():
    def literals(module):
        kustomization = yaml.safe_load(render_module(TENANT, module)[f"modules/{module}/base/kustomization.yaml"])
        return dict(item.split("=", 1) for item in kustomization["configMapGenerator"][0]["literals"])

    langfuse, postgresql, clickhouse = literals("langfuse"), literals("postgresql"), literals("clickhouse")
    assert langfuse["DATABASE_USERNAME"] == postgresql["POSTGRES_USER"]
    assert langfuse["DATABASE_NAME"] == postgresql["POSTGRES_DB"]
    assert langfuse["CLICKHOUSE_USER"] == clickhouse["CLICKHOUSE_USER"]
    assert langfuse["DATABASE_HOST"] == "postgresql.test-company-postgresql.svc.cluster.local"
    services = {o["metadata"]["name"]: o for o in objects(render_module(TENANT, "clickhouse"), "base")
                if o["kind"] == "Service"}
    ports = {p["port"] for p in services["clickhouse"]["spec"]["ports"]}
    assert {int(langfuse["CLICKHOUSE_URL"].rsplit(":", 1)[1]),
            int(langfuse["CLICKHOUSE_MIGRATION_URL"].rsplit(":", 1)[1])} <= ports


def test_module_usage_of_refused_gpus_and_bad_tenants():
    from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import module_usage

    refused = module_usage(NO_GPU, "ollama")  # refused by validate_module (gpu.enabled), sized without a GPU
    assert "nvidia.com/gpu" not in refused["requests"] and refused["requests"]["cpu"] == "1"
    assert module_usage(TENANT, "ollama")["requests"]["nvidia.com/gpu"] == "1"
    assert module_usage(NO_GPU, "jupyter", {"gpu": 2}) == module_usage(NO_GPU, "jupyter")
    assert module_usage({"name": "Bad Name"}, "redis") == module_usage(TENANT, "redis")


def test_tenant_config_is_taken_as_written_and_overrides_the_catalog():
    files = render_module(TENANT, "frontend", {"config": {"GREETING": "${HOME} $(x)", "PUBLIC_URL": "https://x.io"}})
    literals = yaml.safe_load(files["modules/frontend/base/kustomization.yaml"])["configMapGenerator"][0]["literals"]
    assert "GREETING=${HOME} $(x)" in literals and "PUBLIC_URL=https://x.io" in literals


def test_rendering_is_byte_stable_across_processes():
    """Set and hash order never leak into the files: two interpreters with other hash seeds give the same bytes."""
    import hashlib
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json\n"
        "from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import CATALOG_NAMES, "
        "render_module, catalog_entry\n"
        f"tenant = {TENANT!r}\n"
        "digest = hashlib.sha256()\n"
        "for m in CATALOG_NAMES:\n"
        f"    options = {{'image': {IMAGE!r}}} if catalog_entry(m)['image_required'] else {{}}\n"
        "    options.update({'auth': True} if catalog_entry(m)['auth'] else {})\n"
        "    for path, content in render_module(tenant, m, options).items():\n"
        "        digest.update(path.encode() + b'\\0' + content.encode())\n"
        "print(digest.hexdigest())\n")
    digests = set()
    for seed in ("1", "2", "12345"):
        # the directory holding ansible_collections/ (the collection is imported from there in this run too)
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(PACKAGE.parents[5])}
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True,
                              cwd=os.getcwd())
        digests.add(proc.stdout.strip())
    assert len(digests) == 1 and len(hashlib.sha256().hexdigest()) == len(digests.pop())
