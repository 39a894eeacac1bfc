# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Modules as packages end to end: the playbooks (module-init, module-validate, module-promote) and bin/o8 on real
files, a real git repository, real kustomize (the toolchain's kubectl) and Graphviz's dot. Every playbook runs
twice: the second run changes nothing and makes no commit; --check predicts the first run. No cluster needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import builtin_templates, kustomize
from ansible_collections.aphex.platform.tests.support.playbook import ROOT, ansible_env, run_playbook

PLAYBOOKS = ROOT / "playbooks"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kubectl_env(toolchain):
    """PATH with the toolchain's kubectl (kubectl kustomize builds the overlays) and this Python's tools."""
    path = os.pathsep.join([os.path.dirname(toolchain.path("kubectl")), os.path.dirname(sys.executable),
                            os.environ.get("PATH", "")])
    return {"PATH": path}


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def ok_twice(playbook, extra_vars, env):
    """First run changes, --check after it predicts nothing, second run changes nothing."""
    first = run_playbook(PLAYBOOKS / playbook, extra_vars=extra_vars, env=env)
    assert first.ok and first.changed() >= 1, first.summary()
    check = run_playbook(PLAYBOOKS / playbook, extra_vars=extra_vars, env=env, check=True)
    assert check.ok and check.changed() == 0, check.summary()
    second = run_playbook(PLAYBOOKS / playbook, extra_vars=extra_vars, env=env)
    assert second.ok and second.changed() == 0, second.summary()
    return first


@pytest.mark.parametrize("template", sorted(builtin_templates.BUILTIN_TEMPLATES))
def test_init_validate_and_every_overlay_builds(template, tmp_path, kubectl_env):
    name = f"my-{template}"
    extra = {"module_name": name, "template": template, "dest": str(tmp_path)}
    check = run_playbook(PLAYBOOKS / "module_init.yml", extra_vars=extra, env=kubectl_env, check=True)
    assert check.ok and check.changed() == 1 and not (tmp_path / name).exists(), check.summary()
    ok_twice("module_init.yml", extra, kubectl_env)
    validated = run_playbook(PLAYBOOKS / "module_validate.yml", extra_vars={"path": str(tmp_path / name)},
                             env=kubectl_env)
    assert validated.ok and validated.changed() == 0, validated.summary()
    for env in ("dev", "staging", "production"):
        objects = kustomize.build(str(tmp_path / name / "overlays" / env),
                                  os.path.join(kubectl_env["PATH"].split(os.pathsep)[0], "kubectl"))
        kinds = {o["kind"] for o in objects}
        assert {"Namespace", "ServiceAccount", "NetworkPolicy", "ConfigMap"} <= kinds
        assert all(o["metadata"].get("namespace") == name for o in objects if o["kind"] != "Namespace")
        assert all(o["metadata"]["labels"]["orchestr8.io/environment"] == env for o in objects)


def test_init_refuses_to_overwrite_edited_files(tmp_path, kubectl_env):
    extra = {"module_name": "api", "template": "microservice", "dest": str(tmp_path)}
    assert run_playbook(PLAYBOOKS / "module_init.yml", extra_vars=extra, env=kubectl_env).ok
    edited = tmp_path / "api" / "base" / "deployment.yaml"
    edited.write_text(edited.read_text() + "# edited\n")
    again = run_playbook(PLAYBOOKS / "module_init.yml", extra_vars=extra, env=kubectl_env)
    assert not again.ok and "force=true overwrites them" in again.failed_tasks()[0].result["msg"]
    assert edited.read_text().endswith("# edited\n")


def test_invalid_module_fails_validation_naming_the_field(tmp_path, kubectl_env):
    extra = {"module_name": "api", "template": "microservice", "dest": str(tmp_path)}
    assert run_playbook(PLAYBOOKS / "module_init.yml", extra_vars=extra, env=kubectl_env).ok
    manifest = tmp_path / "api" / "o8-module.yaml"
    manifest.write_text(manifest.read_text().replace('version: "0.1.0"', 'version: "0.1"'))
    run = run_playbook(PLAYBOOKS / "module_validate.yml", extra_vars={"path": str(tmp_path / "api")}, env=kubectl_env)
    assert not run.ok
    assert run.failed_tasks()[0].result["errors"] == [
        "metadata.version: must be a semantic version such as 1.0.0 (got '0.1')"]


def _package(root: Path, name: str, version: str, deps=()):
    root.mkdir(parents=True)
    (root / "o8-module.yaml").write_text(yaml.safe_dump({
        "apiVersion": "orchestr8.io/v1", "kind": "Module", "metadata": {"name": name, "version": version},
        "spec": {"dependencies": list(deps)}}))
    for sub in ("base", "overlays/dev", "overlays/staging", "overlays/production"):
        (root / sub).mkdir(parents=True)
        (root / sub / "kustomization.yaml").write_text("resources: []\n" if sub == "base" else
                                                       "resources: [../../base]\n")


def test_deps_order_dot_and_png_twice(tmp_path, kubectl_env):
    modules = tmp_path / "modules"
    _package(modules / "my-service", "my-service", "1.0.0",
             [{"name": "postgresql", "version": ">=12.0.0"}, {"name": "redis", "version": "^6.0", "optional": True},
              "api"])
    _package(modules / "api", "api", "2.0.0", [{"name": "postgresql", "version": "^12.0"}])
    _package(modules / "postgresql", "postgresql", "12.1.0")
    _package(tmp_path / "more" / "postgresql" / "13.0.0", "postgresql", "13.0.0")
    extra = {"path": str(modules / "my-service"), "deps": True, "search_paths": f"{modules},{tmp_path / 'more'}",
             "dot": str(tmp_path / "out" / "deps.dot"), "png": str(tmp_path / "out" / "deps.png")}
    first = ok_twice("module_validate.yml", extra, kubectl_env)
    result = first.task("Resolve the dependencies").result
    assert [f"{i['name']}@{i['version']}" for i in result["order"]] == [
        "postgresql@12.1.0", "api@2.0.0", "my-service@1.0.0"]
    assert result["not_deployed"][0]["name"] == "redis"
    assert (tmp_path / "out" / "deps.dot").read_text() == result["dot"]
    assert (tmp_path / "out" / "deps.png").read_bytes()[:8] == PNG_MAGIC


def test_deps_cycle_fails_naming_the_cycle(tmp_path, kubectl_env):
    _package(tmp_path / "a", "a", "1.0.0", ["b"])
    _package(tmp_path / "b", "b", "1.0.0", ["a"])
    run = run_playbook(PLAYBOOKS / "module_validate.yml", extra_vars={"path": str(tmp_path / "a"), "deps": True},
                       env=kubectl_env)
    assert not run.ok
    assert run.failed_tasks()[0].result["errors"] == ["dependency cycle: a@1.0.0 -> b@1.0.0 -> a@1.0.0"]


@pytest.fixture
def gitops(tmp_path, kubectl_env):
    """A GitOps repository with modules/shop from the microservice template, committed; dev runs image 1.1.0."""
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    assert run_playbook(PLAYBOOKS / "module_init.yml", env=kubectl_env, extra_vars={
        "module_name": "shop", "template": "microservice", "dest": str(repo / "modules"),
        "variables": {"image": "registry.example.com/shop", "image_tag": "1.0.0"}}).ok
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shop 1.0.0 everywhere")
    dev = repo / "modules/shop/overlays/dev/kustomization.yaml"
    dev.write_text(dev.read_text().replace('newTag: "1.0.0"', 'newTag: "1.1.0"'))
    git(repo, "commit", "-qam", "dev runs shop 1.1.0")
    return repo


def built_image(repo, env, kubectl_env):
    objects = kustomize.build(str(repo / "modules/shop/overlays" / env),
                              os.path.join(kubectl_env["PATH"].split(os.pathsep)[0], "kubectl"))
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"], deployment["spec"]["replicas"]


def test_promotion_dev_staging_production(gitops, kubectl_env):
    extra = {"repo": str(gitops), "path": "modules/shop", "from_env": "dev", "to_env": "staging"}
    before = git(gitops, "rev-parse", "HEAD")
    check = run_playbook(PLAYBOOKS / "module_promote.yml", extra_vars=extra, env=kubectl_env, check=True)
    assert check.ok and check.changed() == 1 and git(gitops, "rev-parse", "HEAD") == before, check.summary()
    assert "newTag: 1.1.0" in check.task("Build, validate and commit").result["diff"][0]["after"]
    first = run_playbook(PLAYBOOKS / "module_promote.yml", extra_vars=extra, env=kubectl_env)
    assert first.ok and first.changed() == 1, first.summary()
    commit = first.task("Build, validate and commit").result["commit"]
    assert commit == git(gitops, "rev-parse", "HEAD") != before
    assert git(gitops, "show", "--name-only", "--format=%s", commit).splitlines() == [
        "Promote shop 0.1.0 from dev to staging", "", "modules/shop/overlays/staging/kustomization.yaml"]
    assert git(gitops, "status", "--porcelain") == ""
    # staging runs dev's image with staging's own replicas; production is untouched.
    assert built_image(gitops, "staging", kubectl_env) == ("registry.example.com/shop:1.1.0", 2)
    assert built_image(gitops, "production", kubectl_env) == ("registry.example.com/shop:1.0.0", 3)
    second = run_playbook(PLAYBOOKS / "module_promote.yml", extra_vars=extra, env=kubectl_env)
    assert second.ok and second.changed() == 0 and git(gitops, "rev-parse", "HEAD") == commit, second.summary()
    assert second.task("Build, validate and commit").result["commit"] is None

    to_production = {"repo": str(gitops), "path": "modules/shop", "from_env": "staging"}
    ok_twice("module_promote.yml", to_production, kubectl_env)
    assert built_image(gitops, "production", kubectl_env) == ("registry.example.com/shop:1.1.0", 3)
    assert git(gitops, "log", "--format=%s", "-2").splitlines() == [
        "Promote shop 0.1.0 from staging to production", "Promote shop 0.1.0 from dev to staging"]


def refused(gitops, extra, kubectl_env) -> str:
    head = git(gitops, "rev-parse", "HEAD")
    run = run_playbook(PLAYBOOKS / "module_promote.yml", extra_vars=extra, env=kubectl_env)
    assert not run.ok, run.summary()
    assert git(gitops, "rev-parse", "HEAD") == head and git(gitops, "status", "--porcelain") == ""
    return run.failed_tasks()[0].result["msg"]


def test_promotion_refused_when_the_target_overlay_does_not_build(gitops, kubectl_env):
    staging = gitops / "modules/shop/overlays/staging/kustomization.yaml"
    staging.write_text(staging.read_text().replace("- ../../base", "- ../../base\n  - missing.yaml"))
    git(gitops, "commit", "-qam", "staging: a resource that does not exist")
    message = refused(gitops, {"repo": str(gitops), "path": "modules/shop", "from_env": "dev"}, kubectl_env)
    assert message.startswith("promotion refused: modules/shop/overlays/staging (promoted): kustomize build failed:")
    assert "missing.yaml" in message


def test_promotion_refused_when_the_source_breaks_the_workload_rules(gitops, kubectl_env):
    dev = gitops / "modules/shop/overlays/dev/kustomization.yaml"
    dev.write_text(dev.read_text() + "  - target: {kind: Deployment, name: shop}\n    patch: |-\n"
                   "      - op: remove\n        path: /spec/template/spec/containers/0/readinessProbe\n")
    git(gitops, "commit", "-qam", "dev: no readiness probe")
    message = refused(gitops, {"repo": str(gitops), "path": "modules/shop", "from_env": "dev"}, kubectl_env)
    assert message == ("promotion refused: modules/shop/overlays/dev: Deployment shop: "
                       "spec.template.spec.containers[0].readinessProbe: missing")


def test_promotion_refused_when_the_module_is_invalid_or_skips_an_environment(gitops, kubectl_env):
    message = refused(gitops, {"repo": str(gitops), "path": "modules/shop", "from_env": "dev",
                               "to_env": "production"}, kubectl_env)
    assert "from dev the next is staging, not 'production'" in message
    manifest = gitops / "modules/shop/o8-module.yaml"
    manifest.write_text(manifest.read_text().replace("category: backend-service", "category: misc"))
    git(gitops, "commit", "-qam", "an invalid category")
    message = refused(gitops, {"repo": str(gitops), "path": "modules/shop", "from_env": "dev"}, kubectl_env)
    assert message.startswith("promotion refused: modules/shop/o8-module.yaml: spec.category: must be one of")


def test_o8_cli_maps_onto_the_playbooks(gitops, tmp_path, kubectl_env):
    env = ansible_env(kubectl_env)
    o8 = [sys.executable, str(ROOT / "bin" / "o8")]
    printed = subprocess.run(o8 + ["tenant", "add-module", "test-company", "langfuse", "--auth", "--roles",
                                   "admin,analyst", "--print"], env=env, capture_output=True, text=True, check=True)
    assert printed.stdout.split()[1:3] == [str(PLAYBOOKS / "tenant_add_module.yml"), "-e"]
    assert '"auth": true, "module": "langfuse", "roles": "admin,analyst", "tenant": "test-company"' in printed.stdout
    done = subprocess.run(o8 + ["module", "init", "cli-made", "--template", "job", "--dest", str(tmp_path),
                                "--set", "schedule=0 3 * * *"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 3 * * *" in (tmp_path / "cli-made" / "base" / "cronjob.yaml").read_text()
    done = subprocess.run(o8 + ["module", "deps", str(tmp_path / "cli-made"), "--visualize"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and (tmp_path / "cli-made" / "deps.png").read_bytes()[:8] == PNG_MAGIC
    done = subprocess.run(o8 + ["module", "promote", "shop", "--from", "dev", "--to", "staging", "--repo",
                                str(gitops)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(gitops, "log", "-1", "--format=%s") == "Promote shop 0.1.0 from dev to staging"
    done = subprocess.run(o8 + ["module", "validate", str(tmp_path / "nothing-here")], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0


def test_tenant_module_promotion(tmp_path, kubectl_env):
    """A tenant's module as tenant_add_module.yml generates it (the catalog's base and overlays) is promoted."""
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    created = run_playbook(PLAYBOOKS / "tenant_create.yml", env=kubectl_env, extra_vars={
        "gitops_repo": str(repo), "tenant": "test-company", "tier": "standard", "domain": "test-company.example.com",
        "repo_url": "https://git.example.com/platform/gitops.git"})
    assert created.ok, created.summary()
    added = run_playbook(PLAYBOOKS / "tenant_add_module.yml", env=kubectl_env, extra_vars={
        "gitops_repo": str(repo), "tenant": "test-company", "module": "redis"})
    assert added.ok, added.summary()
    module = repo / "tenants/test-company/modules/redis"
    base_image = next(line.split("image:")[1].strip() for f in sorted((module / "base").iterdir())
                      for line in f.read_text().splitlines() if line.strip().startswith("image:"))
    image_name = base_image.rsplit(":", 1)[0]
    dev = module / "overlays/dev/kustomization.yaml"
    dev.write_text(dev.read_text() + f"images:\n- name: {image_name}\n  newTag: promoted-1\n")
    git(repo, "commit", "-qam", "dev: redis promoted-1")
    extra = {"repo": str(repo), "tenant": "test-company", "module": "redis", "from_env": "dev"}
    first = ok_twice("module_promote.yml", extra, kubectl_env)
    assert first.task("Build, validate and commit").result["commit"] == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-1", "--format=%s") == "Promote test-company/redis from dev to staging"
    staging = yaml.safe_load((module / "overlays/staging/kustomization.yaml").read_text())
    assert staging["images"] == [{"name": image_name, "newTag": "promoted-1"}]
    objects = kustomize.build(str(module / "overlays/staging"),
                              os.path.join(kubectl_env["PATH"].split(os.pathsep)[0], "kubectl"))
    images = [c["image"] for o in objects if o["kind"] in ("Deployment", "StatefulSet")
              for c in o["spec"]["template"]["spec"]["containers"]]
    assert f"{image_name}:promoted-1" in images
    # Regenerating the tenant keeps the promoted release: nothing to write, no commit.
    head = git(repo, "rev-parse", "HEAD")
    again = run_playbook(PLAYBOOKS / "tenant_add_module.yml", env=kubectl_env, extra_vars={
        "gitops_repo": str(repo), "tenant": "test-company", "module": "redis"})
    assert again.ok and again.changed() == 0 and git(repo, "rev-parse", "HEAD") == head, again.summary()
    assert yaml.safe_load((module / "overlays/staging/kustomization.yaml").read_text())["images"] == staging["images"]


@pytest.mark.cluster
@pytest.mark.parametrize("template", sorted(builtin_templates.BUILTIN_TEMPLATES))
def test_builtin_template_objects_pass_server_side_dry_run(template, tmp_path, local_cluster, kubectl_env):
    """Every object of every overlay of a built-in template is accepted by the API server (server-side dry run;
    the namespace is created for real, with enforced restricted Pod Security, and deleted afterwards)."""
    name = f"o8-{template}"
    assert run_playbook(PLAYBOOKS / "module_init.yml", env=kubectl_env, extra_vars={
        "module_name": name, "template": template, "dest": str(tmp_path)}).ok
    kubectl = [os.path.join(kubectl_env["PATH"].split(os.pathsep)[0], "kubectl"),
               "--kubeconfig", local_cluster["kubeconfig"]]
    namespace = (tmp_path / name / "base" / "namespace.yaml").read_text()
    subprocess.run(kubectl + ["apply", "--server-side", "--field-manager", "aphex-platform", "-f", "-"],
                   input=namespace, text=True, check=True, capture_output=True)
    try:
        for env in ("dev", "staging", "production"):
            built = subprocess.run(kubectl + ["kustomize", str(tmp_path / name / "overlays" / env)],
                                   text=True, check=True, capture_output=True).stdout
            done = subprocess.run(kubectl + ["apply", "--server-side", "--dry-run=server", "--field-manager",
                                             "aphex-platform", "-f", "-"], input=built, text=True,
                                  capture_output=True, check=False)
            assert done.returncode == 0, f"{env}: {done.stderr}"
            assert "(server dry run)" in done.stdout
    finally:
        subprocess.run(kubectl + ["delete", "namespace", name, "--wait=false"], capture_output=True, check=False)
