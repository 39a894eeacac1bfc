# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process, the ansible-core 2.19 way (patch_module_args)."""

from __future__ import annotations

from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.testing import patch_module_args


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(remove_values(kwargs, self.no_log_values))


def _fail_json(self, msg, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise AnsibleFailJson(remove_values(kwargs, self.no_log_values))


def run_module(main, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    """Return the module's result dict; a failed run returns it too, with ``failed: True``.

    no_log values are masked the way AnsibleModule masks them before printing, so tests see what a
    user would see in the task result.
    """
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(module_args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json):
        try:
            main()
        except (AnsibleExitJson, AnsibleFailJson) as outcome:
            return outcome.args[0]
    raise AssertionError("main() returned without calling exit_json or fail_json")
