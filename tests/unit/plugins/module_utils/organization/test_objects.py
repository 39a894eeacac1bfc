"""The desired objects of one organization, built from a spec with no API call."""

from __future__ import annotations

import base64
import copy
import json
import re

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.organization import naming, objects
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import normalize_organization

SECRET = "0123456789abcdef" * 4
TUNNEL = {"id": "c1744f8b-faa1-48a4-9e5c-02ac921467fa", "token": "eyJhIjoiYWNjb3VudCJ9"}


def spec(**changes):
    return normalize_organization({"name": "acme", "display_name": "Acme Corp",
                                   "admin_users": ["alice@acme.example", "Bob@Acme.Example"],
                                   "domain": "hooks.example.com", **changes})


def build(tunnel="default", settings=None, **changes):
    return objects.desired_objects(spec(**changes), SECRET, TUNNEL if tunnel == "default" else tunnel, settings)


def find(objs, kind, name):
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} matches"
    return matches[0]


def kinds_and_names(objs):
    return [(o["kind"], o["metadata"]["name"]) for o in objs]


def test_building_is_deterministic_and_does_not_touch_its_input():
    original = spec()
    frozen = copy.deepcopy(original)
    first = objects.desired_objects(original, SECRET, TUNNEL)
    assert objects.desired_objects(original, SECRET, TUNNEL) == first
    assert original == frozen


@pytest.mark.parametrize("exposure, extra", [
    ("cloudflare", [("NetworkPolicy", "allow-cloudflared-egress"), ("NetworkPolicy", "allow-cloudflared-to-eventlistener"),
                    ("Secret", "cloudflared-tunnel-token"), ("Deployment", "cloudflared-acme")]),
    ("ingress", [("NetworkPolicy", "allow-ingress-controller-to-eventlistener"), ("Ingress", "github-webhook")]),
    ("none", []),
])
def test_objects_per_exposure(exposure, extra):
    objs = build(exposure=exposure, ingress_host="webhooks.example.com")
    common = [
        ("Organization", "acme"), ("Namespace", "org-acme"), ("ResourceQuota", "org-quota"),
        ("LimitRange", "org-limits"), ("NetworkPolicy", "default-deny-all"), ("NetworkPolicy", "allow-dns-egress"),
        ("NetworkPolicy", "allow-eventlistener-egress"), ("Secret", "github-webhook-secret"),
        ("ServiceAccount", "eso-secrets-reader"), ("Role", "eso-secrets-reader"), ("RoleBinding", "eso-secrets-reader"),
        ("ClusterSecretStore", "org-acme-store"), ("Role", "organization-admin"),
        ("RoleBinding", naming.admin_binding_name("alice@acme.example")),
        ("RoleBinding", naming.admin_binding_name("Bob@Acme.Example")),
        ("ServiceAccount", "eventlistener"), ("Role", "eventlistener"), ("RoleBinding", "eventlistener"),
        ("ClusterRoleBinding", "eventlistener-acme"), ("TriggerBinding", "github-push-binding"),
        ("EventListener", "github-listener"),
    ]
    got = kinds_and_names(objs)
    # Network policies come before anything that runs pods; the extras land in their group.
    assert sorted(got) == sorted(common + extra)
    assert got[:4] == common[:4]
    assert got.index(("Secret", "github-webhook-secret")) > max(i for i, o in enumerate(got) if o[0] == "NetworkPolicy")


def test_every_object_carries_the_org_and_owner_labels_and_lives_where_expected():
    for obj in build():
        labels = obj["metadata"]["labels"]
        assert labels[naming.LABEL_ORG] == "acme"
        assert labels["platform.aphex/organization"] == "acme"
        assert labels["platform.aphex/managed-by"] == "organization-controller"
        assert labels["platform.aphex/owner-kind"] == "Organization"
        assert labels["platform.aphex/owner-name"] == "acme"
        assert labels["app.kubernetes.io/managed-by"] == "aphex-platform"
        if obj["kind"] == "Organization":
            assert obj["metadata"]["namespace"] == "platform-system"
        elif obj["kind"] in ("Namespace", "ClusterSecretStore", "ClusterRoleBinding"):
            assert "namespace" not in obj["metadata"]
        else:
            assert obj["metadata"]["namespace"] == "org-acme"


def test_organization_record_has_no_secret_and_uses_the_crd_field_names():
    record = find(build(), "Organization", "acme")
    assert record["apiVersion"] == "aphex.io/v1alpha1"
    assert record["spec"] == {
        "displayName": "Acme Corp", "adminUsers": ["alice@acme.example", "Bob@Acme.Example"],
        "exposure": "cloudflare", "events": ["push"], "quotas": naming.DEFAULT_QUOTAS,
        "domain": "hooks.example.com"}
    assert SECRET not in json.dumps(record)
    assert find(build(settings={"platform_namespace": "aphex"}), "Organization", "acme")["metadata"]["namespace"] == "aphex"


