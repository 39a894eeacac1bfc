# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of aphex.platform.k8s_manifests: load manifest sets, order them, fill in namespaces.

Upstream install manifests come as one large file (Argo CD's ``install.yaml``), as a directory tree applied
recursively (Tekton's ``config/``) or as a kustomization. These functions turn any of them into a flat,
ordered list of objects and derive what a readiness gate needs to know about them. Nothing here talks to
the cluster, so everything is unit-tested on plain dicts and on the real upstream files.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil

from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError

try:
    import yaml

    HAS_YAML = True
    # libyaml's loader parses the large upstream bundles (CRDs with full schemas) many times faster than the
    # pure-Python one; the resolver (what a scalar means) is the same SafeLoader one either way.
    SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # AnsibleK8SModule (check_pyyaml) reports it
    HAS_YAML = False

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CRD_KIND = "CustomResourceDefinition"
# Set by Argo CD on every object an Application syncs (resource tracking method "annotation").
ARGOCD_TRACKING = "argocd.argoproj.io/tracking-id"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
WEBHOOK_KINDS = {"ValidatingWebhookConfiguration": "validating", "MutatingWebhookConfiguration": "mutating"}
# Kinds that must exist before anything else of a set is applied (the order kubectl/Helm use for these).
FIRST_KINDS = ("Namespace", CRD_KIND)
# Kinds that are never namespaced, for when the cluster cannot tell (check mode before a CRD exists).
CLUSTER_SCOPED_KINDS = {
    "Namespace", CRD_KIND, "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "APIService", "PriorityClass", "StorageClass", "IngressClass", "RuntimeClass", "PersistentVolume",
    "CSIDriver", "Node",
}


class ManifestError(K8sError):
    """A manifest set that cannot be loaded or is not valid Kubernetes objects."""


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------
def manifest_files(path: str, recursive: bool = True) -> list:
    """The manifest files of ``path``: the file itself, or a directory's ``*.yaml|*.yml|*.json`` in sorted order.

    Like ``kubectl apply -R -f DIR``: files sorted by name, sub-directories walked in sorted order. Hidden
    files and directories are ignored.
    """
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise ManifestError(f"{path}: no such file or directory")
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(files):
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                found.append(os.path.join(root, name))
    found.sort(key=lambda p: os.path.relpath(p, path).split(os.sep))
    return found


def parse_stream(text: str, origin: str) -> list:
    """The objects of a YAML (or JSON) stream; empty documents dropped, ``List`` kinds flattened."""
    if not HAS_YAML:
        raise ManifestError("PyYAML is required")
    try:
        documents = list(yaml.load_all(text, Loader=SAFE_LOADER))  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{origin}: not valid YAML: {exc}") from exc
    objects = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ManifestError(f"{origin}: document {index} is not a mapping")
        if doc.get("kind") == "List" or (str(doc.get("kind", "")).endswith("List") and "items" in doc):
            objects.extend(item for item in doc.get("items") or [] if item)
        else:
            objects.append(doc)
    return objects


def load_files(paths: list, recursive: bool = True) -> list:
    """(origin, object) pairs of every file of every path, in order."""
    loaded = []
    for path in paths or []:
        files = manifest_files(path, recursive)
        if not files:
            raise ManifestError(f"{path}: no manifest files (*.yaml, *.yml, *.json)")
        for name in files:
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
            for obj in parse_stream(text, name):
                loaded.append((name, obj))
    return loaded


def write_kustomization(directory: str, files: dict, copies: list) -> None:
    """Write a kustomization's files and copies of other files (by base name) into ``directory``."""
    for name, content in files.items():
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise ManifestError(f"kustomization file name {name!r} must be a plain file name")
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(content)
    for path in copies or []:
        if not os.path.isfile(path):
            raise ManifestError(f"{path}: no such file to copy into the kustomization")
        target = os.path.join(directory, os.path.basename(path))
        if os.path.exists(target):
            raise ManifestError(f"{os.path.basename(path)} is given twice in the kustomization")
        shutil.copyfile(path, target)


def validate(objects: list) -> None:
    for origin, obj in objects:
        meta = obj.get("metadata")
        if not obj.get("apiVersion") or not obj.get("kind") or not isinstance(meta, dict) or not meta.get("name"):
            raise ManifestError(f"{origin}: every object needs apiVersion, kind and metadata.name "
                                f"(got kind {obj.get('kind')!r}, name {(meta or {}).get('name')!r})")


# ---------------------------------------------------------------------------------------------------------
# Ordering and namespaces
# ---------------------------------------------------------------------------------------------------------
def ordered(objects: list) -> list:
    """Namespaces first, then CRDs, then everything else; the given order is kept within each group."""
    def rank(item):
        kind = item[1].get("kind")
        return FIRST_KINDS.index(kind) if kind in FIRST_KINDS else len(FIRST_KINDS)
    return sorted(objects, key=rank)


def crd_scopes(objects: list) -> dict:
    """(group, kind) -> scope of the CRDs in the set, so their objects can be placed before the CRD exists."""
    scopes = {}
    for _origin, obj in objects:
        if obj.get("kind") == CRD_KIND:
            spec = obj.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            if kind:
                scopes[(spec.get("group"), kind)] = spec.get("scope", "Namespaced")
    return scopes


def api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def is_namespaced(obj: dict, served_namespaced, scopes: dict) -> bool | None:
    """Whether the object's kind is namespaced: the cluster's answer, else the set's CRDs, else known kinds.

    ``served_namespaced`` is the cluster's answer (True/False) or None when the kind is not served yet.
    Returns None when nobody knows.
    """
    if served_namespaced is not None:
        return bool(served_namespaced)
    scope = scopes.get((api_group(obj["apiVersion"]), obj["kind"]))
    if scope:
        return scope == "Namespaced"
    if obj["kind"] in CLUSTER_SCOPED_KINDS:
        return False
    return None


def place(obj: dict, namespaced: bool | None, default_namespace: str | None, origin: str) -> dict:
    """The object with its namespace: the default filled in for namespaced objects that have none.

    A namespace on a cluster-scoped object is dropped, as kubectl does.
    """
    result = copy.deepcopy(obj)
    meta = result["metadata"]
    if namespaced is False:
        meta.pop("namespace", None)
    elif not meta.get("namespace"):
        if namespaced and default_namespace:
            meta["namespace"] = default_namespace
        elif namespaced:
            raise ManifestError(f"{origin}: {obj['kind']} {meta['name']} is namespaced but has no namespace; "
                                "set the namespace option")
        elif default_namespace:
            # Unknown scope (its CRD is neither served nor in this set): kubectl would use the default too.
            meta["namespace"] = default_namespace
    return result


# ---------------------------------------------------------------------------------------------------------
# What the set contains
# ---------------------------------------------------------------------------------------------------------
def _pod_spec(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def images(objects: list) -> list:
    """Every container image the set's workloads run, sorted, without duplicates."""
    found = set()
    for obj in objects:
        if obj.get("kind") in WORKLOAD_KINDS:
            spec = _pod_spec(obj)
            for key in ("initContainers", "containers", "ephemeralContainers"):
                for container in spec.get(key) or []:
                    if container.get("image"):
                        found.add(container["image"])
    return sorted(found)


KO_PREFIX = "ko://"


def resolve_images(objects: list, ko_repository: str = "", ko_tag: str = "", overrides: dict | None = None) -> list:
    """The set with its image references rewritten (deep copies; the input is left alone).

    ``ko://<import path>`` (the unresolved references of sources built with ko, such as Tekton's config/) becomes
    ``<ko_repository>/<import path>:<ko_tag>``, the name a ko release build of that version pushes; ``overrides``
    maps an exact reference to another. Both apply to container images and to exact entries of containers'
    ``args``/``command`` (controllers take the images of their helper containers as flags, e.g. Tekton's
    ``-entrypoint-image``).
    """
    overrides = overrides or {}
    if not ko_repository and not overrides:
        return objects

    def rewrite(value):
        if not isinstance(value, str):
            return value
        if ko_repository and value.startswith(KO_PREFIX):
            value = f"{ko_repository.rstrip('/')}/{value[len(KO_PREFIX):]}" + (f":{ko_tag}" if ko_tag else "")
        return overrides.get(value, value)

    result = []
    for item in objects:
        origin, obj = item if isinstance(item, tuple) else (None, item)
        if obj.get("kind") in WORKLOAD_KINDS:
            obj = copy.deepcopy(obj)
            spec = _pod_spec(obj)
            for key in ("initContainers", "containers", "ephemeralContainers"):
                for container in spec.get(key) or []:
                    if "image" in container:
                        container["image"] = rewrite(container["image"])
                    for field in ("args", "command"):
                        if isinstance(container.get(field), list):
                            container[field] = [rewrite(arg) for arg in container[field]]
        result.append((origin, obj) if isinstance(item, tuple) else obj)
    return result


def without_unstored_defaults(objects: list) -> list:
    """The set without fields the API server never stores, so that what is applied, what is exported and what
    is live agree. Today one: a v1 CustomResourceDefinition's ``spec.preserveUnknownFields: false`` (the default;
    the field is omitted when false). Sent anyway, it breaks server-side apply once a second manager co-owns it
    (Argo CD after the hand-off): the live object lacks the value both apply, so every apply conflicts, and Argo
    CD shows the CRD OutOfSync (argoproj/argo-cd#6401). Copies only what it changes."""
    result = []
    for item in objects:
        origin, obj = item if isinstance(item, tuple) else (None, item)
        spec = obj.get("spec")
        if (obj.get("kind") == CRD_KIND and obj.get("apiVersion") == "apiextensions.k8s.io/v1"
                and isinstance(spec, dict) and spec.get("preserveUnknownFields") is False):
            obj = dict(obj, spec={key: value for key, value in spec.items() if key != "preserveUnknownFields"})
        result.append((origin, obj) if isinstance(item, tuple) else obj)
    return result


def _merge(base: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def merge_overrides(objects: list, overrides: list) -> list:
    """The set with each override's ``merge`` dict deep-merged into the object it names (kind, name and, when
    given, namespace); deep copies. An override that names no object of the set is an error, naming it."""
    if not overrides:
        return objects
    result = list(objects)
    for index, override in enumerate(overrides):
        for key in ("kind", "name", "merge"):
            if not override.get(key):
                raise ManifestError(f"overrides[{index}].{key} is required")
        if not isinstance(override["merge"], dict):
            raise ManifestError(f"overrides[{index}].merge must be a dict")
        hits = 0
        for position, item in enumerate(result):
            origin, obj = item if isinstance(item, tuple) else (None, item)
            meta = obj.get("metadata") or {}
            if obj.get("kind") != override["kind"] or meta.get("name") != override["name"]:
                continue
            if override.get("namespace") and meta.get("namespace") not in (None, override["namespace"]):
                continue
            obj = _merge(copy.deepcopy(obj), override["merge"])
            result[position] = (origin, obj) if isinstance(item, tuple) else obj
            hits += 1
        if not hits:
            raise ManifestError(f"overrides[{index}]: no {override['kind']} {override['name']} in the set")
    return result


def gate_inputs(objects: list) -> dict:
    """What aphex.platform.readiness_gate should wait for after this set is applied."""
    gate = {"crds": [], "deployments": [], "statefulsets": [], "daemonsets": [], "webhooks": []}
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        ref = {"namespace": meta.get("namespace"), "name": meta.get("name")}
        if kind == CRD_KIND:
            gate["crds"].append(meta["name"])
        elif kind == "Deployment":
            gate["deployments"].append(ref)
        elif kind == "StatefulSet":
            gate["statefulsets"].append(ref)
        elif kind == "DaemonSet":
            gate["daemonsets"].append(ref)
        elif kind in WEBHOOK_KINDS and str(obj.get("apiVersion", "")).startswith("admissionregistration.k8s.io/"):
            gate["webhooks"].append({"kind": WEBHOOK_KINDS[kind], "name": meta["name"]})
    return gate


def shorten_crd_schemas(obj, is_crd: bool = False):
    """A copy of a CRD (or a diff part of one) whose OpenAPI schemas are replaced by their size and digest.

    Argo CD's and Tekton's CRDs carry megabytes of schema; a diff shows that a schema changed, not its text.
    """
    if not isinstance(obj, dict) or not (is_crd or obj.get("kind") == CRD_KIND):
        return obj
    result = copy.deepcopy(obj)
    for version in (result.get("spec") or {}).get("versions") or []:
        if not isinstance(version, dict) or not isinstance(version.get("schema"), dict):
            continue
        schema = version["schema"].get("openAPIV3Schema")
        if schema is not None:
            blob = json.dumps(schema, sort_keys=True).encode()
            version["schema"]["openAPIV3Schema"] = (
                f"<OpenAPI schema, {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()[:16]}>")
    return result


# ---------------------------------------------------------------------------------------------------------
# Export: the set as applied, for a GitOps repository
# ---------------------------------------------------------------------------------------------------------
EXPORT_HEADER = ("# Written by aphex.platform.k8s_manifests: the objects the playbook applied (after overrides and image\n"
                 "# resolution, namespaces placed), sorted. Argo CD syncs this file after the hand-off; do not edit.\n")


def _export_key(obj: dict) -> tuple:
    kind, meta = obj.get("kind") or "", obj.get("metadata") or {}
    rank = FIRST_KINDS.index(kind) if kind in FIRST_KINDS else len(FIRST_KINDS)
    return (rank, api_group(obj.get("apiVersion") or ""), kind, meta.get("namespace") or "", meta.get("name") or "")


def check_exportable(objects: list) -> None:
    """Refuses a set that would put secret values into a Git repository (a Secret with data), naming it."""
    for obj in objects:
        if obj.get("kind") == "Secret" and (obj.get("data") or obj.get("stringData")):
            meta = obj.get("metadata") or {}
            raise ManifestError(f"export: Secret {meta.get('namespace') or ''}/{meta.get('name')} has data; secret "
                                "values never go to the GitOps repository (leave them out of the exported set)")


def export_text(objects: list) -> str:
    """The objects as one YAML stream for a Git repository: sorted (Namespaces, CRDs, then by API group, kind,
    namespace, name), keys in their given order, multi-line strings as literal blocks. Same objects, same bytes."""
    if not HAS_YAML:
        raise ManifestError("PyYAML is required to export a manifest set")

    class Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        pass

    def represent_str(dumper, value):
        if "\n" in value:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)

    Dumper.add_representer(str, represent_str)
    documents = [yaml.dump(obj, Dumper=Dumper, default_flow_style=False, sort_keys=False, width=120)
                 for obj in sorted(objects, key=_export_key)]
    return EXPORT_HEADER + "".join("---\n" + doc for doc in documents)


def write_if_changed(path: str, text: str, check_mode: bool = False) -> bool:
    """Writes ``text`` to ``path`` (parents created, mode 0644, atomically) unless it already holds exactly that;
    returns whether it changed (or would, in check mode)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    if check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o755, exist_ok=True)
    temporary = f"{path}.aphex-tmp-{os.getpid()}"
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return True
