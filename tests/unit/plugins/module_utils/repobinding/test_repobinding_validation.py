# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input is rejected before any API call, and every message names the field."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.repobinding import validation
from ansible_collections.aphex.platform.plugins.modules import repobinding
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module

from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.repobinding.support import PIPELINE, SPEC, organization

TASK = "{name: t, taskSpec: {steps: [{name: s, image: busybox}]}}"

# (arguments merged over a valid call, the field the message must name, a fragment of the message)
BAD_INPUT = [
    ({"name": "Payments"}, "name:", "is not a RepoBinding name"),
    ({"name": "p" * 64}, "name:", "at most 63"),
    ({"namespace": "Org_Acme"}, "namespace:", "is not a namespace name"),
    ({"argocd_namespace": "Argo CD"}, "argocd_namespace:", "is not a namespace name"),
    ({"platform_namespace": "-x"}, "platform_namespace:", "is not a namespace name"),
    ({"allowed_owners": ["acme_corp"]}, "allowed_owners[0]:", "is not a GitHub user or organization name"),
    ({"spec": {"aphexOrg": None}}, "spec.aphexOrg:", "is required"),
    ({"spec": {"aphexOrg": "Acme"}}, "spec.aphexOrg:", "is not an organization name"),
    ({"spec": {"repoOrg": "-acme"}}, "spec.repoOrg:", "is not a GitHub user or organization name"),
    ({"spec": {"repoOrg": "acme--corp"}}, "spec.repoOrg:", "is not a GitHub user or organization name"),
    ({"spec": {"repoOrg": "a" * 40}}, "spec.repoOrg:", "is not a GitHub user or organization name"),
    ({"spec": {"repoName": "pay ments"}}, "spec.repoName:", "is not a GitHub repository name"),
    ({"spec": {"repoName": ".."}}, "spec.repoName:", "is not a GitHub repository name"),
    ({"spec": {"repoName": "payments.git"}}, "spec.repoName:", "without the '.git' suffix"),
    ({"spec": {"pipelineName": "Acme_Payments"}}, "spec.pipelineName:", "is not a DNS label"),
    ({"spec": {"pipelineName": "kube-system"}}, "spec.pipelineName:", "privileged name (matches 'kube-system')"),
    ({"spec": {"pipelineName": "argocd-apps"}}, "spec.pipelineName:", "privileged name (matches 'argocd')"),
    ({"spec": {"pipelineName": "tekton-pipelines-x"}}, "spec.pipelineName:", "privileged name"),
    ({"spec": {"pipelineName": "org-acme"}}, "spec.pipelineName:", "reserved prefix 'org-'"),
    ({"spec": {"pipelineName": "p" * 64}}, "spec.pipelineName:", "is not a DNS label"),
    ({"spec": {"templateRef": ""}}, "spec.templateRef:", "is required"),
    ({"spec": {"templateRef": "Run_Pipeline"}}, "spec.templateRef:", "is not a TriggerTemplate name"),
    ({"spec": {"pipelineSpec": ""}}, "spec.pipelineSpec:", "is required"),
    ({"spec": {"pipelineSpec": "tasks: [unclosed"}}, "spec.pipelineSpec:", "is not valid YAML"),
    ({"spec": {"pipelineSpec": "apiVersion: tekton.dev/v1beta1\nkind: Pipeline\nspec: {tasks: [" + TASK + "]}"}},
     "spec.pipelineSpec:", "apiVersion must be tekton.dev/v1"),
    ({"spec": {"pipelineSpec": "apiVersion: tekton.dev/v1\nkind: Task\nspec: {tasks: [" + TASK + "]}"}},
     "spec.pipelineSpec:", "kind must be Pipeline"),
    ({"spec": {"pipelineSpec": "a: 1\n---\nb: 2\n"}}, "spec.pipelineSpec:", "must be one YAML mapping"),
    ({"spec": {"pipelineSpec": "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec: {tasks: []}"}},
     "spec.pipelineSpec.spec.tasks:", "must be a non-empty list"),
    ({"spec": {"pipelineSpec": "tasks: [{name: t}]"}}, "spec.pipelineSpec.tasks[0]:", "exactly one of taskRef"),
    ({"spec": {"pipelineSpec": "tasks: [" + TASK + ", " + TASK + "]"}}, "spec.pipelineSpec.tasks[1]:",
     "used twice"),
    ({"spec": {"pipelineSpec": "tasks: [{name: t, taskRef: {name: x}, runAfter: [nope]}]"}},
     "spec.pipelineSpec.tasks[0].runAfter[0]:", "'nope' is not a task of this pipeline"),
    ({"spec": {"pipelineSpec": "tasks: [" + TASK + "]\nresources: []"}}, "spec.pipelineSpec.resources:",
     "unknown field"),
    ({"spec": {"pipelineSpec": "params: [{name: p, type: int}]\ntasks: [" + TASK + "]"}},
     "spec.pipelineSpec.params[0].type:", "must be one of string, array, object"),
    ({"spec": {"catalogPipeline": {"name": "cdktf-deploy"}}}, "spec.pipelineSpec:", "must be empty when"),
    ({"spec": {"catalogPipeline": {"name": "Bad Name"}, "pipelineSpec": None}}, "spec.catalogPipeline.name:",
     "is not a Pipeline name"),
    ({"spec": {"branches": []}}, "spec.branches:", "non-empty list"),
    ({"spec": {"branches": ["main", "feature..x"]}}, "spec.branches[1]:", "is not a valid git branch name"),
    ({"spec": {"branches": ["main", "main"]}}, "spec.branches[1]:", "listed twice"),
    ({"spec": {"branches": ["release.lock"]}}, "spec.branches[0]:", "is not a valid git branch name"),
    ({"spec": {"quotas": {"pods": "many"}}}, "spec.quotas.pods:", "is not a non-negative Kubernetes quantity"),
    ({"spec": {"limits": {"max": {"cpu": "two"}}}}, "spec.limits.max.cpu:", "is not a Kubernetes quantity"),
    ({"spec": {"limits": {"maximum": {"cpu": "2"}}}}, "spec.limits.maximum:", "unknown field"),
    ({"spec": {"network": {"gitEgress": {"cidrs": ["10.0.0.0/33"]}}}}, "spec.network.gitEgress.cidrs[0]:",
     "is not a CIDR"),
    ({"spec": {"network": {"gitEgress": {"ports": [0]}}}}, "spec.network.gitEgress.ports[0]:", "is not a TCP port"),
    ({"spec": {"network": {"dnsNamespace": "Kube System"}}}, "spec.network.dnsNamespace:", "is not a namespace"),
    ({"spec": {"pipelinename": "x"}}, "spec.pipelinename:", "unknown field"),
]


