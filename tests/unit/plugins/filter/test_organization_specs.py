"""The organization_specs filter the role validates with, called the way Jinja calls it."""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.filter.organization_specs import FilterModule

ORG = {"name": "acme", "display_name": "Acme", "admin_users": ["alice@acme.example"]}
SETTINGS = {"cloudflared_image": "cloudflare/cloudflared:2026.8.2", "cloudflared_replicas": 2,
            "ingress_class_name": "nginx", "platform_namespace": "platform-system", "network": {}}


def organization_specs(*args, **kwargs):
    return FilterModule().filters()["organization_specs"](*args, **kwargs)


def test_valid_inventory():
    result = organization_specs([ORG], defaults={"domain": "hooks.example.com"}, select="",
                                cloudflare_api_token_set="yes", settings=SETTINGS)
    assert result["errors"] == []
    assert result["organizations"][0]["domain"] == "hooks.example.com"


def test_shared_settings_are_checked_with_the_role_prefix_for_the_exposures_in_use():
    bad = {**SETTINGS, "cloudflared_image": "cloudflare/cloudflared:latest", "cloudflared_replicas": 0,
           "ingress_class_name": "Bad_Class", "network": {"api_server_ports": [70000]}}
    cloudflare = organization_specs([ORG], defaults={"domain": "hooks.example.com"}, cloudflare_api_token_set=True,
                                    settings=bad)["errors"]
    assert cloudflare == [
        "organization_cloudflared_image: 'cloudflare/cloudflared:latest' uses the 'latest' tag; pin a version",
        "organization_cloudflared_replicas: must be at least 1",
        "organization_network.api_server_ports[0]: 70000 is not a TCP port",
    ]
    none = organization_specs([{**ORG, "exposure": "none"}], settings=bad)["errors"]
    assert none == ["organization_network.api_server_ports[0]: 70000 is not a TCP port"]
    ingress = organization_specs([{**ORG, "exposure": "ingress"}], defaults={"ingress_host": "w.example.com"},
                                 settings=bad)["errors"]
    assert "organization_ingress_class_name: 'Bad_Class' is not a valid name" in ingress


def test_numbers_from_extra_vars_are_accepted():
    result = organization_specs([ORG], defaults={"domain": "hooks.example.com"}, cloudflare_api_token_set=True,
                                settings={**SETTINGS, "cloudflared_replicas": "1"})
    assert result["errors"] == []
    result = organization_specs([ORG], defaults={"domain": "hooks.example.com"}, cloudflare_api_token_set=True,
                                settings={**SETTINGS, "cloudflared_replicas": "one"})
    assert result["errors"] == ["organization_cloudflared_replicas: must be at least 1"]


def test_a_missing_token_is_an_error_for_cloudflare_orgs_only():
    errors = organization_specs([ORG, {**ORG, "name": "beta", "exposure": "none"}],
                                defaults={"domain": "hooks.example.com"}, cloudflare_api_token_set=False)["errors"]
    assert errors == ["organizations[acme].exposure: 'cloudflare' needs a Cloudflare API token "
                      "(organization_cloudflare_api_token or CLOUDFLARE_API_TOKEN) to expose it"]
