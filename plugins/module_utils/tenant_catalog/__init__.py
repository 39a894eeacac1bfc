# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tenant module catalog: entries as data (entries/), one generic renderer (render.py).

    catalog_entry(name) -> dict                  requests/limits, dependencies, roles, gpu, ports
    validate_module(tenant, module, options)     -> ["field: message", ...]
    module_usage(tenant, module, options, env)   -> {requests, limits, pods, persistentvolumeclaims}
    render_module(tenant, module, options)       -> {relpath: YAML text} (Kustomize base + overlays)
"""

from .render import (CATALOG_NAMES, ENVIRONMENTS, LABEL_MODULE, LABEL_TENANT, TENANT_GPU_FIELD, CatalogError,
                     catalog_entry, module_usage, render_module, to_yaml, validate_module)

__all__ = ["CATALOG_NAMES", "ENVIRONMENTS", "LABEL_MODULE", "LABEL_TENANT", "TENANT_GPU_FIELD", "CatalogError",
           "catalog_entry", "module_usage", "render_module", "to_yaml", "validate_module"]
