#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_manifests
short_description: Server-side apply a whole manifest set (files, directories, kustomizations) in one call
version_added: 0.1.0
description:
  - Loads a manifest set, such as Argo CD's C(install.yaml), Tekton's C(config/) directory tree or a kustomization,
    and server-side applies every object through one API client and one field manager (C(kubectl apply
    --server-side -R -f) and C(kubectl apply -k) semantics, without kubectl's client-side validation).
  - Namespaces are applied first, then CustomResourceDefinitions, then everything else in file order. Namespaced
    objects without a namespace get O(namespace), the way C(kubectl apply -n) places them.
  - Reports C(changed) only when the content of an object changed; server bookkeeping (C(resourceVersion),
    C(managedFields), C(generation)) and status are ignored.
  - In check mode every apply is a server-side dry run, so the API server validates the objects. Objects whose
    CustomResourceDefinition is not installed yet and objects in a namespace that does not exist yet (created by
    this set or by an earlier step of the same run) cannot be dry-run; they are reported as V(create) with a
    warning instead of failing, so C(--check) on an empty cluster predicts the run.
  - Upstream manifests are applied unmodified.
  - With O(state=absent) deletes the set's objects in reverse order, waiting until its namespaces are gone.
author:
  - aphex.platform maintainers (@aphex-platform)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Server-side dry run of every object; see the description for what cannot be dry-run.
  diff_mode:
    support: full
    description:
      - Before and after of every changed object; Secret values are shown as C(<redacted>) and the OpenAPI schemas
        of CustomResourceDefinitions by their size and digest.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (C(delegate_to=localhost)); the paths are controller paths.
options:
  src:
    description:
      - Manifest files, or directories whose C(*.yaml), C(*.yml) and C(*.json) files are read in sorted order
        (sub-directories too with O(recursive=true)).
      - Multi-document YAML streams and C(List) objects are flattened.
    type: list
    elements: path
    default: []
  recursive:
    description: Read the sub-directories of the directories in O(src), like C(kubectl apply -R).
    type: bool
    default: true
  kustomize:
    description:
      - Kustomization directories, rendered with C(kubectl kustomize DIR) (C(kubectl apply -k) semantics).
      - Rendered after O(src) and before O(definitions).
    type: list
    elements: path
    default: []
  kustomization:
    description:
      - A kustomization given as file contents, rendered like O(kustomize) in a private temporary directory that is
        removed afterwards, so concurrent runs never share rendered files.
      - Rendered after O(kustomize) and before O(definitions).
    type: dict
    suboptions:
      files:
        description: File name -> content; must contain C(kustomization.yaml).
        type: dict
        required: true
      copy:
        description: Files copied into the directory under their base names (for example a pinned C(install.yaml)).
        type: list
        elements: path
        default: []
  kubectl:
    description: The kubectl binary that renders O(kustomize) and O(kustomization). Defaults to C(kubectl) on the C(PATH).
    type: path
  definitions:
    description: Further objects, already rendered (for example from a template), applied after the files.
    type: list
    elements: dict
    default: []
  namespace:
    description:
      - Namespace of the namespaced objects that do not name one. A namespace on a cluster-scoped object is dropped.
      - Without it, a namespaced object without a namespace is an error.
    type: str
  yield_to_argocd:
    description:
      - Leave alone every object of the set that Argo CD already tracks (annotation
        C(argocd.argoproj.io/tracking-id)) and report it as V(managed-by-argocd) instead of applying it.
      - Once an Argo CD Application has synced the same manifests (the GitOps hand-off), Git is their source of
        truth; a re-run of the playbook then neither reverts a change made through Git nor competes with Argo CD for
        field ownership. Objects Argo CD does not track (Secrets the playbook generates, objects of layers not handed
        off) are still applied.
    type: bool
    default: false
  reject_images:
    description:
      - Image prefixes that cannot run, for example V(ko://) (the unresolved image references of Tekton's source
        manifests, which only the release build replaces). When a workload of the set uses one, the task fails
        before anything is applied and names the images.
    type: list
    elements: str
    default: []
  state:
    description: V(present) applies the set, V(absent) deletes its objects (reverse order, namespaces last).
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: Field manager of the server-side apply.
    type: str
    default: aphex-platform
  force_conflicts:
    description: Take over fields that another field manager owns instead of failing with a conflict.
    type: bool
    default: false
  wait_timeout:
    description: With O(state=absent), how many seconds to wait for each namespace of the set to be gone.
    type: int
    default: 300
requirements:
  - kubernetes >= 24.2.0
  - PyYAML
  - kubectl (only for O(kustomize))
notes:
  - Objects of a CustomResourceDefinition that the same call creates can only be applied once the cluster serves
    the new kind. Apply the CRDs in one call, wait for them (M(aphex.platform.readiness_gate)), then apply their
    objects in the next call.
  - Before each run the module drops kubernetes.core's on-disk API discovery cache, which is keyed by the API
    server URL only, so a cluster recreated at the same address is not believed to serve the previous one's CRDs.
  - Secret values never appear in the result or the diff. Pass Secrets with C(no_log=true) on the task anyway,
    because the task's arguments contain them.
seealso:
  - module: aphex.platform.upstream_artifact
  - module: aphex.platform.readiness_gate
  - name: Server-side apply
    description: How field managers own fields.
    link: https://kubernetes.io/docs/reference/using-api/server-side-apply/
"""

EXAMPLES = r"""
- name: Get the pinned Argo CD install manifest
  aphex.platform.upstream_artifact:
    name: argocd-install
  register: argocd_install
  delegate_to: localhost

- name: Apply it into the argocd namespace (kubectl apply --server-side -n argocd -f install.yaml)
  aphex.platform.k8s_manifests:
    src: ["{{ argocd_install.path }}"]
    namespace: argocd
    definitions:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: argocd}
  register: argocd_applied
  delegate_to: localhost

