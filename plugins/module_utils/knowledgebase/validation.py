# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation and normalisation of a KnowledgeBase spec (aphex-reference.md §8.2; plain dicts in, errors out).

Both of the reference's rule sets apply: its controller's (repositories, URL scheme, git branch names) and its
admission webhook's, which was off by default (§12.15): display name, GitHub repository URLs, documentation
paths under an allowed prefix without ``..``, no duplicate repositories, MCP image/port/replicas/query URL.
Every error names the field, e.g. ``spec.repositories[1].branch: 'a..b' is not a valid git branch name``.
"""

from __future__ import annotations

import re

from ansible_collections.aphex.platform.plugins.module_utils.organization.validation import (
    DNS_LABEL_RE,
    QUANTITY_RE,
    display_name_errors,
    image_errors,
)

from . import naming

SPEC_FIELDS = ("displayName", "description", "repositories", "mcp")
REPOSITORY_FIELDS = ("url", "branch", "paths")
MCP_FIELDS = ("image", "port", "queryServiceURL", "replicas")
GITHUB_URL_RE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/?$")
# git check-ref-format, as the reference's branch check applies it.
BRANCH_FORBIDDEN = (" ", "~", "^", ":", "?", "*", "[", "\\", "..", "@{", "//")
MAX_NAME = 63 - len("mcp-server-")
MAX_REPLICAS = 20


def name_errors(name, field: str = "name") -> list:
    if not isinstance(name, str) or not name:
        return [f"{field}: is required"]
    if not DNS_LABEL_RE.match(name) or len(name) > MAX_NAME:
        return [f"{field}: '{name}' must be a DNS label of at most {MAX_NAME} characters, so that "
                f"'{naming.names(name)['mcp']}' is one too"]
    return []


def branch_errors(branch, field: str) -> list:
    if not isinstance(branch, str) or not branch:
        return [f"{field}: must be a non-empty git branch name"]
    bad = [token for token in BRANCH_FORBIDDEN if token in branch]
    if bad or branch.startswith(("/", ".")) or branch.endswith(("/", ".", ".lock")) or any(
            ord(c) < 0x20 or ord(c) == 0x7F for c in branch):
        return [f"{field}: '{branch}' is not a valid git branch name"]
    return []


def path_errors(paths, field: str, allowed_prefixes) -> list:
    if paths is None:
        return []
    if not isinstance(paths, list) or not paths:
        return [f"{field}: must be a non-empty list of paths (or left out for {list(naming.DEFAULT_PATHS)})"]
    errors = []
    for index, path in enumerate(paths):
        where = f"{field}[{index}]"
        if not isinstance(path, str) or not path.strip():
            errors.append(f"{where}: must be a non-empty path")
        elif ".." in path:
            errors.append(f"{where}: '{path}' must not contain '..'")
        elif path.startswith("/"):
            errors.append(f"{where}: '{path}' must be relative to the repository root")
        elif allowed_prefixes and not any(path == p or path.startswith(p.rstrip("/") + "/")
                                          for p in allowed_prefixes):
            errors.append(f"{where}: '{path}' must be under {' or '.join(allowed_prefixes)}")
    return errors


def _normalised_url(url: str) -> str:
    return url.rstrip("/").lower()


def repositories_errors(repositories, field: str, allowed_prefixes) -> list:
    if not isinstance(repositories, list) or not repositories:
        return [f"{field}: at least one repository is required"]
    errors = []
    seen: dict = {}
    for index, repo in enumerate(repositories):
        where = f"{field}[{index}]"
        if not isinstance(repo, dict):
            errors.append(f"{where}: must be a mapping with url, branch and paths")
            continue
        errors.extend(f"{where}.{key}: unknown field (known: {', '.join(REPOSITORY_FIELDS)})"
                      for key in repo if key not in REPOSITORY_FIELDS)
        url = repo.get("url")
        if not isinstance(url, str) or not url:
            errors.append(f"{where}.url: is required")
        elif not url.startswith(("http://", "https://")):
            errors.append(f"{where}.url: '{url}' must start with http:// or https://")
        elif not GITHUB_URL_RE.match(url):
            errors.append(f"{where}.url: '{url}' is not a GitHub repository URL (https://github.com/<owner>/<repo>)")
        elif _normalised_url(url) in seen:
            errors.append(f"{where}.url: '{url}' duplicates {field}[{seen[_normalised_url(url)]}].url "
                          "(compared case-insensitively)")
        else:
            seen[_normalised_url(url)] = index
        if repo.get("branch") is not None:
            errors.extend(branch_errors(repo["branch"], f"{where}.branch"))
        errors.extend(path_errors(repo.get("paths"), f"{where}.paths", allowed_prefixes))
    return errors


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def mcp_errors(mcp, field: str) -> list:
    if mcp is None:
        return []
    if not isinstance(mcp, dict):
        return [f"{field}: must be a mapping with image and port (or left out for no MCP server)"]
    errors = [f"{field}.{key}: unknown field (known: {', '.join(MCP_FIELDS)})" for key in mcp if key not in MCP_FIELDS]
    errors.extend(image_errors(mcp.get("image"), f"{field}.image"))
    port = mcp.get("port")
    if not _integer(port) or not 1024 <= port <= 65535:
        errors.append(f"{field}.port: {port!r} must be an integer from 1024 to 65535")
    replicas = mcp.get("replicas")
    if replicas is not None and (not _integer(replicas) or not 1 <= replicas <= MAX_REPLICAS):
        errors.append(f"{field}.replicas: {replicas!r} must be an integer from 1 to {MAX_REPLICAS}")
    url = mcp.get("queryServiceURL")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url)):
        errors.append(f"{field}.queryServiceURL: {url!r} must be an http:// or https:// URL")
    return errors


def spec_errors(spec, allowed_prefixes=naming.DEFAULT_PATHS, field: str = "spec") -> list:
    """Every problem of a KnowledgeBase spec (camelCase, as in the CRD)."""
    if not isinstance(spec, dict):
        return [f"{field}: must be a mapping (the KnowledgeBase spec)"]
    errors = [f"{field}.{key}: unknown field (known: {', '.join(SPEC_FIELDS)})" for key in spec if key not in SPEC_FIELDS]
    errors.extend(display_name_errors(spec.get("displayName"), f"{field}.displayName"))
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        errors.append(f"{field}.description: must be a string")
    errors.extend(repositories_errors(spec.get("repositories"), f"{field}.repositories", allowed_prefixes))
    errors.extend(mcp_errors(spec.get("mcp"), f"{field}.mcp"))
    return errors


def resources_errors(resources, field: str = "mcp_resources") -> list:
    if resources is None:
        return []
    if not isinstance(resources, dict) or set(resources) - {"requests", "limits"}:
        return [f"{field}: must be a mapping with requests and/or limits"]
    errors = []
    for section, values in resources.items():
        if not isinstance(values, dict):
            errors.append(f"{field}.{section}: must be a mapping of resource names to quantities")
            continue
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not QUANTITY_RE.match(str(value)):
                errors.append(f"{field}.{section}.{key}: {value!r} is not a Kubernetes quantity")
    return errors


def normalize_spec(spec: dict, namespace: str) -> dict:
    """The spec with the CRD's and the controller's defaults filled in (what the builders use)."""
    repositories = []
    for repo in spec["repositories"]:
        repositories.append({
            "url": repo["url"],
            "branch": repo.get("branch") or naming.DEFAULT_BRANCH,
            "paths": list(repo.get("paths") or naming.DEFAULT_PATHS),
        })
    normalized = {"displayName": spec["displayName"], "description": spec.get("description") or "",
                  "repositories": repositories, "mcp": None}
    mcp = spec.get("mcp")
    if mcp is not None:
        normalized["mcp"] = {
            "image": mcp["image"],
            "port": mcp["port"],
            "replicas": mcp.get("replicas") or naming.DEFAULT_REPLICAS,
            "queryServiceURL": mcp.get("queryServiceURL") or naming.query_service_url(namespace),
        }
    return normalized
