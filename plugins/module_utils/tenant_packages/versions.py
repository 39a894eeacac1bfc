# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Version constraints of dependencies, with npm's range grammar (``>=12.0.0``, ``^6.0``, ``~1.2``, ``1.2.3``,
``*``, ``>=1.0.0 <2.0.0``, ``1.x || 2.x``) as implemented by the ``semantic_version`` library (NpmSpec)."""

from __future__ import annotations

try:
    import semantic_version
    HAS_SEMANTIC_VERSION = True
    SEMANTIC_VERSION_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    HAS_SEMANTIC_VERSION = False
    SEMANTIC_VERSION_IMPORT_ERROR = exc


class VersionError(ValueError):
    """A version or a version constraint that does not parse."""


def parse_version(text: str):
    try:
        return semantic_version.Version(str(text))
    except ValueError:
        raise VersionError(f"{text!r} is not a semantic version such as 1.0.0") from None


def parse_constraint(text: str):
    try:
        return semantic_version.NpmSpec(str(text).strip())
    except ValueError:
        raise VersionError(f"{text!r} is not a version constraint (examples: >=12.0.0, ^6.0, ~1.2, 1.2.3, *, "
                           f">=1.0.0 <2.0.0)") from None


def satisfies(version: str, constraint: str) -> bool:
    return parse_version(version) in parse_constraint(constraint)


def best_match(versions, constraints):
    """Highest of ``versions`` (strings) that satisfies every constraint (strings), or None."""
    specs = [parse_constraint(c) for c in constraints]
    fitting = [v for v in versions if all(parse_version(v) in spec for spec in specs)]
    return max(fitting, key=parse_version) if fitting else None