- name: Tekton Pipelines' source tree, recursively, refusing unresolved ko:// images
  aphex.platform.k8s_manifests:
    src: ["{{ tekton_pipelines.path }}"]
    reject_images: ["ko://"]
  delegate_to: localhost

- name: A kustomization (kubectl apply -k), left to Argo CD once Argo CD tracks its objects
  aphex.platform.k8s_manifests:
    kustomize: ["{{ tekton_dashboard.path }}"]
    yield_to_argocd: true
  delegate_to: localhost

- name: Predict the changes on an empty cluster
  aphex.platform.k8s_manifests:
    src: ["{{ argocd_install.path }}"]
    namespace: argocd
  check_mode: true
  delegate_to: localhost

- name: Wait for what the set installed
  aphex.platform.readiness_gate:
    crds: "{{ argocd_applied.gate.crds }}"
    deployments: "{{ argocd_applied.gate.deployments }}"
    statefulsets: "{{ argocd_applied.gate.statefulsets }}"
  delegate_to: localhost

- name: One kubeconfig for every platform module
  module_defaults:
    group/aphex.platform.k8s:
      kubeconfig: "{{ platform_kubeconfig }}"
  block:
    - name: Remove the set again
      aphex.platform.k8s_manifests:
        src: ["{{ argocd_install.path }}"]
        namespace: argocd
        state: absent
      delegate_to: localhost
"""

RETURN = r"""
results:
  description: One entry per object, in the order applied (or deleted).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind.
      returned: always
      type: str
      sample: Deployment
    apiVersion:
      description: API version.
      returned: always
      type: str
      sample: apps/v1
    name:
      description: Name.
      returned: always
      type: str
      sample: argocd-server
    namespace:
      description: Namespace, for namespaced objects.
      returned: when the object is namespaced
      type: str
      sample: argocd
    action:
      description:
        - V(create), V(update), V(unchanged), V(delete) or V(absent) (in check mode, what would happen).
        - V(managed-by-argocd) with O(yield_to_argocd=true) for an object Argo CD tracks (not applied).
      returned: always
      type: str
      sample: unchanged
    warning:
      description: Why the object could not be dry-run in check mode.
      returned: when an object could not be dry-run
      type: str
      sample: "Application argocd/platform-root: Application (argoproj.io/v1alpha1) is not installed yet"
  sample:
    - {kind: Deployment, apiVersion: apps/v1, name: argocd-server, namespace: argocd, action: create}
counts:
  description: How many objects were (or would be) created, updated, left unchanged or deleted.
  returned: always
  type: dict
  sample: {create: 59, update: 0, unchanged: 0}
objects:
  description: Number of objects in the set.
  returned: always
  type: int
  sample: 60
images:
  description: Container images of the set's workloads, sorted (to spot placeholders such as C(ko://)).
  returned: always
  type: list
  elements: str
  sample: [quay.io/argoproj/argocd:v3.5.1, redis:8.2.3-alpine]
