# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Provide a resolved Artifact in the per-user cache: reuse, copy from a mirror, or download.

Layout: <cache root>/upstream/<component>/<version>/<artifact basename>[/...] plus a manifest
(MANIFEST_NAME) that records each file's sha256, size and mtime, so a cache hit is verified by
stat() alone and only files whose stat changed are hashed again.
Downloads go through a `download(url, dest_path)` callable so this module stays free of
AnsibleModule (the module passes one built on fetch_url; tests pass a fake).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.parse

from .lock import UNVERIFIED, Artifact, ArtifactFile, UpstreamError

MANIFEST_NAME = ".aphex-artifact.json"
_CHUNK = 1024 * 1024

try:
    import yaml
except ImportError:
    yaml = None


def cache_root(explicit: str | None = None) -> str:
    """APHEX_CACHE_DIR, else $XDG_CACHE_HOME/aphex-platform, else ~/.cache/aphex-platform."""
    base = explicit or os.environ.get("APHEX_CACHE_DIR")
    if base:
        return os.path.abspath(os.path.expanduser(base))
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "aphex-platform")


def version_dir(root: str, art: Artifact) -> str:
    for part in (art.name, art.version):
        if not part or "/" in part or part in (".", ".."):
            raise UpstreamError(f"unsafe component name or version: {part!r}")
    return os.path.join(root, "upstream", art.name, art.version)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _listing(target: str) -> dict:
    """{relative path below the version dir: absolute path} of the artifact as it is on disk."""
    base = os.path.dirname(target)
    if os.path.isfile(target):
        return {os.path.relpath(target, base): target}
    found = {}
    for dirpath, _dirnames, filenames in os.walk(target):
        for filename in filenames:
            full = os.path.join(dirpath, filename)
            found[os.path.relpath(full, base).replace(os.sep, "/")] = full
    return found


def _expected(art: Artifact) -> dict | None:
    if art.verification == UNVERIFIED:
        return None
    return {f.rel: f.sha256 for f in art.files}


