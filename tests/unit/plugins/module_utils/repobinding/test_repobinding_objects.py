# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The objects of one binding, built without a cluster."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.repobinding import naming, objects, plan, validation
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.repobinding.support import SPEC


def build(admin_users=("b@acme.example", "a@acme.example"), **changes):
    spec = validation.normalize_spec({**SPEC, **changes})
    parsed = None if spec.get("catalogPipeline") else validation.parse_pipeline(spec["pipelineSpec"])[0]
    binding = objects.Binding("payments", "org-acme", spec, admin_users=admin_users)
    return {(o["kind"], o["metadata"]["name"]): o for o in objects.desired_objects(binding, parsed)}


def test_every_object_carries_the_owner_and_pipeline_labels():
    for obj in build().values():
        labels = obj["metadata"]["labels"]
        assert labels["platform.aphex/owner-kind"] == "RepoBinding"
        assert labels["platform.aphex/owner-name"] == "payments"
        assert labels["platform.aphex/owner-namespace"] == "org-acme"
        assert labels["platform.aphex/pipeline"] == "acme-payments"
        assert labels["app.kubernetes.io/managed-by"] == "aphex-platform"


def test_the_pipeline_namespace_is_restricted_and_labelled_for_the_organization():
    labels = build()[("Namespace", "acme-payments")]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["aphex.dev/org"] == "acme"


def test_the_app_project_admits_only_this_repository_and_its_namespaces():
    project = build()[("AppProject", "acme-payments")]
    assert project["metadata"]["namespace"] == "argocd"
    spec = project["spec"]
    assert [d["namespace"] for d in spec["destinations"]] == ["acme-payments", "acme-payments-*"]
    assert spec["sourceRepos"] == ["https://github.com/acme-corp/payments", "https://github.com/acme-corp/payments.git"]
    assert spec["clusterResourceWhitelist"] == []
    assert spec["sourceNamespaces"] == ["acme-payments"]
    assert {"group": "networking.k8s.io", "kind": "NetworkPolicy"} in spec["namespaceResourceBlacklist"]


def test_rbac_is_least_privilege():
    built = build()
    runner = built[("Role", "pipeline-runner")]["rules"]
    assert all("secrets" not in rule["resources"] for rule in runner)
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in runner)
    cluster_role = built[("ClusterRole", "pipeline-runner-acme-payments")]["rules"]
    assert {verb for rule in cluster_role for verb in rule["verbs"]} == {"get", "list", "watch"}
    listener = built[("RoleBinding", "eventlistener-acme")]
    assert listener["subjects"] == [{"kind": "ServiceAccount", "name": "eventlistener", "namespace": "org-acme"}]
    assert built[("Role", "eventlistener-pipelineruns")]["rules"] == [
        {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"], "verbs": ["create"]}]
    argocd = built[("RoleBinding", "pipeline-runner-argocd")]
    assert argocd["metadata"]["namespace"] == "acme-payments"  # never in the argocd namespace


def test_organization_admins_read_runs_and_logs_in_the_pipeline_namespace():
    built = build()
    role = built[("Role", "organization-admin-viewer")]
    assert role["metadata"]["namespace"] == "acme-payments"
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    for resource in ("pipelineruns", "taskruns"):
        assert ("tekton.dev", resource, "get") in granted
    for resource in ("pods", "pods/log", "events"):
        assert ("", resource, "list") in granted
    assert {grant[2] for grant in granted} == {"get", "list", "watch"}  # read only
    assert not {grant[1] for grant in granted} & {"secrets", "*"}
    binding = built[("RoleBinding", "organization-admins")]
    assert binding["metadata"]["namespace"] == "acme-payments"
    assert binding["metadata"]["labels"]["platform.aphex/owner-name"] == "payments"  # offboarding finds it
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "organization-admin-viewer"}
    # The organization's adminUsers, sorted and deduplicated: the same list gives the same object.
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}
                                   for user in ("a@acme.example", "b@acme.example")]
    assert build(admin_users=["a@acme.example", "b@acme.example", "a@acme.example"])[
        ("RoleBinding", "organization-admins")] == binding
    # No organization record yet (check mode predicting an organization still to come): no subjects.
    assert build(admin_users=())[("RoleBinding", "organization-admins")]["subjects"] == []


