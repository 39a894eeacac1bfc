"""main() of aphex.platform.organization against the in-memory API server of the adapter tests."""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.organization import naming
from ansible_collections.aphex.platform.plugins.modules import organization
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import (
    DEFAULT_KINDS,
    FakeK8sClient,
    unprocessable,
)

TOKEN = "eyJhIjoiYWNjb3VudC10YWciLCJ0IjoidHVubmVsIiwicyI6InNlY3JldCJ9"
TUNNEL_ID = "c1744f8b-faa1-48a4-9e5c-02ac921467fa"
BASE = {"name": "acme", "display_name": "Acme Corp", "admin_users": ["alice@acme.example", "bob@acme.example"],
        "domain": "hooks.example.com", "cloudflare_tunnel_id": TUNNEL_ID, "cloudflare_tunnel_token": TOKEN}


@pytest.fixture
def cluster():
    client = FakeK8sClient()
    client.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform-system"}})
    return client


@pytest.fixture
def run(cluster):
    def _run(args, check_mode=False, diff=False, client=None):
        client = client or cluster
        client.dry_run = check_mode
        with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock, return_value=client):
            return run_module(organization.main, args, check_mode=check_mode, diff=diff)
    return _run


def stored_webhook_secret(client):
    secret = client.object("v1", "Secret", "github-webhook-secret", "org-acme")
    return base64.b64decode(secret["data"]["secret"]).decode()


def actions(result, action=None):
    return [(o["kind"], o["name"]) for o in result["objects"] if action is None or o["action"] == action]


def org_objects(client):
    return [k for k, v in client.store.items() if (v["metadata"].get("labels") or {}).get("aphex.dev/org") == "acme"]


@pytest.mark.parametrize("args, expected", [
    ({"name": "kube-system"}, "name: 'kube-system' is a privileged name (matches 'kube-system')"),
    ({"name": "Acme"}, "name: 'Acme' is not a DNS label"),
    ({"name": "a" * 60}, "at most 59 are allowed"),
    ({"admin_users": ["not-an-email"]}, "admin_users[0]: 'not-an-email' is not a valid e-mail address"),
    ({"admin_users": ["a@acme.example", "A@ACME.example"]}, "admin_users[1]: 'A@ACME.example' duplicates admin_users[0]"),
    ({"domain": "example"}, "domain: 'example' is not a valid domain name"),
    ({"cloudflare_tunnel_token": None}, "cloudflare_tunnel_token: required when exposure is 'cloudflare'"),
    ({"events": ["push", "pushh"]}, "events[1]: 'pushh' is not a GitHub webhook event"),
    ({"quotas": {"pods": "lots"}}, "quotas.pods: 'lots' is not a non-negative Kubernetes quantity"),
    ({"webhook_secret": "short"}, "webhook_secret: must be at least 32 characters"),
    ({"exposure": "ingress"}, "ingress_host: is required"),
])
def test_bad_input_fails_before_any_api_call(args, expected):
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock) as client:
        result = run_module(organization.main, {**BASE, **args})
    assert result["failed"] is True
    assert expected in result["msg"]
    client.assert_not_called()


@pytest.mark.parametrize("args", [{"display_name": "Acme"}, {"admin_users": ["alice@acme.example"]}])
def test_display_name_and_admins_go_together(args):
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock) as client:
        result = run_module(organization.main, {"name": "acme", **args})
    assert result["failed"] and "display_name, admin_users" in result["msg"]
    client.assert_not_called()


