# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Kubernetes object one RepoBinding needs, built from a validated, normalised spec (no API calls).

Apply order: the pipeline namespace and its guard rails (quota, limits, network policies) before anything
that could run pods; then RBAC, the Argo CD project, the Tekton Pipeline, and last the TriggerTemplate and
Trigger in the organization's namespace, so the organization's EventListener only sees a repository once
everything it starts exists.
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.aphex.platform.plugins.module_utils.organization.objects import network_policy

from . import naming
from .webhook_filter import cel_filter

RBAC_GROUP = "rbac.authorization.k8s.io"

# What the pipeline's pods may do through the API, in their own namespace only: run pipelines and read
# what runs produce. No Secrets, no RBAC, nothing cluster-wide (SubjectAccessReviews in the integration
# target prove the negative cases).
RUNNER_RULES = [
    {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns", "taskruns"],
     "verbs": ["get", "list", "watch", "create"]},
    {"apiGroups": ["tekton.dev"], "resources": ["pipelines", "tasks"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps", "persistentvolumeclaims"],
     "verbs": ["get", "list", "watch"]},
]
# Cluster-scoped objects Tekton Triggers resolves (reference §7.4 row 4c): read only.
TRIGGERS_CLUSTER_RULES = [
    {"apiGroups": ["triggers.tekton.dev"], "resources": ["clusterinterceptors", "clustertriggerbindings"],
     "verbs": ["get", "list", "watch"]},
]
# The organization's EventListener creates this repository's PipelineRuns here, and nothing else.
LISTENER_RULES = [
    {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"], "verbs": ["create"]},
]
# Argo CD Applications in the pipeline namespace only (Argo CD's applications-in-any-namespace): the
# AppProject admits Applications from this namespace alone, so a pipeline cannot pick another project (a
# RoleBinding in the argocd namespace, as the reference had, would let it use the unrestricted 'default').
ARGOCD_RULES = [
    {"apiGroups": ["argoproj.io"], "resources": ["applications"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]
# Deployed applications must not loosen the namespace's guard rails.
ARGOCD_NAMESPACE_BLACKLIST = [
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
]
# Tekton's own containers and the user's steps both run under Pod Security 'restricted'.
RESTRICTED_POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                           "seccompProfile": {"type": "RuntimeDefault"}}


class Binding:
    """The binding being built: its object name and namespace and the normalised spec."""

    def __init__(self, name: str, namespace: str, spec: dict, argocd_namespace: str = naming.DEFAULT_ARGOCD_NAMESPACE):
        self.name = name
        self.namespace = namespace
        self.spec = spec
        self.argocd_namespace = argocd_namespace
        self.pipeline = spec["pipelineName"]
        self.org = spec["aphexOrg"]
        self.org_namespace = naming.org_namespace(self.org)

    def meta(self, name: str, namespace: str | None = None, extra_labels: dict | None = None) -> dict:
        meta = {"name": name, "labels": {**naming.labels(self.name, self.namespace, self.spec), **(extra_labels or {})}}
        if namespace:
            meta["namespace"] = namespace
        return meta


def namespace(b: Binding) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": b.meta(b.pipeline, extra_labels={naming.LABEL_ORG: b.org, **naming.PSS_RESTRICTED})}


def resource_quota(b: Binding) -> dict:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": b.meta(naming.QUOTA_NAME, b.pipeline),
            "spec": {"hard": {key: str(value) for key, value in sorted(b.spec["quotas"].items())}}}


def limit_range(b: Binding) -> dict:
    item = {"type": "Container"}
    for kind in ("default", "defaultRequest", "max", "min"):
        values = b.spec["limits"].get(kind)
        if values:
            item[kind] = {key: str(value) for key, value in sorted(values.items())}
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": b.meta(naming.LIMIT_RANGE_NAME, b.pipeline),
            "spec": {"limits": [item]}}


def _netpol(b: Binding, name: str, ingress=None, egress=None) -> dict:
    return network_policy(b.meta(name, b.pipeline), {}, ingress, egress)


def network_policies(b: Binding) -> list:
    """Deny everything in both directions; allow DNS and git egress (configurable) only."""
    network = b.spec["network"]
    git = network["gitEgress"]
    policies = [
        _netpol(b, "default-deny-all", ingress=[], egress=[]),
        _netpol(b, "allow-dns-egress", egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": network["dnsNamespace"]}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
    ]
    if git["cidrs"] and git["ports"]:
        blocks = []
        for cidr in git["cidrs"]:
            block = {"cidr": cidr}
            inside = [e for e in git.get("except") or [] if _within(e, cidr)]
            if inside:
                block["except"] = inside
            blocks.append({"ipBlock": block})
        policies.append(_netpol(b, "allow-git-egress", egress=[{
            "to": blocks, "ports": [{"protocol": "TCP", "port": port} for port in git["ports"]]}]))
    return policies


def _within(inner: str, outer: str) -> bool:
    small, large = ipaddress.ip_network(inner), ipaddress.ip_network(outer)
    return small.version == large.version and small.subnet_of(large) and small != large


def _role(b: Binding, name: str, namespace: str, rules: list) -> dict:
    return {"apiVersion": naming.RBAC_API_VERSION, "kind": "Role", "metadata": b.meta(name, namespace),
            "rules": copy.deepcopy(rules)}


def _binding(b: Binding, kind: str, name: str, namespace: str | None, role_kind: str, role: str,
             subjects: list) -> dict:
    return {"apiVersion": naming.RBAC_API_VERSION, "kind": kind, "metadata": b.meta(name, namespace),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role}, "subjects": subjects}


def rbac(b: Binding) -> list:
    runner = [{"kind": "ServiceAccount", "name": naming.RUNNER_SA, "namespace": b.pipeline}]
    listener = [{"kind": "ServiceAccount", "name": "eventlistener", "namespace": b.org_namespace}]
    cluster_role = naming.cluster_role_name(b.pipeline)
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": b.meta(naming.RUNNER_SA, b.pipeline)},
        _role(b, naming.RUNNER_ROLE, b.pipeline, RUNNER_RULES),
        _binding(b, "RoleBinding", naming.RUNNER_ROLE, b.pipeline, "Role", naming.RUNNER_ROLE, runner),
        {"apiVersion": naming.RBAC_API_VERSION, "kind": "ClusterRole", "metadata": b.meta(cluster_role),
         "rules": copy.deepcopy(TRIGGERS_CLUSTER_RULES)},
        _binding(b, "ClusterRoleBinding", cluster_role, None, "ClusterRole", cluster_role, runner),
        _role(b, naming.LISTENER_ROLE, b.pipeline, LISTENER_RULES),
        _binding(b, "RoleBinding", naming.listener_binding_name(b.org), b.pipeline, "Role", naming.LISTENER_ROLE,
                 listener),
        _role(b, naming.ARGOCD_ROLE, b.pipeline, ARGOCD_RULES),
        _binding(b, "RoleBinding", naming.ARGOCD_BINDING, b.pipeline, "Role", naming.ARGOCD_ROLE, runner),
    ]


