"""The collection's Organization CRD only adds optional fields to the reference CRD.

``fixtures/reference_aphex.io_organizations.yaml`` is a verbatim copy of the reference
(shared/upstream/aphex/aphex.io_organizations.yaml, sha256 below); with the upstream mirror
(``APHEX_UPSTREAM_MIRROR``) the copy is compared with it.
"""

from __future__ import annotations

import copy
import hashlib
import os

import jsonschema
import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.organization import objects, status
from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import normalize_organization

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
OURS = os.path.join(ROOT, "roles", "organization", "files", "crds", "aphex.io_organizations.yaml")
REFERENCE = os.path.join(HERE, "fixtures", "reference_aphex.io_organizations.yaml")
REFERENCE_SHA256 = "51f0e315a3d90b5b00e545fed94899189582bd55c65abd1fd89c4eaacccd57b7"
MIRROR_CRD = os.path.join("aphex", "aphex.io_organizations.yaml")

# Keys that only describe; everything else on a schema node constrains values.
DESCRIPTIVE = {"description"}
STRUCTURAL = {"properties", "items", "required", "additionalProperties"}


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def version(crd, name="v1alpha1"):
    return next(v for v in crd["spec"]["versions"] if v["name"] == name)


def schema_problems(reference: dict, ours: dict, path: str = "") -> list:
    """Where ``ours`` could reject (or prune) an object that ``reference`` accepts."""
    problems = []
    ref_constraints = {k: v for k, v in reference.items() if k not in DESCRIPTIVE | STRUCTURAL}
    our_constraints = {k: v for k, v in ours.items() if k not in DESCRIPTIVE | STRUCTURAL}
    if ref_constraints != our_constraints:
        problems.append(f"{path or '<root>'}: constraints differ: {ref_constraints} != {our_constraints}")
    if sorted(reference.get("required", [])) != sorted(ours.get("required", [])):
        problems.append(f"{path or '<root>'}: required differs: {reference.get('required')} != {ours.get('required')}")
    for name, sub in (reference.get("properties") or {}).items():
        if name not in (ours.get("properties") or {}):
            problems.append(f"{path}.{name}: missing")
        else:
            problems.extend(schema_problems(sub, ours["properties"][name], f"{path}.{name}"))
    for key in ("items", "additionalProperties"):
        if key in reference:
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
            elif isinstance(reference[key], dict):
                problems.extend(schema_problems(reference[key], ours[key], f"{path}.{key}"))
    return problems


def crd_problems(reference: dict, ours: dict) -> list:
    problems = []
    for key in ("group", "names", "scope"):
        if reference["spec"][key] != ours["spec"][key]:
            problems.append(f"spec.{key} differs")
    if reference["metadata"]["name"] != ours["metadata"]["name"]:
        problems.append("metadata.name differs")
    for ref_version in reference["spec"]["versions"]:
        our_version = version(ours, ref_version["name"])
        for key in ("served", "storage", "subresources", "additionalPrinterColumns"):
            if ref_version.get(key) != our_version.get(key):
                problems.append(f"{ref_version['name']}.{key} differs")
        problems.extend(schema_problems(ref_version["schema"]["openAPIV3Schema"],
                                        our_version["schema"]["openAPIV3Schema"]))
    return problems


def json_schema(node):
    """A structural CRD schema as JSON Schema (drop the x-kubernetes-* annotations)."""
    if isinstance(node, dict):
        return {k: json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    return node


def test_reference_fixture_is_the_verbatim_reference():
    with open(REFERENCE, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == REFERENCE_SHA256


def test_reference_fixture_is_the_mirror_copy(upstream_mirror):
    with open(os.path.join(upstream_mirror, MIRROR_CRD), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == REFERENCE_SHA256


def test_upstream_schema_is_a_subset_of_ours():
    assert crd_problems(load(REFERENCE), load(OURS)) == []


def test_our_additions_are_the_documented_optional_fields():
    ours = version(load(OURS))["schema"]["openAPIV3Schema"]["properties"]
    ref = version(load(REFERENCE))["schema"]["openAPIV3Schema"]["properties"]
    assert set(ours["spec"]["properties"]) - set(ref["spec"]["properties"]) == \
        {"exposure", "domain", "events", "quotas", "githubOwners"}
    assert set(ours["status"]["properties"]) - set(ref["status"]["properties"]) == \
        {"conditions", "observedGeneration", "webhookSecretRef"}
    assert ours["spec"]["properties"]["exposure"]["enum"] == ["cloudflare", "ingress", "none"]


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s["properties"]["spec"]["properties"].pop("webhookSecret"), ".spec.webhookSecret: missing"),
    (lambda s: s["properties"]["spec"]["required"].append("exposure"), ".spec: required differs"),
    (lambda s: s["properties"]["status"]["properties"]["phase"]["enum"].append("Active"),
     ".status.phase: constraints differ"),
    (lambda s: s["properties"]["spec"]["properties"]["displayName"].update(maxLength=10),
     ".spec.displayName: constraints differ"),
    (lambda s: s["properties"]["spec"]["properties"]["adminUsers"]["items"].update(type="integer"),
     ".spec.adminUsers.items: constraints differ"),
])
def test_the_subset_check_catches_incompatible_changes(mutate, expected):
    ours = load(OURS)
    mutate(version(ours)["schema"]["openAPIV3Schema"])
    assert any(problem.startswith(expected) for problem in crd_problems(load(REFERENCE), ours)), \
        crd_problems(load(REFERENCE), ours)


def test_an_object_valid_for_the_reference_is_valid_for_ours():
    legacy = {"apiVersion": "aphex.io/v1alpha1", "kind": "Organization", "metadata": {"name": "acme"},
              "spec": {"displayName": "Acme", "adminUsers": ["a@acme.example"], "webhookSecret": "x" * 64},
              "status": {"phase": "Ready", "namespace": "org-acme", "webhookURL": "https://acme.arbiter-dev.com",
                         "message": "ok"}}
    for path in (REFERENCE, OURS):
        jsonschema.validate(legacy, json_schema(version(load(path))["schema"]["openAPIV3Schema"]))


def test_what_the_module_writes_is_valid_for_our_crd_and_rejected_phases_are_not():
    schema = json_schema(version(load(OURS))["schema"]["openAPIV3Schema"])
    spec = normalize_organization({"name": "acme", "display_name": "Acme", "admin_users": ["a@acme.example"],
                                   "domain": "hooks.example.com", "quotas": {"pods": 40}})
    record = copy.deepcopy(objects.desired_objects(spec, "x" * 64, {"id": None, "token": "t"})[0])
    for error in (None, "boom"):
        record["status"] = status.organization_status("acme", 1, "cloudflare", "https://acme.hooks.example.com",
                                                      "2026-01-01T00:00:00Z", error=error)
        jsonschema.validate(record, schema)
    record["status"]["phase"] = "Active"  # what the reference controller wrote (§12.1)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, schema)
