# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalog renderer sizes every quantity the tenant schema accepts, exactly (one grammar for both)."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenant.quantity import QUANTITY_PATTERN
from ansible_collections.aphex.platform.plugins.module_utils.tenant_catalog import quantity


@pytest.mark.parametrize("text,expected", [
    ("250m", Fraction(1, 4)), ("2", Fraction(2)), ("1.5", Fraction(3, 2)), ("512Mi", Fraction(2 ** 29)),
    ("1Pi", Fraction(2 ** 50)), ("1e3", Fraction(1000)), ("500u", Fraction(1, 2000)), ("3k", Fraction(3000)),
    (".5", Fraction(1, 2)), (4, Fraction(4)),
])
def test_parse_is_exact_for_every_schema_form(text, expected):
    if isinstance(text, str):
        assert re.match(QUANTITY_PATTERN, text), f"{text} should be a schema quantity"
    assert quantity.parse(text) == expected


@pytest.mark.parametrize("text", ["", "1.2.3", "10GB", "-1", "ten", True, "1 Gi"])
def test_what_the_schema_refuses_the_renderer_refuses(text):
    if isinstance(text, str):
        assert not re.match(QUANTITY_PATTERN, text)
    assert not quantity.is_quantity(text)
    with pytest.raises(ValueError):
        quantity.parse(text)


def test_sums_format_back_exactly():
    total = quantity.parse("250m") * 3 + quantity.parse("0.25")
    assert quantity.format_resource("limits.cpu", total) == "1"
    assert quantity.format_resource("requests.memory", quantity.parse("1Gi") + quantity.parse("512Mi")) == "1536Mi"
