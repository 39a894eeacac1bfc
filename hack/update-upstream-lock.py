#!/usr/bin/env python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regenerate upstream/lock.yml from an offline mirror's LOCK.yaml.

  hack/update-upstream-lock.py [--mirror DIR] [--output FILE] [--check] [--verify]

The mirror (default $APHEX_UPSTREAM_MIRROR, else ../shared/upstream next to the repository) must
have the layout of shared/upstream. COMPONENTS below says which part of which mirror component the
platform installs; versions, URLs and checksums all come from the mirror's LOCK.yaml, so a newer
mirror with the same layout regenerates the lock without editing this script.

--check   exit 1 when the committed lock differs from what would be generated (CI drift check)
--verify  also hash every selected file in the mirror and fail on a mismatch with LOCK.yaml
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "upstream", "lock.yml")

# name -> (mirror component, path below "<product>/<version dir>/", our kind).
# The path may be a file or a directory; a directory takes every file the mirror lock lists
# below it, vendored chart dependencies included.
COMPONENTS = {
    "argocd-install": ("argocd", "install.yaml", "manifest_file"),
    "argocd-crds": ("argocd-crds", "crds", "crd_bundle"),
    "tekton-pipelines": ("tekton-pipelines", "config", "manifest_dir"),
    "tekton-triggers": ("tekton-triggers", "config", "manifest_dir"),
    "tekton-dashboard": ("tekton-dashboard", "config", "manifest_dir"),
    "cert-manager-chart": ("cert-manager", "chart/cert-manager", "helm_chart_dir"),
    "cert-manager-crds": ("cert-manager-crds", "crds", "crd_bundle"),
    "external-secrets-chart": ("external-secrets", "chart/external-secrets", "helm_chart_dir"),
    "external-secrets-crds": ("external-secrets-crds", "crds/bundle.yaml", "crd_bundle"),
    "authentik-chart": ("authentik", "chart/authentik", "helm_chart_dir"),
    "dex-chart": ("dex", "chart/dex", "helm_chart_dir"),
    "ingress-nginx-kind": ("ingress-nginx", "deploy/static/provider/kind/deploy.yaml", "manifest_file"),
    "ingress-nginx-baremetal": ("ingress-nginx", "deploy/static/provider/baremetal/deploy.yaml", "manifest_file"),
    "ingress-nginx-chart": ("ingress-nginx-helm-chart", "chart/ingress-nginx", "helm_chart_dir"),
    "gateway-api-standard": ("gateway-api", "standard", "crd_bundle"),
    "nvidia-device-plugin": ("nvidia-device-plugin", "nvidia-device-plugin.yml", "manifest_file"),
    "nvidia-device-plugin-chart": ("nvidia-device-plugin-helm-chart", "chart/nvidia-device-plugin", "helm_chart_dir"),
}

# Command-line tools the platform's roles run (not in the mirror): pinned here, rendered verbatim into the lock's
# `tools` section. go_sum is the module hash (go.sum h1:, from sum.golang.org): it verifies a build from the Go
# module proxy. sha256 maps "<os>-<arch>" to the official binary's checksum; a platform missing there is
# verified against the publisher's checksum file (checksum_url) and reported as not pinned.
UNKNOWN_SHA256 = "unknown — the release downloads were not reachable where this lock was generated"


def _tool(name: str, version: str, go: tuple, url_template: str, checksum_suffix: str) -> dict:
    go_module, go_package, go_sum = go
    return {"name": name, "version": version, "kind": "binary", "go_module": go_module, "go_package": go_package,
            "go_sum": go_sum, "url_template": url_template, "checksum_url_template": url_template + checksum_suffix,
            "sha256": {}, "sha256_note": UNKNOWN_SHA256}


TOOLS = [
    _tool("kind", "v0.33.0", ("sigs.k8s.io/kind", "sigs.k8s.io/kind", "h1:AjvDv3vOygb/VKLVQW87lfktIBzkxR8Ump9DjxC8+Lk="),
          "https://kind.sigs.k8s.io/dl/{version}/kind-{os}-{arch}", ".sha256sum"),
    _tool("kubectl", "v1.34.4",
          ("k8s.io/kubernetes", "k8s.io/kubernetes/cmd/kubectl", "h1:Yy6R4QB8C9kJPp25GFqEvX5XQwY5qzKeqD0Xx6oAcmk="),
          "https://dl.k8s.io/release/{version}/bin/{os}/{arch}/kubectl", ".sha256"),
]

HELM_RE = re.compile(r"helm repo (?P<repo>\S+) , chart (?P<chart>\S+), version (?P<version>\S+)")
APP_VERSION_RE = re.compile(r"appVersion (?P<app>[^)\s]+)")


