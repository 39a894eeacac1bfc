"""Generation of the tenant tree (pure) and the module's run() against a real git work tree."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant import generate, run, validation

TENANT = {
    "name": "test-company", "tier": "standard", "domain": "test-company.example.com",
    "auth": {"roles": ["admin", "analyst"]},
    "gitops": {"repo_url": "https://git.example.com/gitops.git"},
    "modules": {"langfuse": {"auth": True, "roles": ["admin", "analyst"]}, "postgresql": {}, "clickhouse": {},
                "redis": {}},
}
ROOT = "tenants/test-company"


def tenant(doc=None):
    result = validation.validate(copy.deepcopy(doc or TENANT))
    assert result["errors"] == []
    return result["tenant"]


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="module")
def files():
    return generate.generate(tenant(), source=TENANT)


def test_the_seed_tree(files):
    for rel in ("tenant.yaml", "keycloak-realm.json", "tenant-bundle.json", "kubernetes/namespace.yaml",
                "kubernetes/resource-quota.yaml", "kubernetes/limit-range.yaml", "kubernetes/network-policies.yaml",
                "kubernetes/kustomization.yaml", "applications/project.yaml", "applications/base.yaml"):
        assert f"{ROOT}/{rel}" in files
    for module in ("langfuse", "postgresql", "clickhouse", "redis"):
        assert f"{ROOT}/modules/{module}/base/kustomization.yaml" in files
        assert f"{ROOT}/modules/{module}/overlays/production/kustomization.yaml" in files
        assert f"{ROOT}/applications/{module}.yaml" in files


def test_generation_is_byte_identical(files):
    assert generate.generate(tenant(), source=TENANT) == files


def test_every_object_carries_the_tenant_label(files):
    for rel, content in files.items():
        if rel.endswith(".yaml") and "/modules/" not in rel and not rel.endswith("tenant.yaml") and \
                not rel.endswith("kustomization.yaml"):
            for obj in docs(content):
                assert obj["metadata"]["labels"]["orchestr8.platform/tenant"] == "test-company", rel


def test_base_namespace_quota_limits_and_default_deny(files):
    ns = docs(files[f"{ROOT}/kubernetes/namespace.yaml"])[0]
    assert ns["metadata"]["name"] == "test-company"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    quota = docs(files[f"{ROOT}/kubernetes/resource-quota.yaml"])[0]
    assert quota["spec"]["hard"]["requests.cpu"] == "16" and quota["metadata"]["namespace"] == "test-company"
    limits = docs(files[f"{ROOT}/kubernetes/limit-range.yaml"])[0]
    assert limits["spec"]["limits"][0]["max"] == {"cpu": "4", "memory": "16Gi"}
    policies = {p["metadata"]["name"]: p for p in docs(files[f"{ROOT}/kubernetes/network-policies.yaml"])}
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    same = policies["allow-same-tenant"]["spec"]
    assert same["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
        "orchestr8.platform/tenant": "test-company"}}}]}]


def test_one_application_per_module_pointing_at_its_overlay(files):
    app = docs(files[f"{ROOT}/applications/langfuse.yaml"])[0]
    assert app["kind"] == "Application" and app["metadata"]["name"] == "test-company-langfuse"
    assert app["metadata"]["labels"]["orchestr8.platform/module"] == "langfuse"
    assert app["spec"]["source"] == {"repoURL": "https://git.example.com/gitops.git", "targetRevision": "main",
                                     "path": f"{ROOT}/modules/langfuse/overlays/production"}
    assert app["spec"]["destination"]["namespace"] == "test-company-langfuse"
    assert app["spec"]["project"] == "test-company"
    # Dependencies sync first.
    waves = {m: int(docs(files[f"{ROOT}/applications/{m}.yaml"])[0]["metadata"]["annotations"][
        "argocd.argoproj.io/sync-wave"]) for m in ("langfuse", "redis", "postgresql", "clickhouse")}
    assert waves == {"langfuse": 1, "redis": 0, "postgresql": 0, "clickhouse": 0}
    project = docs(files[f"{ROOT}/applications/project.yaml"])[0]
    assert sorted(d["namespace"] for d in project["spec"]["destinations"]) == [
        "test-company", "test-company-clickhouse", "test-company-langfuse", "test-company-postgresql",
        "test-company-redis"]
    kustomization = docs(files[f"{ROOT}/applications/kustomization.yaml"])[0]
    assert kustomization["resources"] == ["base.yaml", "clickhouse.yaml", "langfuse.yaml", "postgresql.yaml",
                                          "project.yaml", "redis.yaml"]


def test_realm_has_a_client_per_auth_module_with_the_requested_roles(files):
    realm = json.loads(files[f"{ROOT}/keycloak-realm.json"])
    assert realm["realm"] == "test-company"
    assert [c["clientId"] for c in realm["clients"]] == ["langfuse"]
    client = realm["clients"][0]
    assert client["redirectUris"] == ["https://langfuse.test-company.example.com/*"]
    assert client["publicClient"] is False and "secret" not in client
    assert [r["name"] for r in realm["roles"]["client"]["langfuse"]] == ["admin", "analyst"]
    assert [r["name"] for r in realm["roles"]["realm"]] == ["admin", "analyst"]
    groups = {g["name"]: g for g in realm["groups"]}
    assert groups["analyst"]["clientRoles"] == {"langfuse": ["analyst"]}


def test_default_roles_when_none_requested():
    doc = copy.deepcopy(TENANT)
    doc["modules"]["langfuse"] = {"auth": True}
    realm = json.loads(generate.generate(tenant(doc))[f"{ROOT}/keycloak-realm.json"])
    assert [r["name"] for r in realm["roles"]["client"]["langfuse"]] == ["admin", "viewer"]


def test_bundle_lists_every_file_with_its_sha256(files):
    bundle = json.loads(files[f"{ROOT}/tenant-bundle.json"])
    assert bundle["kind"] == "TenantBundle"
    assert set(bundle["files"]) == {rel[len(ROOT) + 1:] for rel in files} - {"tenant-bundle.json"}
    rel = "keycloak-realm.json"
    assert bundle["files"][rel] == hashlib.sha256(files[f"{ROOT}/{rel}"].encode()).hexdigest()
    assert bundle["modules"]["langfuse"]["host"] == "langfuse.test-company.example.com"
    assert bundle["modules"]["langfuse"]["namespace"] == "test-company-langfuse"


def test_module_files_come_from_the_catalog_with_tenant_context(files):
    deployments = [d for d in docs(files[f"{ROOT}/modules/langfuse/base/deployment.yaml"]) if d]
    assert deployments
    for deployment in deployments:
        assert deployment["metadata"]["namespace"] == "test-company-langfuse"
        assert deployment["metadata"]["labels"]["orchestr8.platform/module"] == "langfuse"


def test_gpu_modules_only_on_tenants_that_allow_gpus():
    doc = {"name": "lab", "tier": "enterprise", "domain": "lab.example.com", "gpu": {"enabled": True},
           "gitops": {"repo_url": "https://git.example.com/gitops.git"}, "modules": {"ollama": {}}}
    files = generate.generate(tenant(doc))
    text = "".join(v for k, v in files.items() if k.startswith("tenants/lab/modules/ollama/base/"))
    assert "nvidia.com/gpu" in text and "runtimeClassName: nvidia" in text
    doc["gpu"]["enabled"] = False
    assert any(e.startswith("modules.ollama") and "gpu.enabled" in e or e.startswith("gpu.enabled")
               for e in validation.validate(doc)["errors"])


def test_no_repo_url_is_an_error_naming_the_field():
    doc = copy.deepcopy(TENANT)
    del doc["gitops"]
    with pytest.raises(generate.GenerationError, match=r"gitops.repo_url: is required"):
        generate.generate(tenant(doc))


# --- run(): the module's behaviour on a real git work tree ----------------------------------------------------

def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "gitops"
    path.mkdir()
    git(path, "init", "--quiet", "-b", "main")
    return path


def count(repo):
    return int(git(repo, "rev-list", "--count", "HEAD").strip())


CREATE = {"name": "test-company", "tier": "standard", "domain": "test-company.example.com",
          "gitops": {"repo_url": "https://git.example.com/gitops.git"}}


def test_create_then_add_module_then_rerun_makes_no_commit(repo):
    first = run.run({"name": "test-company", "repo": str(repo), "config": CREATE})
    assert first["changed"] and first["commit"]
    params = {"name": "test-company", "repo": str(repo), "module": "langfuse",
              "module_options": {"auth": True, "roles": ["admin", "analyst"]}, "with_dependencies": True}
    predicted = run.run(params, check_mode=True, diff=True)
    assert predicted["changed"] and predicted["commit"] is None and count(repo) == 1
    second = run.run(params)
    assert second["modules_added"] == ["langfuse", "postgresql", "clickhouse", "redis"]
    assert {rel for rel, action in predicted["files"].items() if action != "unchanged"} == \
        {rel for rel, action in second["files"].items() if action != "unchanged"}
    assert git(repo, "log", "-1", "--format=%s").strip() == \
        "tenant test-company: add module langfuse (with dependencies postgresql, clickhouse, redis)"
    third = run.run(params)
    assert not third["changed"] and third["commit"] is None and count(repo) == 2
    assert run.run(params, check_mode=True)["changed"] is False
    assert git(repo, "status", "--porcelain") == ""


def test_invalid_input_writes_nothing(repo):
    run.run({"name": "test-company", "repo": str(repo), "config": CREATE})
    with pytest.raises(run.TenantError) as info:
        run.run({"name": "test-company", "repo": str(repo), "module": "langfuse",
                 "module_options": {"auth": True, "roles": ["Bad Role"]}})
    assert any(e.startswith("modules.langfuse.roles[0]:") for e in info.value.errors)
    assert count(repo) == 1 and git(repo, "status", "--porcelain") == ""


def test_missing_tenant_names_the_playbook(repo):
    with pytest.raises(run.TenantError, match="has no tenants/nobody/tenant.yaml"):
        run.run({"name": "nobody", "repo": str(repo), "module": "redis"})


def test_removing_a_module_deletes_its_files(repo):
    config = dict(CREATE, modules={"redis": {}, "postgresql": {}})
    run.run({"name": "test-company", "repo": str(repo), "config": config})
    result = run.run({"name": "test-company", "repo": str(repo), "config": dict(CREATE, modules={"redis": {}})})
    assert result["files"][f"{ROOT}/applications/postgresql.yaml"] == "delete"
    assert not (repo / ROOT / "modules" / "postgresql").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_validate_only_needs_no_repo(tmp_path):
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(CREATE))
    assert run.run({"src": str(path), "validate_only": True})["errors"] == []
    path.write_text(yaml.safe_dump(dict(CREATE, tier="gold")))
    with pytest.raises(run.TenantError) as info:
        run.run({"src": str(path), "validate_only": True})
    assert info.value.errors == ["tier: 'gold' must be one of starter, standard, enterprise"]


def test_namespaces_must_not_clash_with_another_tenants(repo):
    run.run({"name": "acme-redis", "repo": str(repo), "config": dict(CREATE, name="acme-redis")})
    with pytest.raises(run.TenantError) as info:
        run.run({"name": "acme", "repo": str(repo), "config": dict(CREATE, name="acme", modules={"redis": {}})})
    assert info.value.errors == ["modules.redis: namespace 'acme-redis' is already used by tenant 'acme-redis'"]


def test_regeneration_keeps_images_a_promotion_committed(repo):
    params = {"name": "test-company", "repo": str(repo), "config": dict(CREATE, modules={"redis": {}})}
    run.run(params)
    overlay = repo / ROOT / "modules/redis/overlays/staging/kustomization.yaml"
    promoted = overlay.read_text() + "images:\n- name: docker.io/library/redis\n  newTag: 8.2.2\n"
    overlay.write_text(promoted)
    git(repo, "commit", "-qam", "Promote redis from dev to staging")
    again = run.run(params)
    assert not again["changed"] and again["commit"] is None
    assert overlay.read_text() == promoted
    # A real change elsewhere regenerates the overlay and still keeps the promoted images.
    changed = run.run(dict(params, config=dict(CREATE, modules={"redis": {"storage": "5Gi"}})))
    assert changed["commit"] and "newTag: 8.2.2" in overlay.read_text()


def test_generation_is_byte_identical_across_hash_seeds():
    """Set/dict iteration order must not leak into files: two interpreters with different hash seeds agree."""
    script = (
        "import hashlib, json\n"
        "from ansible_collections.aphex.platform.plugins.module_utils.tenant import generate, validation\n"
        f"doc = {TENANT!r}\n"
        "tenant = validation.validate(doc)['tenant']\n"
        "files = generate.generate(tenant, source=doc)\n"
        "print(hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        digests.add(proc.stdout.strip())
    assert len(digests) == 1
