# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""aphex.platform.k8s_manifests: load a manifest set (files, kustomizations, definitions), settle every object's
namespace, then apply or delete the set through the Kubernetes adapter. The module file only declares options."""

from __future__ import annotations

import tempfile

from ansible_collections.aphex.platform.plugins.module_utils import manifests
from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError, describe


def load(module) -> list:
    """(origin, object) pairs of the whole set, validated, in apply order."""
    params = module.params
    loaded = manifests.load_files(params["src"], params["recursive"])
    if params["kustomize"] or params["kustomization"]:
        kubectl = params["kubectl"] or module.get_bin_path("kubectl", required=True)

        def render(directory: str, origin: str) -> None:
            rc, out, err = module.run_command([kubectl, "kustomize", directory])
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


def placed(applier, loaded: list, namespace: str | None) -> list:
    """Every object with its namespace settled, asking the cluster which kinds are namespaced."""
    scopes = manifests.crd_scopes(loaded)
    served: dict = {}
    result = []
    for origin, obj in loaded:
        key = (obj["apiVersion"], obj["kind"])
        if key not in served:
            resource = applier.resource(*key)
            served[key] = None if resource is None else bool(resource.namespaced)
        result.append(manifests.place(obj, manifests.is_namespaced(obj, served[key], scopes), namespace, origin))
    return result


def tracked_by_argocd(applier, objects: list) -> set:
    """describe() of every object of the set that exists and carries Argo CD's tracking annotation."""
    tracked = set()
    for obj in objects:
        meta = obj["metadata"]
        live = applier.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if manifests.ARGOCD_TRACKING in (((live or {}).get("metadata") or {}).get("annotations") or {}):
            tracked.add(describe(obj))
    return tracked


def _entry(obj: dict, action: str) -> dict:
    meta = obj["metadata"]
    item = {"kind": obj["kind"], "apiVersion": obj["apiVersion"], "name": meta["name"], "action": action}
    if meta.get("namespace"):
        item["namespace"] = meta["namespace"]
    return item


def _reconcile(module, applier, objects: list) -> list:
    """Apply (or delete) ``objects``; returns the entries of objects left to Argo CD."""
    params = module.params
    if params["state"] == "absent":
        for obj in reversed(objects):
            meta = obj["metadata"]
            applier.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"),
                           wait=obj["kind"] == "Namespace", wait_timeout=params["wait_timeout"])
        return []
    yielded = []
    if params["yield_to_argocd"]:
        tracked = tracked_by_argocd(applier, objects)
        yielded = [_entry(obj, "managed-by-argocd") for obj in objects if describe(obj) in tracked]
        objects = [obj for obj in objects if describe(obj) not in tracked]
    applier.expect_namespaces(objects)
    applier.apply_all(objects)
    return yielded


def run(module) -> dict:
    """The module's whole job; ``module`` is an AphexK8sModule. Raises K8sError (with ``result``) on failure."""
    params = module.params
    loaded = manifests.resolve_images(
        manifests.without_unstored_defaults(manifests.merge_overrides(load(module), params.get("overrides") or [])),
        params.get("ko_image_repository") or "", params.get("ko_image_tag") or "", params.get("image_overrides") or {})
    module.refresh_discovery()
    applier = module.applier(field_manager=params["field_manager"], force_conflicts=params["force_conflicts"])
    objects = placed(applier, loaded, params["namespace"])
    images = manifests.images(objects)
    rejected = [image for image in images if image.startswith(tuple(params["reject_images"]))]
    if rejected and params["state"] == "present":
        raise manifests.ManifestError(
            f"the set runs images that cannot be pulled ({', '.join(rejected)}); nothing was applied")
    export = params.get("export") if params["state"] == "present" else None
    if export:
        # Rendered and checked before anything is applied: a set that cannot be exported is not applied either.
        manifests.check_exportable(objects)
        text = manifests.export_text(objects)
    try:
        yielded = _reconcile(module, applier, objects)
    except K8sError as exc:
        exc.result = {"results": applier.results, "failed_object": exc.obj or ""}
        raise
    results = applier.results + yielded
    counts: dict = {}
    for item in results:
        counts[item["action"]] = counts.get(item["action"], 0) + 1
    result = {"changed": applier.changed, "results": results, "counts": counts, "objects": len(objects),
              "images": images, "gate": manifests.gate_inputs(objects)}
    if export:
        # Written only once the whole set is applied: the file always holds what the cluster got.
        exported = manifests.write_if_changed(export, text, check_mode=module.check_mode)
        result["export"] = {"path": export, "changed": exported}
        result["changed"] = result["changed"] or exported
    if module.diff_mode:
        for entry in applier.diffs:
            if entry["object"].startswith(manifests.CRD_KIND + " "):
                entry["before"] = manifests.shorten_crd_schemas(entry["before"], is_crd=True)
                entry["after"] = manifests.shorten_crd_schemas(entry["after"], is_crd=True)
        result["diff"] = applier.diff()
    return result