def test_onboard_then_converged(run, cluster):
    first = run(BASE)
    assert first["changed"] is True
    assert first["namespace"] == "org-acme"
    assert first["webhook_url"] == "https://acme.hooks.example.com"
    assert first["webhook_secret_ref"] == {"namespace": "org-acme", "name": "github-webhook-secret", "key": "secret",
                                           "action": "created"}
    assert first["status"]["phase"] == "Ready"
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["phase"] == "Ready" and record["status"]["observedGeneration"] == 1
    secret_value = stored_webhook_secret(cluster)
    assert len(secret_value) == 64 and int(secret_value, 16) >= 0  # 32 random bytes, hex
    assert ("Deployment", "cloudflared-acme") in actions(first, "create")

    again = run(BASE)
    assert again["changed"] is False, [o for o in again["objects"] if o["action"] != "unchanged"]
    assert again["webhook_secret_ref"]["action"] == "kept"
    assert stored_webhook_secret(cluster) == secret_value
    assert {o["action"] for o in again["objects"]} == {"unchanged"}

    seen = len(cluster.calls)
    check = run(BASE, check_mode=True)
    assert check["changed"] is False
    assert [c for c in cluster.calls[seen:] if c[0] in ("apply", "delete", "status") and not c[-1]] == []
    assert [c for c in cluster.calls[seen:] if c[0] == "apply"], "check mode still asks the server (dry run)"


def test_secrets_never_appear_in_results_or_diffs(run, cluster):
    result = run({**BASE, "webhook_secret": "w" * 40}, diff=True)
    dumped = json.dumps(result)
    for value in ("w" * 40, TOKEN):
        assert value not in dumped
        assert base64.b64encode(value.encode()).decode() not in dumped
    assert stored_webhook_secret(cluster) == "w" * 40
    assert result["webhook_secret_ref"]["action"] == "provided"
    assert result["diff"]["after"]["Secret org-acme/github-webhook-secret"]["data"] == {"secret": "<redacted>"}


def test_check_mode_on_an_empty_cluster_predicts_and_changes_nothing(run, cluster):
    before = dict(cluster.store)
    result = run(BASE, check_mode=True, diff=True)
    assert result["changed"] is True
    assert cluster.store == before
    assert [c for c in cluster.calls if c[0] in ("apply", "delete") and not c[-1]] == []
    assert not [c for c in cluster.calls if c[0] == "status"]
    assert set(o["action"] for o in result["objects"]) == {"create"}
    assert result["status"]["phase"] == "Ready"


def test_check_mode_without_tunnel_token_predicts_with_a_warning(run, capsys):
    result = run({**BASE, "cloudflare_tunnel_token": None}, check_mode=True)
    assert "failed" not in result
    assert "cloudflare_tunnel_token is not known yet" in capsys.readouterr().err


def test_check_mode_before_crds_exist_warns_and_real_mode_fails_clearly(cluster, run):
    no_tekton = FakeK8sClient(kinds={k for k in DEFAULT_KINDS if k[0] != "triggers.tekton.dev/v1beta1"})
    no_tekton.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform-system"}})
    predicted = run(BASE, check_mode=True, client=no_tekton)
    assert [o for o in predicted["objects"] if o["kind"] == "EventListener"][0]["warning"]
    failed = run(BASE, client=no_tekton)
    assert failed["failed"] is True
    assert "the cluster does not serve TriggerBinding (triggers.tekton.dev/v1beta1)" in failed["msg"]
    assert ("Namespace", "org-acme") in actions(failed, "create")  # partial progress is reported
    record = no_tekton.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["phase"] == "Failed"
    assert "TriggerBinding" in record["status"]["message"]


def test_api_error_is_reported_once_with_the_server_message(run, cluster):
    cluster.fail_on[("apply", "ClusterSecretStore", "org-acme-store")] = unprocessable("spec.provider: Required value")
    result = run(BASE)
    assert result["failed"] is True
    assert result["msg"] == "Failed to apply ClusterSecretStore org-acme-store: spec.provider: Required value"


def test_rotation_changes_the_secret_only_when_asked(run, cluster):
    run(BASE)
    original = stored_webhook_secret(cluster)
    rotated = run({**BASE, "rotate_webhook_secret": True})
    assert rotated["changed"] is True
    assert rotated["webhook_secret_ref"]["action"] == "rotated"
    assert actions(rotated, "update") == [("Secret", "github-webhook-secret")]
    assert stored_webhook_secret(cluster) not in (original, "")
    assert run(BASE)["changed"] is False


