"""Status computation and the planners (prune, offboarding order, reading the webhook secret back)."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.organization import naming, objects, plan, status
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import normalize_organization

T0, T1 = "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z"


class TestStatus:
    def test_ready(self):
        result = status.organization_status("acme", 3, "cloudflare", "https://acme.hooks.example.com", T0)
        assert result["phase"] == "Ready" and result["phase"] in status.PHASES
        assert result["namespace"] == "org-acme"
        assert result["webhookURL"] == "https://acme.hooks.example.com"
        assert result["observedGeneration"] == 3
        assert result["message"] == "Organization resources are applied"
        assert result["webhookSecretRef"] == {"namespace": "org-acme", "name": "github-webhook-secret", "key": "secret"}
        summary = [(c["type"], c["status"], c["reason"], c["observedGeneration"], c["lastTransitionTime"])
                   for c in result["conditions"]]
        assert summary == [("Ready", "True", "Provisioned", 3, T0), ("WebhookExposed", "True", "CloudflareTunnel", 3, T0)]

    def test_failed_is_in_the_enum_and_carries_the_error(self):
        result = status.organization_status("acme", 1, "ingress", "https://w.example.com/acme", T0, error="boom")
        assert result["phase"] == "Failed" and result["phase"] in status.PHASES
        assert result["message"] == "boom"
        assert result["conditions"][0] == {"type": "Ready", "status": "False", "reason": "ProvisioningFailed",
                                           "message": "boom", "observedGeneration": 1, "lastTransitionTime": T0}
        assert result["conditions"][1]["reason"] == "Ingress"

    def test_no_webhook_url_without_exposure(self):
        result = status.organization_status("acme", 1, "none", None, T0)
        assert "webhookURL" not in result
        assert result["conditions"][1]["status"] == "False"

    def test_a_converged_rerun_computes_the_same_status(self):
        first = status.organization_status("acme", 2, "none", None, T0)
        again = status.organization_status("acme", 2, "none", None, T1, previous=first)
        assert again == first

    def test_transition_time_moves_only_when_a_condition_flips(self):
        failed = status.organization_status("acme", 2, "none", None, T0, error="boom")
        ready = status.organization_status("acme", 2, "none", None, T1, previous=failed)
        assert ready["conditions"][0]["lastTransitionTime"] == T1
        assert ready["conditions"][1]["lastTransitionTime"] == T0


def live(obj, manager="aphex-platform", operation="Apply", owner=None):
    obj = {**obj, "metadata": {**obj["metadata"], "managedFields": [{"manager": manager, "operation": operation}]}}
    if owner:
        obj["metadata"]["ownerReferences"] = [{"kind": "EventListener", "name": "github-listener", "controller": True}]
    return obj


def desired_for(**changes):
    spec = normalize_organization({"name": "acme", "display_name": "Acme", "admin_users": ["alice@acme.example"],
                                   "domain": "hooks.example.com", **changes})
    return objects.desired_objects(spec, "x" * 64, {"id": None, "token": "t"})


def binding(user):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": naming.admin_binding_name(user), "namespace": "org-acme"}}


class TestPrune:
    def test_a_removed_admin_loses_the_binding(self):
        existing = [live(binding("alice@acme.example")), live(binding("bob@acme.example"))]
        assert plan.prune_plan(existing, desired_for()) == [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "name": naming.admin_binding_name("bob@acme.example"), "namespace": "org-acme"}]

    def test_switching_exposure_prunes_the_old_exposure(self):
        existing = [live(o) for o in desired_for()]
        stale = plan.prune_plan(existing, desired_for(exposure="ingress", ingress_host="webhooks.example.com"))
        assert sorted((r["kind"], r["name"]) for r in stale) == [
            ("Deployment", "cloudflared-acme"), ("NetworkPolicy", "allow-cloudflared-egress"),
            ("NetworkPolicy", "allow-cloudflared-to-eventlistener"), ("Secret", "cloudflared-tunnel-token")]

    @pytest.mark.parametrize("obj, reason", [
        (live(binding("bob@acme.example"), manager="kubectl-client-side-apply", operation="Update"),
         "someone else created it"),
        (live(binding("bob@acme.example"), operation="Update"), "we never applied it"),
        (live({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "el-github-listener", "namespace": "org-acme"}}, owner=True),
         "Tekton generated it from the listener (and copied our labels)"),
    ])
    def test_objects_that_are_not_ours_are_never_pruned(self, obj, reason):
        assert plan.prune_plan([obj], desired_for()) == [], reason

    def test_desired_objects_stay_even_when_the_server_reports_another_version(self):
        existing = [live({**o, "apiVersion": o["apiVersion"].replace("/v1beta1", "/v1alpha1")}) for o in desired_for()]
        assert plan.prune_plan(existing, desired_for()) == []


def test_offboarding_order():
    refs = plan.offboarding_refs("acme")
    assert [(r["kind"], r["name"], r.get("namespace"), r.get("wait", False)) for r in refs] == [
        ("ClusterSecretStore", "org-acme-store", None, False),
        ("ClusterRoleBinding", "eventlistener-acme", None, False),
        ("Namespace", "org-acme", None, True),
        ("Organization", "acme", "platform-system", True),
    ]


@pytest.mark.parametrize("secret, expected", [
    ({"data": {"secret": base64.b64encode(b"abc").decode()}}, "abc"),
    ({"data": {"secret": ""}}, None),
    ({"data": {"other": "YQ=="}}, None),
    ({"data": {"secret": "%%%"}}, None),
    ({}, None),
    (None, None),
])
def test_decode_secret_value(secret, expected):
    assert plan.decode_secret_value(secret, "secret") == expected
