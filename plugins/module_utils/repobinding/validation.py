# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation and normalisation of RepoBinding specs: plain data in, error strings out, each naming its field.

Two stages, both before any change: :func:`input_errors` needs nothing but the module's arguments (or the
object's spec) and runs before any API call; :func:`cluster_errors` judges what the module read from the
cluster (the Organization record, the namespaces labelled for the pipeline, the template, the catalog
pipeline) and still writes nothing.
"""

from __future__ import annotations

import copy
import ipaddress
import re

try:
    import yaml
except ImportError:  # PyYAML ships with ansible-core; AnsibleK8SModule checks it before any of this runs
    yaml = None

from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
    DNS_LABEL_RE,
    QUANTITY_RE,
    github_owner_errors,
    github_owners_errors,
    privileged_match,
    quotas_errors,
)

from . import naming

GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# metadata.name of a namespaced custom object (DNS subdomain), kept to 63 so that it fits a label value.
OBJECT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
BRANCH_FORBIDDEN = (" ", "~", "^", ":", "?", "*", "[", "\\", "..", "@{", "//")

SPEC_FIELDS = ("aphexOrg", "repoOrg", "repoName", "pipelineName", "pipelineSpec", "templateRef",
               "branches", "catalogPipeline", "quotas", "limits", "network")
REQUIRED_FIELDS = ("aphexOrg", "repoOrg", "repoName", "pipelineName", "templateRef")
# tekton.dev/v1 PipelineSpec fields (pipeline/v1 types), and PipelineTask fields.
PIPELINE_SPEC_FIELDS = ("displayName", "description", "tasks", "params", "workspaces", "results", "finally")
PIPELINE_TASK_FIELDS = ("name", "displayName", "description", "taskRef", "taskSpec", "when", "runAfter", "retries",
                        "params", "matrix", "workspaces", "timeout", "pipelineRef", "pipelineSpec", "onError")
PARAM_TYPES = ("string", "array", "object")
LIMIT_KINDS = ("default", "defaultRequest", "max", "min")
LIMIT_RESOURCES = ("cpu", "memory", "ephemeral-storage")
# Besides the platform's namespaces: organization namespaces and Kubernetes' own prefix.
RESERVED_PREFIXES = ("org-", "kube-")
STATES = ("present", "absent")


# ---- normalisation -------------------------------------------------------------------------------------
def normalize_spec(raw: dict) -> dict:
    """Defaults applied (branches, quotas, limits, network, catalog namespace); bad values kept for the
    validator to name. ``pipelineSpec`` stays the text it was."""
    spec = copy.deepcopy(raw)
    if spec.get("branches") is None:
        spec["branches"] = list(naming.DEFAULT_BRANCHES)
    quotas = raw.get("quotas")
    if quotas is None or isinstance(quotas, dict):
        merged = dict(naming.DEFAULT_QUOTAS)
        merged.update(quotas or {})
        spec["quotas"] = {k: str(v) if isinstance(v, (int, str)) and not isinstance(v, bool) else v
                          for k, v in merged.items()}
    limits = raw.get("limits")
    if limits is None or isinstance(limits, dict):
        merged = copy.deepcopy(naming.DEFAULT_LIMITS)
        for kind, values in (limits or {}).items():
            if isinstance(values, dict) and isinstance(merged.get(kind), dict):
                merged[kind].update(values)
            else:
                merged[kind] = values
        spec["limits"] = merged
    network = raw.get("network")
    if network is None or isinstance(network, dict):
        merged = copy.deepcopy(naming.DEFAULT_NETWORK)
        for key, value in (network or {}).items():
            if key == "gitEgress" and isinstance(value, dict):
                merged["gitEgress"].update(value)
            else:
                merged[key] = value
        spec["network"] = merged
    catalog = raw.get("catalogPipeline")
    if isinstance(catalog, dict):
        spec["catalogPipeline"] = {"namespace": naming.DEFAULT_CATALOG_NAMESPACE, **catalog}
    if spec.get("pipelineSpec") is None and catalog is not None:
        spec["pipelineSpec"] = ""  # the upstream CRD requires the field; a catalog binding leaves it empty
    return spec


# ---- single fields -------------------------------------------------------------------------------------
def _text(value, field: str) -> list:
    if not isinstance(value, str) or not value:
        return [f"{field}: is required (a non-empty string)"]
    return []


def github_repo_errors(value, field: str) -> list:
    errors = _text(value, field)
    if errors:
        return errors
    if not GITHUB_REPO_RE.match(value):
        return [f"{field}: '{value}' is not a GitHub repository name (1-100 letters, digits, '.', '_' or '-')"]
    if value in (".", ".."):
        return [f"{field}: '{value}' is not a GitHub repository name"]
    if value.lower().endswith(".git"):
        return [f"{field}: '{value}' must be the repository name without the '.git' suffix"]
    return []


def pipeline_name_errors(value, field: str) -> list:
    errors = _text(value, field)
    if errors:
        return errors
    if len(value) > 63 or not DNS_LABEL_RE.match(value):
        return [f"{field}: '{value}' is not a DNS label (at most 63 lower-case letters, digits and '-', starting "
                "and ending with a letter or digit); it names the pipeline namespace"]
    entry = privileged_match(value)
    if entry:
        return [f"{field}: '{value}' is a privileged name (matches '{entry}')"]
    for prefix in RESERVED_PREFIXES:
        if value.startswith(prefix):
            return [f"{field}: '{value}' starts with the reserved prefix '{prefix}'"]
    return []


def branch_errors(branches, field: str) -> list:
    if not isinstance(branches, list) or not branches:
        return [f"{field}: must be a non-empty list of branch names"]
    errors = []
    for index, branch in enumerate(branches):
        where = f"{field}[{index}]"
        if not isinstance(branch, str) or not branch:
            errors.append(f"{where}: must be a non-empty branch name")
            continue
        bad = [token for token in BRANCH_FORBIDDEN if token in branch]
        if bad or branch.startswith(("/", ".", "-")) or branch.endswith(("/", ".", ".lock")) \
                or any(ord(c) < 32 or ord(c) == 127 for c in branch):
            errors.append(f"{where}: '{branch}' is not a valid git branch name")
        elif branches.index(branch) != index:
            errors.append(f"{where}: '{branch}' is listed twice")
    return errors


def template_ref_errors(value, field: str) -> list:
    errors = _text(value, field)
    if not errors and (len(value) > 253 or not OBJECT_NAME_RE.match(value)):
        errors.append(f"{field}: '{value}' is not a TriggerTemplate name")
    return errors


def catalog_errors(catalog, field: str) -> list:
    if catalog is None:
        return []
    if not isinstance(catalog, dict):
        return [f"{field}: must be a mapping with name and namespace of a catalog Pipeline"]
    errors = [f"{field}.{key}: unknown field (allowed: name, namespace)" for key in sorted(catalog)
              if key not in ("name", "namespace")]
    name = catalog.get("name")
    if not isinstance(name, str) or not OBJECT_NAME_RE.match(name) or len(name) > 253:
        errors.append(f"{field}.name: {name!r} is not a Pipeline name")
    namespace = catalog.get("namespace")
    if not isinstance(namespace, str) or not DNS_LABEL_RE.match(namespace):
        errors.append(f"{field}.namespace: {namespace!r} is not a namespace name")
    return errors


def limits_errors(limits, field: str) -> list:
    if not isinstance(limits, dict):
        return [f"{field}: must be a mapping of {', '.join(LIMIT_KINDS)} to resource quantities"]
    errors = []
    for kind, values in limits.items():
        if kind not in LIMIT_KINDS:
            errors.append(f"{field}.{kind}: unknown field (allowed: {', '.join(LIMIT_KINDS)})")
            continue
        if not isinstance(values, dict):
            errors.append(f"{field}.{kind}: must be a mapping of cpu/memory/ephemeral-storage to quantities")
            continue
        for resource, value in values.items():
            if resource not in LIMIT_RESOURCES:
                errors.append(f"{field}.{kind}.{resource}: unknown resource (allowed: {', '.join(LIMIT_RESOURCES)})")
            elif isinstance(value, bool) or not isinstance(value, (str, int)) or not QUANTITY_RE.match(str(value)):
                errors.append(f"{field}.{kind}.{resource}: {value!r} is not a Kubernetes quantity")
    return errors


def _cidr_list_errors(values, field: str, allow_empty: bool) -> list:
    if not isinstance(values, list) or (not values and not allow_empty):
        return [f"{field}: must be a list of CIDRs"]
    errors = []
    for index, cidr in enumerate(values):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except (TypeError, ValueError):
            errors.append(f"{field}[{index}]: {cidr!r} is not a CIDR")
    return errors


def network_errors(network, field: str) -> list:
    if not isinstance(network, dict):
        return [f"{field}: must be a mapping (dnsNamespace, gitEgress)"]
    errors = [f"{field}.{key}: unknown field (allowed: dnsNamespace, gitEgress)" for key in sorted(network)
              if key not in ("dnsNamespace", "gitEgress")]
    dns = network.get("dnsNamespace")
    if not isinstance(dns, str) or not DNS_LABEL_RE.match(dns):
        errors.append(f"{field}.dnsNamespace: {dns!r} is not a namespace name")
    egress = network.get("gitEgress")
    if not isinstance(egress, dict):
        return errors + [f"{field}.gitEgress: must be a mapping (cidrs, except, ports)"]
    errors.extend(f"{field}.gitEgress.{key}: unknown field (allowed: cidrs, except, ports)" for key in sorted(egress)
                  if key not in ("cidrs", "except", "ports"))
    errors.extend(_cidr_list_errors(egress.get("cidrs"), f"{field}.gitEgress.cidrs", allow_empty=True))
    errors.extend(_cidr_list_errors(egress.get("except", []), f"{field}.gitEgress.except", allow_empty=True))
    ports = egress.get("ports")
    if not isinstance(ports, list):
        errors.append(f"{field}.gitEgress.ports: must be a list of TCP ports")
    else:
        for index, port in enumerate(ports):
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                errors.append(f"{field}.gitEgress.ports[{index}]: {port!r} is not a TCP port")
    return errors


# ---- the Tekton pipeline ---------------------------------------------------------------------------------
def _named_list_errors(items, field: str, what: str) -> list:
    if items is None:
        return []
    if not isinstance(items, list):
        return [f"{field}: must be a list of {what}"]
    errors, seen = [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            errors.append(f"{field}[{index}]: must be a mapping with a name")
        elif item["name"] in seen:
            errors.append(f"{field}[{index}]: name '{item['name']}' is used twice")
        else:
            seen.add(item["name"])
    return errors


def _task_errors(tasks, field: str, required: bool, known: set) -> list:
    if tasks is None and not required:
        return []
    if not isinstance(tasks, list) or (required and not tasks):
        return [f"{field}: must be a non-empty list of pipeline tasks"]
    errors = _named_list_errors(tasks, field, "pipeline tasks")
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        where = f"{field}[{index}]"
        name = task.get("name")
        if isinstance(name, str) and (len(name) > 63 or not DNS_LABEL_RE.match(name)):
            errors.append(f"{where}.name: '{name}' is not a DNS label")
        errors.extend(f"{where}.{key}: unknown field of a tekton.dev/v1 PipelineTask" for key in sorted(task)
                      if key not in PIPELINE_TASK_FIELDS)
        refs = [key for key in ("taskRef", "taskSpec", "pipelineRef", "pipelineSpec") if key in task]
        if len(refs) != 1:
            errors.append(f"{where}: needs exactly one of taskRef or taskSpec (has {', '.join(refs) or 'none'})")
        for ref in ("taskRef", "taskSpec"):
            if ref in task and not isinstance(task[ref], dict):
                errors.append(f"{where}.{ref}: must be a mapping")
        run_after = task.get("runAfter")
        if run_after is not None:
            if not isinstance(run_after, list):
                errors.append(f"{where}.runAfter: must be a list of task names")
            else:
                errors.extend(f"{where}.runAfter[{i}]: '{other}' is not a task of this pipeline"
                              for i, other in enumerate(run_after) if other not in known)
        errors.extend(_named_list_errors(task.get("params"), f"{where}.params", "parameters"))
        errors.extend(_named_list_errors(task.get("workspaces"), f"{where}.workspaces", "workspace bindings"))
    return errors


def pipeline_spec_errors(pipeline_spec: dict, field: str) -> list:
    """Structural check of a tekton.dev/v1 PipelineSpec (the API server checks the full schema later, in a
    server-side dry run before anything is applied)."""
    errors = [f"{field}.{key}: unknown field of a tekton.dev/v1 Pipeline spec" for key in sorted(pipeline_spec)
              if key not in PIPELINE_SPEC_FIELDS]
    tasks = pipeline_spec.get("tasks")
    known = {t.get("name") for t in tasks if isinstance(t, dict)} if isinstance(tasks, list) else set()
    errors.extend(_task_errors(tasks, f"{field}.tasks", True, known))
    errors.extend(_task_errors(pipeline_spec.get("finally"), f"{field}.finally", False, set()))
    errors.extend(_named_list_errors(pipeline_spec.get("params"), f"{field}.params", "parameters"))
    errors.extend(_named_list_errors(pipeline_spec.get("workspaces"), f"{field}.workspaces", "workspaces"))
    errors.extend(_named_list_errors(pipeline_spec.get("results"), f"{field}.results", "results"))
    for index, param in enumerate(pipeline_spec.get("params") or []):
        if isinstance(param, dict) and param.get("type") not in (None,) + PARAM_TYPES:
            errors.append(f"{field}.params[{index}].type: {param['type']!r} must be one of {', '.join(PARAM_TYPES)}")
    return errors


def parse_pipeline(text, field: str = "spec.pipelineSpec") -> tuple:
    """``(pipeline, errors)``: ``pipeline`` is ``{"metadata": {...}, "spec": {...}}`` parsed from the YAML of a
    tekton.dev/v1 Pipeline manifest (or of its bare spec), None when it does not parse."""
    if not isinstance(text, str) or not text.strip():
        return None, [f"{field}: is required (the YAML of a tekton.dev/v1 Pipeline), unless catalogPipeline is set"]
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"{field}: is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        return None, [f"{field}: must be one YAML mapping (a tekton.dev/v1 Pipeline), found "
                      f"{len(documents)} document(s)"]
    doc = documents[0]
    if "apiVersion" in doc or "kind" in doc:
        errors = []
        if doc.get("apiVersion") != naming.PIPELINE_API_VERSION:
            errors.append(f"{field}: apiVersion must be {naming.PIPELINE_API_VERSION}, got {doc.get('apiVersion')!r}")
        if doc.get("kind") != "Pipeline":
            errors.append(f"{field}: kind must be Pipeline, got {doc.get('kind')!r}")
        unknown = sorted(set(doc) - {"apiVersion", "kind", "metadata", "spec"})
        errors.extend(f"{field}: unknown top-level field '{key}'" for key in unknown)
        metadata = doc.get("metadata") or {}
        if not isinstance(metadata, dict):
            errors.append(f"{field}: metadata must be a mapping")
            metadata = {}
        pipeline_spec = doc.get("spec")
        if not isinstance(pipeline_spec, dict):
            return None, errors + [f"{field}: spec must be a mapping (the Pipeline's spec)"]
        errors.extend(pipeline_spec_errors(pipeline_spec, f"{field}.spec"))
    else:
        metadata, pipeline_spec = {}, doc
        errors = pipeline_spec_errors(pipeline_spec, field)
    if errors:
        return None, errors
    kept = {key: dict(metadata.get(key) or {}) for key in ("labels", "annotations") if metadata.get(key)}
    return {"metadata": kept, "spec": pipeline_spec}, []


# ---- the whole input -------------------------------------------------------------------------------------
def spec_errors(spec, field: str = "spec") -> list:
    """Every problem of a normalised spec that needs no cluster, each prefixed with its field path."""
    if not isinstance(spec, dict):
        return [f"{field}: must be a mapping (the RepoBinding spec)"]
    errors = [f"{field}.{key}: unknown field (allowed: {', '.join(SPEC_FIELDS)})" for key in sorted(spec, key=str)
              if key not in SPEC_FIELDS]
    org = spec.get("aphexOrg")
    org_errors = _text(org, f"{field}.aphexOrg")
    if not org_errors and (len(org) > 59 or not DNS_LABEL_RE.match(org)):
        org_errors.append(f"{field}.aphexOrg: '{org}' is not an organization name (a DNS label of at most 59)")
    errors.extend(org_errors)
    errors.extend(github_owner_errors(spec.get("repoOrg"), f"{field}.repoOrg"))
    errors.extend(github_repo_errors(spec.get("repoName"), f"{field}.repoName"))
    errors.extend(pipeline_name_errors(spec.get("pipelineName"), f"{field}.pipelineName"))
    errors.extend(template_ref_errors(spec.get("templateRef"), f"{field}.templateRef"))
    errors.extend(branch_errors(spec.get("branches"), f"{field}.branches"))
    catalog = spec.get("catalogPipeline")
    errors.extend(catalog_errors(catalog, f"{field}.catalogPipeline"))
    if catalog is not None:
        if spec.get("pipelineSpec"):
            errors.append(f"{field}.pipelineSpec: must be empty when catalogPipeline is set (use one or the other)")
    else:
        errors.extend(parse_pipeline(spec.get("pipelineSpec"), f"{field}.pipelineSpec")[1])
    errors.extend(quotas_errors(spec.get("quotas"), f"{field}.quotas"))
    errors.extend(limits_errors(spec.get("limits"), f"{field}.limits"))
    errors.extend(network_errors(spec.get("network"), f"{field}.network"))
    return errors


def input_errors(params: dict, spec: dict | None, require_namespace: bool = True) -> list:
    """Errors in the module's arguments (and in ``spec``, normalised, when given); no API call needed."""
    errors = []
    name = params.get("name")
    if not isinstance(name, str) or not name or len(name) > 63 or not OBJECT_NAME_RE.match(name):
        errors.append(f"name: {name!r} is not a RepoBinding name (lower-case letters, digits, '-' and '.', "
                      "at most 63)")
    namespace = params.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not DNS_LABEL_RE.match(namespace)):
        errors.append(f"namespace: {namespace!r} is not a namespace name")
    if namespace is None and spec is None and require_namespace:
        errors.append("namespace: required when spec is omitted (the module then reads the RepoBinding from there)")
    if params.get("state", "present") not in STATES:
        errors.append(f"state: {params.get('state')!r} must be one of {', '.join(STATES)}")
    for option in ("argocd_namespace", "platform_namespace"):
        value = params.get(option)
        if value is not None and (not isinstance(value, str) or not DNS_LABEL_RE.match(value)):
            errors.append(f"{option}: {value!r} is not a namespace name")
    errors.extend(github_owners_errors(params.get("allowed_owners"), "allowed_owners"))
    if spec is not None:
        errors.extend(spec_errors(spec))
    return errors