gate:
  description: What a readiness gate should wait for after this set, in M(aphex.platform.readiness_gate)'s terms.
  returned: always
  type: dict
  contains:
    crds:
      description: Names of the CustomResourceDefinitions.
      returned: always
      type: list
      elements: str
    deployments:
      description: Namespace and name of each Deployment.
      returned: always
      type: list
      elements: dict
    statefulsets:
      description: Namespace and name of each StatefulSet.
      returned: always
      type: list
      elements: dict
    daemonsets:
      description: Namespace and name of each DaemonSet.
      returned: always
      type: list
      elements: dict
    webhooks:
      description: Kind (V(validating) or V(mutating)) and name of each webhook configuration.
      returned: always
      type: list
      elements: dict
  sample: {crds: [applications.argoproj.io], deployments: [{namespace: argocd, name: argocd-server}],
           statefulsets: [], daemonsets: [], webhooks: []}
diff:
  description: Before and after of each changed object, keyed C(<Kind> <namespace>/<name>).
  returned: when diff mode is on
  type: dict
"""

import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.k8s_apply import (
    DEFAULT_FIELD_MANAGER,
    HAS_KUBERNETES_COLLECTION,
    KUBERNETES_COLLECTION_ERROR,
    AphexK8sModule,
    K8sApplyError,
    auth_argument_spec,
    describe,
)
from ansible_collections.aphex.platform.plugins.module_utils import manifests


def argument_spec() -> dict:
    spec = auth_argument_spec()
    spec.update(
        src={"type": "list", "elements": "path", "default": []},
        recursive={"type": "bool", "default": True},
        kustomize={"type": "list", "elements": "path", "default": []},
        kustomization={"type": "dict", "options": {
            "files": {"type": "dict", "required": True},
            "copy": {"type": "list", "elements": "path", "default": []},
        }},
        kubectl={"type": "path"},
        definitions={"type": "list", "elements": "dict", "default": []},
        namespace={"type": "str"},
        yield_to_argocd={"type": "bool", "default": False},
        reject_images={"type": "list", "elements": "str", "default": []},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        field_manager={"type": "str", "default": DEFAULT_FIELD_MANAGER},
        force_conflicts={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 300},
    )
    return spec


def load(module) -> list:
    """(origin, object) pairs of the whole set, validated, in apply order."""
    params = module.params
    loaded = manifests.load_files(params["src"], params["recursive"])
    if params["kustomize"] or params["kustomization"]:
        base = module._module  # pylint: disable=protected-access  # AnsibleK8SModule wraps an AnsibleModule
        kubectl = params["kubectl"] or base.get_bin_path("kubectl", required=True)

        def render(directory: str, origin: str) -> None:
            rc, out, err = base.run_command([kubectl, "kustomize", directory])
            if rc != 0:
                raise manifests.ManifestError(f"kubectl kustomize {origin} failed (rc {rc}): {err.strip()}")
            loaded.extend((f"kustomize {origin}", obj) for obj in manifests.parse_stream(out, origin))

        for directory in params["kustomize"]:
            render(directory, directory)
        if params["kustomization"]:
            spec = params["kustomization"]
            if "kustomization.yaml" not in spec["files"]:
                raise manifests.ManifestError("kustomization.files must contain kustomization.yaml")
            with tempfile.TemporaryDirectory(prefix="aphex-kustomize-") as directory:
                manifests.write_kustomization(directory, spec["files"], spec["copy"])
                render(directory, "kustomization")
    loaded.extend((f"definitions[{index}]", obj) for index, obj in enumerate(params["definitions"]))
    if not loaded:
        raise manifests.ManifestError("nothing to apply: give src, kustomize or definitions")
    manifests.validate(loaded)
    return manifests.ordered(loaded)


def entry(obj: dict, action: str) -> dict:
    meta = obj["metadata"]
    item = {"kind": obj["kind"], "apiVersion": obj["apiVersion"], "name": meta["name"], "action": action}
    if meta.get("namespace"):
        item["namespace"] = meta["namespace"]
    return item


def placed(applier, loaded: list, namespace: str | None) -> list:
    """Every object with its namespace settled, asking the cluster which kinds are namespaced."""
    scopes = manifests.crd_scopes(loaded)
    served = {}
    result = []
    for origin, obj in loaded:
        key = (obj["apiVersion"], obj["kind"])
        if key not in served:
            resource = applier.resource(*key)
            served[key] = None if resource is None else bool(resource.namespaced)
        result.append(manifests.place(obj, manifests.is_namespaced(obj, served[key], scopes), namespace, origin))
    return result


def plan_missing_namespaces(applier, objects: list) -> None:
    """Check mode: namespaces that neither exist nor are in the set come from an earlier step of the run."""
    in_set = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    wanted = sorted({o["metadata"].get("namespace") for o in objects} - in_set - {None})
    for name in wanted:
        if applier.get("v1", "Namespace", name) is None:
            applier.warn(f"namespace {name} does not exist yet (an earlier step of this run creates it): its "
                         "objects are reported as created without a server-side dry run")
            applier._planned_namespaces.add(name)  # pylint: disable=protected-access


def shorten_diffs(applier) -> None:
    for entry in applier.diffs:
        if entry["object"].startswith(manifests.CRD_KIND + " "):
            entry["before"] = manifests.shorten_crd_schemas(entry["before"], is_crd=True)
            entry["after"] = manifests.shorten_crd_schemas(entry["after"], is_crd=True)


def fresh_discovery(module) -> None:
    """Drop kubernetes.core's on-disk discovery cache, which is keyed by the API server URL only.

    A cluster recreated at the same address (a local or kind cluster on a reused port) would otherwise be
    believed to serve the previous cluster's CRDs: check mode would dry-run objects of kinds that do not exist
    (and fail with a 404) instead of reporting them as not installed yet. Rediscovery is lazy and cheap.
    """
    try:
        module.client.client.resources.invalidate_cache()
    except Exception as exc:  # the lookups that follow report a broken connection with the API's message
        module.warn(f"could not refresh the API discovery cache: {exc}")


def tracked_by_argocd(applier, objects: list) -> set:
    """describe() of every object of the set that exists and carries Argo CD's tracking annotation."""
    tracked = set()
    for obj in objects:
        meta = obj["metadata"]
        live = applier.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if manifests.ARGOCD_TRACKING in (((live or {}).get("metadata") or {}).get("annotations") or {}):
            tracked.add(describe(obj))
    return tracked


