# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hack/images: go.mod replace parsing, deterministic multi-layer archives, and pushes to a real registry
(Debian's docker-registry, the distribution registry kind sessions use; installed by `make setup`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "..", "..", "hack", "images")
sys.path.insert(0, IMAGES)

import gobuild  # noqa: E402  pylint: disable=wrong-import-position
import ociimage  # noqa: E402  pylint: disable=wrong-import-position


def _load_push():
    import importlib.machinery  # pylint: disable=import-outside-toplevel
    import importlib.util  # pylint: disable=import-outside-toplevel
    loader = importlib.machinery.SourceFileLoader("images_push", os.path.join(IMAGES, "push"))
    spec = importlib.util.spec_from_loader("images_push", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


push = _load_push()

GOMOD = (
    "module github.com/argoproj/argo-cd/v3\n"
    "\n"
    "go 1.26.3\n"
    "\n"
    "require github.com/x/y v1.0.0\n"
    "\n"
    "replace (\n"
    "\t// a comment\n"
    "\tgithub.com/golang/protobuf => github.com/golang/protobuf v1.5.4\n"
    "\tk8s.io/api v0.0.0 => k8s.io/api v0.36.1\n"
    "\tgithub.com/argoproj/argo-cd/gitops-engine => ./gitops-engine\n"
    ")\n"
    "\n"
    "replace github.com/dexidp/dex/api/v2 => ./api/v2\n"
    "replace gopkg.in/yaml.v2 => gopkg.in/yaml.v2 v2.4.0 // pinned\n"
)


def test_parse_replaces_keeps_module_replaces_and_drops_local_directories():
    assert gobuild.parse_replaces(GOMOD) == [
        ("github.com/golang/protobuf", "github.com/golang/protobuf@v1.5.4"),
        ("k8s.io/api@v0.0.0", "k8s.io/api@v0.36.1"),
        ("gopkg.in/yaml.v2", "gopkg.in/yaml.v2@v2.4.0"),
    ]


@pytest.mark.parametrize("ref, expected", [
    ("ghcr.io/tektoncd/github.com/tektoncd/pipeline/cmd/controller:v1.15.0",
     ("tektoncd/github.com/tektoncd/pipeline/cmd/controller", "v1.15.0")),
    ("ghcr.io/dexidp/dex:v2.44.0", ("dexidp/dex", "v2.44.0")),
    ("public.ecr.aws/docker/library/redis:8.2.3-alpine", ("docker/library/redis", "8.2.3-alpine")),
    ("docker.io/busybox:1.35", ("library/busybox", "1.35")),
])
def test_local_name_drops_the_mirrored_registry_host(ref, expected):
    assert push.local_name(ref) == expected


def test_local_name_refuses_a_registry_kind_does_not_mirror():
    with pytest.raises(push.RegistryError, match="example.com"):
        push.local_name("example.com/x:1")


# 512 KiB that gzip cannot shrink: a base layer whose transfer shows in the byte count
NOISE = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(16384))


def _image(tmp_path, name, payload=b"hello\n", sub="a"):
    base = ociimage.write_layer(str(tmp_path / "base.tar.gz"),
                                files={"etc/passwd": "root:x:0:0::/:/bin/sh\n", "tmp": {"dir": True, "mode": 0o1777},
                                       "usr/share/noise": NOISE})
    app = ociimage.write_layer(str(tmp_path / f"app-{sub}.tar.gz"),
                               files={"ko-app/x": {"data": payload, "mode": 0o755}, "bin/sh": {"symlink": "x"},
                                      "home/nonroot": {"dir": True, "owner": (65532, 65532)}})
    archive = str(tmp_path / f"{sub}.oci.tar")
    digest = ociimage.write_image(archive, name, [base, app], {"Entrypoint": ["/ko-app/x"], "User": "65532"})
    return archive, digest, base, app


def test_archives_are_deterministic_and_readable(tmp_path):
    (tmp_path / "one").mkdir()
    archive, digest, base, app = _image(tmp_path / "one", "ghcr.io/a/b:v1")
    (tmp_path / "two").mkdir()
    archive2, digest2, _base2, _app2 = _image(tmp_path / "two", "ghcr.io/a/b:v1")
    assert digest == digest2
    with open(archive, "rb") as one, open(archive2, "rb") as two:
        assert one.read() == two.read()
    read = ociimage.read_archive(archive)
    assert read["name"] == "ghcr.io/a/b:v1" and read["manifest_digest"] == digest
    manifest = json.loads(read["manifest"])
    assert [layer["digest"] for layer in manifest["layers"]] == [base["digest"], app["digest"]]
    with tarfile.open(archive) as tar:  # docker load's manifest.json names the same blobs
        docker = json.load(tar.extractfile("manifest.json"))[0]
        assert docker["RepoTags"] == ["ghcr.io/a/b:v1"]
        offset, size = read["blobs"][app["digest"]]
        layer = tar.extractfile(f"blobs/sha256/{app['digest'][7:]}")
        with tarfile.open(fileobj=layer, mode="r|gz") as inner:
            entries = {m.name: m for m in inner}
    assert size == app["size"] and offset > 0
    assert entries["home/nonroot"].uid == 65532 and entries["bin/sh"].linkname == "x"
    assert entries["ko-app/x"].mode == 0o755 and entries["ko-app/x"].mtime == 0


@pytest.fixture(name="registry")
def fixture_registry(tmp_path):
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not os.path.exists(binary):
        pytest.fail("docker-registry (Debian package docker-registry) is missing: run `make setup`")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: {{rootdirectory: {tmp_path}/data}}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                            stderr=subprocess.DEVNULL)
    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_push_uploads_once_then_reports_up_to_date(tmp_path, registry):
    archive, digest, _base, _app = _image(tmp_path, "ghcr.io/dexidp/dex:v2.44.0")
    client = push.Registry(registry)
    assert push.push(client, archive, {}).startswith("pushed")
    assert client.manifest_digest("dexidp/dex", "v2.44.0") == digest
    assert push.push(client, archive, {}) == "up to date"
    # the blobs really are there, byte for byte
    manifest = json.loads(ociimage.read_archive(archive)["manifest"])
    for layer in manifest["layers"]:
        with urllib.request.urlopen(f"http://{registry}/v2/dexidp/dex/blobs/{layer['digest']}") as response:
            assert len(response.read()) == layer["size"]


