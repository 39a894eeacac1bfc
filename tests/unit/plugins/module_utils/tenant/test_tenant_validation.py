"""Tenant configuration: the schema and the constraints between fields, with the real module catalog.

Each invalid file is a valid base with one change; the test asserts the exact field and the gist of the message,
and that nothing else is reported (one mistake, one error naming it).
"""

from __future__ import annotations

import copy
import json
import os

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant import schema, validation
from ansible_collections.aphex.platform.plugins.module_utils.tenant.tiers import TIERS

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 5))

BASE = {
    "name": "test-company",
    "tier": "standard",
    "domain": "test-company.example.com",
    "auth": {"roles": ["admin", "analyst"], "admin_users": ["ann@test-company.example.com"]},
    "gitops": {"repo_url": "https://git.example.com/gitops.git"},
    "modules": {
        "langfuse": {"auth": True, "roles": ["admin", "analyst"]},
        "postgresql": {}, "clickhouse": {}, "redis": {},
    },
}


def changed(path: str, value=None, delete: bool = False) -> dict:
    doc = copy.deepcopy(BASE)
    parts = path.split(".")
    target = doc
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if delete:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return doc


# (id, document, field the error must name, words the message must contain)
INVALID = [
    ("name-missing", changed("name", delete=True), "name", "is required"),
    ("name-upper", changed("name", "Test-Company"), "name", "is not a DNS label"),
    ("name-underscore", changed("name", "test_company"), "name", "is not a DNS label"),
    ("name-leading-dash", changed("name", "-acme"), "name", "is not a DNS label"),
    ("name-too-long", changed("name", "a" * 41), "name", "longer than 40"),
    ("name-not-string", changed("name", 42), "name", "is not of type 'string'"),
    ("name-privileged", changed("name", "kube-system"), "name", "platform namespace name"),
    ("name-privileged-prefix", changed("name", "argocd-team"), "name", "platform namespace name"),
    ("tier-unknown", changed("tier", "gold"), "tier", "must be one of starter, standard, enterprise"),
    ("tier-missing", changed("tier", delete=True), "tier", "is required"),
    ("domain-missing", changed("domain", delete=True), "domain", "is required"),
    ("domain-single-label", changed("domain", "localhost"), "domain", "not a lower-case DNS domain"),
    ("domain-upper", changed("domain", "Example.COM"), "domain", "not a lower-case DNS domain"),
    ("domain-url", changed("domain", "https://example.com"), "domain", "not a lower-case DNS domain"),
    ("unknown-top-field", changed("quotas", {"pods": 3}), "quotas", "unknown field"),
    ("environment-unknown", changed("environment", "prod"), "environment",
     "must be one of dev, staging, production"),
    ("kind-wrong", changed("kind", "Organization"), "kind", "must be 'Tenant'"),
    ("gpu-not-bool", changed("gpu", {"enabled": "yes"}), "gpu.enabled", "is not of type 'boolean'"),
    ("gpu-on-standard", changed("gpu", {"enabled": True}), "gpu.enabled",
     "tier 'standard' does not allow GPUs"),
    ("auth-role-bad-name", changed("auth.roles", ["admin", "Data Analyst"]), "auth.roles[1]",
     "is not a role name"),
    ("auth-role-duplicate", changed("auth.roles", ["admin", "analyst", "admin"]), "auth.roles",
     "has duplicate items"),
    ("auth-admin-not-email", changed("auth.admin_users", ["ann"]), "auth.admin_users[0]",
     "is not an e-mail address"),
    ("module-unknown", changed("modules.wordpress", {}), "modules.wordpress", "unknown module"),
    ("module-bad-name", changed("modules.My_Module", {}), "modules.My_Module", "is not a DNS label"),
    ("module-unknown-option", changed("modules.redis", {"replica": 2}), "modules.redis.replica",
     "unknown field"),
    ("module-replicas-negative", changed("modules.redis", {"replicas": -1}), "modules.redis.replicas",
     "less than the minimum of 0"),
    ("module-replicas-over-tier", changed("modules.langfuse.replicas", 6), "modules.langfuse.replicas",
     "more than tier 'standard' allows (5)"),
    ("module-env-replicas-over-tier", changed("modules.redis", {"environments": {"production": {"replicas": 9}}}),
     "modules.redis.environments.production.replicas", "more than tier 'standard' allows (5)"),
    ("module-env-unknown", changed("modules.redis", {"environments": {"qa": {"replicas": 1}}}),
     "modules.redis.environments.qa", "must be one of dev, staging, production"),
    ("module-bad-quantity", changed("modules.redis", {"resources": {"requests": {"cpu": "lots"}}}),
     "modules.redis.resources.requests.cpu", "is not a Kubernetes quantity"),
    ("module-limit-over-tier-max", changed("modules.redis", {"resources": {"limits": {"memory": "32Gi"}}}),
     "modules.redis.resources.limits.memory", "more than tier 'standard' allows per container (16Gi)"),
    ("module-request-over-limit",
     changed("modules.redis", {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}),
     "modules.redis.resources.requests.cpu", "more than resources.limits.cpu (1)"),
    ("module-config-bad-key", changed("modules.redis", {"config": {"bad-key": "x"}}),
     "modules.redis.config.bad-key", "is not an environment variable name"),
    ("module-roles-need-auth", changed("modules.langfuse", {"roles": ["admin"]}), "modules.langfuse.roles",
     "roles need auth: true"),
    ("module-role-not-tenant-role", changed("modules.langfuse", {"auth": True, "roles": ["admin", "viewer"]}),
     "modules.langfuse.roles[1]", "'viewer' is not a tenant role"),
    ("module-role-not-module-role",
     changed("auth.roles", ["admin", "analyst", "owner"]) | {"modules": {
         **BASE["modules"], "langfuse": {"auth": True, "roles": ["owner"]}}},
     "modules.langfuse.roles[0]", "'owner' is not a role module langfuse defines"),
    ("module-auth-but-auth-disabled", changed("auth", {"enabled": False}), "modules.langfuse.auth",
     "auth.enabled is false"),
    ("dependency-missing", changed("modules", {"langfuse": {}, "postgresql": {}, "redis": {}}),
     "modules.langfuse", "needs module clickhouse, which is not enabled"),
    ("gpu-module-without-gpu", changed("modules.ollama", {}) | {"tier": "enterprise"}, "modules.ollama",
     "gpu.enabled"),
    ("gpu-option-on-non-gpu-tenant", changed("modules.jupyter", {"gpu": 1}), "gpu.enabled",
     "modules.jupyter.gpu asks for 1 nvidia.com/gpu"),
    ("too-many-modules", changed("tier", "starter") | {"environment": "dev", "modules": {
        "redis": {}, "postgresql": {}, "clickhouse": {}, "jupyter": {}, "database": {}, "job": {"image": "busybox:1"}}},
     "modules", "6 modules enabled, tier 'starter' allows at most 5"),
    ("quota-limits-cpu-starter-production", changed("tier", "starter"), "modules",
     "limits.cpu of the enabled modules in production is 21"),
    ("quota-requests-memory", changed("tier", "starter") | {"environment": "production", "modules": {
        **BASE["modules"], "redis": {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "4Gi"}}}}},
     "modules", "more than tier 'starter' quota"),
    ("gitops-bad-url", changed("gitops.repo_url", "not a url"), "gitops.repo_url", "must be a git URL"),
    ("oidc-issuer-http", changed("oidc_issuer", "http://auth.example.com"), "oidc_issuer", "must be an https URL"),
    ("organization-bad", changed("organization", "Acme Corp"), "organization", "not an organization name"),
    ("organization-privileged", changed("organization", "kube-system"), "organization",
     "platform namespace name"),
    ("modules-not-mapping", changed("modules", ["redis"]), "modules", "is not of type 'object'"),
]


