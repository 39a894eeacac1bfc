# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: k3s_release
short_description: Names, official URLs and the expected checksum of a k3s release's artifacts
version_added: 0.2.0
description:
  - Maps the host architecture to k3s's artifact names (binary, images tarball, C(sha256sum-<arch>.txt)) and URLs
    under the release URL; with the checksum file's text, also the binary's expected sha256.
author:
  - aphex.platform maintainers (@aphex-platform)
options:
  _input:
    description: The k3s version, e.g. C(v1.34.1+k3s1).
    type: str
    required: true
  architecture:
    description: C(ansible_architecture) of the host.
    type: str
    required: true
  base_url:
    description: Release download URL (the official one, or a mirror with the same layout).
    type: str
    default: https://github.com/k3s-io/k3s/releases/download
  checksums:
    description: Text of the release's C(sha256sum-<arch>.txt); when given, C(binary_sha256) is set.
    type: str
    default: ""
"""

EXAMPLES = r"""
# See roles/k3s/tasks/.
"""

RETURN = r"""
_value:
  description: Dict with C(arch), C(names) (binary, checksums, images), C(urls) (binary, checksums) and C(binary_sha256).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, release


def k3s_release(version, architecture, base_url="", checksums=""):
    try:
        result = release.artifacts(version, architecture, base_url or release.OFFICIAL_BASE_URL)
        result["binary_sha256"] = ""
        if checksums:
            result["binary_sha256"] = release.expected_checksum(checksums, result["names"]["binary"],
                                                                result["names"]["checksums"])
        return result
    except K3sError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"k3s_release": k3s_release}