def test_push_mounts_shared_layers_instead_of_sending_them(tmp_path, registry):
    first, _digest, base, _app = _image(tmp_path, "docker.io/aphex/git:bookworm", sub="a")
    second, _digest2, _base2, app2 = _image(tmp_path, "docker.io/aphex/git-server:bookworm", payload=b"other\n", sub="b")
    client = push.Registry(registry)
    homes: dict = {}
    push.push(client, first, homes)
    outcome = push.push(client, second, homes)
    assert outcome.startswith("pushed")
    sent = float(outcome.split("(")[1].split(" MB")[0]) * 1e6
    assert base["size"] > 500_000 and sent < 100_000  # only the new layer and the config went over the wire
    assert client.has_blob("aphex/git-server", base["digest"])


def test_patches_apply_exactly_once_or_fail(tmp_path):
    module = tmp_path / "mod"
    (module / "pkg").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/m\n")
    (module / "pkg" / "a.go").write_text('host = "[" + host + "]"\n')
    module.chmod(0o555)
    target = str(tmp_path / "patched")
    gobuild.apply_patches(str(module), target, {"pkg/a.go": [('"[" + host + "]"', "host")]})
    assert open(os.path.join(target, "pkg", "a.go"), encoding="utf-8").read() == "host = host\n"
    with pytest.raises(RuntimeError, match="does not apply"):
        gobuild.apply_patches(str(module), target, {"pkg/a.go": [("not there", "x")]})
    module.chmod(0o755)
