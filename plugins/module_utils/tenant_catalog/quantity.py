# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes resource quantities as exact fractions: enough to sum requests into quotas and compare them.

Parsing is the tenant schema's (`tenant/quantity.py`: every Kubernetes suffix and exponent form), so whatever the
tenant file's schema accepts the renderer can size; only the formatting for generated objects lives here.
"""

from __future__ import annotations

from fractions import Fraction

from ..tenant import quantity as _kubernetes


def parse(value) -> Fraction:
    """'250m' -> 1/4, '1Gi' -> 1073741824, exactly; ValueError for anything that is not a quantity."""
    return Fraction(_kubernetes.parse(value))


is_quantity = _kubernetes.is_quantity


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