def app_project(b: Binding) -> dict:
    destinations = [{"server": naming.IN_CLUSTER_SERVER, "namespace": ns} for ns in (b.pipeline, f"{b.pipeline}-*")]
    return {
        "apiVersion": naming.ARGOCD_API_VERSION,
        "kind": "AppProject",
        "metadata": b.meta(b.pipeline, b.argocd_namespace),
        "spec": {
            "description": f"Repository {naming.repo_full_name(b.spec)} of organization {b.org}",
            "sourceRepos": naming.repo_urls(b.spec),
            "destinations": destinations,
            "sourceNamespaces": [b.pipeline],
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": copy.deepcopy(ARGOCD_NAMESPACE_BLACKLIST),
        },
    }


def pipeline(b: Binding, parsed: dict) -> dict:
    """The Tekton Pipeline from the parsed pipelineSpec: its spec, its labels and annotations under ours."""
    meta = b.meta(b.pipeline, b.pipeline)
    meta["labels"] = {**parsed["metadata"].get("labels", {}), **meta["labels"]}
    if parsed["metadata"].get("annotations"):
        meta["annotations"] = dict(parsed["metadata"]["annotations"])
    return {"apiVersion": naming.PIPELINE_API_VERSION, "kind": "Pipeline", "metadata": meta,
            "spec": copy.deepcopy(parsed["spec"])}


def pipeline_ref(b: Binding) -> dict:
    catalog = b.spec.get("catalogPipeline")
    if not catalog:
        return {"name": b.pipeline}
    return {"resolver": "cluster", "params": [
        {"name": "kind", "value": "pipeline"},
        {"name": "name", "value": catalog["name"]},
        {"name": "namespace", "value": catalog["namespace"]},
    ]}


