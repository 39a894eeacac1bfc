"""main() of aphex.platform.upstream_artifact, run for real (its JSON output is parsed)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.aphex.platform.plugins.modules import upstream_artifact

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
LOCK_PATH = os.path.join(ROOT, "upstream", "lock.yml")
FILE = "nvidia-device-plugin/v0.17.4/nvidia-device-plugin.yml"


def run(args: dict, capsys) -> tuple:
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        upstream_artifact.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def mirror(tmp_path, upstream_mirror):
    src = upstream_mirror
    dest = tmp_path / "mirror" / FILE
    dest.parent.mkdir(parents=True)
    shutil.copyfile(os.path.join(src, FILE), dest)
    return str(tmp_path / "mirror")


@pytest.fixture
def env(monkeypatch, tmp_path, mirror):
    monkeypatch.setenv("APHEX_UPSTREAM_MIRROR", mirror)
    monkeypatch.setenv("APHEX_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_mirror_from_environment_then_cache_hit(env, capsys, mirror):
    rc, first = run({"name": "nvidia-device-plugin", "lock": LOCK_PATH}, capsys)
    assert rc == 0 and first["changed"] is True and first["source"] == "mirror"
    assert first["path"] == str(env / "cache" / "upstream" / "nvidia-device-plugin" / "v0.17.4" /
                                "nvidia-device-plugin.yml")
    assert first["verification"] == "lock" and first["fetched_from"] == os.path.join(mirror, FILE)
    rc, second = run({"component": "nvidia-device-plugin", "lock": LOCK_PATH}, capsys)
    assert rc == 0 and second["changed"] is False and second["source"] == "cache"


def test_check_mode_predicts_without_writing(env, capsys):
    rc, result = run({"name": "nvidia-device-plugin", "lock": LOCK_PATH, "_ansible_check_mode": True}, capsys)
    assert rc == 0 and result["changed"] is True and result["cache_status"] == "not cached"
    assert not (env / "cache").exists()


def test_tampered_mirror_fails_naming_the_file(env, capsys, mirror):
    with open(os.path.join(mirror, FILE), "ab") as handle:
        handle.write(b"#")
    rc, result = run({"name": "nvidia-device-plugin", "lock": LOCK_PATH}, capsys)
    assert rc == 1 and result["failed"] is True
    assert f"checksum mismatch for mirror file {os.path.join(mirror, FILE)}" in result["msg"]


def test_unverified_chart_is_refused_by_default(env, capsys, monkeypatch):
    monkeypatch.delenv("APHEX_UPSTREAM_MIRROR")
    rc, result = run({"name": "cert-manager-chart", "lock": LOCK_PATH}, capsys)
    assert rc == 1 and "allow_unverified=true" in result["msg"]


def test_lock_is_required_without_the_action_plugin(env, capsys):
    rc, result = run({"name": "nvidia-device-plugin"}, capsys)
    assert rc == 1 and "no lock file given" in result["msg"]


def test_action_plugin_default_lock_is_the_collection_lock():
    from ansible_collections.aphex.platform.plugins.action import upstream_artifact as action

    assert os.path.realpath(action.DEFAULT_LOCK) == os.path.realpath(LOCK_PATH)


def test_missing_mirror_directory_is_reported(env, capsys, tmp_path):
    rc, result = run({"name": "nvidia-device-plugin", "lock": LOCK_PATH, "mirror": str(tmp_path / "nowhere")},
                     capsys)
    assert rc == 1 and result["msg"] == f"mirror directory {tmp_path / 'nowhere'} does not exist"


def test_unpinned_version_from_mirror_is_checked_against_the_mirror_lock(env, capsys, mirror, tmp_path):
    # a mirror with a newer release that only its own LOCK.yaml pins
    newer = "nvidia-device-plugin/v0.18.0/nvidia-device-plugin.yml"
    os.makedirs(os.path.join(mirror, os.path.dirname(newer)))
    with open(os.path.join(mirror, newer), "wb") as handle:
        handle.write(b"kind: DaemonSet\n")
    with open(os.path.join(mirror, "LOCK.yaml"), "w", encoding="utf-8") as handle:
        json.dump({"components": [{"name": "nvidia-device-plugin", "version": "v0.18.0", "files": [
            {"path": newer, "sha256": "aa64d6a4c06ab6fa3b1d3d2ce0c8c8c3ec9f64f77f87cbd23f76ebf1f4b7d8c2"}]}]}, handle)
    rc, result = run({"name": "nvidia-device-plugin", "version": "v0.18.0", "lock": LOCK_PATH}, capsys)
    assert rc == 1 and "checksum mismatch for mirror file" in result["msg"]
    with open(os.path.join(mirror, "LOCK.yaml"), "w", encoding="utf-8") as handle:
        json.dump({"components": [{"files": [
            {"path": newer, "sha256": hashlib.sha256(b"kind: DaemonSet\n").hexdigest()}]}]}, handle)
    rc, result = run({"name": "nvidia-device-plugin", "version": "v0.18.0", "lock": LOCK_PATH}, capsys)
    assert rc == 0 and result["verification"] == "mirror-lock" and result["version"] == "v0.18.0"
    assert result["path"].endswith("nvidia-device-plugin/v0.18.0/nvidia-device-plugin.yml")
