# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main() of aphex.platform.kind_cluster with fake docker, kind and kubectl executables on PATH.

The fakes keep the "cluster" in a JSON file: kind create writes node containers from the config it is given
(roles, image, port mappings), docker ps/inspect read them back, kind delete removes them. The real thing runs in
molecule/kind."""

from __future__ import annotations

import json
import os
import stat
import textwrap

import pytest

from ansible_collections.aphex.platform.plugins.modules import kind_cluster
from ansible_collections.aphex.platform.tests.support.ansible_module import run_module

FAKE = textwrap.dedent('''\
    #!/usr/bin/env python3
    import json, os, sys
    state_file = os.environ["FAKE_KIND_STATE"]
    state = json.load(open(state_file)) if os.path.exists(state_file) else {"clusters": {}, "calls": []}
    tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
    state["calls"].append([tool] + args)
    def save():
        json.dump(state, open(state_file, "w"))
    def opt(name):
        return args[args.index(name) + 1]
    if tool == "docker":
        if args[0] == "info" and os.environ.get("FAKE_DOCKER_UP", "1") != "1":
            print("Cannot connect to the Docker daemon", file=sys.stderr)
            save()
            sys.exit(1)
        if args[0] == "ps":
            name = opt("--filter").split("=", 2)[2]
            for i, _ in enumerate(state["clusters"].get(name, [])):
                print(f"{name}-{i}")
        if args[0] == "inspect":
            nodes = [n for c in state["clusters"].values() for n in c]
            print(json.dumps([n for n in nodes if n["Id"] in args[1:]]))
    elif tool == "kind":
        if args[0] == "version":
            print("kind v0.33.0 go1.26.8 linux/amd64")
        elif args[:2] == ["create", "cluster"]:
            name, config = opt("--name"), json.load(open(opt("--config")))
            if name in state["clusters"]:
                print(f'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "{name}"', file=sys.stderr); save(); sys.exit(1)
            nodes = []
            for i, node in enumerate(config["nodes"]):
                ports = {f"{p['containerPort']}/tcp": [{"HostPort": str(p["hostPort"])}] for p in node.get("extraPortMappings", [])}
                nodes.append({"Id": f"{name}-{i}", "Name": f"/{name}-{node['role']}",
                              "Config": {"Image": node.get("image", "kindest/node:default"),
                                         "Labels": {"io.x-k8s.kind.cluster": name, "io.x-k8s.kind.role": node["role"]}},
                              "HostConfig": {"PortBindings": ports}})
            state["clusters"][name] = nodes
            open(opt("--kubeconfig"), "w").write("kind-create-layout\\n")
        elif args[:2] == ["delete", "cluster"]:
            state["clusters"].pop(opt("--name"), None)
        elif args[:2] == ["get", "kubeconfig"]:
            print(f"apiVersion: v1\\ncurrent-context: kind-{opt('--name')}")
    elif tool == "kubectl":
        if args[0] == "version":
            print(json.dumps({"clientVersion": {"gitVersion": "v1.34.4"}}))
        elif "runtimeclass" in args and "get" in args:
            rc = state.setdefault("runtimeclass", False)
            if rc:
                print(json.dumps({"handler": "nvidia"}))
            else:
                save(); sys.exit(1)
        elif "apply" in args:
            sys.stdin.read(); state["runtimeclass"] = True
    save()
''')

TOOLS = {"kind": {"name": "kind", "version": "v0.33.0"}, "kubectl": {"name": "kubectl", "version": "v1.34.4"}}


@pytest.fixture(name="env")
def fixture_env(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "kind", "kubectl"):
        path = bin_dir / tool
        path.write_text(FAKE)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_KIND_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("APHEX_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def state(env) -> dict:
    return json.loads((env / "state.json").read_text())


def run(env, check_mode=False, **args):
    base = {"name": "dev", "tools": TOOLS, "state_dir": str(env / "kind-dev"), "binary_sources": ["path"]}
    return run_module(kind_cluster.main, dict(base, **args), check_mode=check_mode)


def test_check_mode_predicts_creation_and_creates_nothing(env):
    result = run(env, check_mode=True)
    assert result["changed"] is True and result["action"] == "created"
    assert state(env)["clusters"] == {}
    assert not any(call[0] == "kind" for call in state(env)["calls"])


def test_create_once_then_no_change(env):
    first = run(env, registry_mirrors={"docker.io": {"endpoint": "http://mirror:5000", "username": "u",
                                                     "password": "s3cret"}}, nvidia_runtime_class=True)
    assert first["changed"] is True and first["action"] == "created" and first["nodes"] == ["dev-control-plane"]
    assert first["kubeconfig"] == str(env / "kind-dev" / "kubeconfig")
    assert (env / "kind-dev" / "kubeconfig").read_text().startswith("apiVersion: v1")
    assert oct(os.stat(env / "kind-dev" / "kubeconfig").st_mode & 0o777) == "0o600"
    hosts = env / "kind-dev" / "containerd-certs.d" / "docker.io" / "hosts.toml"
    assert oct(os.stat(hosts).st_mode & 0o777) == "0o600"
    assert "s3cret" not in json.dumps(first)
    second = run(env, registry_mirrors={"docker.io": {"endpoint": "http://mirror:5000", "username": "u",
                                                      "password": "s3cret"}}, nvidia_runtime_class=True)
    assert second["changed"] is False and second["drift"] == [], second
    creates = [c for c in state(env)["calls"] if c[:3] == ["kind", "create", "cluster"]]
    assert len(creates) == 1


def test_mirror_endpoints_change_in_place(env):
    run(env, registry_mirrors={"docker.io": "http://a:5000"})
    result = run(env, registry_mirrors={"docker.io": "http://b:5000"})
    assert result["changed"] is True and result["action"] == "registry mirrors updated" and result["drift"] == []
    assert "http://b:5000" in (env / "kind-dev" / "containerd-certs.d" / "docker.io" / "hosts.toml").read_text()


def test_drift_is_reported_not_acted_on_unless_recreate(env, capfd):
    run(env)
    result = run(env, workers=1, http_port=8080)
    assert result["changed"] is False and result["action"] == "none"
    assert result["drift"] == ["worker nodes: 0, wanted 1", "host ports: 80->80, 443->443, wanted 8080->80, 443->443"]
    assert "differs from the wanted config" in capfd.readouterr().err
    recreated = run(env, workers=1, http_port=8080, recreate=True)
    assert recreated["changed"] is True and recreated["action"] == "recreated"
    assert recreated["nodes"] == ["dev-control-plane", "dev-worker"]
    assert run(env, workers=1, http_port=8080)["changed"] is False


def test_absent_deletes_and_forgets_the_state(env):
    run(env)
    assert run(env, state="absent", check_mode=True)["changed"] is True
    assert state(env)["clusters"] != {}
    result = run(env, state="absent")
    assert result["changed"] is True and result["action"] == "deleted" and not (env / "kind-dev").exists()
    assert run(env, state="absent")["changed"] is False


def test_engine_missing_or_down_is_named(env, monkeypatch):
    monkeypatch.setenv("FAKE_DOCKER_UP", "0")
    result = run(env, engine="docker")
    assert result["failed"] and "docker is installed" in result["msg"] and "does not answer" in result["msg"]
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run(env, engine="auto")
    assert result["failed"] and "docker nor podman was not found on PATH" in result["msg"]
    assert run(env, state="absent")["changed"] is False


def test_invalid_mirror_setting_fails_naming_the_field(env):
    result = run(env, registry_mirrors={"docker.io": "ftp://x"})
    assert result["failed"] and "registry_mirrors[docker.io].endpoint[0]" in result["msg"]
