# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read upstream/lock.yml and decide where an artifact comes from and how it is verified.

Nothing here touches the network or the cache; `resolve()` turns (lock, component, version,
mirror, allow_unverified) into an Artifact plan that artifact.py executes.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

try:
    import yaml
except ImportError:  # PyYAML ships with ansible-core; guarded for the import sanity test
    yaml = None

# How trustworthy the bytes are: pinned in our lock, pinned only by the mirror's own LOCK.yaml,
# or not pinned anywhere (needs allow_unverified).
VERIFIED_LOCK = "lock"
VERIFIED_MIRROR_LOCK = "mirror-lock"
UNVERIFIED = "unverified"


class UpstreamError(Exception):
    """Anything that stops an artifact from being provided; the message names the file or URL."""


@dataclass(frozen=True)
class ArtifactFile:
    rel: str                    # path below the component's version directory in the cache
    mirror_path: str | None     # path relative to the mirror root
    sha256: str | None          # None only when verification == UNVERIFIED
    url: str | None = None      # online source of this file (methods url/git_files)


@dataclass
class Artifact:
    name: str
    version: str
    kind: str
    type: str                   # file | directory
    root: str                   # basename of the artifact inside the version directory
    source: str                 # mirror | url | git_files | helm_repo
    verification: str
    files: list = field(default_factory=list)
    mirror_root: str | None = None      # file or directory in the mirror, relative to its root
    helm: dict | None = None
    official_url: str = ""
    official_sha256: str = ""
    warnings: list = field(default_factory=list)


def load_yaml(path: str) -> dict:
    if yaml is None:
        raise UpstreamError("PyYAML is required to read the upstream lock")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise UpstreamError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UpstreamError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("components"), list):
        raise UpstreamError(f"{path} has no components list")
    return data


def find_component(lock: dict, name: str) -> dict:
    """An entry of the lock's `components` (artifacts) or `tools` (pinned command-line tools) by name."""
    entries = list(lock["components"]) + list(lock.get("tools") or [])
    for comp in entries:
        if comp.get("name") == name:
            return comp
    known = ", ".join(sorted(c.get("name", "?") for c in entries))
    raise UpstreamError(f"unknown upstream component {name!r}; the lock has: {known}")


def _rel(mirror_root: str, path: str) -> str:
    """Cache-relative path: keep the artifact's own basename so a directory stays a directory."""
    return posixpath.relpath(path, posixpath.dirname(mirror_root))


def _override_path(comp: dict, version: str) -> str | None:
    template = comp.get("mirror_path_template")
    if not template:
        return None
    if "v{version}" in template:
        version = version[1:] if version.startswith("v") else version
    return template.format(version=version)


def _mirror_lock_files(mirror_lock: dict, root: str) -> list:
    """Every file entry (dependencies included) the mirror's LOCK.yaml lists at or below root."""
    found = []

    def walk(node):
        for entry in node.get("files") or []:
            path = entry.get("path", "")
            if path == root or path.startswith(root + "/"):
                found.append(entry)
        for dep in node.get("dependencies") or []:
            walk(dep)

    for comp in mirror_lock.get("components") or []:
        walk(comp)
    return sorted(found, key=lambda e: e["path"])


def _base(comp: dict, version: str, mirror_root: str, source: str, verification: str) -> Artifact:
    return Artifact(
        name=comp["name"], version=version, kind=comp["kind"], type=comp["type"],
        root=posixpath.basename(mirror_root), source=source, verification=verification,
        mirror_root=mirror_root, helm=comp.get("helm"), official_url=comp.get("official_url", ""),
        official_sha256=comp.get("official_sha256", ""),
    )