def binding_namespace_errors(spec: dict, namespace: str, platform_namespace: str, field: str = "namespace") -> list:
    """A team binds repositories for its own organization only: the RepoBinding must live in ``org-<aphexOrg>``
    (or in the platform namespace, where only platform admins write)."""
    allowed = (naming.default_binding_namespace(spec["aphexOrg"]), platform_namespace)
    if namespace not in allowed:
        return [f"{field}: a RepoBinding for organization '{spec['aphexOrg']}' must live in namespace "
                f"{allowed[0]} or {allowed[1]}, not {namespace}"]
    return []


# ---- what the cluster says ---------------------------------------------------------------------------------
def organization_errors(org_name: str, record: dict | None, platform_namespace: str,
                        field: str = "spec.aphexOrg") -> list:
    if record is None:
        return [f"{field}: organization '{org_name}' does not exist (no Organization {org_name} in namespace "
                f"{platform_namespace})"]
    phase = (record.get("status") or {}).get("phase")
    if phase != "Ready":
        return [f"{field}: organization '{org_name}' is not Ready (phase {phase or 'unset'})"]
    return []


def allowed_owners(record: dict | None, override) -> list | None:
    """The GitHub owners the binding may use: ``allowed_owners`` when given, else the organization's
    ``spec.githubOwners``; None when neither says."""
    if override is not None:
        return list(override)
    owners = ((record or {}).get("spec") or {}).get("githubOwners")
    return list(owners) if isinstance(owners, list) else None


