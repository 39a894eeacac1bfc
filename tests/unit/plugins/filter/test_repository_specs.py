"""The repository_specs filter the repository role validates the inventory with, called the way Jinja calls it."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.plugins.filter.repository_specs import FilterModule

PIPELINE = """
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: build
spec:
  tasks:
    - name: compile
      taskSpec:
        steps:
          - name: make
            image: registry.example.com/ci/builder:1.4.2
            script: make all
"""
REPO = {"repo_org": "acme-corp", "repo_name": "web.site", "pipeline_name": "acme-web", "pipeline_spec": PIPELINE}
ORGS = [{"name": "acme", "display_name": "Acme", "admin_users": ["a@acme.example"], "github_owners": ["acme-corp"],
         "repositories": [REPO, {"repo_org": "acme-corp", "repo_name": "api", "pipeline_name": "acme-api",
                                 "catalog_pipeline": "build-and-deploy", "branches": ["main", "release/1.x"],
                                 "knowledgebases": [{"name": "api-docs", "display_name": "API docs"}]}]},
        {"name": "beta", "display_name": "Beta", "admin_users": ["b@beta.example"]}]


def repository_specs(*args, **kwargs):
    return FilterModule().filters()["repository_specs"](*args, **kwargs)


def with_repo(**changes):
    orgs = copy.deepcopy(ORGS)
    repo = orgs[0]["repositories"][1]
    for key, value in changes.items():
        if value is None:
            repo.pop(key, None)
        else:
            repo[key] = value
    return orgs


def test_valid_inventory_is_normalised_to_repobinding_specs():
    result = repository_specs(ORGS, defaults={"template_ref": "run-pipeline-v1"})
    assert result["errors"] == []
    web, api = result["repositories"]
    assert web["name"] == "acme-web" and web["namespace"] == "org-acme" and web["state"] == "present"
    assert web["spec"] == {"aphexOrg": "acme", "repoOrg": "acme-corp", "repoName": "web.site",
                           "pipelineName": "acme-web", "templateRef": "run-pipeline-v1", "pipelineSpec": PIPELINE,
                           "branches": ["main"]}
    assert web["full_name"] == "acme-corp/web.site" and web["webhook_events"] == ["push"]
    assert api["spec"]["catalogPipeline"] == {"name": "build-and-deploy"} and "pipelineSpec" not in api["spec"]
    assert api["knowledgebases"] == [{
        "name": "api-docs", "namespace": "org-acme", "state": "present",
        "spec": {"displayName": "API docs", "repositories": [
            {"url": "https://github.com/acme-corp/api", "branch": "main"}]}}]
    assert result["inventory"] == {"repobindings": ["org-acme/acme-api", "org-acme/acme-web"],
                                   "knowledgebases": ["org-acme/api-docs"]}


def test_selection_filters_but_everything_is_validated():
    orgs = with_repo(pipeline_name="Bad")
    result = repository_specs(orgs, org="acme", repo="acme-corp/web.site")
    assert [r["name"] for r in result["repositories"]] == ["acme-web"]
    assert result["errors"][0].startswith("aphex_organizations[0].repositories[1].pipeline_name:")
    assert repository_specs(ORGS, org="beta")["repositories"] == []
    assert repository_specs(ORGS, repo="nope")["errors"] == ["repo: 'nope' is not a repository of aphex_organizations"]


def test_offboarding_an_organization_offboards_its_repositories_and_knowledgebases():
    orgs = copy.deepcopy(ORGS)
    orgs[0]["state"] = "absent"
    result = repository_specs(orgs)
    assert {r["state"] for r in result["repositories"]} == {"absent"}
    assert result["organizations_absent"] == ["acme"]
    assert repository_specs(orgs, org="beta")["organizations_absent"] == []
    assert result["repositories"][1]["knowledgebases"][0]["state"] == "absent"
    assert {r["state"] for r in repository_specs(ORGS, state="absent")["repositories"]} == {"absent"}


def test_an_absent_repository_needs_no_pipeline():
    orgs = with_repo(catalog_pipeline=None, state="absent")
    assert repository_specs(orgs)["errors"] == []


def test_github_owners_of_the_organization_are_enforced_case_insensitively():
    orgs = copy.deepcopy(ORGS)
    orgs[0]["github_owners"] = ["ACME-corp"]
    assert repository_specs(orgs)["errors"] == []
    del orgs[0]["github_owners"]
    assert repository_specs(orgs)["errors"][0] == (
        "aphex_organizations[0].repositories[0].repo_org: organization 'acme' allows no GitHub owner (list "
        "'acme-corp' in aphex_organizations[0].github_owners)")
    orgs[0]["github_owners"] = ["other"]
    assert repository_specs(orgs)["errors"][0] == (
        "aphex_organizations[0].repositories[0].repo_org: 'acme-corp' is not in the organization's github_owners "
        "(other)")


F = "aphex_organizations[0].repositories[1]"
BAD = [
    ({"repo_org": None}, f"{F}.repo_org:"),
    ({"repo_org": "-acme"}, f"{F}.repo_org:"),
    ({"repo_org": "ac--me"}, f"{F}.repo_org:"),
    ({"repo_org": "a" * 40}, f"{F}.repo_org:"),
    ({"repo_name": None}, f"{F}.repo_name:"),
    ({"repo_name": ".."}, f"{F}.repo_name:"),
    ({"repo_name": "has space"}, f"{F}.repo_name:"),
    ({"pipeline_name": None}, f"{F}.pipeline_name: is required"),
    ({"pipeline_name": "Acme"}, f"{F}.pipeline_name: 'Acme' is not a DNS label"),
    ({"pipeline_name": "a" * 64}, f"{F}.pipeline_name:"),
    ({"pipeline_name": "kube-system"}, f"{F}.pipeline_name: 'kube-system' is a privileged name"),
    ({"pipeline_name": "argocd-apps"}, f"{F}.pipeline_name: 'argocd-apps' is a privileged name (matches 'argocd')"),
    ({"pipeline_name": "tekton-pipelines-x"}, f"{F}.pipeline_name:"),
    ({"pipeline_name": "org-beta"}, f"{F}.pipeline_name: 'org-beta' starts with the reserved prefix 'org-'"),
    ({"pipeline_name": "acme-web"}, f"{F}.pipeline_name: 'acme-web' is already used by "
                                    "aphex_organizations[0].repositories[0]"),
    ({"catalog_pipeline": None}, f"{F}.pipeline_spec: is required"),
    ({"pipeline_spec": PIPELINE}, f"{F}.pipeline_spec: must be empty when catalogPipeline is set"),
    ({"catalog_pipeline": None, "pipeline_spec": "a: [b"}, f"{F}.pipeline_spec: is not valid YAML"),
    ({"catalog_pipeline": None, "pipeline_spec": "apiVersion: tekton.dev/v1beta1\nkind: Pipeline\nspec: {}"},
     f"{F}.pipeline_spec: apiVersion must be tekton.dev/v1"),
    ({"catalog_pipeline": None, "pipeline_spec": "apiVersion: tekton.dev/v1\nkind: Task\nspec: {}"},
     f"{F}.pipeline_spec: kind must be Pipeline"),
    ({"catalog_pipeline": None, "pipeline_spec": "apiVersion: tekton.dev/v1\nkind: Pipeline"},
     f"{F}.pipeline_spec: spec must be a mapping"),
    ({"catalog_pipeline": None, "pipeline_spec": "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec: {tasks: []}"},
     f"{F}.pipeline_spec.spec.tasks:"),
    ({"catalog_pipeline": "Bad Name"}, f"{F}.catalog_pipeline.name:"),
    ({"catalog_pipeline": {"name": "x", "namespace": "Bad"}}, f"{F}.catalog_pipeline.namespace:"),
    ({"repo_name": "web.git"}, f"{F}.repo_name: 'web.git' must be the repository name without the '.git' suffix"),
    ({"repo_org": "other"}, f"{F}.repo_org: 'other' is not in the organization's github_owners"),
    ({"quotas": {"pods": "many"}}, f"{F}.quotas.pods:"),
    ({"template_ref": "Not Valid"}, f"{F}.template_ref:"),
    ({"branches": []}, f"{F}.branches: must be a non-empty list"),
    ({"branches": ["main", "main"]}, f"{F}.branches[1]: 'main' is listed twice"),
    ({"branches": ["feature..x"]}, f"{F}.branches[0]: 'feature..x' is not a valid git branch name"),
    ({"branches": ["x.lock"]}, f"{F}.branches[0]:"),
    ({"webhook_events": ["pushed"]}, f"{F}.webhook_events[0]: 'pushed' is not a GitHub webhook event"),
    ({"state": "gone"}, f"{F}.state: must be one of present, absent"),
    ({"name": "Bad_Name"}, f"{F}.name:"),
    ({"name": "acme-web"}, f"{F}.name: RepoBinding 'org-acme/acme-web' is already declared"),
    ({"quotas": ["pods"]}, f"{F}.quotas: must be a mapping"),
    ({"network": "open"}, f"{F}.network: must be a mapping"),
    ({"pipline_name": "typo"}, f"{F}.pipline_name: unknown field"),
    ({"knowledgebases": "docs"}, f"{F}.knowledgebases: must be a list"),
    ({"knowledgebases": [{"name": "Docs", "display_name": "d"}]}, f"{F}.knowledgebases[0].name:"),
    ({"knowledgebases": [{"name": "docs"}]}, f"{F}.knowledgebases[0].display_name: must be a non-empty string"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "paths": ["../etc"]}]},
     f"{F}.knowledgebases[0].paths[0]:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "branch": "/x"}]}, f"{F}.knowledgebases[0].branch:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "repositories": [{"url": "http://x"}]}]},
     f"{F}.knowledgebases[0].repositories[0].url:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "mcp": {"image": "mcp:1", "port": 80}}]},
     f"{F}.knowledgebases[0].mcp.port: 80 must be an integer from 1024 to 65535"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d",
                          "mcp": {"image": "m:1", "port": 8080, "query_service_url": "ftp://x"}}]},
     f"{F}.knowledgebases[0].mcp.query_service_url:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "mcp": {"image": "m:1", "port": 8080, "cpu": 1}}]},
     f"{F}.knowledgebases[0].mcp.cpu: unknown field"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "repositories": [{"url": "https://github.com/a/b"}],
                          "branch": "main"}]}, f"{F}.knowledgebases[0].branch: give it inside each of repositories"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "paths": ["/etc"]}]}, f"{F}.knowledgebases[0].paths[0]:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "mcp": {"image": "a b", "port": 8080}}]},
     f"{F}.knowledgebases[0].mcp.image:"),
    ({"knowledgebases": [{"name": "docs", "display_name": "d", "mcp": {"image": "m:1", "port": 8080, "replicas": 0}}]},
     f"{F}.knowledgebases[0].mcp.replicas:"),
    ({"knowledgebases": [{"name": "api-docs", "display_name": "d"}, {"name": "api-docs", "display_name": "e"}]},
     f"{F}.knowledgebases[1].name: KnowledgeBase 'org-acme/api-docs' is already declared"),
]


BAD_IDS = [message.split(": ")[0].replace(F, "") + f"#{index}" for index, (_changes, message) in enumerate(BAD)]


@pytest.mark.parametrize("changes, message", BAD, ids=BAD_IDS)
def test_bad_input_is_reported_with_its_field(changes, message):
    errors = repository_specs(with_repo(**changes))["errors"]
    assert any(error.startswith(message) for error in errors), errors


@pytest.mark.parametrize("orgs, message", [
    ("acme", "aphex_organizations: must be a list of organizations"),
    ([{"name": "acme", "repositories": {"a": 1}}], "aphex_organizations[0].repositories: must be a list"),
    ([{"name": "acme", "repositories": ["x"]}], "aphex_organizations[0].repositories[0]: must be a mapping"),
    ([{"name": "Bad", "repositories": [REPO]}], "aphex_organizations[0].name: repositories need an organization"),
])
def test_bad_structure(orgs, message):
    assert repository_specs(orgs)["errors"][0].startswith(message)


def test_discovered_leaves_out_what_the_inventory_declares_other_orgs_and_deletions():
    from ansible_collections.aphex.platform.plugins.filter.repository_discovered import FilterModule as Discovered

    def binding(namespace, name, org, **meta):
        return {"kind": "RepoBinding", "metadata": {"namespace": namespace, "name": name, **meta},
                "spec": {"aphexOrg": org, "repoOrg": "acme-corp", "repoName": name}}

    found = [binding("org-acme", "web", "acme"), binding("org-acme", "api", "acme"),
             binding("org-beta", "tool", "beta"), binding("org-acme", "old", "acme", deletionTimestamp="x"),
             {"kind": "KnowledgeBase", "metadata": {"namespace": "org-acme", "name": "docs"}, "spec": {}}]
    discover = Discovered().filters()["repository_discovered"]
    items = discover(found, inventory=["org-acme/web"], webhook_events=["push", "ping"])
    assert [(i["namespace"], i["name"], i["org"]) for i in items] == [
        ("org-acme", "api", "acme"), ("org-acme", "docs", "acme"), ("org-beta", "tool", "beta")]
    assert items[0]["full_name"] == "acme-corp/api" and items[0]["webhook_events"] == ["push", "ping"]
    assert "full_name" not in items[1]
    assert [i["name"] for i in discover(found, inventory=[], org="beta")] == ["tool"]
