# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module catalog as data: one ENTRY per module, imported statically (AnsiballZ ships what is imported)."""

from . import clickhouse, database, frontend, job, jupyter, langfuse, microservice, ollama, postgresql, redis

ENTRIES = {entry.ENTRY["name"]: entry.ENTRY for entry in (
    langfuse, clickhouse, postgresql, redis, ollama, jupyter, microservice, frontend, job, database)}
