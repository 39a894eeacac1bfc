from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.upstream import artifact
from ansible_collections.aphex.platform.plugins.module_utils.upstream.lock import (
    UpstreamError,
    find_component,
    load_yaml,
    resolve,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
LOCK_PATH = os.path.join(ROOT, "upstream", "lock.yml")


@pytest.fixture(scope="module")
def lock():
    return load_yaml(LOCK_PATH)


@pytest.fixture
def mirror(tmp_path, lock, upstream_mirror):
    """A small mirror: the files of three components copied from the shared mirror."""
    src, dest = upstream_mirror, tmp_path / "mirror"
    for name in ("nvidia-device-plugin", "tekton-dashboard", "dex-chart"):
        for item in find_component(lock, name)["files"]:
            target = dest / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(os.path.join(src, item["path"]), target)
    return str(dest)


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "cache")


def test_copy_from_mirror_then_cache_hit(lock, mirror, cache):
    art = resolve(lock, "tekton-dashboard", mirror=mirror)
    first = artifact.ensure(art, cache, mirror=mirror)
    assert first["changed"] is True and first["source"] == "mirror" and first["verification"] == "lock"
    assert first["path"] == os.path.join(cache, "upstream", "tekton-dashboard", "v0.71.0", "config")
    assert first["files"] == 13 and os.path.isfile(os.path.join(first["path"], "kustomization.yaml"))
    assert first["fetched_from"] == os.path.join(mirror, "tekton-dashboard/v0.71.0/config")

    second = artifact.ensure(resolve(lock, "tekton-dashboard", mirror=mirror), cache, mirror=mirror)
    assert second["changed"] is False and second["source"] == "cache" and second["fetched_from"] is None
    assert second["path"] == first["path"] and second["files"] == 13


def test_cache_hit_does_not_touch_the_mirror(lock, mirror, cache):
    artifact.ensure(resolve(lock, "nvidia-device-plugin", mirror=mirror), cache, mirror=mirror)
    shutil.rmtree(mirror)  # a hit must be served from the cache alone
    again = artifact.ensure(resolve(lock, "nvidia-device-plugin", mirror=mirror), cache, mirror=mirror)
    assert again["changed"] is False and os.path.isfile(again["path"])


def test_tampered_mirror_file_is_named(lock, mirror, cache):
    victim = os.path.join(mirror, "tekton-dashboard/v0.71.0/config/kustomization.yaml")
    with open(victim, "a", encoding="utf-8") as handle:
        handle.write("# tampered\n")
    with pytest.raises(UpstreamError) as err:
        artifact.ensure(resolve(lock, "tekton-dashboard", mirror=mirror), cache, mirror=mirror)
    assert f"checksum mismatch for mirror file {victim}" in str(err.value)
    assert "the lock pins" in str(err.value)
    # nothing half-copied is left to be mistaken for a cached artifact
    assert not os.path.exists(os.path.join(cache, "upstream", "tekton-dashboard", "v0.71.0", "config"))


def test_missing_mirror_file_is_named(lock, mirror, cache):
    victim = os.path.join(mirror, "dex/0.24.0/chart/dex/values.yaml")
    os.remove(victim)
    with pytest.raises(UpstreamError, match=f"mirror file {victim} is missing"):
        artifact.ensure(resolve(lock, "dex-chart", mirror=mirror), cache, mirror=mirror)


def test_modified_cache_is_detected_and_refetched(lock, mirror, cache):
    art = resolve(lock, "dex-chart", mirror=mirror)
    path = artifact.ensure(art, cache, mirror=mirror)["path"]
    with open(os.path.join(path, "values.yaml"), "a", encoding="utf-8") as handle:
        handle.write("# local edit\n")
    valid, reason = artifact.check_cache(os.path.dirname(path), art, False)
    assert (valid, reason) == (False, "cached file dex/values.yaml was modified")
    again = artifact.ensure(art, cache, mirror=mirror)
    assert again["changed"] is True
    assert artifact.sha256_file(os.path.join(path, "values.yaml")) == next(
        f["sha256"] for f in find_component(lock, "dex-chart")["files"] if f["path"].endswith("dex/values.yaml"))


def test_extra_file_in_cache_invalidates_it(lock, mirror, cache):
    art = resolve(lock, "dex-chart", mirror=mirror)
    path = artifact.ensure(art, cache, mirror=mirror)["path"]
    with open(os.path.join(path, "templates", "extra.yaml"), "w", encoding="utf-8") as handle:
        handle.write("kind: ConfigMap\n")
    assert artifact.check_cache(os.path.dirname(path), art, False) == (False, "cached file set changed")
    artifact.ensure(art, cache, mirror=mirror)
    assert not os.path.exists(os.path.join(path, "templates", "extra.yaml"))


def test_touched_but_identical_file_is_rehashed_and_still_valid(lock, mirror, cache):
    art = resolve(lock, "nvidia-device-plugin", mirror=mirror)
    path = artifact.ensure(art, cache, mirror=mirror)["path"]
    os.utime(path, ns=(1, 1))
    assert artifact.check_cache(os.path.dirname(path), art, False) == (True, "cache hit")


def test_check_mode_reports_and_writes_nothing(lock, mirror, cache):
    result = artifact.ensure(resolve(lock, "tekton-dashboard", mirror=mirror), cache, mirror=mirror,
                             check_mode=True)
    assert result["changed"] is True and result["source"] == "mirror" and result["cache_status"] == "not cached"
    assert result["fetched_from"].endswith("tekton-dashboard/v0.71.0/config")
    assert not os.path.exists(cache)