def test_network_policies_deny_by_default_and_allow_dns_and_git():
    built = build()
    deny = built[("NetworkPolicy", "default-deny-all")]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    git = built[("NetworkPolicy", "allow-git-egress")]["spec"]["egress"][0]
    assert git["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in git["to"][0]["ipBlock"]["except"]
    assert [p["port"] for p in git["ports"]] == [443, 22]
    custom = build(network={"gitEgress": {"cidrs": ["10.1.2.0/24"], "ports": [443]}})
    block = custom[("NetworkPolicy", "allow-git-egress")]["spec"]["egress"][0]["to"][0]["ipBlock"]
    assert block == {"cidr": "10.1.2.0/24"}  # excepted ranges outside the CIDR are dropped
    assert ("NetworkPolicy", "allow-git-egress") not in build(network={"gitEgress": {"cidrs": []}})


def test_quota_and_limits_defaults_are_overridable():
    built = build(quotas={"pods": 40}, limits={"max": {"cpu": "4"}})
    assert built[("ResourceQuota", "pipeline-quota")]["spec"]["hard"]["pods"] == "40"
    assert built[("LimitRange", "pipeline-limits")]["spec"]["limits"][0]["max"] == {"cpu": "4", "memory": "4Gi"}


def test_trigger_is_selected_by_the_organization_and_filters_repository_and_branches():
    built = build(branches=["main", "release/1.x"])
    trigger = built[("Trigger", "acme-payments-trigger")]
    assert trigger["metadata"]["namespace"] == "org-acme"
    assert trigger["metadata"]["labels"]["platform.aphex/organization"] == "acme"
    cel = trigger["spec"]["interceptors"][0]["params"][0]["value"]
    assert '"acme-corp/payments"' in cel and '"refs/heads/release/1.x"' in cel
    assert trigger["spec"]["template"] == {"ref": "acme-payments-trigger-template"}
    run = built[("TriggerTemplate", "acme-payments-trigger-template")]["spec"]["resourcetemplates"][0]
    assert run["metadata"]["namespace"] == "acme-payments"
    assert run["spec"]["pipelineRef"] == {"name": "acme-payments"}
    assert run["spec"]["taskRunTemplate"]["serviceAccountName"] == "pipeline-runner"


def test_catalog_pipeline_and_custom_template():
    built = build(pipelineSpec=None, catalogPipeline={"name": "cdktf-deploy"}, templateRef="team-template")
    assert ("Pipeline", "acme-payments") not in built
    assert ("TriggerTemplate", "acme-payments-trigger-template") not in built
    assert built[("Trigger", "acme-payments-trigger")]["spec"]["template"] == {"ref": "team-template"}
    catalog = build(pipelineSpec=None, catalogPipeline={"name": "cdktf-deploy"})
    ref = catalog[("TriggerTemplate", "acme-payments-trigger-template")]["spec"]["resourcetemplates"][0]["spec"]
    assert ref["pipelineRef"]["resolver"] == "cluster"
    assert {"name": "namespace", "value": "pipeline-catalog"} in ref["pipelineRef"]["params"]


def test_the_pipeline_keeps_its_spec_and_labels_under_ours():
    pipeline = build()[("Pipeline", "acme-payments")]
    assert pipeline["metadata"]["name"] == "acme-payments" and pipeline["metadata"]["namespace"] == "acme-payments"
    assert pipeline["metadata"]["labels"]["team"] == "payments"
    assert [t["name"] for t in pipeline["spec"]["tasks"]] == ["clone", "test"]


@pytest.mark.parametrize("found, namespaces, expected", [
    ({}, [], []),
    ({plan.APPLICATION: [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                          "metadata": {"name": "app", "namespace": "argocd"}}],
      (naming.RBAC_API_VERSION, "Role"): [{"apiVersion": naming.RBAC_API_VERSION, "kind": "Role",
                                           "metadata": {"name": "r", "namespace": "acme-payments"}}],
      (naming.RBAC_API_VERSION, "ClusterRole"): [{"apiVersion": naming.RBAC_API_VERSION, "kind": "ClusterRole",
                                                  "metadata": {"name": "pipeline-runner-acme-payments"}}]},
     ["acme-payments"],
     ["Application argocd/app", "ClusterRole pipeline-runner-acme-payments", "Namespace acme-payments"]),
])
def test_offboarding_order(found, namespaces, expected):
    refs = plan.offboarding_refs(found, namespaces)
    assert [f"{r['kind']} {r.get('namespace') + '/' if r.get('namespace') else ''}{r['name']}" for r in refs] == expected
