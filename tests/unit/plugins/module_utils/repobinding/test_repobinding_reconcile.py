# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main() of aphex.platform.repobinding against the adapter's in-memory API server: converge, idempotence,
check mode, changes after Ready, self-service, rejection with status Failed, offboarding."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import unprocessable
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.repobinding.support import (  # noqa: F401 pylint: disable=unused-import
    SPEC,
    cluster,
    organization,
    run,
)

ARGS = {"name": "payments", "spec": SPEC}
OWNER = "platform.aphex/owner-kind=RepoBinding,platform.aphex/owner-name=payments,platform.aphex/owner-namespace=org-acme"


def actions(result, action=None):
    return sorted((o["kind"], o["name"]) for o in result["objects"] if action is None or o["action"] == action)


def bind_with_a_team_application(cluster_, run_):
    """Bind, then add an Argo CD Application a team labelled for the pipeline."""
    run_(ARGS)
    cluster_.put({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                  "metadata": {"name": "payments-prod", "namespace": "argocd",
                               "labels": {"platform.aphex/pipeline": "acme-payments"}}, "spec": {}})


def binding(cluster_):
    return cluster_.object("aphex.io/v1alpha1", "RepoBinding", "payments", "org-acme")


def test_check_mode_predicts_and_changes_nothing(cluster, run):
    result = run(ARGS, check_mode=True, diff=True)
    assert result["changed"] is True, result
    assert {o["action"] for o in result["objects"]} == {"create"}
    assert len(result["objects"]) == 23  # the RepoBinding, 21 objects, the status
    assert result["status"]["phase"] == "Ready"
    assert cluster.mutating_calls() == []
    assert binding(cluster) is None


def test_apply_then_apply_again_changes_nothing(cluster, run):
    first = run(ARGS)
    assert first["changed"] is True and first.get("failed") is not True, first
    assert first["pipeline_namespace"] == "acme-payments"
    assert first["webhook_url"] == "https://acme.hooks.example.com"
    record = binding(cluster)
    assert record["metadata"]["finalizers"] == ["platform.aphex/repobinding-finalizer"]
    assert record["status"]["phase"] == "Ready"
    assert record["status"]["webhookURL"] == "https://acme.hooks.example.com"
    assert record["status"]["observedGeneration"] == record["metadata"]["generation"]
    assert "webhookSecret" not in record["status"]
    assert len(cluster.labelled(OWNER)) == 21
    trigger = cluster.object("triggers.tekton.dev/v1beta1", "Trigger", "acme-payments-trigger", "org-acme")
    assert trigger["metadata"]["labels"]["platform.aphex/organization"] == "acme"
    assert '"acme-corp/payments"' in trigger["spec"]["interceptors"][0]["params"][0]["value"]
    second = run(ARGS)
    assert second["changed"] is False, [o for o in second["objects"] if o["action"] != "unchanged"]
    check = run(ARGS, check_mode=True)
    assert check["changed"] is False


def test_a_spec_change_after_ready_changes_only_the_affected_objects(cluster, run):
    run(ARGS)
    result = run({**ARGS, "spec": {**SPEC, "branches": ["main", "release"]}})
    assert actions(result, "update") == [("RepoBinding", "payments"), ("RepoBinding/status", "payments"),
                                         ("Trigger", "acme-payments-trigger")]
    assert actions(result, "create") == [] and actions(result, "delete") == []
    result = run({**ARGS, "spec": {**SPEC, "branches": ["main", "release"], "quotas": {"pods": 40}}})
    assert actions(result, "update") == [("RepoBinding", "payments"), ("RepoBinding/status", "payments"),
                                         ("ResourceQuota", "pipeline-quota")]


def test_the_organization_admins_follow_the_organization_record(cluster, run):
    run(ARGS)
    viewers = cluster.object("rbac.authorization.k8s.io/v1", "RoleBinding", "organization-admins", "acme-payments")
    assert [s["name"] for s in viewers["subjects"]] == ["a@acme.example"]
    record = organization()
    record["spec"]["adminUsers"] = ["a@acme.example", "c@acme.example"]
    cluster.put(record)
    result = run(ARGS)
    assert actions(result, "update") == [("RoleBinding", "organization-admins")]  # the binding itself is unchanged
    assert actions(result, "create") == [] and actions(result, "delete") == []
    viewers = cluster.object("rbac.authorization.k8s.io/v1", "RoleBinding", "organization-admins", "acme-payments")
    assert [s["name"] for s in viewers["subjects"]] == ["a@acme.example", "c@acme.example"]


def test_switching_to_a_catalog_pipeline_deletes_the_own_pipeline(cluster, run):
    run(ARGS)
    cluster.put({"apiVersion": "tekton.dev/v1", "kind": "Pipeline",
                 "metadata": {"name": "cdktf-deploy", "namespace": "pipeline-catalog"}, "spec": {"tasks": []}})
    spec = {k: v for k, v in SPEC.items() if k != "pipelineSpec"}
    result = run({**ARGS, "spec": {**spec, "catalogPipeline": {"name": "cdktf-deploy"}}})
    assert actions(result, "delete") == [("Pipeline", "acme-payments")]
    assert ("TriggerTemplate", "acme-payments-trigger-template") in actions(result, "update")
    assert binding(cluster)["spec"]["pipelineSpec"] == ""


