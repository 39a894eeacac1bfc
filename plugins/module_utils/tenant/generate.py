# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tenant's tree in the GitOps repository, from a validated tenant (pure: dicts in, ``{relpath: text}`` out).

    tenants/<tenant>/
      tenant.yaml              the source configuration (normalised field order)
      keycloak-realm.json      the realm (keycloak.py)
      tenant-bundle.json       everything generated, summarised: tenant, tier quota, modules, files with sha256
      kubernetes/              base: namespace <tenant>, quota and limit range of the tier, default-deny policies
      modules/<module>/        the module catalog's render_module output (base + dev/staging/production overlays)
      applications/            AppProject <tenant>, Application <tenant>-base (kubernetes/) and one Application
                               <tenant>-<module> per module, pointing at modules/<module>/overlays/<environment>

Every file is serialised byte-stably (fixed key order for YAML, sorted keys for JSON), so generating twice gives
the same bytes and :mod:`gitops_repo` makes no commit.
"""

from __future__ import annotations

import hashlib
import posixpath

from ..gitops_repo import to_json, to_yaml, to_yaml_documents
from ..k8s.common import MANAGED_BY
from . import keycloak
from .validation import catalog, source_document

TENANT_LABEL = "orchestr8.platform/tenant"
MODULE_LABEL = "orchestr8.platform/module"
ORG_LABEL = "aphex.dev/org"
APPLICATION_API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
# Foreground cascading deletion, like the bare "resources-finalizer.argocd.argoproj.io" (Argo CD's
# ForegroundPropagationPolicyFinalizer); the API server warns about finalizer names without a path.
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io/foreground"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
BUNDLE_KIND = "TenantBundle"


class GenerationError(Exception):
    """The tenant cannot be generated (e.g. no repository URL for the Applications); ``errors`` name the fields."""

    def __init__(self, errors: list):
        super().__init__("; ".join(errors))
        self.errors = errors


def tenant_dir(name: str) -> str:
    return f"tenants/{name}"


def _labels(tenant: dict, module: str | None = None) -> dict:
    labels = {TENANT_LABEL: tenant["name"]}
    if module:
        labels[MODULE_LABEL] = module
    if tenant.get("organization"):
        labels[ORG_LABEL] = tenant["organization"]
    return {**labels, **MANAGED_BY}


def _meta(tenant: dict, name: str, namespace: str | None = None) -> dict:
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = _labels(tenant)
    return meta


def namespace(tenant: dict) -> dict:
    labels = _labels(tenant)
    labels.update({"pod-security.kubernetes.io/enforce": "restricted",
                   "pod-security.kubernetes.io/audit": "restricted",
                   "pod-security.kubernetes.io/warn": "restricted"})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tenant["name"], "labels": labels}}


def resource_quota(tenant: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(tenant, "tenant-quota", tenant["name"]),
            "spec": {"hard": dict(tenant["quota"])}}


def limit_range(tenant: dict) -> dict:
    limits = tenant["limit_range"]
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(tenant, "tenant-limits", tenant["name"]),
            "spec": {"limits": [{"type": "Container", "default": dict(limits["default"]),
                                 "defaultRequest": dict(limits["defaultRequest"]), "max": dict(limits["max"])}]}}


def network_policies(tenant: dict) -> list:
    """Default deny both ways; then DNS, and traffic between the tenant's own namespaces only."""
    ns = tenant["name"]
    same_tenant = [{"namespaceSelector": {"matchLabels": {TENANT_LABEL: ns}}}]
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(tenant, "default-deny", ns),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(tenant, "allow-dns", ns),
         "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                  "egress": [{"to": [{"namespaceSelector": {"matchLabels": {
                      "kubernetes.io/metadata.name": "kube-system"}},
                      "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                      "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _meta(tenant, "allow-same-tenant", ns),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"from": same_tenant}], "egress": [{"to": same_tenant}]}},
    ]


def _dependency_depth(modules: dict, entries: dict) -> dict:
    """Sync wave per module: 0 for modules without enabled dependencies, else 1 + the deepest dependency."""
    depth = {}

    def visit(name, trail=()):
        if name in depth:
            return depth[name]
        if name in trail:  # a cycle is the catalog's bug; keep generating rather than recurse forever
            return 0
        deps = [d["name"] if isinstance(d, dict) else d for d in entries[name].get("dependencies") or []]
        deps = [d for d in deps if d in modules]
        depth[name] = 1 + max((visit(d, trail + (name,)) for d in deps), default=-1)
        return depth[name]

    for module in modules:
        visit(module)
    return depth


def app_project(tenant: dict) -> dict:
    gitops = tenant["gitops"]
    return {
        "apiVersion": APPLICATION_API, "kind": "AppProject",
        "metadata": _meta(tenant, tenant["name"], gitops["argocd_namespace"]),
        "spec": {
            "description": f"Tenant {tenant['name']} ({tenant['tier']})",
            "sourceRepos": [gitops["repo_url"]],
            # Exact namespaces, no "<tenant>-*" glob: it would also match tenant "<tenant>-x"'s namespaces.
            "destinations": [{"server": IN_CLUSTER, "namespace": ns}
                             for ns in [tenant["name"]] + [f"{tenant['name']}-{m}" for m in tenant["modules"]]],
            # The tenant may create its own namespaces, nothing else cluster-wide.
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        },
    }


