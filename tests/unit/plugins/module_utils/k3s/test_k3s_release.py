# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, release

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SUMS = open(os.path.join(FIXTURES, "sha256sum-amd64.v1.36.4+k3s1.txt"), encoding="utf-8").read()


def test_official_urls_encode_the_plus_of_the_version():
    out = release.artifacts("v1.36.4+k3s1", "x86_64")
    assert out["arch"] == "amd64"
    assert out["urls"] == {
        "binary": "https://github.com/k3s-io/k3s/releases/download/v1.36.4%2Bk3s1/k3s",
        "checksums": "https://github.com/k3s-io/k3s/releases/download/v1.36.4%2Bk3s1/sha256sum-amd64.txt"}
    assert out["names"]["images"] == ["k3s-airgap-images-amd64.tar.zst", "k3s-airgap-images-amd64.tar.gz",
                                      "k3s-airgap-images-amd64.tar"]


def test_arm64_binary_carries_its_suffix_and_a_mirror_keeps_the_layout():
    out = release.artifacts("v1.36.4+k3s1", "aarch64", "http://mirror.internal/k3s/")
    assert out["names"]["binary"] == "k3s-arm64"
    assert out["urls"]["binary"] == "http://mirror.internal/k3s/v1.36.4%2Bk3s1/k3s-arm64"
    assert out["urls"]["checksums"].endswith("/sha256sum-arm64.txt")


@pytest.mark.parametrize("version", ["1.36.4", "v1.36.4", "latest", "stable", "v1.36+k3s1", "", None])
def test_unpinned_versions_are_refused_naming_the_setting(version):
    with pytest.raises(K3sError, match="^k3s_version: .* pin an exact version"):
        release.artifacts(version, "x86_64")


def test_release_candidates_are_versions():
    assert release.check_version("v1.37.1-rc2+k3s1") == "v1.37.1-rc2+k3s1"


def test_unknown_architecture():
    with pytest.raises(K3sError, match="ansible_architecture 'mips'"):
        release.artifacts("v1.36.4+k3s1", "mips")


def test_the_real_checksum_file_gives_the_binary_digest():
    assert release.expected_checksum(SUMS, "k3s") == "835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f"
    assert len(release.parse_checksums(SUMS)) == 4


def test_binary_mode_star_and_upper_case_digests_are_read():
    sums = release.parse_checksums("ABCDEF" + "0" * 58 + " *k3s-arm64\n\n")
    assert sums == {"k3s-arm64": "abcdef" + "0" * 58}


def test_a_file_without_the_binary_names_what_it_has():
    with pytest.raises(K3sError, match=r"sha256sum-arm64.txt: has no checksum for k3s-arm64 \(it lists k3s, "):
        release.expected_checksum(SUMS, "k3s-arm64", "sha256sum-arm64.txt")


@pytest.mark.parametrize("text,message", [
    ("", "no checksums"),
    ("<html>404 Not Found</html>", "line 1 is not"),
    ("abc  k3s", "line 1 is not"),
    ("a" * 64 + "  k3s\n" + "b" * 64 + "  k3s\n", "k3s is listed twice"),
])
def test_malformed_checksum_files_are_refused(text, message):
    with pytest.raises(K3sError, match=message):
        release.parse_checksums(text)
