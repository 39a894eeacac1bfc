# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.k3s import K3sError, decide

HASHES = {"binary": "b1", "config": "c1", "registries": "r1", "env": "e1", "unit": "u1"}


def test_never_started_starts():
    out = decide.restart_decision(HASHES, None, None)
    assert (out["action"], out["restart"], out["reasons"]) == ("start", True, ["never-started"])
    assert out["record"] == HASHES


def test_nothing_changed_and_running_means_no_restart():
    out = decide.restart_decision(HASHES, dict(HASHES), True)
    assert (out["action"], out["restart"], out["reasons"]) == ("none", False, [])


def test_unknown_running_state_decides_on_hashes_alone():
    assert decide.restart_decision(HASHES, dict(HASHES), None)["restart"] is False


def test_upgrade_restarts_for_the_binary():
    out = decide.restart_decision(dict(HASHES, binary="b2"), HASHES, True)
    assert (out["action"], out["reasons"]) == ("restart", ["binary"])


def test_each_changed_component_is_a_reason_in_a_fixed_order():
    out = decide.restart_decision(dict(HASHES, unit="u2", config="c2", registries="r2", env="e2"), HASHES, True)
    assert out["reasons"] == ["config", "registries", "env", "unit"]


def test_stopped_service_with_unchanged_files_is_started():
    out = decide.restart_decision(HASHES, dict(HASHES), False)
    assert (out["action"], out["reasons"]) == ("start", ["not-running"])


def test_an_older_record_missing_a_component_restarts():
    applied = {k: v for k, v in HASHES.items() if k != "unit"}
    assert decide.restart_decision(HASHES, applied, True)["reasons"] == ["unit"]


def test_desired_hashes_must_be_complete():
    with pytest.raises(K3sError, match="no hash for env, unit"):
        decide.restart_decision({"binary": "b", "config": "c", "registries": "r"}, None)


TOKEN = "a" * 64


def test_first_run_generates():
    assert decide.token_decision() == {"source": "generate", "token": ""}


def test_rerun_and_upgrade_reuse_the_kept_token():
    out = decide.token_decision(kept=TOKEN + "\n", cluster="K10abc::server:" + TOKEN)
    assert out == {"source": "reused", "token": TOKEN}


def test_cluster_installed_otherwise_is_adopted_not_replaced():
    assert decide.token_decision(cluster="K10abc::server:xyz0123456789abcdef") == {
        "source": "adopted", "token": "K10abc::server:xyz0123456789abcdef"}


def test_given_token_is_used_and_may_match_the_secure_form():
    assert decide.token_decision(given=TOKEN)["source"] == "given"
    assert decide.token_decision(given=TOKEN, cluster="K10abcdef::server:" + TOKEN)["source"] == "given"
    assert decide.token_decision(given=TOKEN, kept=TOKEN)["token"] == TOKEN


def test_given_token_differing_from_the_clusters_is_refused():
    with pytest.raises(K3sError, match="^k3s_token: differs from the token the cluster on s1 already uses"):
        decide.token_decision(given="b" * 64, kept=TOKEN, first_server="s1")


def test_too_short_a_given_token():
    with pytest.raises(K3sError, match="^k3s_token: must be at least 16"):
        decide.token_decision(given="short")