def check_cache(vdir: str, art: Artifact, allow_unverified: bool) -> tuple[bool, str]:
    """(valid, reason). Cheap: stat() against the manifest; hash only files whose stat changed."""
    target = os.path.join(vdir, art.root)
    try:
        with open(os.path.join(vdir, MANIFEST_NAME), encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return False, "not cached"
    recorded = manifest.get("files") or {}
    if manifest.get("verification") == UNVERIFIED and not allow_unverified:
        return False, "cached copy is unverified and allow_unverified is false"
    expected = _expected(art)
    if expected is not None and {k: v["sha256"] for k, v in recorded.items()} != expected:
        return False, "cached copy does not match the lock"
    on_disk = _listing(target) if os.path.exists(target) else {}
    if set(on_disk) != set(recorded):
        return False, "cached file set changed"
    for rel, meta in recorded.items():
        stat = os.stat(on_disk[rel])
        if stat.st_size == meta["size"] and stat.st_mtime_ns == meta["mtime_ns"]:
            continue
        if sha256_file(on_disk[rel]) != meta["sha256"]:
            return False, f"cached file {rel} was modified"
    return True, "cache hit"


def _copy_hashing(src: str, dest: str) -> str:
    digest = hashlib.sha256()
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(src, "rb") as reader, open(dest, "wb") as writer:
        for chunk in iter(lambda: reader.read(_CHUNK), b""):
            digest.update(chunk)
            writer.write(chunk)
    return digest.hexdigest()


def _check(what: str, got: str, expected: str | None) -> None:
    if expected is not None and got != expected:
        raise UpstreamError(f"checksum mismatch for {what}: sha256 {got}, the lock pins {expected}")


def _from_mirror(art: Artifact, mirror: str, staging: str) -> list:
    if not os.path.isdir(mirror):
        raise UpstreamError(f"mirror directory {mirror} does not exist")
    files = art.files
    if not files:  # unverified override: take what the mirror has
        src_root = os.path.join(mirror, art.mirror_root)
        if not os.path.exists(src_root):
            raise UpstreamError(f"mirror has no {art.mirror_root}")
        listing = _listing(src_root)
        files = [ArtifactFile(rel, posixpath.join(posixpath.dirname(art.mirror_root), rel), None)
                 for rel in sorted(listing)]
    for item in files:
        src = os.path.join(mirror, item.mirror_path)
        if not os.path.isfile(src):
            raise UpstreamError(f"mirror file {src} is missing (pinned in the lock for {art.name} {art.version})")
        got = _copy_hashing(src, os.path.join(staging, item.rel))
        _check(f"mirror file {src}", got, item.sha256)
    return files


def _download_checked(download, url: str, dest: str, expected: str | None) -> str:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    download(url, dest)
    got = sha256_file(dest)
    _check(url, got, expected)
    return got


def _safe_extract(tgz: str, dest: str) -> None:
    with tarfile.open(tgz, "r:gz") as archive:
        for member in archive.getmembers():
            name = os.path.normpath(member.name)
            if name.startswith("..") or os.path.isabs(name) or not (member.isfile() or member.isdir()):
                raise UpstreamError(f"refusing unsafe chart archive entry {member.name!r} in {tgz}")
        if hasattr(tarfile, "data_filter"):
            archive.extractall(dest, filter="data")
        else:  # Python < 3.11.4: the loop above already rejected links and escaping paths
            archive.extractall(dest)


def _from_helm_repo(art: Artifact, download, staging: str, work: str) -> None:
    if yaml is None:
        raise UpstreamError("PyYAML is required to read a Helm repository index")
    repo, chart, version = art.helm["repo"].rstrip("/"), art.helm["chart"], str(art.helm["version"])
    index_path = os.path.join(work, "index.yaml")
    download(f"{repo}/index.yaml", index_path)
    with open(index_path, encoding="utf-8") as handle:
        index = yaml.safe_load(handle) or {}
    entries = [e for e in (index.get("entries") or {}).get(chart) or [] if str(e.get("version")) == version]
    if not entries or not entries[0].get("urls"):
        raise UpstreamError(f"{repo}/index.yaml has no chart {chart} version {version}")
    url = urllib.parse.urljoin(repo + "/", entries[0]["urls"][0])
    tgz = os.path.join(work, "chart.tgz")
    _download_checked(download, url, tgz, entries[0].get("digest"))
    extracted = os.path.join(work, "x")
    _safe_extract(tgz, extracted)
    top = os.path.join(extracted, chart)
    if not os.path.isdir(top):
        raise UpstreamError(f"{url} does not contain a {chart}/ directory")
    shutil.move(top, os.path.join(staging, art.root))


def _fetch(art: Artifact, mirror: str | None, download, staging: str, work: str) -> None:
    if art.source == "mirror":
        _from_mirror(art, mirror, staging)
    elif art.source in ("url", "git_files"):
        for item in art.files:
            if not item.url:
                raise UpstreamError(f"{art.name}: no download URL for {item.rel}")
            _download_checked(download, item.url, os.path.join(staging, item.rel), item.sha256)
    elif art.source == "helm_repo":
        _from_helm_repo(art, download, staging, work)
    else:
        raise UpstreamError(f"{art.name}: unknown source {art.source}")


def _write_manifest(vdir: str, art: Artifact, origin: str) -> None:
    files = {}
    for rel, full in _listing(os.path.join(vdir, art.root)).items():
        stat = os.stat(full)
        files[rel] = {"sha256": sha256_file(full), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    expected = _expected(art)
    if expected is not None and {k: v["sha256"] for k, v in files.items()} != expected:
        raise UpstreamError(f"{art.name}: the fetched file set does not match the lock")
    manifest = {"component": art.name, "version": art.version, "verification": art.verification,
                "source": art.source, "origin": origin, "files": files}
    tmp = os.path.join(vdir, MANIFEST_NAME + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(vdir, MANIFEST_NAME))


def origin_of(art: Artifact, mirror: str | None) -> str:
    if art.source == "mirror":
        return os.path.join(mirror or "", art.mirror_root or "")
    if art.source == "helm_repo":
        return f"{art.helm['repo']} ({art.helm['chart']} {art.helm['version']})"
    if art.type == "file" and art.files:
        return art.files[0].url or ""
    return f"{len(art.files)} files from raw.githubusercontent.com"


def ensure(art: Artifact, root: str, mirror: str | None = None, download=None,
           check_mode: bool = False, allow_unverified: bool = False) -> dict:
    """Make the artifact available in the cache; return a result dict (changed, path, ...)."""
    vdir = version_dir(root, art)
    target = os.path.join(vdir, art.root)
    valid, reason = check_cache(vdir, art, allow_unverified)
    result = {
        "changed": not valid, "path": target, "component": art.name, "version": art.version,
        "kind": art.kind, "type": art.type, "verification": art.verification,
        "official_url": art.official_url, "official_sha256": art.official_sha256,
        "source": "cache" if valid else art.source, "fetched_from": None, "cache_status": reason,
        "warnings": list(art.warnings),
    }
    if valid:
        with open(os.path.join(vdir, MANIFEST_NAME), encoding="utf-8") as handle:
            manifest = json.load(handle)
        result["files"] = len(manifest["files"])
        result["verification"] = manifest.get("verification", art.verification)
        return result
    origin = origin_of(art, mirror)
    result["fetched_from"] = origin
    result["files"] = len(art.files)
    if check_mode:
        return result
    if art.source != "mirror" and download is None:
        raise UpstreamError("no downloader available")

    os.makedirs(vdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".fetch-", dir=vdir)
    try:
        staging = os.path.join(work, "out")
        os.makedirs(staging)
        _fetch(art, mirror, download, staging, work)
        # Swap in only after everything was verified; the manifest goes last so a crash
        # in between leaves an entry that the next run treats as not cached.
        for stale in (os.path.join(vdir, MANIFEST_NAME), target):
            if os.path.isdir(stale) and not os.path.islink(stale):
                shutil.rmtree(stale)
            elif os.path.lexists(stale):
                os.remove(stale)
        os.replace(os.path.join(staging, art.root), target)
        _write_manifest(vdir, art, origin)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(vdir, MANIFEST_NAME), encoding="utf-8") as handle:
        result["files"] = len(json.load(handle)["files"])
    return result
