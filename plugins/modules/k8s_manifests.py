#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_manifests
author:
  - aphex.platform maintainers (@aphex-platform)
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
attributes:
  check_mode:
    support: full
    description: Server-side dry run of every object; see the description for what cannot be dry-run.
  diff_mode:
    support: full
    description:
      - Before and after of every changed object; Secret values are shown as C(<redacted>) and the OpenAPI schemas
        of CustomResourceDefinitions by their size and digest.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - aphex.platform.k8s
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
  overrides:
    description:
      - Changes to objects of the set before they are applied, each deep-merged into the one object it names (maps
        are merged, everything else replaced), for example keys of an upstream ConfigMap. An override that matches
        no object of the set fails the task before anything is applied.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: Kind of the object.
        type: str
        required: true
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Namespace of the object, when the set has several of that kind and name.
        type: str
      merge:
        description: What to merge into it, for example the C(data) keys of a ConfigMap.
        type: dict
        required: true
  ko_image_repository:
    description:
      - Resolve the set's C(ko://<import path>) image references (sources built with ko, such as Tekton's
        C(config/)) to C(<ko_image_repository>/<import path>:<ko_image_tag>), the names a ko release build pushes,
        in container images and in exact entries of containers' C(args) and C(command). Resolved references are
        no longer matched by O(reject_images).
      - Empty (the default) leaves them as they are.
    type: str
    default: ""
  ko_image_tag:
    description: Tag of the resolved C(ko://) references (the component's version); empty means none.
    type: str
    default: ""
  image_overrides:
    description:
      - Exact image reference -> the reference to run instead, in container images and exact entries of containers'
        C(args) and C(command), applied after O(ko_image_repository). For references no mirror can serve under their
        own name, for example a digest pin that no local build matches.
    type: dict
    default: {}
  export:
    description:
      - Also write the set as applied (after O(overrides), O(ko_image_repository) and O(image_overrides), namespaces
        placed) to this file, as one YAML stream sorted by kind, namespace and name; the same set gives the same
        bytes, so a file in a GitOps repository changes only when what is applied changes. Written on the host the
        module runs on (the controller, with C(delegate_to=localhost)), parent directories created, only when its
        content differs and only after the whole set was applied; in check mode it is compared, not written.
      - Objects Argo CD tracks (O(yield_to_argocd)) are exported too, so Argo CD keeps syncing the whole set.
      - A Secret with C(data) or C(stringData) in the set fails the task before anything is applied (secret values
        never go to Git).
      - Ignored with O(state=absent).
    type: path
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
export:
  description: The file of O(export) and whether it changed (or would, in check mode).
  returned: when O(export) is given and O(state=present)
  type: dict
  sample: {path: /srv/gitops/platform/layers/tekton/components/pipelines.yaml, changed: false}
diff:
  description: Before and after of each changed object, keyed C(<Kind> <namespace>/<name>).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import FIELD_MANAGER
from ansible_collections.aphex.platform.plugins.module_utils.k8s_manifests import run


def argument_spec() -> dict:
    return dict(
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
        overrides={"type": "list", "elements": "dict", "default": [], "options": {
            "kind": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "merge": {"type": "dict", "required": True},
        }},
        ko_image_repository={"type": "str", "default": ""},
        ko_image_tag={"type": "str", "default": ""},
        image_overrides={"type": "dict", "default": {}},
        export={"type": "path"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        field_manager={"type": "str", "default": FIELD_MANAGER},
        force_conflicts={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 300},
    )


def main() -> None:
    AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True).execute(run)


if __name__ == "__main__":
    main()
