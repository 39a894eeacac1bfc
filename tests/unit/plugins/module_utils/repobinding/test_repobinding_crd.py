# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's RepoBinding and KnowledgeBase CRDs only add optional fields to the reference CRDs.

``fixtures/reference_*.yaml`` are verbatim copies of the reference (shared/upstream/aphex/, sha256 below); with
the upstream mirror (``APHEX_UPSTREAM_MIRROR``) the copies are compared with it. The subset check is the one
the Organization CRD's test uses.
"""

from __future__ import annotations

import copy
import hashlib
import os

import jsonschema
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.repobinding import status
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.organization.test_crd import (
    crd_problems,
    json_schema,
    load,
    version,
)
from ansible_collections.aphex.platform.tests.unit.plugins.module_utils.repobinding.support import SPEC

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
CRDS = os.path.join(ROOT, "roles", "organization", "files", "crds")
CASES = {
    "repobindings": "e402e19b53d7227276811703b732d772f1ff82ba67a0ead4ae7d6d7e0f3e33cf",
    "knowledgebases": "2886a27f9fc9bd8271d626891e8d148a325f1b670feeefce955df62b73401b91",
}


def reference(plural):
    return os.path.join(HERE, "fixtures", f"reference_aphex.io_{plural}.yaml")


def ours(plural):
    return os.path.join(CRDS, f"aphex.io_{plural}.yaml")


def schema(path):
    return json_schema(version(load(path))["schema"]["openAPIV3Schema"])


@pytest.mark.parametrize("plural", sorted(CASES))
def test_reference_fixture_is_the_verbatim_reference(plural):
    with open(reference(plural), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == CASES[plural]


@pytest.mark.parametrize("plural", sorted(CASES))
def test_reference_fixture_is_the_mirror_copy(plural, upstream_mirror):
    with open(os.path.join(upstream_mirror, "aphex", f"aphex.io_{plural}.yaml"), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == CASES[plural]


@pytest.mark.parametrize("plural", sorted(CASES))
def test_upstream_schema_is_a_subset_of_ours(plural):
    assert crd_problems(load(reference(plural)), load(ours(plural))) == []


def test_our_additions_are_the_documented_optional_fields():
    mine = version(load(ours("repobindings")))["schema"]["openAPIV3Schema"]["properties"]
    ref = version(load(reference("repobindings")))["schema"]["openAPIV3Schema"]["properties"]
    assert set(mine["spec"]["properties"]) - set(ref["spec"]["properties"]) == \
        {"branches", "catalogPipeline", "quotas", "limits", "network"}
    assert set(mine["status"]["properties"]) - set(ref["status"]["properties"]) == \
        {"conditions", "observedGeneration", "pipelineNamespace"}
    mine = version(load(ours("knowledgebases")))["schema"]["openAPIV3Schema"]["properties"]
    ref = version(load(reference("knowledgebases")))["schema"]["openAPIV3Schema"]["properties"]
    assert mine["spec"] == ref["spec"]
    assert set(mine["status"]["properties"]) - set(ref["status"]["properties"]) == {"conditions", "observedGeneration"}


def test_the_subset_check_catches_an_incompatible_change():
    changed = load(ours("repobindings"))
    version(changed)["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["repoOrg"]["pattern"] = "^x$"
    assert crd_problems(load(reference("repobindings")), changed) == [
        ".spec.repoOrg: constraints differ: {'pattern': '^[a-zA-Z0-9-]+$', 'type': 'string'} != "
        "{'pattern': '^x$', 'type': 'string'}"]


def aphex_style_binding():
    """A RepoBinding as the reference's users wrote it: upstream fields only, status from the old controller."""
    return {"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
            "metadata": {"name": "tenant-test", "namespace": "org-acme"},
            "spec": {"aphexOrg": "acme", "repoOrg": "bdchatham", "repoName": "test-repo",
                     "pipelineName": "tenant-test", "templateRef": "run-pipeline-v1",
                     "pipelineSpec": "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks: []\n"},
            "status": {"phase": "Ready", "namespaceCreated": True, "webhookURL": "https://bdchatham.arbiter-dev.com",
                       "webhookSecret": "s", "lastReconcileTime": "2026-01-01T00:00:00Z"}}


def test_an_object_valid_for_the_reference_is_valid_for_ours():
    for path in (reference("repobindings"), ours("repobindings")):
        jsonschema.validate(aphex_style_binding(), schema(path))


def test_what_the_module_writes_is_valid_for_our_crd_and_the_reference_rejects_other_phases():
    record = {"apiVersion": "aphex.io/v1alpha1", "kind": "RepoBinding",
              "metadata": {"name": "payments", "namespace": "org-acme"},
              "spec": {**SPEC, "branches": ["main"], "quotas": {"pods": 40}, "limits": {"max": {"cpu": "2"}},
                       "network": {"dnsNamespace": "kube-system", "gitEgress": {"cidrs": ["0.0.0.0/0"], "ports": [443]}},
                       "catalogPipeline": {"name": "cdktf-deploy", "namespace": "pipeline-catalog"}}}
    for error, invalid in ((None, False), ("spec.repoOrg: bad", True), ("Failed to apply", False)):
        record["status"] = status.binding_status(SPEC, 3, "2026-01-01T00:00:00Z", "https://acme.hooks.example.com",
                                                 error=error, invalid=invalid)
        jsonschema.validate(record, schema(ours("repobindings")))
    broken = copy.deepcopy(record)
    broken["status"]["phase"] = "Active"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema(ours("repobindings")))