def test_self_service_object_is_reconciled_to_ready(cluster, run):
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                 "metadata": {"name": "payments", "namespace": "org-acme"}, "spec": copy.deepcopy(SPEC)})
    result = run({"name": "payments", "namespace": "org-acme"})
    assert result.get("failed") is not True, result
    assert binding(cluster)["status"]["phase"] == "Ready"
    assert binding(cluster)["metadata"]["finalizers"] == ["platform.aphex/repobinding-finalizer"]
    assert binding(cluster)["spec"] == SPEC  # the team's spec is not rewritten
    assert run({"name": "payments", "namespace": "org-acme"})["changed"] is False


def test_self_service_reconcile_of_a_binding_created_from_its_spec_keeps_the_spec(cluster, run):
    """Onboarded from a spec (one run), then reconciled as self-service (another run that does not list it): the
    self-service apply must carry the spec and label again, or server-side apply with the same field manager would
    remove them (the fake does not model that removal, so the applied body is checked)."""
    assert run(ARGS).get("failed") is not True
    applied = []
    original = cluster.apply

    def spy(resource, definition, *args, **kwargs):
        if resource.kind == "RepoBinding":
            applied.append(copy.deepcopy(definition))
        return original(resource, definition, *args, **kwargs)

    cluster.apply = spy
    result = run({"name": "payments", "namespace": "org-acme"})
    assert result.get("failed") is not True and result["changed"] is False, result
    assert applied and applied[-1]["spec"] == SPEC
    assert applied[-1]["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aphex-platform"}
    # A team's own object (no label of ours) still gets only the finalizer: its spec belongs to its manager.
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                 "metadata": {"name": "team", "namespace": "org-acme"},
                 "spec": dict(copy.deepcopy(SPEC), pipelineName="acme-team")})
    run({"name": "team", "namespace": "org-acme"})
    assert "spec" not in applied[-1] and "labels" not in applied[-1]["metadata"]


def test_an_aphex_style_manifest_with_upstream_fields_only_is_accepted(cluster, run):
    manifest = {"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                "metadata": {"name": "payments", "namespace": "org-acme"},
                "spec": {"aphexOrg": "acme", "repoOrg": "acme-corp", "repoName": "payments",
                         "pipelineName": "acme-payments", "templateRef": "run-pipeline-v1",
                         "pipelineSpec": "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: tenant\n"
                                         "spec:\n  tasks:\n    - name: build\n      taskRef:\n        name: build\n"}}
    cluster.put(manifest)
    result = run({"name": "payments", "namespace": "org-acme"})
    assert result.get("failed") is not True, result
    assert binding(cluster)["status"]["phase"] == "Ready"


@pytest.mark.parametrize("spec, field", [
    ({**SPEC, "pipelineName": "kube-system"}, "spec.pipelineName: 'kube-system' is a privileged name"),
    ({**SPEC, "repoOrg": "evil-corp"}, "spec.repoOrg: 'evil-corp' is not an allowed GitHub owner"),
    ({**SPEC, "aphexOrg": "ghost"}, "spec.aphexOrg: organization 'ghost' does not exist"),
    ({**SPEC, "templateRef": "custom"}, "spec.templateRef: 'custom' is neither a built-in"),
])
def test_a_bad_object_gets_phase_failed_naming_the_field(cluster, run, spec, field):
    namespace = "org-ghost" if spec["aphexOrg"] == "ghost" else "org-acme"
    cluster.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                 "metadata": {"name": "payments", "namespace": namespace}, "spec": spec})
    result = run({"name": "payments", "namespace": namespace})
    assert result["failed"] is True and field in result["msg"], result["msg"]
    record = cluster.object("aphex.io/v1alpha1", "RepoBinding", "payments", namespace)
    assert record["status"]["phase"] == "Failed" and field in record["status"]["message"]
    assert [c for c in cluster.mutating_calls() if c[0] != "status"] == []


def test_the_organization_must_be_ready_and_nothing_changes_otherwise(cluster, run):
    cluster.put(organization(phase="Provisioning"))
    result = run(ARGS)
    assert "spec.aphexOrg: organization 'acme' is not Ready (phase Provisioning)" in result["msg"]
    assert cluster.mutating_calls() == []


def test_the_api_server_schema_of_the_pipeline_is_checked_before_any_change(cluster, run):
    cluster.fail_on[("create", "Pipeline", "acme-payments")] = unprocessable(
        'Pipeline.tekton.dev "acme-payments" is invalid: spec.tasks[0].timeout: Invalid value: "soon"')
    result = run(ARGS)
    assert "spec.pipelineSpec: the API server rejects the Pipeline: " in result["msg"]
    assert cluster.mutating_calls() == []


