# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write generated files into a user's git work tree and commit them (the adapter for git, one error type).

Used by the tenant module (generation) and by module promotion. The contract:

- ``files`` maps paths relative to the work tree to their full content (``str`` is written as UTF-8). A file is
  rewritten only when its bytes differ, so an unchanged tree keeps its mtimes and a re-run is a no-op.
- ``prune`` lists directories (relative) this run owns completely: files below them that are not in ``files``
  are deleted (a module removed from a tenant disappears from the repository).
- Only the paths this run owns are staged and committed (``git commit -- <paths>``): whatever else the user has
  changed or staged in the work tree is left alone.
- Nothing changed -> no commit. Check mode computes the same plan and touches nothing.

The git CLI is used rather than a Python git library: it is what every user has, and the calls are few
(rev-parse, add, diff --cached, commit). Serialisers (:func:`to_yaml`, :func:`to_json`) give byte-stable text.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import tempfile

DEFAULT_AUTHOR_NAME = "aphex-platform"
DEFAULT_AUTHOR_EMAIL = "aphex-platform@localhost"


class GitOpsRepoError(Exception):
    """A git call failed, or a path or work tree is not usable."""

    def __init__(self, msg: str, result: dict | None = None):
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}


_DUMPER = None


def _dumper():
    """A SafeDumper with block style, multi-line strings as literal blocks and lists indented under their key
    (yamllint's default). PyYAML is imported here, not at module level (ansible-test's import sanity)."""
    global _DUMPER  # pylint: disable=global-statement
    if _DUMPER is None:
        import yaml  # pylint: disable=import-outside-toplevel

        class Dumper(yaml.SafeDumper):
            def increase_indent(self, flow=False, indentless=False):
                return super().increase_indent(flow, False)

        def str_representer(dumper, value):
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, str_representer)
        _DUMPER = Dumper
    return _DUMPER


def to_yaml(obj) -> str:
    """One YAML document, key order kept as given (callers build dicts in a fixed order), no line folding."""
    import yaml  # pylint: disable=import-outside-toplevel
    return yaml.dump(obj, Dumper=_dumper(), sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=4096)


def to_yaml_documents(objects: list) -> str:
    """Several YAML documents separated by ``---``."""
    return "---\n".join(to_yaml(obj) for obj in objects)


def to_json(obj) -> str:
    """Pretty JSON with sorted keys and a final newline (byte-stable for equal input)."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _git(worktree: str, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", "-C", worktree, *args], capture_output=True, text=True, env=env, check=False)
    except FileNotFoundError as exc:
        raise GitOpsRepoError("git is not installed (needed to commit into the GitOps repository)") from exc
    if check and proc.returncode != 0:
        raise GitOpsRepoError(f"git {' '.join(args)} failed in {worktree}: {(proc.stderr or proc.stdout).strip()}")
    return proc


def work_tree_root(path: str) -> str:
    """The top of the git work tree ``path`` is in; an error naming the path when it is not one."""
    if not os.path.isdir(path):
        raise GitOpsRepoError(f"{path}: not a directory (give the path of a git work tree)")
    proc = _git(path, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise GitOpsRepoError(f"{path}: not a git work tree ({proc.stderr.strip()})")
    return proc.stdout.strip()


def _safe_relpath(relpath: str) -> str:
    if not isinstance(relpath, str) or not relpath:
        raise GitOpsRepoError(f"{relpath!r}: a file path must be a non-empty string")
    norm = posixpath.normpath(relpath)
    if relpath.startswith("/") or norm == ".." or norm.startswith("../") or norm == "." or \
            norm.split("/")[0] == ".git":
        raise GitOpsRepoError(f"{relpath}: must be a relative path inside the work tree")
    return norm


def _content_bytes(content) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    raise GitOpsRepoError(f"file content must be str or bytes, not {type(content).__name__}")


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomic(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _text(data: bytes | None) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(data)} bytes of binary content>\n"


def plan_files(root: str, files: dict, prune: list | None = None) -> dict:
    """What writing ``files`` would do: ``{relpath: "create"|"update"|"unchanged"|"delete"}`` (sorted)."""
    wanted = {_safe_relpath(rel): _content_bytes(content) for rel, content in files.items()}
    plan = {}
    for rel, data in wanted.items():
        current = _read(os.path.join(root, rel))
        plan[rel] = "create" if current is None else ("unchanged" if current == data else "update")
    for directory in prune or []:
        directory = _safe_relpath(directory)
        base = os.path.join(root, directory)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            for name in filenames:
                rel = posixpath.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                if rel not in wanted:
                    plan[rel] = "delete"
    return dict(sorted(plan.items()))


def _remove_empty_dirs(root: str, rel_dirs) -> None:
    for rel in sorted(rel_dirs, key=lambda d: d.count("/"), reverse=True):
        path = os.path.join(root, rel)
        while rel and rel != "." and os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)
            rel = posixpath.dirname(rel)
            path = os.path.join(root, rel)


def _author_env(author_name: str | None, author_email: str | None, root: str) -> dict:
    """Commit identity: the given one, else the repository's/user's git config, else the platform's default."""
    env = dict(os.environ)
    configured_name = _git(root, "config", "user.name", check=False).stdout.strip()
    configured_email = _git(root, "config", "user.email", check=False).stdout.strip()
    name = author_name or configured_name or DEFAULT_AUTHOR_NAME
    email = author_email or configured_email or DEFAULT_AUTHOR_EMAIL
    env.update({"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": configured_name or name, "GIT_COMMITTER_EMAIL": configured_email or email})
    return env