def resolve(lock: dict, name: str, version: str | None = None, mirror: str | None = None,
            allow_unverified: bool = False, mirror_lock: dict | None = None) -> Artifact:
    """Plan where the artifact comes from.

    mirror_lock is the mirror's parsed LOCK.yaml; it is only consulted for a version that our lock
    does not pin (the caller loads it lazily through `mirror_lock_path()`).
    """
    comp = find_component(lock, name)
    pinned = str(comp["version"])
    version = str(version) if version else pinned

    if version == pinned:
        files = [ArtifactFile(_rel(comp["mirror_path"], f["path"]), f["path"], f["sha256"],
                              f.get("url") or (comp["fetch"].get("url") if comp["fetch"]["method"] == "url" else None))
                 for f in comp["files"]]
        if mirror:
            art = _base(comp, version, comp["mirror_path"], "mirror", VERIFIED_LOCK)
            art.files = files
            return art
        method = comp["fetch"]["method"]
        if method in ("url", "git_files"):
            art = _base(comp, version, comp["mirror_path"], method, VERIFIED_LOCK)
            art.files = files
            return art
        if method == "helm_repo":
            return _helm_plan(comp, version, allow_unverified, comp["fetch"].get("note", ""))
        raise UpstreamError(f"{name} {version} can only be provided from a mirror (set mirror or "
                            f"APHEX_UPSTREAM_MIRROR): {comp['fetch'].get('note', 'no online source')}")

    # A version our lock does not pin.
    if mirror:
        root = _override_path(comp, version)
        if root is None:
            raise UpstreamError(f"{name}: the mirror path of version {version} cannot be derived from "
                                f"{comp['mirror_path']}; regenerate a lock from that mirror with "
                                f"hack/update-upstream-lock.py and pass it as lock")
        entries = _mirror_lock_files(mirror_lock or {}, root)
        if entries:
            art = _base(comp, version, root, "mirror", VERIFIED_MIRROR_LOCK)
            art.files = [ArtifactFile(_rel(root, e["path"]), e["path"], e["sha256"]) for e in entries]
            art.official_url, art.official_sha256 = "", "unknown — version not pinned in the lock"
            return art
        if not allow_unverified:
            raise UpstreamError(f"{name} {version}: neither our lock nor the mirror's LOCK.yaml pins "
                                f"{root}; refusing to use unverified files (allow_unverified=true overrides)")
        art = _base(comp, version, root, "mirror", UNVERIFIED)
        art.official_url, art.official_sha256 = "", "unknown — version not pinned in the lock"
        art.warnings.append(f"{name} {version}: copied from the mirror without checksum verification")
        return art

    template = comp["fetch"].get("url_template")
    if template:
        url = template.format(version=version)
        if not allow_unverified:
            raise UpstreamError(f"{name} {version}: no checksum is pinned for {url}; refusing to download "
                                f"it unverified (allow_unverified=true overrides, or pin it in a lock)")
        art = _base(comp, version, posixpath.basename(comp["mirror_path"]), "url", UNVERIFIED)
        art.files = [ArtifactFile(art.root, None, None, url)]
        art.official_url, art.official_sha256 = url, "unknown — version not pinned in the lock"
        art.warnings.append(f"{name} {version}: downloaded from {url} without checksum verification")
        return art
    if comp.get("helm"):
        return _helm_plan(comp, version, allow_unverified, "version not pinned in the lock")
    raise UpstreamError(f"{name}: version {version} is not pinned and has no online source that can "
                        f"be derived; use a mirror that has it")


def _helm_plan(comp: dict, version: str, allow_unverified: bool, why: str) -> Artifact:
    helm = dict(comp["helm"])
    if version != str(comp["version"]):
        helm["version"] = version
    if not allow_unverified:
        raise UpstreamError(
            f"{comp['name']} {version}: no pinned checksum exists for the packaged chart "
            f"{helm['chart']}-{helm['version']}.tgz from {helm['repo']} ({why}); refusing to download it "
            f"unverified. Use a mirror (APHEX_UPSTREAM_MIRROR) or set allow_unverified=true")
    art = _base(comp, version, comp["mirror_path"], "helm_repo", UNVERIFIED)
    art.helm = helm
    art.official_url = f"{helm['repo']} chart {helm['chart']} {helm['version']}"
    art.official_sha256 = "unknown — packaged chart not pinned"
    art.warnings.append(f"{comp['name']} {version}: chart downloaded from {helm['repo']} without a pinned "
                        f"checksum (only the repository index digest was checked)")
    return art


def mirror_lock_path(mirror: str) -> str:
    return os.path.join(mirror, "LOCK.yaml")
