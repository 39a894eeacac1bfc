# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The repositories of an inventory (``aphex_organizations[].repositories``), normalised and validated at once
so that a play stops before it creates anything when one of them is wrong.

Inventory keys are the snake_case forms of the RepoBinding spec (``pipeline_name`` is ``spec.pipelineName``);
each error names the inventory field, e.g. ``aphex_organizations[0].repositories[1].pipeline_name``. The checks are
the ones that need no cluster; what needs the cluster (the organization is Ready, the pipeline name is not used by
a binding outside the inventory, the template exists) is checked by ``aphex.platform.repobinding`` itself.
"""

from __future__ import annotations

import re

from ansible_collections.aphex.platform.plugins.module_utils.organization import naming
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
    DNS_LABEL_RE,
    STATES,
    events_errors,
)
from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase import validation as kb_validation
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import validation as rb_validation

ROOT = "aphex_organizations"
REPOBINDING_KIND = "RepoBinding"
DEFAULT_TEMPLATE_REF = "run-pipeline-v1"
DEFAULT_BRANCHES = ("main",)

DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# inventory key -> RepoBinding spec key; the order is the order of the spec.
SPEC_FIELDS = {
    "repo_org": "repoOrg",
    "repo_name": "repoName",
    "pipeline_name": "pipelineName",
    "template_ref": "templateRef",
    "pipeline_spec": "pipelineSpec",
    "catalog_pipeline": "catalogPipeline",
    "branches": "branches",
    "quotas": "quotas",
    "limits": "limits",
    "network": "network",
}
INVENTORY_FIELDS = {spec_key: key for key, spec_key in SPEC_FIELDS.items()}
REPOSITORY_FIELDS = ("name", "state", "webhook_events", "knowledgebases") + tuple(SPEC_FIELDS)
KNOWLEDGEBASE_FIELDS = ("name", "state", "display_name", "description", "branch", "paths", "repositories", "mcp")
KNOWLEDGEBASE_MCP_FIELDS = ("image", "port", "replicas", "query_service_url")
KNOWLEDGEBASE_MCP_KEYS = {"query_service_url": "queryServiceURL"}
# CRD key -> inventory key, for naming the fields of the KnowledgeBase validator's errors.
KNOWLEDGEBASE_KEYS = {"displayName": "display_name", "queryServiceURL": "query_service_url"}


def _unknown(raw: dict, allowed, where: str) -> list[str]:
    return [f"{where}.{key}: unknown field (allowed: {', '.join(allowed)})"
            for key in sorted(set(raw) - set(allowed), key=str)]


def _kb_field(error: str, where: str, derived_repository: bool) -> str:
    """An error of the KnowledgeBase validator (``spec.mcp.port: ...``) named by its inventory field."""
    path, sep, message = error.partition(": ")
    if not path.startswith("spec.") or not sep:
        return f"{where}: {error}"
    path = path[len("spec."):]
    if derived_repository and path.startswith("repositories[0]"):
        # The knowledge base tracks this repository: branch and paths are the entry's own keys.
        path = path[len("repositories[0]"):].lstrip(".") or "repositories"
    for crd, inventory in KNOWLEDGEBASE_KEYS.items():
        path = re.sub(rf"(^|\.){crd}(?=$|[.\[])", rf"\g<1>{inventory}", path)
    return f"{where}.{path}: {message}"


def _knowledgebase(raw, where: str, repo: dict, state: str) -> tuple[dict, list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"{where}: must be a mapping"]
    errors = _unknown(raw, KNOWLEDGEBASE_FIELDS, where)
    name = raw.get("name")
    errors.extend(kb_validation.name_errors(name, f"{where}.name"))
    kb_state = raw.get("state", state)
    if kb_state not in STATES:
        errors.append(f"{where}.state: must be one of {', '.join(STATES)}")
    if state == "absent":
        kb_state = "absent"  # a knowledge base never outlives its repository
    spec = {"displayName": raw.get("display_name")}
    if raw.get("description") is not None:
        spec["description"] = raw["description"]
    derived = raw.get("repositories") is None
    if derived:
        entry = {"url": repo["url"], "branch": raw.get("branch", (repo.get("branches") or DEFAULT_BRANCHES)[0])}
        if raw.get("paths") is not None:
            entry["paths"] = raw["paths"]
        spec["repositories"] = [entry]
    else:
        spec["repositories"] = raw["repositories"]
        for key in ("branch", "paths"):
            if key in raw:
                errors.append(f"{where}.{key}: give it inside each of repositories, not beside them")
    mcp = raw.get("mcp")
    if isinstance(mcp, dict):
        errors.extend(_unknown(mcp, KNOWLEDGEBASE_MCP_FIELDS, f"{where}.mcp"))
        spec["mcp"] = {KNOWLEDGEBASE_MCP_KEYS.get(key, key): value for key, value in mcp.items()}
    elif mcp is not None:
        spec["mcp"] = mcp
    if kb_state == "present":
        errors.extend(_kb_field(error, where, derived) for error in kb_validation.spec_errors(spec))
    return {"name": name, "namespace": repo["namespace"], "state": kb_state, "spec": spec}, errors


def _spec_field(error: str, where: str, org_where: str) -> str:
    """An error of the RepoBinding validator (``spec.pipelineName: ...``) named by its inventory field."""
    path, sep, message = error.partition(": ")
    if not path.startswith("spec.") or not sep:
        return f"{where}: {error}"
    key, dot, rest = path[len("spec."):].partition(".")
    bracket = key.find("[")
    if bracket > 0:
        key, rest, dot = key[:bracket], key[bracket:] + (dot + rest if rest else ""), ""
    if key == "aphexOrg":
        return f"{org_where}.name: {message}"
    return f"{where}.{INVENTORY_FIELDS.get(key, key)}{dot}{rest}: {message}"


def _repository(raw: dict, where: str, org_where: str, org: dict, defaults: dict) -> tuple[dict, list[str]]:
    errors = _unknown(raw, REPOSITORY_FIELDS, where)
    org_name = org.get("name")
    state = raw.get("state", defaults.get("state", "present"))
    if state not in STATES:
        errors.append(f"{where}.state: must be one of {', '.join(STATES)}")
    if org.get("state") == "absent":
        state = "absent"  # offboarding an organization offboards its repositories first
    owner, repo_name, pipeline = raw.get("repo_org"), raw.get("repo_name"), raw.get("pipeline_name")
    name = raw.get("name", pipeline)
    if "name" in raw and (not isinstance(name, str) or len(name) > 63 or not DNS_SUBDOMAIN_RE.match(name)):
        errors.append(f"{where}.name: {name!r} is not a RepoBinding name (lower-case letters, digits, '-' and '.', "
                      "at most 63)")
    values = dict(raw)
    values.setdefault("template_ref", defaults.get("template_ref", DEFAULT_TEMPLATE_REF))
    values.setdefault("branches", list(defaults.get("branches") or DEFAULT_BRANCHES))
    if isinstance(values.get("catalog_pipeline"), str):
        values["catalog_pipeline"] = {"name": values["catalog_pipeline"]}
    spec = {"aphexOrg": org_name}
    for key, spec_key in SPEC_FIELDS.items():
        if values.get(key) is not None:
            spec[spec_key] = values[key]
    if state == "present" or spec.get("pipelineSpec") is not None or spec.get("catalogPipeline") is not None:
        errors.extend(_spec_field(error, where, org_where)
                      for error in rb_validation.spec_errors(rb_validation.normalize_spec(spec)))
    else:  # offboarding needs the names only
        errors.extend(_spec_field(error, where, org_where) for error in
                      rb_validation.github_owner_errors(owner, "spec.repoOrg")
                      + rb_validation.github_repo_errors(repo_name, "spec.repoName")
                      + rb_validation.pipeline_name_errors(pipeline, "spec.pipelineName"))
    allowed = org.get("github_owners")
    if state == "present" and isinstance(owner, str) and not rb_validation.github_owner_errors(owner, 'repo_org'):
        if not isinstance(allowed, list) or not allowed:
            errors.append(f"{where}.repo_org: organization '{org_name}' allows no GitHub owner (list '{owner}' in "
                          f"{org_where}.github_owners)")
        elif owner.lower() not in {str(a).lower() for a in allowed}:
            errors.append(f"{where}.repo_org: '{owner}' is not in the organization's github_owners "
                          f"({', '.join(map(str, allowed))})")
    events = raw.get("webhook_events", org.get("events") or list(defaults.get("webhook_events") or ["push"]))
    errors.extend(events_errors(events, f"{where}.webhook_events"))

    full_name = f"{owner}/{repo_name}"
    repo = {
        "org": org_name,
        "name": name,
        "namespace": naming.namespace_name(org_name) if isinstance(org_name, str) else None,
        "state": state,
        "full_name": full_name,
        "url": f"https://github.com/{full_name}",
        "pipeline_name": pipeline,
        "branches": values["branches"],
        "webhook_events": events,
        "spec": spec,
        "where": where,
    }
    kbs = raw.get("knowledgebases", [])
    repo["knowledgebases"] = []
    if not isinstance(kbs, list):
        errors.append(f"{where}.knowledgebases: must be a list")
        kbs = []
    for index, kb_raw in enumerate(kbs):
        kb, kb_errors = _knowledgebase(kb_raw, f"{where}.knowledgebases[{index}]", repo, state)
        errors.extend(kb_errors)
        repo["knowledgebases"].append(kb)
    return repo, errors


def _matches(repo: dict, select: str) -> bool:
    return select in (repo["name"], repo["pipeline_name"], repo["full_name"])


def repository_specs(organizations, defaults: dict | None = None, org=None, repo=None, state=None) -> dict:
    """Normalise and validate every repository of every organization.

    Returns ``{"repositories": [...], "errors": [...], "inventory": {...}}``. ``repositories`` is filtered by
    ``org`` (an organization name) and ``repo`` (a binding name, pipeline name or ``owner/name``); every
    repository is still validated. ``state`` overrides every repository's state. ``inventory`` has the keys
    ``repobindings`` and ``knowledgebases``: ``<namespace>/<name>`` of every object the inventory declares
    (whatever the selection), which self-service leaves alone. ``organizations_absent`` names the (selected)
    organizations being offboarded, whose namespaces self-service empties first.
    """
    defaults = defaults or {}
    if organizations is None:
        organizations = []
    if not isinstance(organizations, list):
        return {"repositories": [], "errors": [f"{ROOT}: must be a list of organizations"],
                "inventory": {"repobindings": [], "knowledgebases": []}, "organizations_absent": []}
    repos, errors = [], []
    seen_pipelines, seen_bindings, seen_kbs = {}, {}, {}
    for org_index, org_raw in enumerate(organizations):
        if not isinstance(org_raw, dict):
            continue  # the organization_specs filter reports it
        raw_list = org_raw.get("repositories")
        if raw_list is None:
            continue
        org_where = f"{ROOT}[{org_index}]"
        if not isinstance(raw_list, list):
            errors.append(f"{org_where}.repositories: must be a list of repositories")
            continue
        if not isinstance(org_raw.get("name"), str) or not DNS_LABEL_RE.match(org_raw.get("name") or ""):
            errors.append(f"{org_where}.name: repositories need an organization with a valid name")
            continue
        for index, raw in enumerate(raw_list):
            where = f"{org_where}.repositories[{index}]"
            if not isinstance(raw, dict):
                errors.append(f"{where}: must be a mapping")
                continue
            spec, repo_errors = _repository(raw, where, org_where, org_raw, defaults)
            errors.extend(repo_errors)
            if state:
                spec["state"] = state
                for kb in spec["knowledgebases"]:
                    kb["state"] = state
            pipeline = spec["pipeline_name"]
            if isinstance(pipeline, str) and pipeline in seen_pipelines:
                errors.append(f"{where}.pipeline_name: '{pipeline}' is already used by {seen_pipelines[pipeline]}")
            elif isinstance(pipeline, str):
                seen_pipelines[pipeline] = where
            key = f"{spec['namespace']}/{spec['name']}"
            if key in seen_bindings:
                errors.append(f"{where}.name: RepoBinding '{key}' is already declared by {seen_bindings[key]}")
            else:
                seen_bindings[key] = where
            for kb_index, kb in enumerate(spec["knowledgebases"]):
                kb_key = f"{kb.get('namespace')}/{kb.get('name')}"
                if kb_key in seen_kbs:
                    errors.append(f"{where}.knowledgebases[{kb_index}].name: KnowledgeBase '{kb_key}' is already "
                                  f"declared by {seen_kbs[kb_key]}")
                else:
                    seen_kbs[kb_key] = f"{where}.knowledgebases[{kb_index}]"
            repos.append(spec)
    inventory = {"repobindings": sorted(seen_bindings), "knowledgebases": sorted(seen_kbs)}
    offboarded = [o["name"] for o in organizations if isinstance(o, dict) and o.get("state") == "absent"
                  and isinstance(o.get("name"), str) and (not org or o["name"] == org)]
    if org:
        repos = [r for r in repos if r["org"] == org]
    if repo:
        repos = [r for r in repos if _matches(r, repo)]
        if not repos:
            errors.append(f"repo: '{repo}' is not a repository of {'organization ' + org if org else ROOT}")
    return {"repositories": repos, "errors": errors, "inventory": inventory, "organizations_absent": offboarded}


def _org_of(obj: dict) -> str | None:
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    spec_org = (obj.get("spec") or {}).get("aphexOrg")
    if isinstance(spec_org, str) and spec_org:
        return spec_org
    return namespace[len("org-"):] if namespace.startswith("org-") else None


def discovered(resources, inventory: list | None = None, org=None, webhook_events=None) -> list[dict]:
    """The objects of one kind (as ``kubernetes.core.k8s_info`` lists them) that self-service reconciles: those the
    inventory does not declare (``inventory``: ``<namespace>/<name>`` keys), of organization ``org`` when given.

    Each item: ``kind``, ``name``, ``namespace``, ``org`` (``spec.aphexOrg``, else the organization of an
    ``org-<name>`` namespace) and, for a RepoBinding, ``full_name`` (``owner/name``) and ``webhook_events``.
    Objects being deleted are left alone. Sorted by namespace and name, so runs are reproducible.
    """
    declared = set(inventory or [])
    items = []
    for obj in resources or []:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        if key in declared or meta.get("deletionTimestamp"):
            continue
        owner = _org_of(obj)
        if org and owner != org:
            continue
        item = {"kind": obj.get("kind"), "name": meta.get("name"), "namespace": meta.get("namespace"), "org": owner}
        if obj.get("kind") == REPOBINDING_KIND:
            spec = obj.get("spec") or {}
            item["full_name"] = f"{spec.get('repoOrg')}/{spec.get('repoName')}"
            item["webhook_events"] = list(webhook_events or ["push"])
        items.append(item)
    return sorted(items, key=lambda item: (str(item["namespace"]), str(item["name"])))