def merged(args: dict) -> dict:
    result = {"name": "payments", "spec": dict(SPEC)}
    for key, value in args.items():
        if key == "spec":
            for field, field_value in value.items():
                if field_value is None:
                    result["spec"].pop(field, None)
                else:
                    result["spec"][field] = field_value
        else:
            result[key] = value
    return result


def test_the_table_is_large_enough():
    assert len(BAD_INPUT) >= 25


@pytest.mark.parametrize("args, field, fragment", BAD_INPUT, ids=[f"{i:02d}-{c[1]}" for i, c in enumerate(BAD_INPUT)])
def test_bad_input_fails_before_any_api_call_naming_the_field(args, field, fragment):
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock) as client:
        result = run_module(repobinding.main, merged(args))
    assert result["failed"] is True
    client.assert_not_called()
    problems = result["msg"].split(": ", 1)[1].split("; ")
    named = [p for p in problems if p.startswith(field + " ") or p.startswith(field)]
    assert named, result["msg"]
    assert any(fragment in p for p in named), result["msg"]


def test_the_valid_call_of_the_table_has_no_error():
    spec = validation.normalize_spec(SPEC)
    assert validation.input_errors(merged({}), spec) == []


def test_every_error_is_reported_at_once():
    spec = validation.normalize_spec({**SPEC, "repoOrg": "-x", "pipelineName": "default", "branches": ["a b"]})
    errors = validation.spec_errors(spec)
    assert [e.split(":", maxsplit=1)[0] for e in errors] == ["spec.repoOrg", "spec.pipelineName", "spec.branches[0]"]


def test_without_spec_the_namespace_is_needed():
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock) as client:
        result = run_module(repobinding.main, {"name": "payments"})
    assert "namespace: required when spec is omitted" in result["msg"]
    client.assert_not_called()


def test_offboarding_does_not_validate_the_spec():
    assert validation.input_errors({"name": "payments", "namespace": "org-acme"}, None, require_namespace=False) == []


def test_a_bare_pipeline_spec_and_a_full_manifest_parse_alike():
    full, errors = validation.parse_pipeline(PIPELINE)
    assert errors == []
    assert full["metadata"] == {"labels": {"team": "payments"}}
    bare, errors = validation.parse_pipeline("tasks:\n  - name: t\n    taskRef: {name: x}\n")
    assert errors == [] and bare == {"metadata": {}, "spec": {"tasks": [{"name": "t", "taskRef": {"name": "x"}}]}}


def test_defaults_are_merged_and_overridable():
    spec = validation.normalize_spec({**SPEC, "quotas": {"pods": 40}, "limits": {"max": {"cpu": "4"}},
                                      "network": {"gitEgress": {"cidrs": ["192.168.10.0/24"], "except": []}}})
    assert spec["branches"] == ["main"]
    assert spec["quotas"]["pods"] == "40" and spec["quotas"]["limits.cpu"] == "8"
    assert spec["limits"]["max"] == {"cpu": "4", "memory": "4Gi"}
    assert spec["network"]["gitEgress"] == {"cidrs": ["192.168.10.0/24"], "except": [], "ports": [443, 22]}
    assert spec["network"]["dnsNamespace"] == "kube-system"


# ---- judging what the cluster holds (pure) ------------------------------------------------------------------
SPEC_N = validation.normalize_spec(SPEC)


