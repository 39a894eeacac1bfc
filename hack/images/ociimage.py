# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Multi-layer OCI image archives without a container engine (standard library only).

hack/kind/oci.py writes one-layer images; the platform images share big layers (the Debian tools root
filesystem under Argo CD, the git images, redis and Tekton's resolvers; the static base under every Go
image), so here each layer is a cached gzip blob and an image is a list of layers. Layers are
deterministic (sorted entries, mtime 0, gzip mtime 0), so the same inputs give the same digests and a
push of an unchanged image transfers nothing. The archive is an OCI image layout plus Docker's
manifest.json: `docker load`, `ctr images import` and hack/images/push read it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kind"))
import oci  # noqa: E402  (hack/kind/oci.py: file-map and tree helpers)

MEDIA_MANIFEST = oci.MEDIA_MANIFEST
MEDIA_CONFIG = oci.MEDIA_CONFIG
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
# Contents of a root filesystem that the runtime provides, never the image.
SKIP_TREE = ("dev/", "proc/", "sys/", "run/", "var/cache/apt/", "var/lib/apt/lists/")


class _HashingWriter(io.RawIOBase):
    def __init__(self, target):
        self.target, self.hash, self.size = target, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


def _add_tree(tar: tarfile.TarFile, root: str) -> None:
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if rel_dir.startswith(SKIP_TREE):
            dirnames[:] = []
            continue
        for name in dirnames + sorted(filenames):
            entries.append(os.path.join(dirpath, name))
    for path in entries:
        info = tar.gettarinfo(path, os.path.relpath(path, root))
        if info is None or info.ischr() or info.isblk() or info.isfifo():
            continue
        info = oci._normalise(info)
        if info.isreg():
            with open(path, "rb") as handle:
                tar.addfile(info, handle)
        else:
            tar.addfile(info)


def write_layer(path: str, tree: str | None = None, files: dict | None = None, owners: dict | None = None) -> dict:
    """Write a gzip layer blob to `path` (skipped when path.json exists); returns
    {"digest", "size", "diff_id", "path"}. `owners` maps arcname -> (uid, gid) for file-map entries."""
    meta_path = path + ".json"
    if os.path.exists(meta_path) and os.path.exists(path):
        with open(meta_path, encoding="utf-8") as handle:
            return json.load(handle)
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        compressed = _HashingWriter(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=1) as gz:
            plain = _HashingWriter(gz)
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                if tree:
                    _add_tree(tar, tree)
                if files:
                    _add_files(tar, files, owners or {})
    os.replace(tmp, path)
    meta = {"digest": "sha256:" + compressed.hash.hexdigest(), "size": compressed.size,
            "diff_id": "sha256:" + plain.hash.hexdigest(), "path": path}
    with open(meta_path, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)
    return meta


def _add_files(tar: tarfile.TarFile, files: dict, owners: dict) -> None:
    """oci._add_files plus ownership (uid/gid) per entry."""
    for arcname in sorted(files):
        spec = files[arcname]
        if isinstance(spec, (bytes, str)):
            spec = {"data": spec}
        info = tarfile.TarInfo(arcname)
        info.mtime = 0
        info.uid, info.gid = owners.get(arcname, spec.get("owner", (0, 0)))
        if "symlink" in spec:
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, spec["symlink"], 0o777
            tar.addfile(info)
        elif spec.get("dir"):
            info.type, info.mode = tarfile.DIRTYPE, spec.get("mode", 0o755)
            tar.addfile(info)
        elif "source" in spec:  # a big file streamed from disk (binaries)
            info.size, info.mode = os.path.getsize(spec["source"]), spec.get("mode", 0o755)
            with open(spec["source"], "rb") as handle:
                tar.addfile(info, handle)
        else:
            data = spec["data"].encode() if isinstance(spec["data"], str) else spec["data"]
            info.size, info.mode = len(data), spec.get("mode", 0o644)
            tar.addfile(info, io.BytesIO(data))


def write_image(path: str, name: str, layers: list, config: dict) -> str:
    """Archive of an image from layer metas (write_layer results); returns the manifest digest."""
    image_config = {
        "architecture": "amd64", "os": "linux",
        "config": {k: v for k, v in config.items() if v is not None},
        "rootfs": {"type": "layers", "diff_ids": [layer["diff_id"] for layer in layers]},
        "history": [{"created_by": "aphex.platform hack/images"}] * len(layers),
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    manifest = {
        "schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": MEDIA_LAYER_GZIP, "digest": layer["digest"], "size": layer["size"]}
                   for layer in layers],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": MEDIA_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
        "annotations": {"io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
        "platform": {"architecture": "amd64", "os": "linux"}}]}
    docker_manifest = [{"Config": f"blobs/sha256/{config_digest[7:]}", "RepoTags": [name],
                        "Layers": [f"blobs/sha256/{layer['digest'][7:]}" for layer in layers]}]
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as out:
        small = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
                 "index.json": json.dumps(index, sort_keys=True).encode(),
                 "manifest.json": json.dumps(docker_manifest).encode(),
                 f"blobs/sha256/{config_digest[7:]}": config_bytes,
                 f"blobs/sha256/{manifest_digest[7:]}": manifest_bytes}
        for arcname in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(arcname)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            out.addfile(info)
        for arcname, data in small.items():
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            out.addfile(info, io.BytesIO(data))
        seen = set()
        for layer in layers:
            if layer["digest"] in seen:
                continue
            seen.add(layer["digest"])
            info = tarfile.TarInfo(f"blobs/sha256/{layer['digest'][7:]}")
            info.size, info.mtime, info.mode = layer["size"], 0, 0o644
            with open(layer["path"], "rb") as handle:
                out.addfile(info, handle)
    os.replace(tmp, path)
    return manifest_digest


def read_archive(path: str) -> dict:
    """{"name", "manifest_digest", "manifest": bytes, "blobs": {digest: (offset, size)}} of an archive."""
    with tarfile.open(path, "r") as tar:
        members = {m.name: m for m in tar.getmembers()}
        index = json.load(tar.extractfile(members["index.json"]))
        entry = index["manifests"][0]
        manifest = tar.extractfile(members["blobs/sha256/" + entry["digest"][7:]]).read()
        blobs = {"sha256:" + name.rsplit("/", 1)[1]: (m.offset_data, m.size)
                 for name, m in members.items() if name.startswith("blobs/sha256/") and m.isfile()}
    return {"name": entry["annotations"]["io.containerd.image.name"], "manifest_digest": entry["digest"],
            "manifest": manifest, "blobs": blobs}