def repo_owner_errors(spec: dict, owners: list | None, field: str = "spec.repoOrg") -> list:
    owner = spec["repoOrg"]
    if owners is None:
        return [f"{field}: organization '{spec['aphexOrg']}' allows no GitHub owner (set githubOwners on the "
                "organization, or allowed_owners)"]
    if owner.lower() not in {o.lower() for o in owners if isinstance(o, str)}:
        return [f"{field}: '{owner}' is not an allowed GitHub owner for organization '{spec['aphexOrg']}' "
                f"(allowed: {', '.join(owners) or 'none'})"]
    return []


def ownership_errors(spec: dict, name: str, namespace: str, own_namespaces: list, same_pipeline: list,
                     pipeline_namespace: dict | None, field: str = "spec") -> list:
    """pipelineName and aphexOrg are immutable once created, and a pipeline belongs to one binding.

    ``own_namespaces``: namespaces labelled for this binding (owner labels); ``same_pipeline``: namespaces
    labelled for the pipeline ``pipelineName`` (label ``platform.aphex/pipeline``), whoever owns them;
    ``pipeline_namespace``: the namespace named ``pipelineName``, if it exists. All found by label or by name,
    never by scanning namespaces.
    """
    errors = []
    pipeline = spec["pipelineName"]
    for existing in own_namespaces:
        meta = existing.get("metadata") or {}
        if meta.get("name") != pipeline:
            errors.append(f"{field}.pipelineName: is immutable: this binding created pipeline '{meta.get('name')}'; "
                          "offboard it (state=absent) and bind again to rename")
        org = (meta.get("labels") or {}).get(naming.LABEL_REF_ORG)
        if org and org != spec["aphexOrg"]:
            errors.append(f"{field}.aphexOrg: is immutable: this binding was created for organization '{org}'")
    for other in same_pipeline:
        labels = (other.get("metadata") or {}).get("labels") or {}
        owner = f"{labels.get(naming.LABEL_OWNER_NAMESPACE)}/{labels.get(naming.LABEL_OWNER_NAME)}"
        if owner != f"{namespace}/{name}":
            errors.append(f"{field}.pipelineName: '{pipeline}' is already used by RepoBinding {owner}")
    if pipeline_namespace is not None:
        labels = (pipeline_namespace.get("metadata") or {}).get("labels") or {}
        if labels.get(naming.LABEL_OWNER_KIND) != naming.KIND:
            errors.append(f"{field}.pipelineName: namespace '{pipeline}' already exists and does not belong to a "
                          "RepoBinding")
    return errors


