# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tenant's Keycloak realm as a ``RealmRepresentation`` (Keycloak's import/export JSON), from a valid tenant.

One realm per tenant (named like the tenant); the tenant's ``auth.roles`` are realm roles and groups; every module
with ``auth: true`` gets a confidential OpenID Connect client ``<module>`` (redirects to ``https://<module>.<domain>``)
whose client roles are the roles the module asked for (or the catalog's default roles), and each tenant role's
group carries the client roles of the same name, so putting a user in group ``analyst`` grants ``analyst`` in every
module that has it. No secret is written: Keycloak generates the client secrets when it imports the realm.
Only fields ``org.keycloak.representations.idm.RealmRepresentation`` knows are used (tests/java checks it with
Keycloak's own class, unknown properties rejected).
"""

from __future__ import annotations

ROLES_CLAIM = "roles"


def module_roles(options: dict, entry: dict) -> list:
    return list(options.get("roles") or entry.get("default_roles") or [])


def _client(tenant: dict, module: str, roles: list) -> dict:
    host = f"https://{module}.{tenant['domain']}"
    return {
        "clientId": module,
        "name": f"{module} ({tenant['name']})",
        "description": f"Module {module} of tenant {tenant['name']}",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "frontchannelLogout": True,
        "rootUrl": host,
        "baseUrl": "/",
        "redirectUris": [f"{host}/*"],
        "webOrigins": [host],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": f"{host}/*",
        },
        "protocolMappers": [{
            "name": "client roles",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usermodel-client-role-mapper",
            "consentRequired": False,
            "config": {
                "usermodel.clientRoleMapping.clientId": module,
                "claim.name": ROLES_CLAIM,
                "jsonType.label": "String",
                "multivalued": "true",
                "id.token.claim": "true",
                "access.token.claim": "true",
                "userinfo.token.claim": "true",
            },
        }, {
            "name": "groups",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper",
            "consentRequired": False,
            "config": {
                "claim.name": "groups",
                "full.path": "false",
                "id.token.claim": "true",
                "access.token.claim": "true",
                "userinfo.token.claim": "true",
            },
        }],
    }


def realm(tenant: dict, entries: dict) -> dict:
    """``entries``: catalog entry per enabled module (``catalog_entry(name)``)."""
    clients, client_roles = [], {}
    for module, options in tenant["modules"].items():
        if not options.get("auth"):
            continue
        roles = module_roles(options, entries[module])
        clients.append(_client(tenant, module, roles))
        client_roles[module] = [{"name": role, "description": f"{role} in {module}", "clientRole": True}
                                for role in roles]
    realm_roles = list(tenant["auth"]["roles"])
    groups = []
    for role in realm_roles:
        granted = {module: [role] for module, roles in client_roles.items() if role in {r["name"] for r in roles}}
        group = {"name": role, "path": f"/{role}", "realmRoles": [role]}
        if granted:
            group["clientRoles"] = granted
        groups.append(group)
    return {
        "realm": tenant["name"],
        "displayName": tenant["display_name"],
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "resetPasswordAllowed": True,
        "bruteForceProtected": True,
        "accessTokenLifespan": 300,
        "attributes": {"orchestr8.platform/tenant": tenant["name"], "orchestr8.platform/tier": tenant["tier"]},
        "roles": {
            "realm": [{"name": role, "description": f"Tenant role {role}", "composite": False, "clientRole": False}
                      for role in realm_roles],
            "client": client_roles,
        },
        "groups": groups,
        "clients": clients,
    }