def test_a_removed_admin_loses_the_binding(run, cluster):
    run(BASE)
    result = run({**BASE, "admin_users": ["alice@acme.example"]})
    assert actions(result, "delete") == [("RoleBinding", naming.admin_binding_name("bob@acme.example"))]
    assert cluster.object("rbac.authorization.k8s.io/v1", "RoleBinding",
                          naming.admin_binding_name("alice@acme.example"), "org-acme")


def test_switching_exposure_removes_cloudflared_and_updates_status(run, cluster):
    run(BASE)
    result = run({**BASE, "exposure": "ingress", "ingress_host": "webhooks.example.com"})
    assert sorted(actions(result, "delete")) == [
        ("Deployment", "cloudflared-acme"), ("NetworkPolicy", "allow-cloudflared-egress"),
        ("NetworkPolicy", "allow-cloudflared-to-eventlistener"), ("Secret", "cloudflared-tunnel-token")]
    assert result["webhook_url"] == "https://webhooks.example.com/acme"
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["webhookURL"] == "https://webhooks.example.com/acme"
    assert record["metadata"]["generation"] == 2 == record["status"]["observedGeneration"]


def test_namespaces_selected_by_repository_bindings_survive_a_rerun(run, cluster):
    run(BASE)
    listener = cluster.object("triggers.tekton.dev/v1beta1", "EventListener", "github-listener", "org-acme")
    listener["spec"]["triggerGroups"][0]["triggerSelector"]["namespaceSelector"] = {"matchNames": ["web"]}
    assert run(BASE)["changed"] is False
    listener = cluster.object("triggers.tekton.dev/v1beta1", "EventListener", "github-listener", "org-acme")
    assert listener["spec"]["triggerGroups"][0]["triggerSelector"]["namespaceSelector"] == {"matchNames": ["web"]}


def test_offboarding_removes_everything_and_check_mode_only_predicts(run, cluster):
    run(BASE)
    predicted = run({"name": "acme", "state": "absent"}, check_mode=True)
    assert predicted["changed"] is True
    assert org_objects(cluster)
    result = run({"name": "acme", "state": "absent"})
    assert result["changed"] is True
    assert actions(result, "delete") == [("ClusterSecretStore", "org-acme-store"),
                                         ("ClusterRoleBinding", "eventlistener-acme"),
                                         ("Namespace", "org-acme"), ("Organization", "acme")]
    assert org_objects(cluster) == []
    assert run({"name": "acme", "state": "absent"})["changed"] is False