def test_pipeline_name_is_immutable_and_not_shared(cluster, run):
    run(ARGS)
    before = copy.deepcopy(cluster.store)
    result = run({**ARGS, "spec": {**SPEC, "pipelineName": "acme-payments2"}})
    assert "spec.pipelineName: is immutable: this binding created pipeline 'acme-payments'" in result["msg"]
    result = run({"name": "billing", "spec": SPEC})
    assert "spec.pipelineName: 'acme-payments' is already used by RepoBinding org-acme/payments" in result["msg"]
    assert {k: v for k, v in cluster.store.items() if k[1] != "RepoBinding"} == \
        {k: v for k, v in before.items() if k[1] != "RepoBinding"}


def test_a_binding_cannot_use_another_organization(cluster, run):
    cluster.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "org-evil"}})
    result = run({**ARGS, "namespace": "org-evil"})
    assert "namespace: a RepoBinding for organization 'acme' must live in namespace org-acme" in result["msg"]


def test_absent_leaves_nothing_labelled_for_the_binding(cluster, run):
    bind_with_a_team_application(cluster, run)
    cluster.calls.clear()
    predicted = run({"name": "payments", "namespace": "org-acme", "state": "absent"}, check_mode=True)
    assert predicted["changed"] is True and cluster.mutating_calls() == []
    result = run({"name": "payments", "namespace": "org-acme", "state": "absent"})
    assert result["changed"] is True, result
    assert ("Application", "payments-prod") in actions(result, "delete")
    assert ("Namespace", "acme-payments") in actions(result, "delete")
    assert cluster.labelled(OWNER) == []
    assert cluster.labelled("platform.aphex/pipeline=acme-payments") == []
    assert binding(cluster) is None
    assert run({"name": "payments", "namespace": "org-acme", "state": "absent"})["changed"] is False


def test_a_deleted_self_service_binding_is_offboarded_by_the_next_run(cluster, run):
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                 "metadata": {"name": "payments", "namespace": "org-acme"}, "spec": copy.deepcopy(SPEC)})
    run({"name": "payments", "namespace": "org-acme"})
    binding(cluster)["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"  # Argo CD pruned it
    result = run({"name": "payments", "namespace": "org-acme"})
    assert result.get("failed") is not True, result
    assert cluster.labelled(OWNER) == [] and binding(cluster) is None


def test_a_binding_being_deleted_is_offboarded_even_when_a_spec_is_given(cluster, run):
    run(ARGS)
    binding(cluster)["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    result = run(ARGS)
    assert result.get("failed") is not True, result
    assert ("Namespace", "acme-payments") in actions(result, "delete")
    assert cluster.labelled(OWNER) == [] and binding(cluster) is None


def test_self_service_needs_the_object(run):
    result = run({"name": "payments", "namespace": "org-acme"})
    assert "name: RepoBinding org-acme/payments does not exist (give spec to create it)" in result["msg"]


def test_check_mode_predicts_a_binding_for_an_organization_still_to_come(cluster, run):
    del cluster.store[cluster.key("aphex.io/v1alpha1", "Organization", "acme", "platform-system")]
    del cluster.store[cluster.key("v1", "Namespace", "org-acme")]
    predicted = run({**ARGS, "allowed_owners": ["acme-corp"]}, check_mode=True)
    assert predicted.get("failed") is not True, predicted
    assert predicted["changed"] is True
    assert {o["action"] for o in predicted["objects"]} == {"create"}
    assert cluster.mutating_calls() == []
    failed = run({**ARGS, "allowed_owners": ["acme-corp"]})
    assert "spec.aphexOrg: organization 'acme' does not exist" in failed["msg"]


def test_offboarding_a_binding_never_touches_another_bindings_pipeline(cluster, run):
    bind_with_a_team_application(cluster, run)
    # A second binding naming the same pipeline is rejected, then offboarded: the first one keeps everything.
    cluster.put({"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
                 "metadata": {"name": "intruder", "namespace": "org-acme"}, "spec": copy.deepcopy(SPEC)})
    assert "is already used by RepoBinding org-acme/payments" in run({"name": "intruder", "namespace": "org-acme"})["msg"]
    before = {k for k in cluster.store if k[1] != "RepoBinding"}
    result = run({"name": "intruder", "namespace": "org-acme", "state": "absent"})
    assert actions(result, "delete") == [("RepoBinding", "intruder")]
    assert {k for k in cluster.store if k[1] != "RepoBinding"} == before


def test_an_existing_app_project_of_someone_else_is_not_taken_over(cluster, run):
    cluster.put({"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
                 "metadata": {"name": "acme-payments", "namespace": "argocd"}, "spec": {"sourceRepos": ["*"]}})
    result = run(ARGS)
    assert "spec.pipelineName: AppProject argocd/acme-payments already exists and does not belong to this binding" \
        in result["msg"]
    assert cluster.mutating_calls() == []
