# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Promotion of a module from one environment to the next (dev -> staging -> production) as a git commit.

A module in the GitOps repository is a Kustomize base plus ``overlays/<environment>``. What makes a release is the
set of images (the overlay's ``images`` field, tag or digest per image); what belongs to an environment (replicas,
limits, config, hosts, TLS) stays. Promoting copies the source overlay's ``images`` into the target overlay's
kustomization.yaml and commits that one file, with a message naming module, environments and images. It refuses,
before writing anything, when the module's o8-module.yaml (if the module has one) is invalid, when the source or
the promoted target overlay does not build with kustomize, or when the built objects break the platform's rules
for workloads (resources, probes, restricted security context). The promoted target is built from a scratch copy
of the target overlay beside it, so relative paths resolve as they will in the repository. Promoting again
without a change in the source gives the same file and no commit.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

try:
    import yaml
    HAS_YAML = True
except ImportError:  # the modules report it with missing_required_lib
    HAS_YAML = False

from ansible_collections.aphex.platform.plugins.module_utils import gitops_repo
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import kustomize
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.schema import ENVIRONMENTS, MODULE_FILE
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.validation import (
    load_document, validate_document)

PROMOTED_FIELDS = ("images",)
WORKLOAD_PODS = {"Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
                 "DaemonSet": ("spec", "template", "spec"), "Job": ("spec", "template", "spec"),
                 "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


class PromotionError(Exception):
    """A promotion that is not allowed or would deploy something broken; nothing was written."""


def next_environment(source: str) -> str:
    if source not in ENVIRONMENTS[:-1]:
        raise PromotionError(f"from: must be one of {', '.join(ENVIRONMENTS[:-1])} (got {source!r})")
    return ENVIRONMENTS[ENVIRONMENTS.index(source) + 1]


def check_step(source: str, target: str) -> None:
    expected = next_environment(source)
    if target != expected:
        raise PromotionError(f"to: promotion goes one environment at a time ({' -> '.join(ENVIRONMENTS)}); "
                             f"from {source} the next is {expected}, not {target!r}")


def _kustomization(module_dir: str, env: str, label: str) -> tuple:
    path = os.path.join(module_dir, "overlays", env, "kustomization.yaml")
    if not os.path.isfile(path):
        raise PromotionError(f"{label}/overlays/{env}/kustomization.yaml: not found")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PromotionError(f"{label}/overlays/{env}/kustomization.yaml: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PromotionError(f"{label}/overlays/{env}/kustomization.yaml: not a Kustomization mapping")
    return text, data


def promoted_kustomization(source: dict, target: dict) -> dict:
    """The target overlay with the source's release fields (images); everything else of the target kept."""
    result = copy.deepcopy(target)
    for field in PROMOTED_FIELDS:
        if field in source:
            result[field] = copy.deepcopy(source[field])
        else:
            result.pop(field, None)
    return result


def _dig(obj, path):
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def workload_errors(objects: list) -> list:
    """The platform's rules for what an overlay deploys: every object named; every workload container with
    requests and limits, no privilege escalation, all capabilities dropped, non-root; long-running ones probed."""
    errors = []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind") or \
                not _dig(obj, ("metadata", "name")):
            errors.append(f"object {index}: apiVersion, kind and metadata.name are required")
            continue
        pod_path = WORKLOAD_PODS.get(obj["kind"])
        if not pod_path:
            continue
        name = f"{obj['kind']} {obj['metadata']['name']}"
        pod = _dig(obj, pod_path) or {}
        pod_non_root = _dig(pod, ("securityContext", "runAsNonRoot")) is True
        field = ".".join(pod_path)
        for c_index, container in enumerate(pod.get("containers") or []):
            where = f"{name}: {field}.containers[{c_index}]"
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                if not resources.get(part):
                    errors.append(f"{where}.resources.{part}: missing")
            context = container.get("securityContext") or {}
            if context.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{where}.securityContext.allowPrivilegeEscalation: must be false")
            if "ALL" not in (_dig(context, ("capabilities", "drop")) or []):
                errors.append(f"{where}.securityContext.capabilities.drop: must include ALL")
            if not (pod_non_root or context.get("runAsNonRoot") is True):
                errors.append(f"{where}.securityContext.runAsNonRoot: must be true (here or for the pod)")
            if obj["kind"] in LONG_RUNNING:
                for probe in ("livenessProbe", "readinessProbe"):
                    if not container.get(probe):
                        errors.append(f"{where}.{probe}: missing")
    return errors


def _build(path: str, label: str, binary: str) -> list:
    try:
        objects = kustomize.build(path, binary)
    except kustomize.KustomizeError as exc:
        raise PromotionError(f"{label}: kustomize build failed: {exc}") from None
    errors = workload_errors(objects)
    if errors:
        raise PromotionError(f"{label}: " + "; ".join(errors))
    return objects


def build_promoted(module_dir: str, target: str, kustomization: dict, label: str, binary: str) -> list:
    """Builds the target overlay as it would be after promotion, from a scratch copy beside the real one."""
    overlay = os.path.join(module_dir, "overlays", target)
    scratch = tempfile.mkdtemp(prefix=f".promote-{target}-", dir=os.path.dirname(overlay))
    try:
        shutil.copytree(overlay, scratch, dirs_exist_ok=True)
        with open(os.path.join(scratch, "kustomization.yaml"), "w", encoding="utf-8") as handle:
            handle.write(gitops_repo.to_yaml(kustomization))
        return _build(scratch, f"{label}/overlays/{target} (promoted)", binary)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def promote(repo: str, module_path: str, source: str, target: str = "", check_mode: bool = False,
            kustomize_binary: str = "", author_name: str = "", author_email: str = "", diff: bool = False) -> dict:
    """Promote the module at ``module_path`` (relative to the work tree ``repo``) from ``source`` to ``target``.

    Returns gitops_repo's result (``changed``, ``commit``, ``files``, ``diff``) plus ``promoted`` (the fields
    copied), ``module``, ``from`` and ``to``. Raises PromotionError (nothing written) or GitOpsRepoError.
    """
    target = target or next_environment(source)
    check_step(source, target)
    root = gitops_repo.work_tree_root(repo)
    module_path = module_path.strip("/")
    module_dir = os.path.join(root, module_path)
    if not os.path.isdir(module_dir):
        raise PromotionError(f"path: {module_path} is not a directory in {root}")
    manifest = os.path.join(module_dir, MODULE_FILE)
    parts = module_path.split("/")
    # tenants/<tenant>/modules/<module> is named tenant/module; other module directories by their last part.
    name = f"{parts[1]}/{parts[3]}" if len(parts) == 4 and parts[0] == "tenants" and parts[2] == "modules" \
        else parts[-1]
    if os.path.isfile(manifest):
        document, errors = load_document(manifest)
        errors = errors or validate_document(document, "Module")
        if errors:
            raise PromotionError(f"{module_path}/{MODULE_FILE}: " + "; ".join(errors))
        name = f"{document['metadata']['name']} {document['metadata']['version']}"
    source_data = _kustomization(module_dir, source, module_path)[1]
    target_text, target_data = _kustomization(module_dir, target, module_path)
    _build(os.path.join(module_dir, "overlays", source), f"{module_path}/overlays/{source}", kustomize_binary)
    wanted = promoted_kustomization(source_data, target_data)
    build_promoted(module_dir, target, wanted, module_path, kustomize_binary)
    relpath = f"{module_path}/overlays/{target}/kustomization.yaml"
    # Unchanged data keeps the file as it is (comments and layout included): nothing to commit.
    content = target_text if wanted == target_data else gitops_repo.to_yaml(wanted)
    images = ", ".join(f"{i.get('newName', i.get('name'))}"
                       f"{'@' + i['digest'] if i.get('digest') else ':' + str(i.get('newTag', ''))}"
                       for i in wanted.get("images") or [])
    message = (f"Promote {name} from {source} to {target}\n\n"
               f"{module_path}: overlays/{target} takes the images of overlays/{source}: {images or 'none'}\n")
    result = gitops_repo.write_and_commit(root, {relpath: content}, message, check_mode=check_mode,
                                          author_name=author_name or None, author_email=author_email or None,
                                          diff=diff)
    result.update({"module": name, "path": module_path, "from": source, "to": target,
                   "promoted": {field: wanted.get(field) for field in PROMOTED_FIELDS}})
    return result
