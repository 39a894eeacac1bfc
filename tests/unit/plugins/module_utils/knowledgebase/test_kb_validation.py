"""KnowledgeBase validation (§8.2, controller and webhook rules) and normalisation: pure, no API."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase import validation
from ansible_collections.aphex.platform.plugins.module_utils.knowledgebase.reconcile import argument_errors

GOOD = {
    "displayName": "Platform documentation",
    "description": "How the platform works",
    "repositories": [
        {"url": "https://github.com/acme-corp/platform", "branch": "main"},
        {"url": "https://github.com/acme-corp/runbooks/", "branch": "release/2026.11", "paths": [".kiro/docs/runbooks"]},
    ],
    "mcp": {"image": "ghcr.io/acme-corp/archon-mcp-server:1.4.2", "port": 8090},
}


def changed(path, value):
    """GOOD with ``path`` (dotted, list indexes as numbers) set to ``value``; ``...`` deletes it."""
    spec = copy.deepcopy(GOOD)
    *parents, leaf = path.split(".")
    node = spec
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[int(leaf) if leaf.isdigit() else leaf]
    else:
        node[int(leaf) if leaf.isdigit() else leaf] = value
    return spec


def test_the_good_spec_passes():
    assert validation.spec_errors(GOOD) == []
    assert validation.spec_errors(changed("mcp", ...)) == []
    assert validation.spec_errors({"displayName": "x", "repositories": [{"url": "https://github.com/a/b"}]}) == []


BAD = [
    ("displayName", ..., "spec.displayName: must be a non-empty string"),
    ("displayName", "   ", "spec.displayName: must be a non-empty string"),
    ("displayName", "x" * 257, "spec.displayName: is 257 characters"),
    ("description", 42, "spec.description: must be a string"),
    ("repositories", [], "spec.repositories: at least one repository is required"),
    ("repositories", ..., "spec.repositories: at least one repository is required"),
    ("repositories.0", "https://github.com/a/b", "spec.repositories[0]: must be a mapping"),
    ("repositories.0.url", ..., "spec.repositories[0].url: is required"),
    ("repositories.0.url", "", "spec.repositories[0].url: is required"),
    ("repositories.0.url", "git@github.com:acme-corp/platform.git", "must start with http:// or https://"),
    ("repositories.0.url", "https://gitlab.com/acme-corp/platform", "is not a GitHub repository URL"),
    ("repositories.0.url", "https://github.com/acme-corp", "is not a GitHub repository URL"),
    ("repositories.0.url", "https://github.com/acme-corp/platform/tree/main", "is not a GitHub repository URL"),
    ("repositories.1.url", "https://github.com/ACME-corp/Platform/", "spec.repositories[1].url: "
                                                                     "'https://github.com/ACME-corp/Platform/' duplicates"),
    ("repositories.0.branch", "has space", "spec.repositories[0].branch: 'has space' is not a valid git branch name"),
    ("repositories.0.branch", "a..b", "is not a valid git branch name"),
    ("repositories.0.branch", "a~1", "is not a valid git branch name"),
    ("repositories.0.branch", "x^", "is not a valid git branch name"),
    ("repositories.0.branch", "a:b", "is not a valid git branch name"),
    ("repositories.0.branch", "wild*", "is not a valid git branch name"),
    ("repositories.0.branch", "a[b", "is not a valid git branch name"),
    ("repositories.0.branch", "back\\slash", "is not a valid git branch name"),
    ("repositories.0.branch", "a@{b", "is not a valid git branch name"),
    ("repositories.0.branch", "a//b", "is not a valid git branch name"),
    ("repositories.0.branch", "/lead", "is not a valid git branch name"),
    ("repositories.0.branch", "trail/", "is not a valid git branch name"),
    ("repositories.0.branch", ".hidden", "is not a valid git branch name"),
    ("repositories.0.branch", "x.lock", "is not a valid git branch name"),
    ("repositories.0.branch", "", "spec.repositories[0].branch: must be a non-empty git branch name"),
    ("repositories.0.tag", "v1", "spec.repositories[0].tag: unknown field"),
    ("repositories.1.paths", [], "spec.repositories[1].paths: must be a non-empty list"),
    ("repositories.1.paths", [""], "spec.repositories[1].paths[0]: must be a non-empty path"),
    ("repositories.1.paths", ["docs"], "spec.repositories[1].paths[0]: 'docs' must be under .kiro/docs"),
    ("repositories.1.paths", [".kiro/docs/../../etc"], "must not contain '..'"),
    ("repositories.1.paths", ["/.kiro/docs"], "must be relative to the repository root"),
    ("repositories.1.paths", [".kiro/docsx"], "must be under .kiro/docs"),
    ("mcp", "yes", "spec.mcp: must be a mapping"),
    ("mcp.image", ..., "spec.mcp.image: must be an image reference"),
    ("mcp.image", "ghcr.io/acme corp/mcp:1", "spec.mcp.image: must be an image reference"),
    ("mcp.image", "ghcr.io/acme-corp/archon-mcp-server:latest", "uses the 'latest' tag"),
    ("mcp.port", ..., "spec.mcp.port: None must be an integer from 1024 to 65535"),
    ("mcp.port", 80, "spec.mcp.port: 80 must be an integer from 1024 to 65535"),
    ("mcp.port", 70000, "must be an integer from 1024 to 65535"),
    ("mcp.port", "8090", "must be an integer from 1024 to 65535"),
    ("mcp.replicas", 0, "spec.mcp.replicas: 0 must be an integer from 1 to 20"),
    ("mcp.replicas", True, "spec.mcp.replicas: True must be an integer"),
    ("mcp.queryServiceURL", "query:8080", "spec.mcp.queryServiceURL: 'query:8080' must be an http:// or https:// URL"),
    ("mcp.sidecar", {}, "spec.mcp.sidecar: unknown field"),
    ("mcpServer", {}, "spec.mcpServer: unknown field"),
]


@pytest.mark.parametrize("path, value, message", BAD, ids=[f"{case[0]}={case[1]!r}"[:60] for case in BAD])
def test_each_bad_spec_names_the_field(path, value, message):
    errors = validation.spec_errors(changed(path, value))
    assert any(message in error for error in errors), errors


def test_at_least_25_bad_input_cases():
    assert len(BAD) >= 25


def test_spec_that_is_not_a_mapping():
    assert validation.spec_errors(["x"]) == ["spec: must be a mapping (the KnowledgeBase spec)"]


def test_allowed_prefixes_can_be_widened_or_dropped():
    spec = changed("repositories.1.paths", ["docs/**/*.md"])
    assert validation.spec_errors(spec, allowed_prefixes=("docs",)) == []
    assert validation.spec_errors(spec, allowed_prefixes=()) == []
    assert validation.spec_errors(changed("repositories.1.paths", ["a/../b"]), allowed_prefixes=())


@pytest.mark.parametrize("params, message", [
    ({"name": "Docs"}, "name: 'Docs' must be a DNS label of at most 52 characters"),
    ({"name": "d" * 53}, "at most 52 characters"),
    ({"name": ""}, "name: is required"),
    ({"namespace": "Org_Acme"}, "namespace: 'Org_Acme' is not a namespace name"),
    ({"mcp_resources": {"limits": {"cpu": "lots"}}}, "mcp_resources.limits.cpu: 'lots' is not a Kubernetes quantity"),
    ({"mcp_resources": {"burst": {}}}, "mcp_resources: must be a mapping with requests and/or limits"),
    ({"allowed_path_prefixes": ["../up"]}, "allowed_path_prefixes[0]: '../up' must be a relative path"),
    ({"spec": changed("repositories", [])}, "spec.repositories: at least one repository is required"),
])
def test_argument_errors(params, message):
    base = {"name": "docs", "namespace": "org-acme", "state": "present", "spec": GOOD, "mcp_resources": None,
            "allowed_path_prefixes": [".kiro/docs"]}
    errors = argument_errors({**base, **params})
    assert any(message in error for error in errors), errors


def test_argument_errors_ignore_the_spec_when_absent():
    assert argument_errors({"name": "docs", "namespace": "org-acme", "state": "absent", "spec": {"bad": 1},
                            "allowed_path_prefixes": []}) == []


def test_normalize_fills_the_defaults():
    spec = validation.normalize_spec({"displayName": "D", "repositories": [{"url": "https://github.com/a/b"}],
                                      "mcp": {"image": "i:1", "port": 9000}}, "org-acme")
    assert spec == {"displayName": "D", "description": "", "mcp": {
        "image": "i:1", "port": 9000, "replicas": 1, "queryServiceURL": "http://query.org-acme:8080"},
        "repositories": [{"url": "https://github.com/a/b", "branch": "mainline", "paths": [".kiro/docs"]}]}
    assert validation.normalize_spec(GOOD, "ns")["repositories"][0]["branch"] == "main"
    assert validation.normalize_spec(changed("mcp", ...), "ns")["mcp"] is None
