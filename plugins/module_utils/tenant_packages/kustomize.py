# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one adapter for Kustomize: ``kustomize build`` (the kustomize binary) or ``kubectl kustomize``."""

from __future__ import annotations

import os
import shutil
import subprocess

try:
    import yaml
    HAS_YAML = True
except ImportError:  # the modules report it with missing_required_lib
    HAS_YAML = False


class KustomizeError(Exception):
    """No kustomize/kubectl found, or a build failed."""


def command(binary: str = "") -> list:
    """The build command: the given binary (kustomize or kubectl), else kustomize, else kubectl from PATH."""
    if binary:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)) and not shutil.which(binary):
            raise KustomizeError(f"kustomize_binary: {binary} is not an executable")
        binary = binary if os.path.isfile(binary) else shutil.which(binary)
    else:
        binary = shutil.which("kustomize") or shutil.which("kubectl")
        if not binary:
            raise KustomizeError("neither kustomize nor kubectl is on PATH (promotion builds the overlay first)")
    if os.path.basename(binary).startswith("kubectl"):
        return [binary, "kustomize"]
    return [binary, "build"]


def build(path: str, binary: str = "") -> list:
    """The objects an overlay builds to; KustomizeError with kustomize's own message when it does not build."""
    try:
        done = subprocess.run(command(binary) + [path], capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KustomizeError(f"kustomize could not run: {exc}") from exc
    if done.returncode != 0:
        raise KustomizeError((done.stderr or done.stdout).strip() or f"exit {done.returncode}")
    try:
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc is not None]
    except yaml.YAMLError as exc:
        raise KustomizeError(f"kustomize printed something that is not YAML: {exc}") from exc
