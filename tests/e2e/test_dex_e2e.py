# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dex, as the auth layer configured it, issues real tokens; Argo CD serves the OIDC settings the layer wrote.

On the kind cluster Dex v2.44.0 (built from its Go module) runs with the role's configuration: storage
``kubernetes``, issuer ``https://dex.<domain>``, the static clients ``argocd`` and ``tekton-dashboard`` and the
Authentik connector. Authentik cannot run here (no image), so the test inventory adds, test-only, Dex's
``authproxy`` connector ``e2e-headers`` (it takes the user and the groups from request headers, as behind an
authenticating proxy; Dex 2.44's static passwords carry no groups) and lets Dex start without the unreachable
Authentik connector (``platform_auth_dex_continue_on_connector_failure``). Everything else is the product's.

The token is obtained the way Argo CD obtains it: the authorization code flow of the ``argocd`` client with its
registered redirect URI, the code redeemed at ``/token`` with the client secret Argo CD itself references from
``oidc.config`` (the copy the argocd role made in Argo CD's namespace). The ID token's signature is checked
against Dex's published keys.

Not exercised: a browser login through Argo CD itself (argocd-server would have to reach Dex at its public
https issuer, which needs the ingress and the platform CA, neither of which runs on kind).
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse

import pytest
import requests
import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kubernetes import client as k8s

from kube_forward import port_forward

AUTH_NAMESPACE = "auth-system"
ARGOCD_NAMESPACE = "argocd"
DEX_SERVICE, DEX_PORT = "dex", 5556
ARGOCD_SERVICE, ARGOCD_PORT = "argocd-server", 80
# The test-only connector of tests/e2e/inventory (platform_auth_dex_extra_connectors) and its headers.
TEST_CONNECTOR = "e2e-headers"
USER_HEADER, EMAIL_HEADER, GROUPS_HEADER = "X-Aphex-E2E-User", "X-Aphex-E2E-Email", "X-Aphex-E2E-Groups"
TEST_USER = "alice"
TEST_EMAIL = "alice@e2e.aphex.invalid"
TEST_GROUPS = ["platform-admins", "platform-engineering"]


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def dex_config(api) -> dict:
    """Dex's configuration as the chart rendered it from the role's values (the Secret Dex mounts)."""
    deployment = k8s.AppsV1Api(api).read_namespaced_deployment(DEX_SERVICE, AUTH_NAMESPACE)
    names = [v.secret.secret_name for v in deployment.spec.template.spec.volumes or [] if v.secret]
    core = k8s.CoreV1Api(api)
    for name in names:
        data = core.read_namespaced_secret(name, AUTH_NAMESPACE).data or {}
        if "config.yaml" in data:
            return yaml.safe_load(base64.b64decode(data["config.yaml"]))
    raise AssertionError(f"no config.yaml in the Secrets Dex mounts: {names}")


def argocd_oidc(api) -> tuple:
    """(oidc.config of argocd-cm as a dict, the client secret it references)."""
    core = k8s.CoreV1Api(api)
    config = yaml.safe_load(core.read_namespaced_config_map("argocd-cm", ARGOCD_NAMESPACE).data["oidc.config"])
    reference = config["clientSecret"]
    # Argo CD's syntax: $<secret name>:<key> (a Secret in its namespace labelled app.kubernetes.io/part-of=argocd).
    assert reference.startswith("$") and ":" in reference, f"clientSecret is not a Secret reference: {reference!r}"
    name, key = reference[1:].split(":", 1)
    secret = core.read_namespaced_secret(name, ARGOCD_NAMESPACE)
    assert (secret.metadata.labels or {}).get("app.kubernetes.io/part-of") == "argocd", (
        f"Argo CD ignores Secret {name}: it lacks the label app.kubernetes.io/part-of=argocd")
    return config, base64.b64decode(secret.data[key]).decode()


def verify_rs256(token: str, jwks: dict) -> dict:
    """The claims of ``token`` after checking its RS256 signature against ``jwks``."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_b64url(header_b64))
    assert header.get("alg") == "RS256", header
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    assert keys, f"key {header.get('kid')} is not among Dex's published keys"
    numbers = rsa.RSAPublicNumbers(int.from_bytes(_b64url(keys[0]["e"]), "big"),
                                   int.from_bytes(_b64url(keys[0]["n"]), "big"))
    numbers.public_key().verify(_b64url(signature_b64), f"{header_b64}.{payload_b64}".encode(),
                                padding.PKCS1v15(), hashes.SHA256())  # raises InvalidSignature
    return json.loads(_b64url(payload_b64))


def local(url: str, base: str, issuer: str) -> str:
    """A URL Dex sent (on its public issuer) mapped onto the port-forward."""
    assert url.startswith(issuer) or url.startswith("/"), f"Dex redirected off its issuer: {url}"
    return base + (url[len(issuer):] if url.startswith(issuer) else url)


@pytest.fixture(scope="module")
def dex(e2e_platform):
    with port_forward(e2e_platform.kubeconfig, AUTH_NAMESPACE, f"svc/{DEX_SERVICE}", DEX_PORT) as base:
        yield base


def test_dex_serves_discovery_for_the_issuer_the_auth_layer_configured(e2e_platform, dex):
    config = dex_config(e2e_platform.api)
    answer = requests.get(f"{dex}/.well-known/openid-configuration", timeout=30)
    print(f"GET /.well-known/openid-configuration -> {answer.status_code}\n{answer.text}")
    assert answer.status_code == 200
    discovery = answer.json()
    assert discovery["issuer"] == config["issuer"]
    assert config["issuer"].startswith("https://dex.")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(config["issuer"] + "/"), (endpoint, discovery[endpoint])
    assert "groups" in discovery["scopes_supported"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    # The product's Authentik connector is configured (it cannot open here, Authentik does not run), the test one too.
    assert [c["id"] for c in config["connectors"]] == ["authentik", TEST_CONNECTOR]


def login(dex_base: str, issuer: str, client_id: str, redirect_uri: str, headers: dict) -> tuple:
    """Run the authorization code flow of ``client_id`` through the test connector, following Dex's redirects
    until one goes back to the client. Returns ``(code or None, last response, trail of requests)``."""
    state = secrets.token_urlsafe(16)
    url = f"{dex_base}/auth?" + urllib.parse.urlencode({
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": "openid profile email groups", "state": state, "connector_id": TEST_CONNECTOR})
    trail = []
    for _hop in range(10):
        answer = requests.get(url, headers=headers, allow_redirects=False, timeout=30)
        trail.append(f"GET {url.replace(dex_base, '')} -> {answer.status_code} {answer.headers.get('Location', '')}")
        if answer.status_code not in (302, 303):
            return None, answer, trail
        location = answer.headers["Location"]
        if location.startswith(redirect_uri):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
            assert query.get("state") == [state], location
            return query.get("code", [None])[0], answer, trail
        url = local(location, dex_base, issuer)
    raise AssertionError("Dex never redirected back to the client:\n" + "\n".join(trail))


def logged_in(dex_base: str, issuer: str, client_id: str, redirect_uri: str, headers: dict) -> str:
    code, answer, trail = login(dex_base, issuer, client_id, redirect_uri, headers)
    print("\n".join(trail))
    assert code, "\n".join(trail) + "\n" + answer.text[:2000]
    return code


def test_dex_issues_an_id_token_with_the_users_groups_to_argocds_client(e2e_platform, dex):
    api = e2e_platform.api
    config = dex_config(api)
    issuer = config["issuer"]
    oidc, client_secret = argocd_oidc(api)
    client_id = oidc["clientID"]
    (client,) = [c for c in config["staticClients"] if c["id"] == client_id]
    redirect_uri = client["redirectURIs"][0]
    assert redirect_uri.endswith("/auth/callback"), redirect_uri

    headers = {USER_HEADER: TEST_USER, EMAIL_HEADER: TEST_EMAIL, GROUPS_HEADER: ", ".join(TEST_GROUPS)}
    code = logged_in(dex, issuer, client_id, redirect_uri, headers)
    answer = requests.post(f"{dex}/token", auth=(client_id, client_secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    jwks = requests.get(f"{dex}/keys", timeout=30).json()
    claims = verify_rs256(tokens["id_token"], jwks)
    print("ID token claims:", json.dumps(claims, indent=2, sort_keys=True))
    assert claims["iss"] == issuer
    assert claims["aud"] == client_id or client_id in claims["aud"]
    assert claims["email"] == TEST_EMAIL and claims["email_verified"] is True
    assert claims["name"] == TEST_USER
    # The groups claim Argo CD maps (argocd_oidc_groups_claim / requestedIDTokenClaims) carries the user's groups.
    groups_claim = next(iter(oidc.get("requestedIDTokenClaims", {"groups": {}})))
    assert claims[groups_claim] == TEST_GROUPS

    # Argo CD's RBAC maps exactly these names (the auth layer's groups): each has a "g, <group>, <role>" line.
    rbac = k8s.CoreV1Api(api).read_namespaced_config_map("argocd-rbac-cm", ARGOCD_NAMESPACE).data
    mapped = {line.split(",")[1].strip() for line in rbac["policy.csv"].splitlines() if line.startswith("g,")}
    assert set(TEST_GROUPS) <= mapped, (TEST_GROUPS, sorted(mapped))
    assert rbac.get("scopes") == f"[{groups_claim}]"

    # The code is single-use, and a wrong client secret is refused.
    again = requests.post(f"{dex}/token", auth=(client_id, client_secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    fresh = logged_in(dex, issuer, client_id, redirect_uri, headers)
    wrong = requests.post(f"{dex}/token", auth=(client_id, client_secret + "x"), timeout=30, data={
        "grant_type": "authorization_code", "code": fresh, "redirect_uri": redirect_uri})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client", wrong.text


def test_dex_refuses_a_login_without_the_user(e2e_platform, dex):
    """The test connector is no open door: without the user header Dex issues no code and says why."""
    config = dex_config(e2e_platform.api)
    (client,) = [c for c in config["staticClients"] if c["id"] == "argocd"]
    code, answer, trail = login(dex, config["issuer"], "argocd", client["redirectURIs"][0], {})
    print("\n".join(trail), "\n", answer.status_code, answer.text[:1000])
    assert code is None
    assert answer.status_code >= 400
    assert "Failed to authenticate" in answer.text or USER_HEADER in answer.text, answer.text[:2000]


def test_argocd_settings_api_shows_the_oidc_configuration_the_auth_layer_wrote(e2e_platform):
    api = e2e_platform.api
    config = dex_config(api)
    oidc, client_secret = argocd_oidc(api)
    with port_forward(e2e_platform.kubeconfig, ARGOCD_NAMESPACE, f"svc/{ARGOCD_SERVICE}", ARGOCD_PORT) as base:
        answer = requests.get(f"{base}/api/v1/settings", timeout=30)
    print(f"GET /api/v1/settings -> {answer.status_code}\n{answer.text}")
    assert answer.status_code == 200
    settings = answer.json()
    served = settings["oidcConfig"]
    # What argocd-server serves is what the auth layer published: Dex's issuer and Argo CD's client at Dex.
    assert served["issuer"] == config["issuer"] == oidc["issuer"]
    assert served["clientID"] == "argocd" == oidc["clientID"]
    assert [c["id"] for c in config["staticClients"]].count(served["clientID"]) == 1
    assert served["scopes"] == ["openid", "profile", "email", "groups"]
    assert served.get("idTokenClaims", {}).get("groups", {}).get("essential") is True, served
    # Dex sends the browser back to this Argo CD: its registered redirect URI is under the URL Argo CD announces.
    (client,) = [c for c in config["staticClients"] if c["id"] == served["clientID"]]
    assert f"{settings['url']}/auth/callback" in client["redirectURIs"], (settings["url"], client["redirectURIs"])
    # The secret never leaves the cluster through the API.
    assert client_secret not in answer.text and "clientSecret" not in answer.text