def test_the_base_document_is_valid():
    result = validation.validate(copy.deepcopy(BASE))
    assert result["errors"] == []
    tenant = result["tenant"]
    assert tenant["quota"] == TIERS["standard"]["quota"]
    assert tenant["oidc_issuer"] == "https://auth.test-company.example.com/realms/test-company"
    assert list(tenant["modules"]) == ["clickhouse", "langfuse", "postgresql", "redis"]


def test_there_are_at_least_thirty_invalid_cases():
    assert len(INVALID) >= 30


@pytest.mark.parametrize("document,field,words", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_tenant_is_rejected_naming_the_field(document, field, words):
    result = validation.validate(document)
    assert result["tenant"] is None
    matching = [e for e in result["errors"] if e.startswith(f"{field}: ") or e.startswith(f"{field}.")
                and field.startswith("modules.") and words in e]
    assert matching, f"no error for {field}: {result['errors']}"
    assert any(words in e for e in matching), result["errors"]


@pytest.mark.parametrize("document", [
    {"name": "acme", "tier": "starter", "domain": "acme.example.com"},
    {"name": "acme", "tier": "starter", "domain": "acme.example.com", "environment": "dev",
     "modules": {"langfuse": {"auth": True}, "postgresql": {}, "clickhouse": {}, "redis": {}},
     "auth": {"roles": []}},
    {"apiVersion": "orchestr8.io/v1", "kind": "Tenant", "name": "gpu-lab", "tier": "enterprise",
     "domain": "lab.example.com", "gpu": {"enabled": True}, "modules": {"ollama": {}, "jupyter": {"gpu": 1}}},
    {"name": "web", "tier": "standard", "domain": "web.example.org", "organization": "acme",
     "modules": {"frontend": {"image": "ghcr.io/acme/web:1.2.3", "replicas": 2,
                              "environments": {"dev": {"replicas": 1}}}}},
], ids=["minimal", "starter-dev-langfuse", "enterprise-gpu", "organization-frontend"])
def test_valid_tenants_pass(document):
    assert validation.validate(document)["errors"] == []


def test_the_quota_message_names_each_modules_share():
    errors = validation.validate(changed("tier", "starter"))["errors"]
    assert "modules: limits.cpu of the enabled modules in production is 21 (clickhouse 4, langfuse 14, " \
           "postgresql 2, redis 1), more than tier 'starter' quota 16" in errors


def test_add_module_enables_dependencies_and_declares_roles():
    doc = {"name": "acme", "tier": "standard", "domain": "acme.example.com"}
    new, added = validation.add_module(doc, "langfuse", {"auth": True, "roles": ["admin", "analyst"]})
    assert added == ["langfuse", "postgresql", "clickhouse", "redis"]
    assert new["auth"]["roles"] == ["admin", "analyst"]
    assert validation.validate(new)["errors"] == []
    assert "modules" not in doc  # the input is not modified
    again, added_again = validation.add_module(new, "langfuse", {"auth": True, "roles": ["admin", "analyst"]})
    assert again == new and added_again == []


def test_add_module_without_dependencies_reports_them():
    doc = {"name": "acme", "tier": "standard", "domain": "acme.example.com"}
    new, added = validation.add_module(doc, "langfuse", {}, with_dependencies=False)
    assert added == ["langfuse"]
    errors = validation.validate(new)["errors"]
    assert "modules.langfuse: needs module postgresql, which is not enabled (add modules.postgresql)" in errors


def test_yaml_errors_name_the_line():
    document, errors = validation.load_yaml("name: [acme\n", "tenants/acme/tenant.yaml")
    assert document is None and errors[0].startswith("tenants/acme/tenant.yaml: is not valid YAML (line")
    assert validation.load_yaml("- a\n")[1] == ["tenant.yaml: must be a mapping of tenant fields, not list"]


def test_the_exported_schema_file_is_the_schema():
    with open(os.path.join(REPO, "schemas", "tenant.schema.json"), encoding="utf-8") as handle:
        assert json.load(handle) == schema.TENANT_SCHEMA


def test_the_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(schema.TENANT_SCHEMA)


def test_example_tenant_in_docs_is_valid():
    with open(os.path.join(REPO, "docs", "examples", "tenant.yaml"), encoding="utf-8") as handle:
        assert validation.validate(yaml.safe_load(handle))["errors"] == []
