"""Organization input validation: bad input fails before any change, naming the field."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.organization import validation
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
    cloudflare_credential_errors,
    module_input_errors,
    normalize_organization,
    organization_errors,
    organization_specs,
)

GOOD = {"name": "acme", "display_name": "Acme Corp", "admin_users": ["alice@acme.example"],
        "domain": "hooks.example.com"}


def errors_for(**changes):
    spec = normalize_organization({**GOOD, **changes})
    return organization_errors(spec)


def test_a_good_organization_has_no_errors():
    assert errors_for() == []
    assert errors_for(exposure="none", domain=None) == []
    assert errors_for(exposure="ingress", ingress_host="webhooks.example.com") == []
    assert errors_for(name="a" * 59) == []


@pytest.mark.parametrize("name, expected", [
    ("Acme", "organizations[Acme].name: 'Acme' is not a DNS label"),
    ("acme_corp", "is not a DNS label"),
    ("-acme", "is not a DNS label"),
    ("acme-", "is not a DNS label"),
    ("acme.corp", "is not a DNS label"),
    ("a" * 60, "namespace 'org-" + "a" * 60 + "' would exceed 63, so at most 59 are allowed"),
    ("", "organizations[?].name: is required"),
    (None, "organizations[?].name: is required"),
    ("kube-system", "'kube-system' is a privileged name (matches 'kube-system')"),
    ("kube-system-tools", "is a privileged name (matches 'kube-system')"),
    ("argocd", "is a privileged name (matches 'argocd')"),
    ("argocd-team", "is a privileged name (matches 'argocd')"),
    ("platform-system", "is a privileged name"),
    ("default", "is a privileged name"),
    ("tekton-pipelines-resolvers", "is a privileged name"),
    ("cert-manager", "is a privileged name"),
    ("external-secrets", "is a privileged name"),
    ("ingress-nginx", "is a privileged name"),
    ("auth-system", "is a privileged name"),
    ("kube-public", "is a privileged name"),
    ("kube-node-lease", "is a privileged name"),
])
def test_bad_names(name, expected):
    errors = errors_for(name=name)
    assert any(expected in error for error in errors), errors
    assert all(".name:" in e for e in errors if "name" in e.split(":")[0])


@pytest.mark.parametrize("name", ["kube", "argo", "defaults", "platform", "my-argocd", "ingress"])
def test_names_that_only_resemble_privileged_ones_are_fine(name):
    assert errors_for(name=name) == []


@pytest.mark.parametrize("users, expected", [
    ([], "organizations[acme].admin_users: at least one admin e-mail address is required"),
    (None, "admin_users: at least one admin e-mail address is required"),
    (["alice"], "organizations[acme].admin_users[0]: 'alice' is not a valid e-mail address"),
    (["alice@"], "admin_users[0]: 'alice@' is not a valid e-mail address"),
    (["@acme.example"], "(local part)"),
    (["a..b@acme.example"], "(local part)"),
    (["Alice <alice@acme.example>"], "is not a valid e-mail address"),
    (["alice@acme"], "(domain)"),
    (["alice@-acme.example"], "(domain)"),
    (["alice@acme.example", "a@b@c.example"], "admin_users[1]: 'a@b@c.example' is not a valid e-mail address"),
    ([42], "admin_users[0]: 42 is not a valid e-mail address"),
    (["alice@acme.example", "ALICE@Acme.Example"],
     "admin_users[1]: 'ALICE@Acme.Example' duplicates organizations[acme].admin_users[0]"),
])
def test_bad_admin_users(users, expected):
    errors = errors_for(admin_users=users)
    assert any(expected in error for error in errors), errors


def test_plus_and_dots_are_valid_email():
    assert errors_for(admin_users=["first.last+ci@mail.acme.example", "o'brien@acme.example"]) == []


@pytest.mark.parametrize("domain, expected", [
    ("example", "organizations[acme].domain: 'example' is not a valid domain name"),
    ("Example.com", "must be lower case"),
    ("exa_mple.com", "(label 'exa_mple')"),
    ("-x.example.com", "(label '-x')"),
    ("example.123", "numeric top-level label"),
    ("a" * 64 + ".example.com", "is not a valid domain name (label"),
    ("", "organizations[acme].domain: is required"),
    (None, "organizations[acme].domain: is required"),
])
def test_bad_domains(domain, expected):
    errors = errors_for(domain=domain)
    assert any(expected in error for error in errors), errors


def test_domain_is_optional_without_cloudflare_and_a_trailing_dot_is_dropped():
    assert errors_for(exposure="none", domain=None) == []
    assert normalize_organization({**GOOD, "domain": "hooks.example.com."})["domain"] == "hooks.example.com"


@pytest.mark.parametrize("changes, expected", [
    ({"display_name": ""}, "organizations[acme].display_name: must be a non-empty string"),
    ({"display_name": "   "}, "display_name: must be a non-empty string"),
    ({"display_name": "x" * 257}, "display_name: is 257 characters, at most 256"),
    ({"exposure": "public"}, "organizations[acme].exposure: 'public' must be one of cloudflare, ingress, none"),
    ({"exposure": "ingress"}, "organizations[acme].ingress_host: is required"),
    ({"events": ["push", "pushh"]}, "organizations[acme].events[1]: 'pushh' is not a GitHub webhook event"),
    ({"events": ["push", "push"]}, "events[1]: 'push' is listed twice"),
    ({"events": []}, "events: must be a non-empty list"),
    ({"quotas": {"pods": "ten"}}, "organizations[acme].quotas.pods: 'ten' is not a non-negative Kubernetes quantity"),
    ({"quotas": {"pods": -1}}, "quotas.pods: '-1' is not a non-negative"),
    ({"quotas": {"Bad Key": 1}}, "quotas: 'Bad Key' is not a ResourceQuota resource name"),
    ({"quotas": ["pods"]}, "quotas: must be a mapping"),
    ({"state": "gone"}, "organizations[acme].state: 'gone' must be one of present, absent"),
])
def test_other_bad_fields(changes, expected):
    errors = errors_for(**changes)
    assert any(expected in error for error in errors), errors


def test_display_name_of_256_and_quantities_are_accepted():
    assert errors_for(display_name="x" * 256, quotas={"pods": 40, "requests.memory": "1.5Gi",
                                                      "count/deployments.apps": "5", "limits.cpu": "500m"}) == []


def test_events_default_to_push_and_quotas_merge_over_defaults():
    spec = normalize_organization({**GOOD, "quotas": {"pods": 40}})
    assert spec["events"] == ["push"]
    assert spec["quotas"]["pods"] == "40"
    assert spec["quotas"]["requests.cpu"] == "2"
    assert spec["exposure"] == "cloudflare" and spec["state"] == "present"


def test_absent_needs_only_the_name_and_the_domain_for_cloudflare():
    assert organization_errors(normalize_organization({"name": "acme", "state": "absent", "exposure": "none"})) == []
    assert organization_errors(normalize_organization({"name": "acme", "state": "absent"})) == \
        ["organizations[acme].domain: is required"]
    assert organization_errors(normalize_organization({"name": "ArgoCD", "state": "absent", "exposure": "none"}))


def test_missing_cloudflare_token_is_reported_for_cloudflare_only():
    spec = normalize_organization(GOOD)
    assert cloudflare_credential_errors(spec, api_token_set=False) == [
        "organizations[acme].exposure: 'cloudflare' needs a Cloudflare API token (organization_cloudflare_api_token "
        "or CLOUDFLARE_API_TOKEN) to expose it"]
    assert cloudflare_credential_errors(spec, api_token_set=True) == []
    assert cloudflare_credential_errors({**spec, "exposure": "none"}, api_token_set=False) == []
    assert "to offboard it" in cloudflare_credential_errors({**spec, "state": "absent"}, False)[0]


class TestOrganizationSpecs:
    def test_every_organization_is_validated_and_all_errors_are_returned(self):
        result = organization_specs([
            GOOD,
            {"name": "ArgoCD", "display_name": "x", "admin_users": ["a@b.example"], "exposure": "none"},
            {"name": "beta", "display_name": "Beta", "admin_users": ["nope"], "exposure": "none", "admins": []},
        ], cloudflare_api_token_set=False)
        assert result["errors"] == [
            "organizations[acme].exposure: 'cloudflare' needs a Cloudflare API token (organization_cloudflare_api_token"
            " or CLOUDFLARE_API_TOKEN) to expose it",
            "organizations[ArgoCD].name: 'ArgoCD' is not a DNS label (lower-case letters, digits and '-', starting and "
            "ending with a letter or digit)",
            "organizations[beta].admins: unknown field (allowed: name, display_name, admin_users, exposure, domain, "
            "ingress_host, events, quotas, state, github_owners)",
            "organizations[beta].admin_users[0]: 'nope' is not a valid e-mail address",
        ]
        assert [spec["name"] for spec in result["organizations"]] == ["acme", "ArgoCD", "beta"]

    def test_defaults_apply_and_select_filters_but_still_validates_everything(self):
        result = organization_specs(
            [{**GOOD, "domain": None}, {"name": "beta", "display_name": "B", "admin_users": []}],
            defaults={"domain": "hooks.example.com", "exposure": "none"}, select="acme", cloudflare_api_token_set=True)
        assert [spec["name"] for spec in result["organizations"]] == ["acme"]
        assert result["organizations"][0]["domain"] == "hooks.example.com"
        assert result["organizations"][0]["exposure"] == "none"
        assert result["errors"] == ["organizations[beta].admin_users: at least one admin e-mail address is required"]

    def test_every_organization_carries_its_derived_names(self):
        acme = organization_specs([GOOD], cloudflare_api_token_set=True)["organizations"][0]
        assert acme["names"] == {
            "namespace": "org-acme",
            "webhook_secret": "github-webhook-secret",
            "webhook_secret_key": "secret",
            "eventlistener": "github-listener",
            "eventlistener_service": "el-github-listener",
            "listener_url": "http://el-github-listener:8080",
            "webhook_hostname": f"acme.{acme['domain']}",
            "webhook_url": f"https://acme.{acme['domain']}",
            "tunnel": "webhooks-acme",
            "tunnel_token_secret": "cloudflared-tunnel-token",
            "cloudflared_deployment": "cloudflared-acme",
            "cluster_secret_store": "org-acme-store",
            "eventlistener_binding": "eventlistener-acme",
            "owner_selector": "platform.aphex/owner-kind=Organization,platform.aphex/owner-name=acme",
        }
        none = organization_specs([{**GOOD, "exposure": "none", "domain": None}])["organizations"][0]
        assert none["names"]["webhook_url"] is None and none["names"]["webhook_hostname"] is None

    def test_unknown_selection_duplicates_and_shapes(self):
        assert organization_specs([GOOD], select="nope", cloudflare_api_token_set=True)["errors"] == \
            ["org: 'nope' is not defined in aphex_organizations"]
        assert "organizations[acme].name: 'acme' is defined twice (organizations[0])" in \
            organization_specs([GOOD, GOOD], cloudflare_api_token_set=True)["errors"]
        assert organization_specs("acme")["errors"] == ["organizations: must be a list of organizations"]
        assert organization_specs(["acme"])["errors"] == ["organizations[0]: must be a mapping"]
        assert organization_specs(None) == {"organizations": [], "errors": []}


MODULE_PARAMS = {"webhook_secret": None, "rotate_webhook_secret": False, "cloudflared_image": "cloudflare/cloudflared:2026.8.2",
                 "cloudflare_tunnel_id": None, "cloudflare_tunnel_token": "token", "cloudflared_replicas": 2,
                 "ingress_class_name": "nginx", "platform_namespace": "platform-system", "network": None}


@pytest.mark.parametrize("params, expected", [
    ({"webhook_secret": "short"}, "webhook_secret: must be at least 32 characters"),
    ({"webhook_secret": "x" * 32, "rotate_webhook_secret": True}, "rotate_webhook_secret: cannot be combined"),
    ({"cloudflare_tunnel_token": None}, "cloudflare_tunnel_token: required when exposure is 'cloudflare'"),
    ({"cloudflared_image": "cloudflare/cloudflared"}, "cloudflared_image: 'cloudflare/cloudflared' has no tag"),
    ({"cloudflared_image": "cloudflare/cloudflared:latest"}, "uses the 'latest' tag"),
    ({"cloudflare_tunnel_id": "not-a-uuid"}, "cloudflare_tunnel_id: 'not-a-uuid' is not a Cloudflare tunnel id"),
    ({"cloudflared_replicas": 0}, "cloudflared_replicas: must be at least 1"),
    ({"platform_namespace": "Platform"}, "platform_namespace: 'Platform' is not a namespace name"),
    ({"network": {"api_server_cidrs": ["10.0.0.0/33"]}}, "network.api_server_cidrs[0]: '10.0.0.0/33' is not a CIDR"),
    ({"network": {"api_server_ports": [0]}}, "network.api_server_ports[0]: 0 is not a TCP port"),
    ({"network": {"dns_namespace": "Kube"}}, "network.dns_namespace: 'Kube' is not a namespace name"),
])
def test_module_argument_errors(params, expected):
    spec = normalize_organization(GOOD)
    errors = module_input_errors(spec, {**MODULE_PARAMS, **params})
    assert any(expected in error for error in errors), errors


def test_module_errors_name_bare_options_and_check_mode_allows_a_missing_tunnel_token():
    spec = normalize_organization({**GOOD, "name": "argocd"})
    assert module_input_errors(spec, MODULE_PARAMS) == ["name: 'argocd' is a privileged name (matches 'argocd')"]
    spec = normalize_organization(GOOD)
    assert module_input_errors(spec, {**MODULE_PARAMS, "cloudflare_tunnel_token": None}, check_mode=True) == []
    assert module_input_errors(spec, {**MODULE_PARAMS, "cloudflared_image": "reg.example/cf@sha256:" + "a" * 64}) == []


def test_privileged_list_covers_the_reference_list():
    reference = {"kube-system", "kube-public", "kube-node-lease", "default", "pipeline-system", "pipeline-catalog",
                 "auth-system", "tekton-pipelines", "tekton-pipelines-resolvers", "argocd", "platform-system"}
    assert reference <= set(validation.PRIVILEGED_NAMES)