@pytest.mark.parametrize("record, expected", [
    (None, "spec.aphexOrg: organization 'acme' does not exist (no Organization acme in namespace platform-system)"),
    (organization(phase="Failed"), "spec.aphexOrg: organization 'acme' is not Ready (phase Failed)"),
    ({**organization(), "status": {}}, "spec.aphexOrg: organization 'acme' is not Ready (phase unset)"),
])
def test_the_organization_must_exist_and_be_ready(record, expected):
    assert validation.organization_errors("acme", record, "platform-system") == [expected]


def test_the_owner_allow_list_comes_from_the_organization_or_the_override():
    assert validation.allowed_owners(organization(owners=["Acme-Corp"]), None) == ["Acme-Corp"]
    assert validation.repo_owner_errors(SPEC_N, ["Acme-Corp"]) == []  # GitHub names are case-insensitive
    assert validation.allowed_owners(organization(owners=["x"]), ["acme-corp"]) == ["acme-corp"]
    assert validation.repo_owner_errors(SPEC_N, ["other"]) == [
        "spec.repoOrg: 'acme-corp' is not an allowed GitHub owner for organization 'acme' (allowed: other)"]
    assert validation.allowed_owners(organization(owners=None), None) is None
    assert validation.repo_owner_errors(SPEC_N, None)[0].startswith("spec.repoOrg: organization 'acme' allows no")


def _ns(name, owner=("org-acme", "payments"), org="acme"):
    labels = {"platform.aphex/organization": org}
    if owner:
        labels.update({"platform.aphex/owner-kind": "RepoBinding", "platform.aphex/owner-namespace": owner[0],
                       "platform.aphex/owner-name": owner[1]})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


@pytest.mark.parametrize("own, same, existing, expected", [
    ([], [], None, []),
    ([_ns("acme-payments")], [_ns("acme-payments")], _ns("acme-payments"), []),
    ([_ns("acme-old")], [], None, ["spec.pipelineName: is immutable: this binding created pipeline 'acme-old'"]),
    ([_ns("acme-payments", org="other")], [_ns("acme-payments", org="other")], _ns("acme-payments", org="other"),
     ["spec.aphexOrg: is immutable: this binding was created for organization 'other'"]),
    ([], [_ns("acme-payments", owner=("org-acme", "billing"))], _ns("acme-payments", owner=("org-acme", "billing")),
     ["spec.pipelineName: 'acme-payments' is already used by RepoBinding org-acme/billing"]),
    ([], [], _ns("acme-payments", owner=None),
     ["spec.pipelineName: namespace 'acme-payments' already exists and does not belong to a RepoBinding"]),
])
def test_pipeline_name_is_immutable_and_belongs_to_one_binding(own, same, existing, expected):
    errors = validation.ownership_errors(SPEC_N, "payments", "org-acme", own, same, existing)
    assert [e[:len(x)] for e, x in zip(errors, expected)] == expected and len(errors) == len(expected)


def test_template_and_catalog_must_exist():
    assert validation.template_errors(SPEC_N, None) == []
    spec = {**SPEC_N, "templateRef": "custom"}
    assert validation.template_errors(spec, False) == [
        "spec.templateRef: 'custom' is neither a built-in dispatcher template (run-pipeline-v1) nor a "
        "TriggerTemplate in namespace org-acme"]
    catalog = validation.normalize_spec({**SPEC, "pipelineSpec": None, "catalogPipeline": {"name": "cdktf"}})
    assert catalog["pipelineSpec"] == ""
    assert validation.catalog_pipeline_errors(catalog, False) == [
        "spec.catalogPipeline: Pipeline pipeline-catalog/cdktf does not exist"]


def test_a_binding_lives_in_its_organization_namespace():
    assert validation.binding_namespace_errors(SPEC_N, "org-acme", "platform-system") == []
    assert validation.binding_namespace_errors(SPEC_N, "platform-system", "platform-system") == []
    assert validation.binding_namespace_errors(SPEC_N, "org-evil", "platform-system") == [
        "namespace: a RepoBinding for organization 'acme' must live in namespace org-acme or platform-system, "
        "not org-evil"]


# ---- the organization's allow-list (organization module option github_owners) ------------------------------
def test_organization_github_owners_are_validated_and_stored():
    from ansible_collections.aphex.platform.plugins.module_utils.organization import objects as org_objects
    from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
        normalize_organization,
        organization_errors,
    )

    base = {"name": "acme", "display_name": "Acme", "admin_users": ["a@acme.example"], "exposure": "none"}
    spec = normalize_organization({**base, "github_owners": ["acme-corp", "ACME-corp", "-bad"]})
    assert organization_errors(spec, "") == [
        "github_owners[1]: 'ACME-corp' is listed twice (GitHub names are case-insensitive)",
        "github_owners[2]: '-bad' is not a GitHub user or organization name (1-39 letters, digits or single "
        "hyphens, not starting or ending with a hyphen)"]
    good = normalize_organization({**base, "github_owners": ["acme-corp"]})
    assert organization_errors(good, "") == []
    record = org_objects.organization_resource(good, org_objects.effective_settings(None))
    assert record["spec"]["githubOwners"] == ["acme-corp"]
    assert "githubOwners" not in org_objects.organization_resource(normalize_organization(base),
                                                                   org_objects.effective_settings(None))["spec"]
