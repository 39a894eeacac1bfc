# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the repobinding tests: the adapter's in-memory API server with the kinds a binding uses, an
organization that is Ready, and a runner for the module's main()."""

from __future__ import annotations

import copy
from unittest import mock

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.modules import repobinding
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.fake_k8s import (
    DEFAULT_KINDS,
    FakeK8sClient,
    FakeResource,
)

BINDING_KINDS = {
    ("aphex.io/v1alpha1", "RepoBinding"), ("tekton.dev/v1", "Pipeline"),
    ("triggers.tekton.dev/v1beta1", "TriggerTemplate"), ("triggers.tekton.dev/v1beta1", "Trigger"),
    ("argoproj.io/v1alpha1", "AppProject"), ("argoproj.io/v1alpha1", "Application"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
}

PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: ignored
  labels: {team: payments}
spec:
  params:
    - {name: git-url, type: string}
    - {name: repo-full-name, type: array}
  workspaces:
    - name: source
  tasks:
    - name: clone
      taskRef: {name: git-clone}
      workspaces: [{name: output, workspace: source}]
    - name: test
      runAfter: [clone]
      taskSpec:
        steps:
          - {name: test, image: "busybox:1.36", script: "true"}
"""

SPEC = {"aphexOrg": "acme", "repoOrg": "acme-corp", "repoName": "payments", "pipelineName": "acme-payments",
        "templateRef": "run-pipeline-v1", "pipelineSpec": PIPELINE}


class ProbingResource(FakeResource):
    """A resource whose create() answers the server-side dry run the module probes the Pipeline with."""

    def __init__(self, owner, api_version, kind):
        super().__init__(api_version, kind)
        self.owner = owner

    def create(self, body=None, namespace=None, dry_run=None):
        self.owner.calls.append(("create", self.kind, body["metadata"]["name"], namespace, dry_run == "All"))
        exc = self.owner.fail_on.get(("create", self.kind, body["metadata"]["name"]))
        if exc:
            raise exc
        return body


class BindingCluster(FakeK8sClient):
    """The adapter's fake API server plus the binding's kinds, dry-run create and merge patch."""

    def __init__(self, **kwargs):
        super().__init__(kinds=DEFAULT_KINDS | BINDING_KINDS, **kwargs)

    def resource(self, kind, api_version):
        super().resource(kind, api_version)
        return ProbingResource(self, api_version, kind)

    def patch(self, resource, definition, name=None, namespace=None, **params):
        self.calls.append(("patch", resource.kind, name, namespace, self.dry_run))
        key = self.key(resource.group_version, resource.kind, name, namespace)
        obj = self.store[key]
        if not self.dry_run:
            if "finalizers" in definition.get("metadata", {}):
                obj["metadata"]["finalizers"] = list(definition["metadata"]["finalizers"])
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
                del self.store[key]
        return obj

    def delete(self, resource, name=None, namespace=None, **params):
        key = self.key(resource.group_version, resource.kind, name, namespace)
        obj = self.store.get(key)
        if resource.kind == "RepoBinding" and obj and obj["metadata"].get("finalizers") and not self.dry_run:
            self.calls.append(("delete", resource.kind, name, namespace, False))
            obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
            return obj
        return super().delete(resource, name=name, namespace=namespace, **params)

    def mutating_calls(self):
        return [c for c in self.calls if c[0] in ("apply", "delete", "status", "patch") and not c[-1]]

    def labelled(self, selector: str) -> list:
        wanted = dict(part.split("=", 1) for part in selector.split(","))
        return sorted((k[1], k[2], k[3]) for k, v in self.store.items()
                      if all((v["metadata"].get("labels") or {}).get(a) == b for a, b in wanted.items()))


def organization(name="acme", phase="Ready", owners=("acme-corp",), url="https://acme.hooks.example.com"):
    record = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization",
              "metadata": {"name": name, "namespace": "platform-system"},
              "spec": {"displayName": name, "adminUsers": [f"a@{name}.example"]},
              "status": {"phase": phase, "webhookURL": url}}
    if owners is not None:
        record["spec"]["githubOwners"] = list(owners)
    return record


@pytest.fixture
def cluster():
    client = BindingCluster()
    for ns in ("platform-system", "org-acme", "argocd", "pipeline-catalog"):
        client.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    client.put(organization())
    return client


@pytest.fixture
def run(cluster):
    def _run(args, check_mode=False, diff=False, client=None):
        client = client or cluster
        client.dry_run = check_mode
        with mock.patch.object(AphexK8sModule, "client", new_callable=mock.PropertyMock, return_value=client):
            return run_module(repobinding.main, copy.deepcopy(args), check_mode=check_mode, diff=diff)
    return _run