def run(module) -> dict:
    params = module.params
    loaded = load(module)
    fresh_discovery(module)
    applier = module.applier(field_manager=params["field_manager"], force_conflicts=params["force_conflicts"])
    objects = placed(applier, loaded, params["namespace"])
    whole_set = objects
    images = manifests.images(objects)
    rejected = [image for image in images if image.startswith(tuple(params["reject_images"]))]
    if rejected and params["state"] == "present":
        raise manifests.ManifestError(
            f"the set runs images that cannot be pulled ({', '.join(rejected)}); nothing was applied")
    yielded = []
    try:
        if params["state"] == "present":
            if params["yield_to_argocd"]:
                tracked = tracked_by_argocd(applier, objects)
                yielded = [entry(obj, "managed-by-argocd") for obj in objects if describe(obj) in tracked]
                objects = [obj for obj in objects if describe(obj) not in tracked]
            if module.check_mode:
                plan_missing_namespaces(applier, objects)
            applier.apply_all(objects)
        else:
            for obj in reversed(objects):
                meta = obj["metadata"]
                applier.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"),
                               wait=obj["kind"] == "Namespace", wait_timeout=params["wait_timeout"])
    except K8sApplyError as exc:
        exc.result = {"results": applier.results, "failed_object": exc.obj or ""}
        raise
    results = applier.results + yielded
    counts = {}
    for item in results:
        counts[item["action"]] = counts.get(item["action"], 0) + 1
    result = {"changed": applier.changed, "results": results, "counts": counts, "objects": len(whole_set),
              "images": images, "gate": manifests.gate_inputs(whole_set)}
    if module._diff:
        shorten_diffs(applier)
        result["diff"] = applier.diff()
    return result


def main() -> None:
    if not HAS_KUBERNETES_COLLECTION:
        AnsibleModule(argument_spec=argument_spec()).fail_json(
            msg=missing_required_lib("kubernetes.core (collection)"), exception=KUBERNETES_COLLECTION_ERROR)
    if not manifests.HAS_YAML:
        AnsibleModule(argument_spec=argument_spec()).fail_json(msg=missing_required_lib("PyYAML"))
    module = AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except manifests.ManifestError as exc:
        module.fail_json(msg=str(exc))
    except K8sApplyError as exc:
        module.fail_json(msg=str(exc), **getattr(exc, "result", {}))
    except Exception as exc:  # pragma: no cover - unexpected; keep the traceback for the report
        module.fail_json(msg=f"Unexpected error: {exc}", exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