def test_namespace_is_restricted():
    labels = find(build(), "Namespace", "org-acme")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_webhook_secret_holds_the_value_passed_in():
    secret = find(build(), "Secret", "github-webhook-secret")
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["secret"]).decode() == SECRET
    assert "stringData" not in secret


def test_external_secrets_reader_can_get_only_org_secrets():
    objs = build()
    assert find(objs, "Role", "eso-secrets-reader")["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["org-secrets"], "verbs": ["get"]}]
    binding = find(objs, "RoleBinding", "eso-secrets-reader")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "eso-secrets-reader", "namespace": "org-acme"}]
    store = find(objs, "ClusterSecretStore", "org-acme-store")
    assert store["apiVersion"] == "external-secrets.io/v1"
    assert store["spec"] == {
        "conditions": [{"namespaceSelector": {"matchLabels": {"aphex.dev/org": "acme"}}}],
        "provider": {"kubernetes": {
            "remoteNamespace": "org-acme",
            "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt",
                                      "namespace": "org-acme"}},
            "auth": {"serviceAccount": {"name": "eso-secrets-reader", "namespace": "org-acme"}}}}}


def test_one_admin_binding_per_user_with_a_stable_dns_safe_name():
    objs = build()
    bindings = [o for o in objs if o["kind"] == "RoleBinding" and o["metadata"]["name"].startswith("organization-admin-")]
    assert len(bindings) == 2
    for binding, user in zip(bindings, ["alice@acme.example", "Bob@Acme.Example"]):
        name = binding["metadata"]["name"]
        assert re.fullmatch(r"organization-admin-[0-9a-f]{10}", name)
        assert name == naming.admin_binding_name(user)
        assert binding["metadata"]["annotations"] == {"aphex.dev/admin-user": user}
        assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": "organization-admin"}
    assert naming.admin_binding_name("alice@acme.example") == "organization-admin-" + \
        __import__("hashlib").sha256(b"alice@acme.example").hexdigest()[:10]


def test_admin_role_is_namespaced_and_cannot_rewrite_what_the_module_owns():
    rules = find(build(), "Role", "organization-admin")["rules"]
    secret_rules = [r for r in rules if "secrets" in r["resources"]]
    writable = [r for r in secret_rules if set(r["verbs"]) & {"update", "patch", "delete"}]
    assert all(r.get("resourceNames") == ["org-secrets"] for r in writable)
    for rule in rules:
        if rule["apiGroups"] == [""]:
            assert "*" not in rule["resources"] and "*" not in rule["verbs"]
            assert not ({"resourcequotas", "limitranges"} & set(rule["resources"])
                        and set(rule["verbs"]) - {"get", "list", "watch"})
    repobindings = [r for r in rules if r["apiGroups"] == ["aphex.io"]]
    assert repobindings[0]["resources"] == ["repobindings"]


def test_eventlistener_rbac_binds_the_shipped_cluster_role_and_grants_no_runs_cluster_wide():
    objs = build()
    crb = find(objs, "ClusterRoleBinding", "eventlistener-acme")
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "eventlistener-access"}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "eventlistener", "namespace": "org-acme"}]
    role = find(objs, "Role", "eventlistener")
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])


def test_eventlistener_verifies_signatures_and_filters_events():
    listener = find(build(events=["push", "pull_request"]), "EventListener", "github-listener")
    assert listener["apiVersion"] == "triggers.tekton.dev/v1beta1"
    assert listener["spec"]["serviceAccountName"] == "eventlistener"
    group = listener["spec"]["triggerGroups"][0]
    interceptor = group["interceptors"][0]
    assert interceptor["ref"] == {"name": "github", "kind": "ClusterInterceptor"}
    params = {p["name"]: p["value"] for p in interceptor["params"]}
    assert params == {"secretRef": {"secretName": "github-webhook-secret", "secretKey": "secret"},
                      "eventTypes": ["push", "pull_request"]}
    assert group["triggerSelector"] == {"labelSelector": {"matchLabels": {"platform.aphex/organization": "acme"}}}


def test_trigger_namespaces_written_by_repository_bindings_are_kept():
    listener = find(build(settings={"trigger_namespaces": ["web", "api"]}), "EventListener", "github-listener")
    assert listener["spec"]["triggerGroups"][0]["triggerSelector"]["namespaceSelector"] == {"matchNames": ["web", "api"]}
    assert objects.current_trigger_namespaces(listener) == ["web", "api"]
    assert objects.current_trigger_namespaces(None) == []
    assert objects.current_trigger_namespaces({"spec": {"triggerGroups": [{"name": "other"}]}}) == []


def test_trigger_binding_maps_push_payload():
    binding = find(build(), "TriggerBinding", "github-push-binding")
    assert binding["spec"]["params"] == [{"name": "git-url", "value": "$(body.repository.clone_url)"},
                                         {"name": "git-revision", "value": "$(body.after)"}]


