"""Self-service mapping of an Organization object's spec to the normalised organization spec."""

from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.organization import naming, selfservice

OPTIONS = {"exposure": "cloudflare", "domain": "hooks.example.com", "events": ["push"], "quotas": {"pods": 10},
           "ingress_host": None, "github_owners": None, "cloudflare_tunnel_token": "t", "rotate_webhook_secret": False}
VALID = {"displayName": "Acme", "adminUsers": ["alice@acme.example"]}


@pytest.mark.parametrize("params, expected", [
    ({"name": "acme"}, True),
    ({"name": "acme", "state": "absent"}, False),
    ({"name": "acme", "display_name": "Acme", "admin_users": ["a@acme.example"]}, False),
])
def test_self_service_is_name_only_present(params, expected):
    assert selfservice.is_self_service(params) is expected


def test_object_fields_win_and_options_fill_in_the_rest():
    spec, secret, errors = selfservice.spec_from_record(
        "acme", {**VALID, "exposure": "none", "quotas": {"pods": 40, "secrets": "5"}}, OPTIONS)
    assert errors == [] and secret is None
    assert spec["exposure"] == "none" and spec["domain"] == "hooks.example.com" and spec["events"] == ["push"]
    assert spec["display_name"] == "Acme" and spec["admin_users"] == ["alice@acme.example"]
    assert spec["quotas"] == {**naming.DEFAULT_QUOTAS, "pods": "40", "secrets": "5"}


def test_a_bad_option_default_is_named_by_its_option_a_bad_field_by_its_camel_case_path():
    _spec, _secret, errors = selfservice.spec_from_record("acme", VALID, {**OPTIONS, "domain": "example"})
    assert errors == ["domain: 'example' is not a valid domain name"]
    _spec, _secret, errors = selfservice.spec_from_record("acme", {**VALID, "domain": "example"}, OPTIONS)
    assert errors == ["spec.domain: 'example' is not a valid domain name"]


def test_missing_required_fields_and_a_non_mapping_spec():
    _spec, _secret, errors = selfservice.spec_from_record("acme", None, OPTIONS)
    assert errors == ["spec.displayName: must be a non-empty string",
                      "spec.adminUsers: at least one admin e-mail address is required"]
    assert selfservice.spec_from_record("acme", ["x"], OPTIONS)[2] == ["spec: must be a mapping"]


def test_the_objects_webhook_secret_is_returned_and_cannot_be_rotated():
    _spec, secret, errors = selfservice.spec_from_record("acme", {**VALID, "webhookSecret": "s" * 32},
                                                         {**OPTIONS, "rotate_webhook_secret": True})
    assert secret == "s" * 32
    assert errors and errors[0].startswith("spec.webhookSecret: the Organization provides its own webhook secret")
