# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.kind import tools

KIND = {"name": "kind", "version": "v0.33.0", "go_module": "sigs.k8s.io/kind", "go_package": "sigs.k8s.io/kind",
        "go_sum": "h1:x", "url_template": "https://example.invalid/{version}/kind-{os}-{arch}",
        "checksum_url_template": "https://example.invalid/{version}/kind-{os}-{arch}.sha256sum", "sha256": {}}


def fake_kind(path, version):
    path.write_text(f"#!/bin/sh\necho 'kind {version} go1.26 linux/amd64'\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("APHEX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    return tmp_path


def test_explicit_binary_must_report_the_pinned_version(tmp_path):
    good = fake_kind(tmp_path / "kind-good", "v0.33.0")
    assert tools.ensure(KIND, explicit=good)["source"] == "explicit"
    with pytest.raises(tools.ToolError, match="reports kind v0.32.0; the pinned version is v0.33.0"):
        tools.ensure(KIND, explicit=fake_kind(tmp_path / "kind-old", "v0.32.0"))


def test_path_binary_of_another_version_is_not_used(tmp_path):
    fake_kind(tmp_path / "bin" / "kind", "v0.32.0")
    with pytest.raises(tools.ToolError) as err:
        tools.ensure(KIND, sources=["path"])
    assert "is v0.32.0, not v0.33.0" in str(err.value)


def test_path_then_cache(tmp_path):
    fake_kind(tmp_path / "bin" / "kind", "v0.33.0")
    found = tools.ensure(KIND, sources=["cache", "path"])
    assert found["source"] == "path"
    cached = tmp_path / "cache" / "bin" / "kind-v0.33.0" / "kind"
    cached.parent.mkdir(parents=True)
    fake_kind(cached, "v0.33.0")
    assert tools.ensure(KIND, sources=["cache", "path"]) == {
        "path": str(cached), "source": "cache", "version": "v0.33.0", "warnings": []}


def test_download_verified_against_the_lock(tmp_path, monkeypatch):
    body = b"#!/bin/sh\necho 'kind v0.33.0 go1.26 linux/amd64'\n"
    osname, arch = tools.platform_key()
    pinned = dict(KIND, sha256={f"{osname}-{arch}": hashlib.sha256(body).hexdigest()})
    monkeypatch.setattr(tools, "_fetch", lambda url, timeout: body)
    found = tools.ensure(pinned, sources=["download"])
    assert found["source"] == "download" and found["warnings"] == []
    assert os.access(found["path"], os.X_OK)
    bad = dict(KIND, sha256={f"{osname}-{arch}": "0" * 64})
    with pytest.raises(tools.ToolError, match="does not match the pinned"):
        tools.ensure(bad, sources=["download"])


def test_download_without_a_pinned_checksum_uses_the_publishers_and_says_so(monkeypatch):
    body = b"binary"
    digest = hashlib.sha256(body).hexdigest()
    monkeypatch.setattr(tools, "_fetch", lambda url, timeout: (f"{digest}  kind\n".encode() if url.endswith("sha256sum")
                                                               else body))
    found = tools.ensure(KIND, sources=["download"])
    assert "pins no sha256" in found["warnings"][0]


def test_every_source_failing_names_each_reason(monkeypatch):
    def offline(url, timeout):
        raise OSError("no network")
    monkeypatch.setattr(tools, "_fetch", offline)
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    with pytest.raises(tools.ToolError) as err:
        tools.ensure(KIND)
    message = str(err.value)
    assert "PATH: no kind" in message and "download: no network" in message and "build: Go is not installed" in message


def test_the_collection_lock_pins_kind_and_kubectl():
    from ansible_collections.aphex.platform.plugins.module_utils.upstream.lock import find_component, load_yaml

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))))
    lock = load_yaml(os.path.join(root, "upstream", "lock.yml"))
    kind, kubectl = find_component(lock, "kind"), find_component(lock, "kubectl")
    assert (kind["version"], kubectl["version"]) == ("v0.33.0", "v1.34.4")
    for tool in (kind, kubectl):
        assert tool["go_sum"].startswith("h1:") and "{version}" in tool["url_template"]
        assert tool["checksum_url_template"].startswith(tool["url_template"])
    with pytest.raises(Exception, match="unknown upstream component 'kindx'"):
        find_component(lock, "kindx")
