# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names, labels and defaults of everything one RepoBinding owns (aphex-reference.md §7, bugs of §12 fixed).

Every object carries the owner labels (kind RepoBinding, the binding's name and namespace), so pruning and
offboarding find exactly this binding's objects by label, and ``platform.aphex/pipeline``, so anything labelled
for the pipeline (Argo CD Applications included) can be verified gone.
"""

from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import FIELD_MANAGER
from ansible_collections.aphex.platform.plugins.module_utils.organization import naming as org_naming

API_VERSION = "aphex.io/v1alpha1"
KIND = "RepoBinding"
FINALIZER = "platform.aphex/repobinding-finalizer"

PIPELINE_API_VERSION = "tekton.dev/v1"
TRIGGERS_API_VERSION = "triggers.tekton.dev/v1beta1"
ARGOCD_API_VERSION = "argoproj.io/v1alpha1"
RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"

RUNNER_SA = "pipeline-runner"
RUNNER_ROLE = "pipeline-runner"
ARGOCD_ROLE = "argocd-applications"
ARGOCD_BINDING = "pipeline-runner-argocd"
LISTENER_ROLE = "eventlistener-pipelineruns"
QUOTA_NAME = "pipeline-quota"
LIMIT_RANGE_NAME = "pipeline-limits"

DEFAULT_ARGOCD_NAMESPACE = "argocd"
DEFAULT_CATALOG_NAMESPACE = "pipeline-catalog"
DEFAULT_BRANCHES = ("main",)
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"

# Dispatcher templates built in (reference §9.1); any other templateRef must name a TriggerTemplate that
# exists in the organization's namespace.
BUILTIN_TEMPLATES = ("run-pipeline-v1",)

# The pre-hardening reference values (§7.4), overridable per binding through spec.quotas / spec.limits.
DEFAULT_QUOTAS = {
    "requests.cpu": "4",
    "limits.cpu": "8",
    "requests.memory": "8Gi",
    "limits.memory": "16Gi",
    "persistentvolumeclaims": "5",
    "pods": "20",
}
DEFAULT_LIMITS = {
    "default": {"cpu": "500m", "memory": "512Mi"},
    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
    "max": {"cpu": "2", "memory": "4Gi"},
    "min": {"cpu": "50m", "memory": "64Mi"},
}
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
DEFAULT_NETWORK = {
    "dnsNamespace": "kube-system",
    # Git over HTTPS and SSH to public addresses; set cidrs (and except: []) for an in-house git server.
    "gitEgress": {"cidrs": ["0.0.0.0/0"], "except": list(PRIVATE_RANGES), "ports": [443, 22]},
}

LABEL_OWNER_KIND = org_naming.LABEL_OWNER_KIND
LABEL_OWNER_NAME = org_naming.LABEL_OWNER_NAME
LABEL_OWNER_NAMESPACE = "platform.aphex/owner-namespace"
LABEL_PIPELINE = "platform.aphex/pipeline"
LABEL_REF_ORG = org_naming.LABEL_REF_ORG  # what the organization's trigger group selects Triggers by
LABEL_ORG = org_naming.LABEL_ORG  # namespaces of an org: its ClusterSecretStore serves them
LABEL_REF_MANAGED_BY = org_naming.LABEL_REF_MANAGED_BY
LABEL_MANAGED_BY = org_naming.LABEL_MANAGED_BY
LABEL_REPO = "platform.aphex/repo"

PSS_RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def org_namespace(org: str) -> str:
    return org_naming.namespace_name(org)


def default_binding_namespace(org: str) -> str:
    """Where a team's RepoBinding lives by default: its organization's namespace."""
    return org_naming.namespace_name(org)


def trigger_name(pipeline: str) -> str:
    return f"{pipeline}-trigger"


def trigger_template_name(pipeline: str) -> str:
    return f"{pipeline}-trigger-template"


def cluster_role_name(pipeline: str) -> str:
    return f"pipeline-runner-{pipeline}"


def listener_binding_name(org: str) -> str:
    return f"eventlistener-{org}"


def repo_full_name(spec: dict) -> str:
    return f"{spec['repoOrg']}/{spec['repoName']}"


def repo_urls(spec: dict) -> list:
    base = f"https://github.com/{repo_full_name(spec)}"
    return [base, f"{base}.git"]


def owner_labels(name: str, namespace: str) -> dict:
    return {LABEL_OWNER_KIND: KIND, LABEL_OWNER_NAME: name, LABEL_OWNER_NAMESPACE: namespace}


def owner_selector(name: str, namespace: str) -> str:
    """Label selector for everything this module created for the RepoBinding ``namespace/name``."""
    return ",".join(f"{key}={value}" for key, value in owner_labels(name, namespace).items())


def pipeline_selector(pipeline: str) -> str:
    return f"{LABEL_PIPELINE}={pipeline}"


def labels(name: str, namespace: str, spec: dict) -> dict:
    """The labels of every object of the binding ``namespace/name``."""
    return {
        **owner_labels(name, namespace),
        LABEL_PIPELINE: spec["pipelineName"],
        LABEL_REF_ORG: spec["aphexOrg"],
        LABEL_REPO: f"{spec['repoOrg']}.{spec['repoName']}"[:63].rstrip("-_."),
        LABEL_REF_MANAGED_BY: "repobinding-controller",
        LABEL_MANAGED_BY: FIELD_MANAGER,
    }
