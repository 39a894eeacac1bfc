# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1e3``) as exact Decimals, for the quota-fit check."""

from __future__ import annotations

import re
from decimal import Decimal

QUANTITY_RE = re.compile(r"^([+]?[0-9]+(\.[0-9]*)?|[+]?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
QUANTITY_PATTERN = QUANTITY_RE.pattern
_SUFFIX = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}


def parse(value) -> Decimal:
    """The quantity's value in base units (cores, bytes); ValueError when it is not a quantity."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = QUANTITY_RE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a quantity")
    number, suffix = match.group(1), match.group(3) or ""
    if suffix[:1] in ("e", "E"):
        return Decimal(number) * (Decimal(10) ** int(suffix[1:]))
    return Decimal(number) * _SUFFIX[suffix]


def is_quantity(value) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def fmt(value: Decimal, key: str) -> str:
    """Readable form for messages: cores (with m below 1), memory/storage in Gi or Mi, counts as integers."""
    if "memory" in key or "storage" in key:
        if value >= Decimal(2) ** 30:
            return f"{(value / Decimal(2) ** 30).normalize():f}Gi"
        return f"{(value / Decimal(2) ** 20).normalize():f}Mi"
    if "cpu" in key and value < 1:
        return f"{(value * 1000).normalize():f}m"
    return f"{value.normalize():f}"
