"""The committed upstream/lock.yml against the real mirror (skipped without it, failing in CI: see conftest)."""

from __future__ import annotations

import hashlib
import importlib.util
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
LOCK_PATH = os.path.join(ROOT, "upstream", "lock.yml")


def _generator():
    spec = importlib.util.spec_from_file_location("update_upstream_lock",
                                                  os.path.join(ROOT, "hack", "update-upstream-lock.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_locked_file_exists_in_the_mirror_with_its_sha256(upstream_mirror):
    mirror = upstream_mirror
    with open(LOCK_PATH, encoding="utf-8") as handle:
        lock = yaml.safe_load(handle)
    checked, problems = 0, []
    for comp in lock["components"]:
        assert comp["files"], f"{comp['name']} lists no files"
        for item in comp["files"]:
            path = os.path.join(mirror, item["path"])
            if not os.path.isfile(path):
                problems.append(f"missing: {item['path']} ({comp['name']})")
                continue
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            if digest != item["sha256"]:
                problems.append(f"sha256 mismatch: {item['path']} is {digest}, lock pins {item['sha256']}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 400


def test_lock_is_what_the_generator_makes_from_the_mirror_lock(upstream_mirror):
    with open(LOCK_PATH, encoding="utf-8") as handle:
        committed = handle.read()
    assert committed == _generator().generate(upstream_mirror), (
        "upstream/lock.yml is out of date with the mirror's LOCK.yaml; run hack/update-upstream-lock.py")


def test_lock_covers_every_component_the_platform_installs():
    with open(LOCK_PATH, encoding="utf-8") as handle:
        lock = yaml.safe_load(handle)
    by_name = {c["name"]: c for c in lock["components"]}
    assert set(by_name) == {
        "argocd-install", "argocd-crds", "tekton-pipelines", "tekton-triggers", "tekton-dashboard",
        "cert-manager-chart", "cert-manager-crds", "external-secrets-chart", "external-secrets-crds",
        "authentik-chart", "dex-chart", "ingress-nginx-kind", "ingress-nginx-baremetal", "ingress-nginx-chart",
        "gateway-api-standard", "nvidia-device-plugin", "nvidia-device-plugin-chart"}
    # Interceptors ride along with the Triggers config directory.
    assert any("/config/interceptors/" in f["path"] for f in by_name["tekton-triggers"]["files"])
    for comp in lock["components"]:
        official = comp["official_sha256"]
        if comp["mirror_kind"] == "release-asset" and comp["type"] == "file":
            # byte-identical to the official download: the checksum is the file's own
            assert official == comp["files"][0]["sha256"], comp["name"]
        else:
            assert official.startswith("unknown — "), comp["name"]
        if comp["fetch"]["method"] == "git_files":
            assert all(f["url"].startswith("https://raw.githubusercontent.com/") and "derived" not in f
                       for f in comp["files"]), comp["name"]
        if any(f.get("derived") for f in comp["files"]):
            assert comp["fetch"]["method"] in ("helm_repo", "none"), comp["name"]


def test_generator_check_mode_detects_drift(tmp_path, upstream_mirror):
    out = tmp_path / "lock.yml"
    gen = _generator()
    assert gen.main(["--mirror", upstream_mirror, "--output", str(out)]) == 0
    assert gen.main(["--mirror", upstream_mirror, "--output", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("v3.5.1", "v3.5.2", 1))
    assert gen.main(["--mirror", upstream_mirror, "--output", str(out), "--check"]) == 1