def head(root: str) -> str | None:
    proc = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return proc.stdout.strip() or None


def sync(worktree: str, files: dict, message: str, prune: list | None = None, check_mode: bool = False,
         author_name: str | None = None, author_email: str | None = None, diff: bool = False) -> dict:
    """Write ``files`` into the git work tree ``worktree`` and commit them with ``message``.

    Returns ``changed`` (a file was or would be written or deleted, or a commit made), ``commit`` (the new commit,
    or ``None`` when nothing was committed), ``head`` (HEAD after the run), ``files`` (the plan per path),
    and with ``diff`` a list of Ansible diff entries (one per changed file).
    """
    if not isinstance(message, str) or not message.strip():
        raise GitOpsRepoError("message: a commit message is required")
    root = work_tree_root(worktree)
    plan = plan_files(root, files, prune)
    wanted = {_safe_relpath(rel): _content_bytes(content) for rel, content in files.items()}
    touched = [rel for rel, action in plan.items() if action != "unchanged"]
    result = {"changed": False, "commit": None, "head": head(root), "files": plan, "root": root}
    if diff:
        result["diff"] = [{"before_header": rel, "after_header": rel,
                           "before": _text(_read(os.path.join(root, rel))),
                           "after": "" if plan[rel] == "delete" else _text(wanted[rel])} for rel in touched]
    owned = sorted(set(wanted) | {rel for rel, action in plan.items() if action == "delete"})
    # Files already right on disk but not committed yet (an interrupted earlier run) still need the commit.
    pending = _uncommitted(root, owned)
    result["changed"] = bool(touched or pending)
    if check_mode or not result["changed"]:
        result["pending"] = sorted(pending)
        return result
    for rel in touched:
        path = os.path.join(root, rel)
        if plan[rel] == "delete":
            os.unlink(path)
        else:
            write_atomic(path, wanted[rel])
    _remove_empty_dirs(root, {posixpath.dirname(rel) for rel in touched if plan[rel] == "delete"})
    pathspecs = sorted(set(touched) | pending)
    present = [rel for rel in pathspecs if os.path.lexists(os.path.join(root, rel))]
    gone = [rel for rel in pathspecs if rel not in present]
    if present:
        _git(root, "add", "-A", "--", *present)
    if gone:
        _git(root, "rm", "--cached", "--quiet", "--ignore-unmatch", "--", *gone)
    staged = _git(root, "diff", "--cached", "--name-only", "-z", "--", *pathspecs).stdout.split("\0")
    staged = sorted(path for path in staged if path)
    if not staged:
        return result  # e.g. files rewritten with the bytes git already has
    _git(root, "commit", "--quiet", "--no-verify", "-m", message, "--", *staged,
         env=_author_env(author_name, author_email, root))
    result["commit"] = result["head"] = head(root)
    return result


def _uncommitted(root: str, paths: list) -> set:
    """Paths among ``paths`` whose work-tree content differs from HEAD (modified, untracked or deleted)."""
    if not paths:
        return set()
    proc = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
    pending = set()
    entries = proc.stdout.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if status[0] in "RC":
            index += 1  # the source path of a rename follows
        if path in paths or any(path.startswith(p.rstrip("/") + "/") for p in paths):
            pending.add(path)
    return pending


def write_and_commit(work_tree: str, files: dict, message: str, check_mode: bool = False, **kwargs) -> dict:
    """:func:`sync` under the name module promotion uses (keyword arguments: ``prune``, ``author_name``, ...)."""
    return sync(work_tree, files, message, check_mode=check_mode, **kwargs)