def test_cloudflared_is_restricted_pinned_probed_and_reads_the_token_from_a_secret():
    objs = build(settings={"cloudflared_image": "cloudflare/cloudflared:2026.8.2", "cloudflared_replicas": 3})
    token = find(objs, "Secret", "cloudflared-tunnel-token")
    assert base64.b64decode(token["data"]["token"]).decode() == TUNNEL["token"]
    deployment = find(objs, "Deployment", "cloudflared-acme")
    assert TUNNEL["token"] not in json.dumps(deployment)
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"aphex.dev/tunnel-id": TUNNEL["id"]}
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == "cloudflare/cloudflared:2026.8.2"
    assert container["args"] == ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"]
    assert container["env"] == [{"name": "TUNNEL_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "cloudflared-tunnel-token", "key": "token"}}}]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ready", "port": "metrics"}
    assert container["ports"] == [{"name": "metrics", "containerPort": 2000, "protocol": "TCP"}]
    assert set(container["resources"]) == {"requests", "limits"}


def test_cloudflare_exposure_without_a_token_cannot_be_built():
    with pytest.raises(ValueError, match="tunnel token"):
        build(tunnel=None)


def test_ingress_is_an_exact_path_on_the_shared_host():
    objs = build(exposure="ingress", ingress_host="webhooks.example.com", settings={"ingress_class_name": "public"})
    ingress = find(objs, "Ingress", "github-webhook")
    assert ingress["spec"] == {"ingressClassName": "public", "rules": [{"host": "webhooks.example.com", "http": {
        "paths": [{"path": "/acme", "pathType": "Exact", "backend": {"service": {
            "name": "el-github-listener", "port": {"number": 8080}}}}]}}]}


def test_quota_and_limits():
    quota = find(build(quotas={"pods": 40}), "ResourceQuota", "org-quota")
    assert quota["spec"]["hard"]["pods"] == "40"
    assert quota["spec"]["hard"]["limits.memory"] == "8Gi"
    limits = find(build(), "LimitRange", "org-limits")["spec"]["limits"][0]
    assert limits["type"] == "Container" and set(limits) == {"type", "default", "defaultRequest"}


def policies(objs):
    return {o["metadata"]["name"]: o["spec"] for o in objs if o["kind"] == "NetworkPolicy"}


def test_default_deny_both_ways_and_dns_for_everyone():
    pols = policies(build(exposure="none"))
    # No rule lists at all: sent as [] they would be a real write on every apply (stored as absent).
    assert pols["default-deny-all"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = pols["allow-dns-egress"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
    assert dns["egress"][0]["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    assert {(p["protocol"], p["port"]) for p in dns["egress"][0]["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_eventlistener_egress_reaches_the_api_server_and_the_interceptors():
    pols = policies(build(exposure="none", settings={"network": {"api_server_cidrs": ["10.96.0.1/32"],
                                                                 "api_server_ports": [443]}}))
    egress = pols["allow-eventlistener-egress"]
    assert egress["podSelector"] == {"matchLabels": {"eventlistener": "github-listener"}}
    assert egress["egress"][0] == {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}],
                                   "ports": [{"protocol": "TCP", "port": 443}]}
    assert egress["egress"][1]["to"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "tekton-pipelines"}}}]


def test_cloudflared_flows():
    pols = policies(build())
    egress = pols["allow-cloudflared-egress"]
    assert egress["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "cloudflared"}}
    internet, listener = egress["egress"]
    assert {(p["protocol"], p["port"]) for p in internet["ports"]} == {("TCP", 443), ("TCP", 7844), ("UDP", 7844)}
    assert "10.0.0.0/8" in internet["to"][0]["ipBlock"]["except"]
    assert listener == {"to": [{"podSelector": {"matchLabels": {"eventlistener": "github-listener"}}}],
                        "ports": [{"protocol": "TCP", "port": 8080}]}
    inbound = pols["allow-cloudflared-to-eventlistener"]
    assert inbound["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "cloudflared"}}}]
    assert "allow-ingress-controller-to-eventlistener" not in pols


def test_ingress_controller_flow():
    pols = policies(build(exposure="ingress", ingress_host="webhooks.example.com",
                          settings={"network": {"ingress_controller_namespace": "traefik"}}))
    rule = pols["allow-ingress-controller-to-eventlistener"]["ingress"][0]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}]
    assert "allow-cloudflared-egress" not in pols


@pytest.mark.parametrize("changes, url", [
    ({}, "https://acme.hooks.example.com"),
    ({"exposure": "ingress", "ingress_host": "webhooks.example.com"}, "https://webhooks.example.com/acme"),
    ({"exposure": "none"}, None),
    ({"exposure": "ingress", "ingress_host": None}, None),
])
def test_webhook_url(changes, url):
    assert naming.webhook_url(spec(**changes)) == url


def test_longest_name_fits_every_derived_name_and_label():
    name = "a" * 59
    for obj in objects.desired_objects(spec(name=name), SECRET, TUNNEL):
        assert len(obj["metadata"]["name"]) <= 253
        assert all(len(value) <= 63 for value in obj["metadata"]["labels"].values())
    assert len(naming.namespace_name(name)) == 63
