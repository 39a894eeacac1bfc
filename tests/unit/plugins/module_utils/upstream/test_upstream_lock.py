from __future__ import annotations

import copy

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.upstream.lock import (
    UNVERIFIED,
    VERIFIED_LOCK,
    VERIFIED_MIRROR_LOCK,
    UpstreamError,
    resolve,
)

LOCK = {
    "lock_version": 1,
    "components": [
        {
            "name": "one-file", "version": "v1.0.0", "kind": "manifest_file", "type": "file",
            "mirror_path": "one/v1.0.0/install.yaml", "mirror_path_template": "one/{version}/install.yaml",
            "official_url": "https://example.invalid/v1.0.0/install.yaml", "official_sha256": "a" * 64,
            "fetch": {"method": "url", "url": "https://example.invalid/v1.0.0/install.yaml",
                      "url_template": "https://example.invalid/{version}/install.yaml"},
            "files": [{"path": "one/v1.0.0/install.yaml", "sha256": "a" * 64}],
        },
        {
            "name": "a-dir", "version": "v2.0.0", "kind": "manifest_dir", "type": "directory",
            "mirror_path": "adir/v2.0.0/config", "mirror_path_template": "adir/{version}/config",
            "official_url": "https://example.invalid/release.yaml",
            "official_sha256": "unknown — mirror is git source, not the release bundle",
            "fetch": {"method": "git_files"},
            "files": [
                {"path": "adir/v2.0.0/config/a.yaml", "sha256": "b" * 64, "url": "https://raw.invalid/a.yaml"},
                {"path": "adir/v2.0.0/config/sub/b.yaml", "sha256": "c" * 64, "url": "https://raw.invalid/b.yaml"},
            ],
        },
        {
            "name": "a-chart", "version": "1.2.3", "kind": "helm_chart_dir", "type": "directory",
            "mirror_path": "chart/v1.2.3/chart/mychart", "mirror_path_template": "chart/v{version}/chart/mychart",
            "official_url": "helm repo https://charts.invalid , chart mychart, version 1.2.3",
            "official_sha256": "unknown — packaged chart",
            "helm": {"repo": "https://charts.invalid", "chart": "mychart", "version": "1.2.3"},
            "fetch": {"method": "helm_repo", "verified": False},
            "files": [{"path": "chart/v1.2.3/chart/mychart/Chart.yaml", "sha256": "d" * 64, "derived": True}],
        },
    ],
}


def test_default_version_from_mirror_uses_our_lock_and_keeps_basename():
    art = resolve(LOCK, "a-dir", mirror="/m")
    assert (art.source, art.verification, art.version, art.root) == ("mirror", VERIFIED_LOCK, "v2.0.0", "config")
    assert [(f.rel, f.mirror_path, f.sha256) for f in art.files] == [
        ("config/a.yaml", "adir/v2.0.0/config/a.yaml", "b" * 64),
        ("config/sub/b.yaml", "adir/v2.0.0/config/sub/b.yaml", "c" * 64),
    ]


def test_single_file_online_uses_official_url_with_pinned_sha():
    art = resolve(LOCK, "one-file")
    assert art.source == "url" and art.verification == VERIFIED_LOCK
    assert [(f.rel, f.url, f.sha256) for f in art.files] == [
        ("install.yaml", "https://example.invalid/v1.0.0/install.yaml", "a" * 64)]
    assert art.official_sha256 == "a" * 64


def test_git_source_directory_online_fetches_each_file_verified():
    art = resolve(LOCK, "a-dir")
    assert art.source == "git_files" and art.verification == VERIFIED_LOCK
    assert [f.url for f in art.files] == ["https://raw.invalid/a.yaml", "https://raw.invalid/b.yaml"]
    assert art.official_sha256.startswith("unknown")


def test_packaged_chart_without_checksum_is_refused_unless_allowed():
    with pytest.raises(UpstreamError, match="no pinned checksum.*allow_unverified=true"):
        resolve(LOCK, "a-chart")
    art = resolve(LOCK, "a-chart", allow_unverified=True)
    assert art.source == "helm_repo" and art.verification == UNVERIFIED
    assert art.helm == {"repo": "https://charts.invalid", "chart": "mychart", "version": "1.2.3"}
    assert art.warnings and "without a pinned checksum" in art.warnings[0]


def test_unknown_component_lists_known_names():
    with pytest.raises(UpstreamError, match="unknown upstream component 'nope'.*a-chart, a-dir, one-file"):
        resolve(LOCK, "nope")


def test_unpinned_version_from_mirror_uses_the_mirror_lock():
    mirror_lock = {"components": [{"name": "adir", "files": [
        {"path": "adir/v2.1.0/config/a.yaml", "sha256": "e" * 64},
        {"path": "adir/v2.1.0/other.yaml", "sha256": "f" * 64},
    ], "dependencies": [{"files": [{"path": "adir/v2.1.0/config/dep/x.yaml", "sha256": "0" * 64}]}]}]}
    art = resolve(LOCK, "a-dir", "v2.1.0", mirror="/m", mirror_lock=mirror_lock)
    assert art.verification == VERIFIED_MIRROR_LOCK
    assert [(f.rel, f.sha256) for f in art.files] == [("config/a.yaml", "e" * 64), ("config/dep/x.yaml", "0" * 64)]


def test_v_prefixed_template_accepts_either_spelling():
    mirror_lock = {"components": [{"files": [{"path": "chart/v1.3.0/chart/mychart/Chart.yaml", "sha256": "1" * 64}]}]}
    for version in ("1.3.0", "v1.3.0"):
        art = resolve(LOCK, "a-chart", version, mirror="/m", mirror_lock=mirror_lock)
        assert art.mirror_root == "chart/v1.3.0/chart/mychart"


def test_unpinned_version_unknown_to_the_mirror_lock_is_refused_unless_allowed():
    with pytest.raises(UpstreamError, match="neither our lock nor the mirror's LOCK.yaml pins adir/v9/config"):
        resolve(LOCK, "a-dir", "v9", mirror="/m", mirror_lock={"components": []})
    art = resolve(LOCK, "a-dir", "v9", mirror="/m", mirror_lock={"components": []}, allow_unverified=True)
    assert art.verification == UNVERIFIED and art.files == []


def test_unpinned_version_online():
    with pytest.raises(UpstreamError, match="no checksum is pinned for https://example.invalid/v1.1.0/install.yaml"):
        resolve(LOCK, "one-file", "v1.1.0")
    art = resolve(LOCK, "one-file", "v1.1.0", allow_unverified=True)
    assert [(f.url, f.sha256) for f in art.files] == [("https://example.invalid/v1.1.0/install.yaml", None)]
    with pytest.raises(UpstreamError, match="version v2.1.0 is not pinned and has no online source"):
        resolve(LOCK, "a-dir", "v2.1.0", allow_unverified=True)
    art = resolve(LOCK, "a-chart", "1.4.0", allow_unverified=True)
    assert art.helm["version"] == "1.4.0"


def test_mirror_only_component_without_mirror_says_so():
    lock = copy.deepcopy(LOCK)
    lock["components"][1]["fetch"] = {"method": "none", "note": "mirror only"}
    with pytest.raises(UpstreamError, match="can only be provided from a mirror"):
        resolve(lock, "a-dir")


def test_override_path_not_derivable():
    lock = copy.deepcopy(LOCK)
    del lock["components"][1]["mirror_path_template"]
    with pytest.raises(UpstreamError, match="cannot be derived"):
        resolve(lock, "a-dir", "v3", mirror="/m", mirror_lock={"components": []})
