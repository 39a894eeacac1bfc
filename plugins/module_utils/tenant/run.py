# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ``tenant`` module does, as a function of its parameters (no Ansible objects, so it is unit-tested).

Read (or take) the tenant configuration, apply the requested change (a module added, the GitOps settings), validate
everything, generate the tree and commit it into the work tree with :mod:`gitops_repo`.
"""

from __future__ import annotations

import os

from .. import gitops_repo
from . import generate as gen
from . import validation


class TenantError(Exception):
    """Invalid input or an unusable repository; ``errors`` name the fields, ``result`` goes back to the user."""

    def __init__(self, msg: str, errors: list | None = None, result: dict | None = None):
        super().__init__(msg)
        self.msg = msg
        self.errors = errors or []
        self.result = result or {}


def _read_document(params: dict) -> tuple:
    """(document, where it came from)."""
    if params.get("config") is not None:
        return params["config"], "config"
    if params.get("src"):
        path = params["src"]
        source = "src"
    else:
        if not params.get("repo"):
            raise TenantError("repo: the GitOps work tree is required to read the tenant (or give config or src)")
        path = os.path.join(params["repo"], gen.tenant_dir(params["name"]), "tenant.yaml")
        source = f"{gen.tenant_dir(params['name'])}/tenant.yaml"
        if not os.path.exists(path):
            raise TenantError(f"name: tenant '{params['name']}' has no {source} in {params['repo']}; create it "
                              "first (playbooks/tenant_create.yml, or the module's config option)")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise TenantError(f"{source}: cannot read {path}: {exc.strerror}") from exc
    document, errors = validation.load_yaml(text, source)
    if errors:
        raise TenantError(errors[0], errors)
    return document, source


def tenant_namespaces(document: dict) -> set:
    name = document.get("name")
    if not isinstance(name, str):
        return set()
    modules = document.get("modules") if isinstance(document.get("modules"), dict) else {}
    return {name} | {f"{name}-{module}" for module in modules}


def namespace_clashes(repo: str, tenant: dict) -> list:
    """Namespaces of ``tenant`` another tenant of the repository already uses (tenant ``acme`` with module
    ``redis`` and a tenant named ``acme-redis`` would share ``acme-redis``)."""
    mine = tenant_namespaces(tenant)
    errors = []
    base = os.path.join(repo, "tenants")
    for other in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        path = os.path.join(base, other, "tenant.yaml")
        if other == tenant["name"] or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            document, problems = validation.load_yaml(handle.read(), path)
        if problems:
            continue
        for namespace in sorted(mine & tenant_namespaces(document)):
            field = "name" if namespace == tenant["name"] else f"modules.{namespace[len(tenant['name']) + 1:]}"
            errors.append(f"{field}: namespace '{namespace}' is already used by tenant '{other}'")
    return errors


def keep_promoted_images(repo: str, root: str, files: dict, cat) -> dict:
    """Regeneration must not undo a promotion: the ``images`` of an overlay's kustomization.yaml belong to module
    promotion (module_promote.yml sets them per environment), everything else to generation. A committed overlay
    with ``images`` keeps them; when the result means the same as the committed file, its bytes are kept."""
    import yaml  # pylint: disable=import-outside-toplevel
    files = dict(files)
    prefix = f"{root}/modules/"
    for rel in sorted(files):
        parts = rel[len(prefix):].split("/") if rel.startswith(prefix) else []
        if len(parts) != 4 or parts[1] != "overlays" or parts[3] != "kustomization.yaml":
            continue
        path = os.path.join(repo, rel)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            current = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(current, dict) or not current.get("images"):
            continue
        wanted = yaml.safe_load(files[rel])
        wanted["images"] = current["images"]
        files[rel] = text if wanted == current else cat.to_yaml(wanted)
    return files


def _apply_changes(document: dict, params: dict, cat) -> tuple:
    document = dict(document)
    added = []
    gitops = {key: params.get(key) for key in ("repo_url", "revision", "argocd_namespace")
              if params.get(key) is not None}
    if gitops:
        document["gitops"] = {**(document.get("gitops") or {}), **gitops}
    if params.get("module"):
        options = dict(params.get("module_options") or {})
        document, added = validation.add_module(document, params["module"], options,
                                                with_dependencies=params.get("with_dependencies", True), cat=cat)
    return document, added


def _message(params: dict, name: str, added: list, existed: bool) -> str:
    if params.get("commit_message"):
        return params["commit_message"]
    if params.get("module"):
        deps = [m for m in added if m != params["module"]]
        verb = "add module" if params["module"] in added else "update module"
        extra = f" (with dependencies {', '.join(deps)})" if deps else ""
        return f"tenant {name}: {verb} {params['module']}{extra}"
    return f"tenant {name}: {'update' if existed else 'create'} configuration and generated resources"


def run(params: dict, check_mode: bool = False, diff: bool = False, cat=None) -> dict:
    cat = cat or validation.catalog()
    document, source = _read_document(params)
    if not isinstance(document, dict):
        raise TenantError(f"{source}: must be a mapping of tenant fields", [f"{source}: must be a mapping"])
    if params.get("name") and document.get("name") not in (None, params["name"]):
        msg = f"{source}.name: '{document.get('name')}' differs from name '{params['name']}'"
        raise TenantError(msg, [msg])
    if params.get("name"):
        document.setdefault("name", params["name"])
    document, added = _apply_changes(document, params, cat)
    checked = validation.validate(document, cat)
    if checked["errors"]:
        raise TenantError("invalid tenant configuration: " + "; ".join(checked["errors"]), checked["errors"],
                          {"errors": checked["errors"]})
    tenant = checked["tenant"]
    if params.get("repo"):
        clashes = namespace_clashes(params["repo"], tenant)
        if clashes:
            raise TenantError("invalid tenant configuration: " + "; ".join(clashes), clashes, {"errors": clashes})
    result = {"changed": False, "tenant": tenant, "errors": [], "modules_added": added}
    if params.get("validate_only"):
        return result
    if not params.get("repo"):
        raise TenantError("repo: the GitOps work tree to write into is required (validate_only=false)")
    try:
        files = gen.generate(tenant, cat, source=document)
    except gen.GenerationError as exc:
        raise TenantError("cannot generate the tenant: " + "; ".join(exc.errors), exc.errors,
                          {"errors": exc.errors}) from exc
    root = gen.tenant_dir(tenant["name"])
    files = keep_promoted_images(params["repo"], root, files, cat)
    existed = os.path.exists(os.path.join(params["repo"], root, "tenant.yaml"))
    try:
        synced = gitops_repo.sync(params["repo"], files, _message(params, tenant["name"], added, existed),
                                  prune=[root], check_mode=check_mode, diff=diff,
                                  author_name=params.get("author_name"), author_email=params.get("author_email"))
    except gitops_repo.GitOpsRepoError as exc:
        raise TenantError(f"repo: {exc.msg}") from exc
    result.update({
        "changed": synced["changed"],
        "commit": synced["commit"],
        "head": synced["head"],
        "files": synced["files"],
        "path": root,
        "applications": sorted(f"{tenant['name']}-{m}" for m in tenant["modules"]),
    })
    if diff:
        result["diff"] = synced["diff"]
    return result