def application(tenant: dict, name: str, path: str, destination: str, wave: int, module: str | None = None) -> dict:
    gitops = tenant["gitops"]
    meta = {"name": name, "namespace": gitops["argocd_namespace"], "labels": _labels(tenant, module),
            "annotations": {SYNC_WAVE: str(wave)}, "finalizers": [CASCADE_FINALIZER]}
    return {
        "apiVersion": APPLICATION_API, "kind": "Application", "metadata": meta,
        "spec": {
            "project": tenant["name"],
            "source": {"repoURL": gitops["repo_url"], "targetRevision": gitops["revision"], "path": path},
            "destination": {"server": IN_CLUSTER, "namespace": destination},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true"]},
        },
    }


def _kustomization(resources: list) -> str:
    return to_yaml({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                    "resources": list(resources)})


def generate(tenant: dict, cat=None, source: dict | None = None) -> dict:
    """Every file of the tenant, keyed by path relative to the repository root.

    ``source`` is the configuration as the user wrote it (written as tenant.yaml without derived defaults);
    the normalised ``tenant`` is written when it is not given.
    """
    cat = cat or catalog()
    if not (tenant.get("gitops") or {}).get("repo_url"):
        raise GenerationError(["gitops.repo_url: is required to generate the Argo CD Applications (the URL Argo CD "
                               "clones the GitOps repository from)"])
    root = tenant_dir(tenant["name"])
    entries = {module: cat.catalog_entry(module) for module in tenant["modules"]}
    files = {}
    files[f"{root}/tenant.yaml"] = to_yaml(source_document(source if source is not None else tenant))
    files[f"{root}/keycloak-realm.json"] = to_json(keycloak.realm(tenant, entries))
    base = {
        "namespace.yaml": to_yaml(namespace(tenant)),
        "resource-quota.yaml": to_yaml(resource_quota(tenant)),
        "limit-range.yaml": to_yaml(limit_range(tenant)),
        "network-policies.yaml": to_yaml_documents(network_policies(tenant)),
    }
    base["kustomization.yaml"] = _kustomization(sorted(base))
    for rel, content in base.items():
        files[f"{root}/kubernetes/{rel}"] = content
    errors = []
    for module, options in tenant["modules"].items():
        try:
            rendered = cat.render_module(tenant, module, options)
        except cat.CatalogError as exc:
            errors.extend(e.replace("options.", f"modules.{module}.")
                          for e in (getattr(exc, "errors", None) or [str(exc)]))
            continue
        for rel, content in rendered.items():
            rel = posixpath.normpath(rel)
            if not rel.startswith(f"modules/{module}/"):
                errors.append(f"modules.{module}: the catalog rendered {rel} outside modules/{module}/")
                continue
            files[f"{root}/{rel}"] = content
    if errors:
        raise GenerationError(errors)
    waves = _dependency_depth(tenant["modules"], entries)
    apps = {"project.yaml": to_yaml(app_project(tenant)),
            "base.yaml": to_yaml(application(tenant, f"{tenant['name']}-base", f"{root}/kubernetes",
                                             tenant["name"], -1))}
    for module in tenant["modules"]:
        path = f"{root}/modules/{module}/overlays/{tenant['environment']}"
        apps[f"{module}.yaml"] = to_yaml(application(tenant, f"{tenant['name']}-{module}", path,
                                                     f"{tenant['name']}-{module}", waves[module], module))
    apps["kustomization.yaml"] = _kustomization(sorted(apps))
    for rel, content in apps.items():
        files[f"{root}/applications/{rel}"] = content
    files[f"{root}/tenant-bundle.json"] = to_json(bundle(tenant, entries, files, waves))
    return dict(sorted(files.items()))


def bundle(tenant: dict, entries: dict, files: dict, waves: dict) -> dict:
    """The complete bundle: the normalised tenant, per-module facts and the sha256 of every other file."""
    root = tenant_dir(tenant["name"])
    modules = {}
    for module, options in tenant["modules"].items():
        entry = entries[module]
        modules[module] = {
            "version": entry.get("version"),
            "namespace": f"{tenant['name']}-{module}",
            "host": f"{module}.{tenant['domain']}",
            "path": f"{root}/modules/{module}",
            "application": f"{tenant['name']}-{module}",
            "syncWave": waves[module],
            "auth": bool(options.get("auth")),
            "roles": keycloak.module_roles(options, entry) if options.get("auth") else [],
            "dependencies": [d["name"] if isinstance(d, dict) else d for d in entry.get("dependencies") or []],
        }
    return {
        "apiVersion": "orchestr8.io/v1",
        "kind": BUNDLE_KIND,
        "tenant": {key: value for key, value in tenant.items() if key != "modules"},
        "modules": modules,
        "files": {posixpath.relpath(rel, root): hashlib.sha256(content.encode("utf-8")).hexdigest()
                  for rel, content in sorted(files.items())},
    }
