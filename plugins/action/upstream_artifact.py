# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fill in the collection's own upstream/lock.yml, then run the module.

A module runs from a temporary AnsiballZ payload and cannot find files of the collection, so the
controller-side action resolves the default lock path and passes it in.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

# plugins/action/<this file> -> collection root (realpath: a symlinked plugins/ dir must not hide upstream/)
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
DEFAULT_LOCK = os.path.join(COLLECTION_ROOT, "upstream", "lock.yml")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if not args.get("lock"):
            args["lock"] = DEFAULT_LOCK
        result.update(self._execute_module(module_name="aphex.platform.upstream_artifact",
                                           module_args=args, task_vars=task_vars))
        return result