class LockError(Exception):
    pass


def _walk_files(component: dict, source: dict):
    """Yield (file entry, git source it came from) for a component and its vendored dependencies."""
    for entry in component.get("files") or []:
        yield entry, source
    for dep in component.get("dependencies") or []:
        yield from _walk_files(dep, dep.get("source") or source)


def _version_template(path: str, version: str) -> str | None:
    """Replace the version directory ("v1.2.3" or "1.2.3") by {version}; None when it is not derivable."""
    parts = path.split("/")
    if len(parts) > 1 and parts[1] in (version, f"v{version.lstrip('v')}"):
        parts[1] = "{version}" if parts[1] == version else "v{version}"
        return "/".join(parts)
    return None


def _raw_url(repo: str, ref: str, source_path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{ref}/{source_path}"


def build_component(name: str, mirror_component: dict) -> dict:
    subpath, kind = COMPONENTS[name][1:]
    source = mirror_component.get("source") or {}
    version = str(mirror_component["version"]).split()[0]
    app_match = APP_VERSION_RE.search(str(mirror_component["version"]))
    all_files = list(_walk_files(mirror_component, source))
    prefix = all_files[0][0]["path"].split("/")[:2] if all_files else []
    mirror_path = "/".join(prefix + subpath.split("/"))

    selected = [(f, src) for f, src in all_files
                if f["path"] == mirror_path or f["path"].startswith(mirror_path + "/")]
    if not selected:
        raise LockError(f"{name}: the mirror lock lists no file at or below {mirror_path}")
    is_file = len(selected) == 1 and selected[0][0]["path"] == mirror_path
    selected.sort(key=lambda item: item[0]["path"])

    upstream_kind = mirror_component["kind"]
    all_verbatim = all(item[0].get("verbatim") is True and item[0].get("source_path") for item in selected)
    helm = HELM_RE.search(str(mirror_component.get("official_url", "")))

    files = []
    for entry, src in selected:
        item = {"path": entry["path"], "sha256": entry["sha256"]}
        if entry.get("verbatim") is not True:
            item["derived"] = True  # not a copy of an upstream file: only the mirror has these bytes
        if all_verbatim and not (is_file and upstream_kind == "release-asset"):
            # The mirror copy equals the git blob, so the raw file at the pinned commit has this sha256.
            item["url"] = _raw_url(src["repo"], src["commit"], entry["source_path"])
        files.append(item)

    official_url = mirror_component["official_url"]
    entry: dict = {
        "name": name,
        "version": version,
    }
    if app_match:
        entry["app_version"] = app_match.group("app")
    entry.update({
        "kind": kind,
        "type": "file" if is_file else "directory",
        "mirror_component": mirror_component["name"],
        "mirror_kind": upstream_kind,
        "mirror_path": mirror_path,
    })
    template = _version_template(mirror_path, version)
    if template:
        entry["mirror_path_template"] = template

    if is_file and upstream_kind == "release-asset" and selected[0][0].get("verbatim") is True:
        src = selected[0][1]
        url = _raw_url(src["repo"], src["ref"], selected[0][0]["source_path"])
        if url != official_url and not official_url.startswith("https://raw.githubusercontent.com/"):
            raise LockError(f"{name}: official_url {official_url} is not a raw file URL")
        # Sibling variants (ingress-nginx baremetal) share the component's official_url form.
        official_url = url
        entry["official_url"] = url
        entry["official_sha256"] = selected[0][0]["sha256"]
        fetch = {"method": "url", "url": url}
        if version in url:
            fetch["url_template"] = url.replace(version, "{version}")
    else:
        entry["official_url"] = official_url
        if helm:
            why = (f"mirror is the chart's git source; the official artifact is the packaged chart "
                   f"{helm.group('chart')}-{helm.group('version')}.tgz")
        elif upstream_kind == "source-manifests":
            why = "mirror is git source, not the release bundle"
        else:
            why = f"mirror kind {upstream_kind} is not byte-identical to an official download"
        entry["official_sha256"] = f"unknown — {why}"
        if all_verbatim:
            fetch = {"method": "git_files",
                     "note": "each file from raw.githubusercontent.com at the pinned commit; "
                             "verified against the mirror sha256 (verbatim git blob)"}
        elif helm:
            derived = [item[0]["path"] for item in selected if item[0].get("verbatim") is not True]
            fetch = {"method": "helm_repo", "verified": False,
                     "note": "no pinned checksum for the packaged chart (the mirror derives "
                             + ", ".join(p.rsplit("/", 1)[-1] for p in derived)
                             + " from git); needs allow_unverified, the tgz is checked against the "
                               "repository index digest only"}
        else:
            fetch = {"method": "none", "note": "mirror only"}
    if helm:
        entry["helm"] = {"repo": helm.group("repo"), "chart": helm.group("chart"),
                         "version": helm.group("version")}
    entry["fetch"] = fetch
    entry["files"] = files
    return entry


def build_lock(mirror_lock: dict, mirror_lock_sha256: str) -> dict:
    by_name = {c["name"]: c for c in mirror_lock.get("components") or []}
    components = []
    for name, selection in COMPONENTS.items():
        mirror_name = selection[0]
        if mirror_name not in by_name:
            raise LockError(f"{name}: mirror LOCK.yaml has no component {mirror_name!r}")
        components.append(build_component(name, by_name[mirror_name]))
    return {"lock_version": 1, "mirror_lock_sha256": mirror_lock_sha256, "components": components, "tools": TOOLS}


def _scalar(value) -> str:
    # JSON strings/numbers are valid YAML scalars, which keeps the output deterministic.
    return json.dumps(value, ensure_ascii=False)


def render(lock: dict) -> str:
    out = [
        "# Upstream artifacts the platform installs: pinned once, here. GENERATED by",
        "# hack/update-upstream-lock.py from the offline mirror's LOCK.yaml; do not edit by hand.",
        "# kind: manifest_file | manifest_dir | helm_chart_dir | crd_bundle; type: file | directory",
        "# files[].path: relative to a mirror with the layout of shared/upstream; sha256 of its bytes;",
        "#   files[].url (method git_files): the raw git file that has exactly these bytes.",
        "# official_sha256: checksum of the official download where the mirror file is byte-identical",
        "#   to it (LOCK.yaml kind release-asset, verbatim); otherwise 'unknown — <why>'.",
        "# fetch.method: url (official_url, checked against sha256) | git_files | helm_repo (unverified) | none",
        f"lock_version: {lock['lock_version']}",
        f"mirror_lock_sha256: {_scalar(lock['mirror_lock_sha256'])}",
        "components:",
    ]
    for comp in lock["components"]:
        out.append(f"  - name: {_scalar(comp['name'])}")
        for key, value in comp.items():
            if key in ("name", "files"):
                continue
            if isinstance(value, dict):
                out.append(f"    {key}:")
                out.extend(f"      {k}: {_scalar(v)}" for k, v in value.items())
            else:
                out.append(f"    {key}: {_scalar(value)}")
        out.append(f"    files:  # {len(comp['files'])}")
        for item in comp["files"]:
            inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in item.items())
            out.append(f"      - {{{inner}}}")
    out.append("# Command-line tools (hack/update-upstream-lock.py TOOLS): go_sum verifies a build from the Go module")
    out.append("# proxy; sha256[<os>-<arch>] the official download (else its checksum_url, reported as not pinned).")
    out.append("tools:")
    for tool in lock.get("tools", []):
        out.append(f"  - name: {_scalar(tool['name'])}")
        for key, value in tool.items():
            if key == "name":
                continue
            if isinstance(value, dict):
                out.append(f"    {key}:" + ("" if value else " {}"))
                out.extend(f"      {k}: {_scalar(v)}" for k, v in sorted(value.items()))
            else:
                out.append(f"    {key}: {_scalar(value)}")
    return "\n".join(out) + "\n"


