# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build Go main packages of a released module through the Go module proxy (standard library only).

`go install pkg@version` fails on this proxy whenever the module's version list is refused, and
several upstream tags are not valid Go versions, so every component is built in a scratch module:
require the module at its (pseudo-)version, copy its `go` line and every non-local `replace` of
its go.mod, then `go build -mod=mod` (recipe of ../shared/docs/platform-images.md section 1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

GO_ENV = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}


def _go(args, cwd, capture=False):
    env = dict(os.environ, **GO_ENV)
    cmd = ["nice", "-n", os.environ.get("APHEX_IMAGES_NICE", "10"), "go"] + args
    if capture:
        return subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    subprocess.run(cmd, cwd=cwd, env=env, check=True)
    return ""


def parse_replaces(gomod_text: str) -> list[tuple[str, str]]:
    """Non-local replace directives of a go.mod as (old[@v], new@v) pairs."""
    out = []
    lines = gomod_text.splitlines()
    in_block = False
    for raw in lines:
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line.startswith("replace ("):
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        if line.startswith("replace "):
            body = line[len("replace "):]
        elif in_block:
            body = line
        else:
            continue
        if "=>" not in body:
            continue
        left, right = (part.split() for part in body.split("=>", 1))
        if len(right) != 2:  # local directory replace (../, ./): not served by any proxy
            continue
        old = left[0] + ("@" + left[1] if len(left) == 2 else "")
        out.append((old, right[0] + "@" + right[1]))
    return out


def apply_patches(module_dir: str, target: str, patches: dict) -> None:
    """Copy the module's source to target and replace exact text: {relpath: [(old, new), ...]}; each old
    text must occur exactly once (a patch that no longer applies fails the build instead of going stale)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(module_dir, target)
    for base, dirs, names in os.walk(target):  # the module cache is read-only
        for name in dirs + names:
            os.chmod(os.path.join(base, name), 0o755 if name in dirs else 0o644)
    for rel, edits in patches.items():
        path = os.path.join(target, rel)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for old, new in edits:
            if text.count(old) != 1:
                raise RuntimeError(f"patch for {rel} does not apply: {old!r} found {text.count(old)} times")
            text = text.replace(old, new)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def build(module: str, version: str, packages: list[str], out_dir: str, work_dir: str,
          ldflags: str = "", replaces: dict | None = None, outputs: dict | None = None,
          patches: dict | None = None) -> float:
    """Build `packages` of module@version into out_dir; returns seconds. `replaces` adds/overrides
    (old -> new@v); `outputs` maps package -> binary name when it differs from the last path element;
    `patches` (see apply_patches) builds a patched copy of the module's source instead."""
    start = time.monotonic()
    os.makedirs(work_dir, exist_ok=True)
    for name in ("go.mod", "go.sum"):
        if os.path.exists(os.path.join(work_dir, name)):
            os.remove(os.path.join(work_dir, name))
    _go(["mod", "init", "local/build"], work_dir)
    info = json.loads(_go(["mod", "download", "-json", f"{module}@{version}"], work_dir, capture=True))
    with open(info["GoMod"], encoding="utf-8") as handle:
        gomod = handle.read()
    go_line = next(line.split()[1] for line in gomod.splitlines() if line.startswith("go "))
    edits = [f"-go={go_line}", f"-require={module}@{version}"]
    merged = dict(parse_replaces(gomod))
    merged.update(replaces or {})
    if patches:
        apply_patches(info["Dir"], os.path.join(work_dir, "patched-src"), patches)
        merged[module] = "./patched-src"
    for old, new in merged.items():
        edits.append(f"-replace={old}={new}")
    # go mod init in work_dir must not see patched-src as part of the scratch module: it has its own go.mod
    _go(["mod", "edit"] + edits, work_dir)
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    outputs = outputs or {}
    flags = ["-mod=mod", "-trimpath", "-ldflags", ("-s -w " + ldflags).strip()]
    plain = [p for p in packages if p not in outputs]
    if plain:
        _go(["build"] + flags + ["-o", tmp + "/"] + plain, work_dir)
    for pkg, binary in outputs.items():
        _go(["build"] + flags + ["-o", os.path.join(tmp, binary), pkg], work_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp, out_dir)
    return time.monotonic() - start


if __name__ == "__main__":  # smoke: python3 gobuild.py MODULE VERSION OUT PKG...
    print(build(sys.argv[1], sys.argv[2], sys.argv[4:], sys.argv[3], sys.argv[3] + ".work"))
