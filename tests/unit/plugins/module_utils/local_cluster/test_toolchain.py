from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.local_cluster import toolchain


AVAILABLE = ["v1.33.6", "v1.33.13", "v1.34.0", "v1.34.2", "v1.34.3", "v1.34.4", "v1.35.4", "v1.36.1",
             "v1.35.0-rc.1"]


@pytest.mark.parametrize(
    "pinned, expected",
    [
        ("1.34.4", ["1.34.4", "1.34.3", "1.34.2", "1.34.0"]),
        ("1.35.4", ["1.35.4", "1.36.1", "1.34.4", "1.34.3"]),
        ("1.33.13", ["1.33.13", "1.33.6", "1.34.4", "1.34.3"]),
    ],
)
def test_candidates_prefer_same_minor_then_neighbours(pinned, expected):
    assert toolchain.candidate_kubernetes_versions(pinned, AVAILABLE) == expected


def test_candidates_ignore_prereleases():
    assert "1.35.0" not in toolchain.candidate_kubernetes_versions("1.35.4", AVAILABLE, limit=10)


def test_cache_root_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("APHEX_CACHE_DIR", str(tmp_path / "c"))
    assert toolchain.cache_root() == str(tmp_path / "c")
    monkeypatch.delenv("APHEX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert toolchain.cache_root() == str(tmp_path / "aphex-platform")


UPSTREAM_GOMOD = """module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
\tgithub.com/spf13/cobra v1.9.1
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tk8s.io/kube-openapi v0.0.0-20250710124328-f3f2b991d03b
\tk8s.io/utils v0.0.0-20250604170112-4c0f3b243397
)

require k8s.io/externaljwt v0.0.0 // indirect

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
)
"""


def test_scratch_module_replaces_only_placeholder_requirements():
    edits = toolchain.scratch_module_edits(UPSTREAM_GOMOD, "1.34.4")
    assert edits[:3] == ["-require=k8s.io/kubernetes@v1.34.4", "-go=1.24.0", "-godebug=default=go1.24"]
    replaces = sorted(e for e in edits if e.startswith("-replace="))
    assert replaces == [
        "-replace=k8s.io/api=k8s.io/api@v0.34.4",
        "-replace=k8s.io/client-go=k8s.io/client-go@v0.34.4",
        "-replace=k8s.io/externaljwt=k8s.io/externaljwt@v0.34.4",
    ]
