# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes resource quantities as exact fractions: enough to sum requests into quotas and compare them.

Only the suffixes the catalog and tenant overrides use (m, k/M/G/T, Ki/Mi/Gi/Ti); anything else is refused,
so a typo never becomes a silently wrong quota.
"""

from __future__ import annotations

import re
from fractions import Fraction

_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {None: 1, "m": Fraction(1, 1000), "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12,
            "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def parse(value) -> Fraction:
    """'250m' -> 1/4, '1Gi' -> 1073741824; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Fraction(value)
    match = _PATTERN.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a quantity (e.g. 250m, 1, 512Mi, 2Gi)")
    return Fraction(match.group(1)) * _FACTORS[match.group(2)]


def is_quantity(value) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def format_cpu(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    millis = value * 1000
    if millis.denominator != 1:
        raise ValueError(f"{float(value)} cores is finer than a millicore")
    return f"{millis.numerator}m"


def format_bytes(value: Fraction) -> str:
    if value.denominator != 1:
        raise ValueError(f"{float(value)} bytes is not a whole number")
    number = value.numerator
    for suffix, factor in (("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
        if number and number % factor == 0:
            return f"{number // factor}{suffix}"
    return str(number)


def format_resource(name: str, value: Fraction) -> str:
    """cpu in cores/millicores, memory and storage in binary units, counts (pods, GPUs) as integers."""
    if name.endswith("cpu"):
        return format_cpu(value)
    if name.endswith("memory") or name.endswith("storage"):
        return format_bytes(value)
    return str(int(value))