def test_offboarding_sweeps_cluster_objects_left_under_other_names(run, cluster):
    run(BASE)
    cluster.put({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": "eventlistener-acme-old", "labels": naming.org_labels("acme")}})
    result = run({"name": "acme", "state": "absent"})
    assert ("ClusterRoleBinding", "eventlistener-acme-old") in actions(result, "delete")
    assert org_objects(cluster) == []


# ---- self-service: name only, the Organization object in the cluster is the spec -------------------------------
SELF = {"name": "acme", "domain": "hooks.example.com", "cloudflare_tunnel_id": TUNNEL_ID,
        "cloudflare_tunnel_token": TOKEN}
OBJECT_SPEC = {"displayName": "Acme Corp", "adminUsers": ["alice@acme.example", "bob@acme.example"],
               "events": ["push", "pull_request"], "githubOwners": ["acme-corp"], "quotas": {"pods": 40}}


def commit_organization(client, spec, name="acme"):
    """The object a team committed and Argo CD applied (another field manager)."""
    return client.put({"apiVersion": "aphex.io/v1alpha1", "kind": "Organization",
                       "metadata": {"name": name, "namespace": "platform-system", "generation": 1}, "spec": spec},
                      manager="argocd-controller", operation="Apply")


def test_self_service_reconciles_the_committed_object_without_writing_its_spec(run, cluster):
    commit_organization(cluster, OBJECT_SPEC)
    first = run(SELF)
    assert first["changed"] is True, first.get("msg")
    assert first["status"]["phase"] == "Ready"
    assert first["webhook_url"] == "https://acme.hooks.example.com"
    assert ("Organization", "acme") not in actions(first)  # the spec is the team's: only the status is written
    assert ("Organization/status", "acme") in actions(first, "update")
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["spec"] == OBJECT_SPEC
    assert record["status"]["phase"] == "Ready" and record["status"]["observedGeneration"] == 1
    assert record["status"]["conditions"][0]["reason"] == "Provisioned"
    quota = cluster.object("v1", "ResourceQuota", "org-quota", "org-acme")
    assert quota["spec"]["hard"]["pods"] == "40" and quota["spec"]["hard"]["requests.cpu"] == "2"
    listener = cluster.object("triggers.tekton.dev/v1beta1", "EventListener", "github-listener", "org-acme")
    assert "pull_request" in json.dumps(listener["spec"])
    admins = [k for k in cluster.store if k[1] == "RoleBinding" and "organization-admin-" in k[-1]]
    assert len(admins) == 2
    assert ("Deployment", "cloudflared-acme") in actions(first, "create")

    again = run(SELF)
    assert again["changed"] is False, [o for o in again["objects"] if o["action"] != "unchanged"]
    assert run(SELF, check_mode=True)["changed"] is False

    # The team drops an admin in git; the next run converges to it.
    record["spec"]["adminUsers"] = ["alice@acme.example"]
    record["metadata"]["generation"] = 2
    changed = run(SELF)
    assert actions(changed, "delete") == [("RoleBinding", naming.admin_binding_name("bob@acme.example"))]
    assert changed["status"]["observedGeneration"] == 2


def test_self_service_options_fill_in_only_what_the_object_leaves_out(run, cluster):
    commit_organization(cluster, {"displayName": "Acme Corp", "adminUsers": ["alice@acme.example"],
                                  "exposure": "ingress"})
    result = run({**SELF, "exposure": "none", "ingress_host": "webhooks.example.com", "github_owners": ["acme-corp"],
                  "events": ["push", "release"]})
    assert result["webhook_url"] == "https://webhooks.example.com/acme"  # the object's exposure wins
    assert ("Ingress", "github-webhook") in actions(result, "create")
    assert not [o for o in result["objects"] if o["kind"] == "Deployment"]
    listener = cluster.object("triggers.tekton.dev/v1beta1", "EventListener", "github-listener", "org-acme")
    assert "release" in json.dumps(listener["spec"])  # the option's events: the object has none


def test_self_service_uses_the_objects_webhook_secret(run, cluster):
    commit_organization(cluster, {**OBJECT_SPEC, "webhookSecret": "s" * 40})
    result = run(SELF, diff=True)
    assert result["webhook_secret_ref"]["action"] == "provided"
    assert stored_webhook_secret(cluster) == "s" * 40
    assert "s" * 40 not in json.dumps(result)


@pytest.mark.parametrize("spec, expected", [
    ({**OBJECT_SPEC, "adminUsers": ["not-an-email"]},
     "spec.adminUsers[0]: 'not-an-email' is not a valid e-mail address"),
    ({**OBJECT_SPEC, "adminUsers": ["a@acme.example", "A@ACME.example"]},
     "spec.adminUsers[1]: 'A@ACME.example' duplicates spec.adminUsers[0]"),
    ({**OBJECT_SPEC, "adminUsers": []}, "spec.adminUsers: at least one admin e-mail address is required"),
    ({"adminUsers": ["alice@acme.example"]}, "spec.displayName: must be a non-empty string"),
    ({**OBJECT_SPEC, "displayName": ""}, "spec.displayName: must be a non-empty string"),
    ({**OBJECT_SPEC, "githubOwners": ["-bad-"]}, "spec.githubOwners[0]: '-bad-' is not a GitHub user"),
    ({**OBJECT_SPEC, "events": ["push", "pushh"]}, "spec.events[1]: 'pushh' is not a GitHub webhook event"),
    ({**OBJECT_SPEC, "quotas": {"pods": "lots"}}, "spec.quotas.pods: 'lots' is not a non-negative Kubernetes quantity"),
    ({**OBJECT_SPEC, "domain": "example"}, "spec.domain: 'example' is not a valid domain name"),
    ({**OBJECT_SPEC, "exposure": "ingress"}, "ingress_host: is required"),
    ({**OBJECT_SPEC, "webhookSecret": "short"}, "spec.webhookSecret: must be at least 32 characters"),
    ({**OBJECT_SPEC, "owner": "me"}, "spec.owner: unknown field"),
])
def test_self_service_bad_object_gets_failed_status_and_the_run_fails_naming_the_field(run, cluster, spec, expected):
    commit_organization(cluster, spec)
    result = run(SELF)
    assert result["failed"] is True
    assert expected in result["msg"], result["msg"]
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["phase"] == "Failed"
    assert expected in record["status"]["message"]
    assert record["status"]["conditions"][0]["reason"] == "InvalidSpec"
    assert record["spec"] == spec
    assert result["status"] == record["status"]
    assert org_objects(cluster) == []  # nothing was created
    assert [c[1] for c in cluster.mutating_calls()] == ["Organization"]  # the status write only

    version = record["metadata"]["resourceVersion"]
    again = run(SELF)  # the same Failed status again: the record does not change
    assert again["failed"] is True
    assert cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")["metadata"][
        "resourceVersion"] == version
    assert [c[1] for c in cluster.mutating_calls()] == ["Organization", "Organization"]


def test_self_service_missing_tunnel_token_is_the_exposures_failure(run, cluster):
    commit_organization(cluster, {**OBJECT_SPEC, "exposure": "cloudflare"})
    result = run({**SELF, "cloudflare_tunnel_token": None})
    assert result["failed"] is True
    assert "spec.exposure: 'cloudflare' needs the organization's Cloudflare tunnel" in result["msg"]
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["phase"] == "Failed"
    predicted = run({**SELF, "cloudflare_tunnel_token": None}, check_mode=True)
    assert "failed" not in predicted  # check mode: the tunnel may not exist yet


def test_self_service_invalid_then_fixed_becomes_ready(run, cluster):
    record = commit_organization(cluster, {**OBJECT_SPEC, "adminUsers": ["nope"]})
    assert run(SELF)["failed"] is True
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    record["spec"] = dict(OBJECT_SPEC)
    record["metadata"]["generation"] = 2
    fixed = run(SELF)
    assert "failed" not in fixed, fixed.get("msg")
    record = cluster.object("aphex.io/v1alpha1", "Organization", "acme", "platform-system")
    assert record["status"]["phase"] == "Ready" and record["status"]["observedGeneration"] == 2
    assert [c["type"] for c in record["status"]["conditions"]] == ["Ready", "WebhookExposed"]


def test_self_service_check_mode_of_a_bad_object_writes_nothing(run, cluster):
    commit_organization(cluster, {**OBJECT_SPEC, "adminUsers": ["nope"]})
    result = run(SELF, check_mode=True)
    assert result["failed"] is True and "spec.adminUsers[0]" in result["msg"]
    assert result["status"]["phase"] == "Failed"
    assert cluster.mutating_calls() == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_self_service_without_the_object_is_a_clear_error(run, cluster, check_mode):
    result = run(SELF, check_mode=check_mode)
    assert result["failed"] is True
    assert result["msg"].startswith("name: Organization platform-system/acme does not exist")
    assert "display_name and admin_users" in result["msg"]
    assert cluster.mutating_calls() == []


def test_self_service_bad_option_fails_before_any_api_call():
    with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock) as client:
        result = run_module(organization.main, {**SELF, "cloudflare_tunnel_id": "nope"})
    assert result["failed"] and "cloudflare_tunnel_id: 'nope' is not a Cloudflare tunnel id" in result["msg"]
    client.assert_not_called()