def default_mirror() -> str:
    return os.environ.get("APHEX_UPSTREAM_MIRROR") or os.path.join(os.path.dirname(ROOT), "shared", "upstream")


def generate(mirror: str) -> str:
    path = os.path.join(mirror, "LOCK.yaml")
    with open(path, "rb") as handle:
        raw = handle.read()
    return render(build_lock(yaml.safe_load(raw), hashlib.sha256(raw).hexdigest()))


def verify_mirror(mirror: str, lock_text: str) -> list[str]:
    problems = []
    for comp in yaml.safe_load(lock_text)["components"]:
        for item in comp["files"]:
            path = os.path.join(mirror, item["path"])
            try:
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError as exc:
                problems.append(f"{item['path']}: {exc.strerror}")
                continue
            if digest != item["sha256"]:
                problems.append(f"{item['path']}: sha256 {digest} != {item['sha256']}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=default_mirror())
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args(argv)
    try:
        text = generate(args.mirror)
    except (OSError, LockError, KeyError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.verify:
        problems = verify_mirror(args.mirror, text)
        for problem in problems:
            print(f"mirror mismatch: {problem}", file=sys.stderr)
        if problems:
            return 1
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as handle:
                current = handle.read()
        except OSError:
            current = ""
        if current != text:
            print(f"{args.output} is out of date; run hack/update-upstream-lock.py", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {args.output} ({len(COMPONENTS)} components)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