def foreign_object_errors(obj: dict | None, name: str, namespace: str, field: str = "spec.pipelineName") -> list:
    """An object the binding would own (e.g. the AppProject named after the pipeline) that exists and is not
    labelled for this binding: taking it over would hand another project's settings to this repository."""
    if obj is None:
        return []
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(naming.LABEL_OWNER_KIND) == naming.KIND and labels.get(naming.LABEL_OWNER_NAME) == name \
            and labels.get(naming.LABEL_OWNER_NAMESPACE) == namespace:
        return []
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return [f"{field}: {obj.get('kind')} {where}{meta.get('name')} already exists and does not belong to this binding"]


def template_errors(spec: dict, template_found: bool | None, field: str = "spec.templateRef") -> list:
    """``template_found``: None for a built-in template, else whether the TriggerTemplate exists."""
    if template_found is None or template_found:
        return []
    return [f"{field}: '{spec['templateRef']}' is neither a built-in dispatcher template "
            f"({', '.join(naming.BUILTIN_TEMPLATES)}) nor a TriggerTemplate in namespace "
            f"{naming.org_namespace(spec['aphexOrg'])}"]


def catalog_pipeline_errors(spec: dict, found: bool | None, field: str = "spec.catalogPipeline") -> list:
    if found is None or found:
        return []
    catalog = spec["catalogPipeline"]
    return [f"{field}: Pipeline {catalog['namespace']}/{catalog['name']} does not exist"]
