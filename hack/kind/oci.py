# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write single-layer OCI image archives without a container engine (standard library only).

`write_image(path, name, layer_from, config)` writes an OCI image layout as a tar file that
`ctr images import` and `docker load` accept. The layer is an uncompressed tar built from a
directory tree and/or a file map; entries are sorted and get mtime 0, so the same inputs give the
same image digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uname = info.gname = ""
    return info


def _add_tree(tar: tarfile.TarFile, root: str) -> None:
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in dirnames + sorted(filenames):
            entries.append(os.path.join(dirpath, name))
    for path in entries:
        arcname = os.path.relpath(path, root)
        info = tar.gettarinfo(path, arcname)
        if info is None:  # sockets
            continue
        info = _normalise(info)
        if info.isreg():
            with open(path, "rb") as handle:
                tar.addfile(info, handle)
        else:
            tar.addfile(info)


def _add_files(tar: tarfile.TarFile, files: dict) -> None:
    """files: arcname -> bytes | {"data": bytes, "mode": int, "xattrs": {..}} | {"symlink": target} | {"dir": True}"""
    for arcname in sorted(files):
        spec = files[arcname]
        if isinstance(spec, (bytes, str)):
            spec = {"data": spec}
        info = tarfile.TarInfo(arcname)
        info.mtime = 0
        if "symlink" in spec:
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, spec["symlink"], 0o777
            tar.addfile(info)
        elif spec.get("dir"):
            info.type, info.mode = tarfile.DIRTYPE, spec.get("mode", 0o755)
            tar.addfile(info)
        else:
            data = spec["data"].encode() if isinstance(spec["data"], str) else spec["data"]
            info.size, info.mode = len(data), spec.get("mode", 0o644)
            if spec.get("xattrs"):
                info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in spec["xattrs"].items()}
            tar.addfile(info, io.BytesIO(data))


def write_image(path: str, name: str, tree: str | None = None, files: dict | None = None,
                config: dict | None = None) -> str:
    """Write the archive; `name` is the full reference (registry.k8s.io/pause:3.10). Returns the manifest digest."""
    work = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=work, prefix=".layer-", delete=False) as raw:
        layer_path = raw.name
    try:
        with tarfile.open(layer_path, "w", format=tarfile.PAX_FORMAT) as tar:
            if tree:
                _add_tree(tar, tree)
            if files:
                _add_files(tar, files)
        digest = hashlib.sha256()
        with open(layer_path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        layer_digest, layer_size = "sha256:" + digest.hexdigest(), os.path.getsize(layer_path)
        image_config = {
            "architecture": "amd64", "os": "linux",
            "config": {k: v for k, v in (config or {}).items() if v is not None},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "history": [{"created_by": "aphex.platform hack/kind/oci.py"}],
        }
        config_bytes = json.dumps(image_config, sort_keys=True).encode()
        config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        manifest = {
            "schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": layer_size}],
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
        manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": MEDIA_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
            "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
            "platform": {"architecture": "amd64", "os": "linux"}}]}
        # docker load reads manifest.json (Docker archive format); ctr reads index.json. Both are written.
        docker_manifest = [{"Config": f"blobs/sha256/{config_digest[7:]}", "RepoTags": [name],
                            "Layers": [f"blobs/sha256/{layer_digest[7:]}"]}]
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
            info = tarfile.TarInfo(f"blobs/sha256/{layer_digest[7:]}")
            info.size, info.mtime, info.mode = layer_size, 0, 0o644
            with open(layer_path, "rb") as handle:
                out.addfile(info, handle)
        os.replace(tmp, path)
        return manifest_digest
    finally:
        os.unlink(layer_path)