def test_lock_change_invalidates_cache(lock, mirror, cache):
    art = resolve(lock, "nvidia-device-plugin", mirror=mirror)
    artifact.ensure(art, cache, mirror=mirror)
    art.files = [f.__class__(f.rel, f.mirror_path, "0" * 64) for f in art.files]
    assert artifact.check_cache(artifact.version_dir(cache, art), art, False) == (
        False, "cached copy does not match the lock")


class FakeWeb:
    def __init__(self, pages: dict):
        self.pages, self.requested = pages, []

    def __call__(self, url, dest):
        self.requested.append(url)
        if url not in self.pages:
            raise UpstreamError(f"download of {url} failed: HTTP 404")
        with open(dest, "wb") as handle:
            handle.write(self.pages[url])


def _mirror_bytes(mirror, lock, name):
    return {f.get("url") or find_component(lock, name)["fetch"].get("url"): open(os.path.join(mirror, f["path"]), "rb").read()
            for f in find_component(lock, name)["files"]}


def test_download_single_release_asset_verified(lock, mirror, cache):
    web = FakeWeb(_mirror_bytes(mirror, lock, "nvidia-device-plugin"))
    result = artifact.ensure(resolve(lock, "nvidia-device-plugin"), cache, download=web)
    assert result["changed"] is True and result["source"] == "url" and result["verification"] == "lock"
    assert web.requested == [
        "https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v0.17.4/deployments/static/nvidia-device-plugin.yml"]
    assert result["official_sha256"] == artifact.sha256_file(result["path"])


def test_download_git_files_verified_per_file(lock, mirror, cache):
    pages = _mirror_bytes(mirror, lock, "tekton-dashboard")
    web = FakeWeb(pages)
    result = artifact.ensure(resolve(lock, "tekton-dashboard"), cache, download=web)
    assert result["source"] == "git_files" and result["files"] == 13 and len(web.requested) == 13
    assert all("/tektoncd/dashboard/cb8c2bc965d72afabb1f68589a5ac37bf72f5bd6/config/" in u for u in web.requested)


def test_tampered_download_fails(lock, mirror, cache):
    pages = _mirror_bytes(mirror, lock, "tekton-dashboard")
    url = sorted(pages)[0]
    pages[url] = pages[url] + b"\n# evil\n"
    with pytest.raises(UpstreamError, match=f"checksum mismatch for {url}"):
        artifact.ensure(resolve(lock, "tekton-dashboard"), cache, download=FakeWeb(pages))
    assert os.listdir(os.path.join(cache, "upstream", "tekton-dashboard", "v0.71.0")) == []


def _chart_tgz(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _helm_web(tgz: bytes, digest: str | None = None):
    index = {"apiVersion": "v1", "entries": {"cert-manager": [
        {"version": "v1.19.6", "urls": ["charts/cert-manager-v1.19.6.tgz"],
         "digest": digest or hashlib.sha256(tgz).hexdigest()}]}}
    return FakeWeb({"https://charts.jetstack.io/index.yaml": json.dumps(index).encode(),
                    "https://charts.jetstack.io/charts/cert-manager-v1.19.6.tgz": tgz})


def test_helm_repo_chart_needs_allow_unverified_and_checks_index_digest(lock, cache):
    with pytest.raises(UpstreamError, match="refusing to download it unverified"):
        resolve(lock, "cert-manager-chart")
    tgz = _chart_tgz({"cert-manager/Chart.yaml": b"name: cert-manager\n",
                      "cert-manager/templates/a.yaml": b"kind: ConfigMap\n"})
    art = resolve(lock, "cert-manager-chart", allow_unverified=True)
    result = artifact.ensure(art, cache, download=_helm_web(tgz), allow_unverified=True)
    assert result["verification"] == "unverified" and result["files"] == 2
    assert os.path.isfile(os.path.join(result["path"], "templates", "a.yaml"))
    assert result["path"].endswith("cert-manager-chart/v1.19.6/cert-manager")
    assert result["warnings"]
    # an unverified cache entry is not handed out once allow_unverified is off again
    valid, reason = artifact.check_cache(os.path.dirname(result["path"]), art, False)
    assert not valid and "unverified" in reason
    assert artifact.ensure(art, cache, download=None, allow_unverified=True)["changed"] is False


def test_helm_repo_digest_mismatch_fails(lock, cache):
    tgz = _chart_tgz({"cert-manager/Chart.yaml": b"name: cert-manager\n"})
    art = resolve(lock, "cert-manager-chart", allow_unverified=True)
    with pytest.raises(UpstreamError, match="checksum mismatch for https://charts.jetstack.io/charts/"):
        artifact.ensure(art, cache, download=_helm_web(tgz, digest="0" * 64), allow_unverified=True)


def test_helm_archive_escaping_paths_are_refused(lock, cache):
    tgz = _chart_tgz({"../evil.yaml": b"x"})
    art = resolve(lock, "cert-manager-chart", allow_unverified=True)
    with pytest.raises(UpstreamError, match="unsafe chart archive entry"):
        artifact.ensure(art, cache, download=_helm_web(tgz), allow_unverified=True)


def test_cache_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("APHEX_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert artifact.cache_root() == str(tmp_path / "explicit")
    assert artifact.cache_root(str(tmp_path / "param")) == str(tmp_path / "param")
    monkeypatch.delenv("APHEX_CACHE_DIR")
    assert artifact.cache_root() == str(tmp_path / "xdg" / "aphex-platform")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert artifact.cache_root() == str(tmp_path / "home" / ".cache" / "aphex-platform")
