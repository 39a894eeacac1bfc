# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloudflare tunnels and DNS records through the official SDK: an adapter (client), pure planners
(tunnel, dns, retry) and the reconcile steps the modules run (tunnel_service, dns_service)."""
