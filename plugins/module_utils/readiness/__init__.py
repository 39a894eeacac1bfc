# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Readiness gates, by concern: ``predicates`` (pure, per kind), ``checks`` (building, splitting by whether the
component runs, evaluating through a reader), ``diagnostics`` (what a timeout reports) and ``gate`` (the polling
loop and the module's ``run``).

A gate is a list of checks. Each check belongs to a *category* (``crds``, ``deployments``, ...). Categories
listed in ``requires_controller`` need a container that really runs (cainjector writing a caBundle, a webhook
answering, a controller setting a condition); when the gate's component does not run on this cluster
(``not_running``) those checks are reported as skipped with the reason, never waited for nor reported as passed.
"""
