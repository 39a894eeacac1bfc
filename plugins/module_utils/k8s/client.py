# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base class of every Kubernetes module of the collection.

:class:`AphexK8sModule` subclasses kubernetes.core's ``AnsibleK8SModule`` (which checks the ``kubernetes`` and
PyYAML libraries) and adds the check for kubernetes.core itself, kubernetes.core's connection options, a client
created on first use (so modules validate their input before any API call) and :meth:`AphexK8sModule.execute`,
the one place that turns :class:`K8sError` into ``fail_json``.
"""

from __future__ import annotations

import copy
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.k8s.applier import ObjectApplier
from ansible_collections.aphex.platform.plugins.module_utils.k8s.common import K8sError, api_message
from ansible_collections.aphex.platform.plugins.module_utils.k8s.reader import ClusterReader, refresh_discovery

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

    HAS_KUBERNETES_COLLECTION = True
    KUBERNETES_COLLECTION_ERROR = None
except ImportError:
    HAS_KUBERNETES_COLLECTION = False
    KUBERNETES_COLLECTION_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {}
    AnsibleK8SModule = object  # AphexK8sModule reports the missing collection before using this base


def auth_argument_spec() -> dict:
    """A deep copy of kubernetes.core's connection options (documented by kubernetes.core.k8s_auth_options)."""
    return copy.deepcopy(AUTH_ARG_SPEC)


class AphexK8sModule(AnsibleK8SModule):
    """A Kubernetes module: kubernetes.core's connection options plus ``argument_spec``, a lazily created client.

    ``main()`` of a module is ``AphexK8sModule(argument_spec=..., supports_check_mode=True).execute(run)``.
    """

    def __init__(self, argument_spec: dict, **kwargs):
        spec = auth_argument_spec()
        spec.update(argument_spec)
        if not HAS_KUBERNETES_COLLECTION:
            AnsibleModule(argument_spec=spec, **kwargs).fail_json(
                msg=missing_required_lib("kubernetes.core (collection)"), exception=KUBERNETES_COLLECTION_ERROR)
        super().__init__(argument_spec=spec, **kwargs)
        self._client = None

    @property
    def client(self):
        """kubernetes.core's K8SClient for the connection options, created on first use."""
        if self._client is None:
            try:
                self._client = get_api_client(module=self)
            except Exception as exc:  # kubeconfig, TLS and configuration errors alike
                raise K8sError(f"Could not create the Kubernetes API client: {api_message(exc)[0]}") from exc
        return self._client

    @property
    def diff_mode(self) -> bool:
        return bool(self._diff)

    @property
    def no_log_values(self) -> set:
        return self._module.no_log_values

    def run_command(self, *args, **kwargs):
        return self._module.run_command(*args, **kwargs)

    def get_bin_path(self, *args, **kwargs):
        return self._module.get_bin_path(*args, **kwargs)

    def refresh_discovery(self) -> None:
        refresh_discovery(self.client)

    def reader(self) -> ClusterReader:
        return ClusterReader(self.client, rediscover_missing=True)

    def applier(self, **kwargs) -> ObjectApplier:
        return ObjectApplier(self.client, check_mode=self.check_mode, warn=self.warn, **kwargs)

    def execute(self, run) -> None:
        """Exit with ``run(self)``'s result, or fail with the message and result of the K8sError it raised."""
        try:
            result = run(self)
        except K8sError as exc:
            self.fail_json(msg=exc.msg, **exc.result)
        self.exit_json(**result)