TEMPLATE_PARAMS = [
    ("git-url", "Clone URL of the repository", None),
    ("git-revision", "Commit that was pushed", None),
    ("repo-full-name", "owner/name of the repository", None),
    ("event-type", "X-GitHub-Event", None),
    ("event-id", "X-GitHub-Delivery", None),
    ("pipeline-name", "Pipeline to run", None),
    ("pipeline-namespace", "Namespace of the PipelineRun", None),
    ("org-name", "Aphex organization", ""),
    ("triggered-at", "When the repository was pushed", ""),
]


def trigger_template(b: Binding) -> dict:
    """The dispatcher template run-pipeline-v1 (reference §9.1) for this repository's pipeline."""
    params = []
    for name, description, default in TEMPLATE_PARAMS:
        param = {"name": name, "description": description}
        if default is not None:
            param["default"] = default
        params.append(param)
    run = {
        "apiVersion": naming.PIPELINE_API_VERSION,
        "kind": "PipelineRun",
        "metadata": {
            "generateName": f"{b.pipeline}-",
            "namespace": b.pipeline,
            "labels": {"platform.aphex/triggered": "true", naming.LABEL_PIPELINE: b.pipeline,
                       "platform.aphex/event-type": "$(tt.params.event-type)",
                       "platform.aphex/event-id": "$(tt.params.event-id)"},
        },
        "spec": {
            "pipelineRef": pipeline_ref(b),
            "params": [
                {"name": "git-url", "value": "$(tt.params.git-url)"},
                {"name": "git-revision", "value": "$(tt.params.git-revision)"},
                {"name": "repo-full-name", "value": ["$(tt.params.repo-full-name)"]},
                {"name": "event-type", "value": "$(tt.params.event-type)"},
                {"name": "event-id", "value": "$(tt.params.event-id)"},
                {"name": "triggered-at", "value": "$(tt.params.triggered-at)"},
                {"name": "org-name", "value": "$(tt.params.org-name)"},
            ],
            "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}],
            "taskRunTemplate": {"serviceAccountName": naming.RUNNER_SA,
                                "podTemplate": {"securityContext": copy.deepcopy(RESTRICTED_POD_SECURITY)}},
            "timeouts": {"pipeline": "1h0m0s"},
        },
    }
    return {
        "apiVersion": naming.TRIGGERS_API_VERSION,
        "kind": "TriggerTemplate",
        "metadata": b.meta(naming.trigger_template_name(b.pipeline), b.org_namespace,
                           {"platform.aphex/template-version": "v1"}),
        "spec": {"params": params, "resourcetemplates": [run]},
    }


def template_name(b: Binding) -> str:
    ref = b.spec["templateRef"]
    return naming.trigger_template_name(b.pipeline) if ref in naming.BUILTIN_TEMPLATES else ref


def trigger(b: Binding) -> dict:
    """The repository's Trigger, selected by the organization's EventListener through the organization label;
    the EventListener's github interceptor has already checked the signature and the event type."""
    full_name = naming.repo_full_name(b.spec)
    return {
        "apiVersion": naming.TRIGGERS_API_VERSION,
        "kind": "Trigger",
        "metadata": b.meta(naming.trigger_name(b.pipeline), b.org_namespace),
        "spec": {
            "interceptors": [{
                "name": "repository-and-branch",
                "ref": {"name": "cel", "kind": "ClusterInterceptor"},
                "params": [{"name": "filter", "value": cel_filter(full_name, list(b.spec["branches"]))}],
            }],
            "bindings": [
                {"ref": "github-push-binding"},
                {"name": "pipeline-name", "value": b.pipeline},
                {"name": "pipeline-namespace", "value": b.pipeline},
                {"name": "org-name", "value": b.org},
                {"name": "repo-full-name", "value": full_name},
                {"name": "event-type", "value": "$(header.X-Github-Event)"},
                {"name": "event-id", "value": "$(header.X-Github-Delivery)"},
                {"name": "triggered-at", "value": "$(body.repository.pushed_at)"},
            ],
            "template": {"ref": template_name(b)},
        },
    }


def desired_objects(b: Binding, parsed_pipeline: dict | None) -> list:
    """All objects of the binding in apply order; ``parsed_pipeline`` from validation.parse_pipeline (None
    with catalogPipeline)."""
    objects = [namespace(b), resource_quota(b), limit_range(b), *network_policies(b), *rbac(b), app_project(b)]
    if not b.spec.get("catalogPipeline"):
        objects.append(pipeline(b, parsed_pipeline))
    if b.spec["templateRef"] in naming.BUILTIN_TEMPLATES:
        objects.append(trigger_template(b))
    objects.append(trigger(b))
    return objects
