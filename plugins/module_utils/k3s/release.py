# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""k3s release artifacts: names per architecture, official URLs, and the release's sha256sum-<arch>.txt."""

from __future__ import annotations

import re

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError

OFFICIAL_BASE_URL = "https://github.com/k3s-io/k3s/releases/download"
# ansible_architecture -> k3s's architecture name.
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
                 "armhf": "arm", "s390x": "s390x"}
BINARY_NAMES = {"amd64": "k3s", "arm64": "k3s-arm64", "arm": "k3s-armhf", "s390x": "k3s-s390x"}
# The images tarball formats k3s imports from agent/images/, preferred first.
IMAGE_SUFFIXES = (".tar.zst", ".tar.gz", ".tar")
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s[0-9]+$")
_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(\S+)$")


def check_version(version) -> str:
    if not isinstance(version, str) or not _VERSION.match(version):
        raise K3sError(f"k3s_version: {version!r} is not a k3s release (e.g. v1.34.1+k3s1); pin an exact version")
    return version


def artifacts(version: str, architecture: str, base_url: str = OFFICIAL_BASE_URL) -> dict:
    """Names and URLs of a release's binary, images tarball and checksum file for one host architecture."""
    check_version(version)
    arch = ARCHITECTURES.get(str(architecture))
    if arch is None:
        raise K3sError(f"ansible_architecture {architecture!r}: k3s publishes no binary for it "
                       f"(known: {', '.join(sorted(ARCHITECTURES))})")
    base = (base_url or OFFICIAL_BASE_URL).rstrip("/") + "/" + version.replace("+", "%2B")
    names = {"binary": BINARY_NAMES[arch], "checksums": f"sha256sum-{arch}.txt",
             "images": [f"k3s-airgap-images-{arch}{suffix}" for suffix in IMAGE_SUFFIXES]}
    return {"arch": arch, "version": version, "names": names,
            "urls": {"binary": f"{base}/{names['binary']}", "checksums": f"{base}/{names['checksums']}"}}


def parse_checksums(text: str, source: str = "sha256sum file") -> dict:
    """`sha256sum` output (`<64 hex>  <name>`, `*` for binary mode) -> {name: lower-case digest}."""
    result = {}
    for number, raw in enumerate(str(text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise K3sError(f"{source}: line {number} is not '<sha256>  <file name>': {line[:80]!r}")
        digest, name = match.group(1).lower(), match.group(2).lstrip("./")
        if name in result and result[name] != digest:
            raise K3sError(f"{source}: {name} is listed twice with different digests")
        result[name] = digest
    if not result:
        raise K3sError(f"{source}: no checksums in it")
    return result


def expected_checksum(text: str, name: str, source: str = "sha256sum file") -> str:
    """The digest the checksum file gives for `name`; an error naming the file when it lists none."""
    checksums = parse_checksums(text, source)
    if name not in checksums:
        raise K3sError(f"{source}: has no checksum for {name} (it lists {', '.join(sorted(checksums))})")
    return checksums[name]
