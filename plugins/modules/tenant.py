#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Validate a tenant, generate its GitOps tree and commit it
version_added: 0.2.0
description:
  - Reads the tenant configuration (O(config), the file O(src), or C(tenants/<name>/tenant.yaml) in the work tree
    O(repo)), optionally enables one module (O(module), with its missing required dependencies), and validates
    it against the collection's JSON Schema and the constraints between fields (the tier decides quota, container
    limits, replicas, module count and GPUs; the enabled modules' requests must fit the tier's quota; required
    dependencies must be enabled; roles must be tenant roles). Every error names the field.
  - Nothing is written when the configuration is invalid.
  - Generates C(tenants/<name>/) in the work tree, C(tenant.yaml), C(keycloak-realm.json), C(tenant-bundle.json),
    C(kubernetes/) (namespace, quota, limit range, default-deny network policies), C(modules/<module>/) (the module
    catalog's base and C(dev)/C(staging)/C(production) overlays) and C(applications/) (an Argo CD AppProject and one
    Application per module), then commits the tenant's directory with a clear message. Files no longer generated
    are deleted. A run that changes no byte makes no commit and reports C(changed=false).
  - "Runs on the controller (C(delegate_to: localhost)); needs C(git) and the C(jsonschema) Python library."
attributes:
  check_mode:
    support: full
    description: Validates, generates and reports which files would be created, updated or deleted; writes nothing.
  diff_mode:
    support: full
    description: Before and after of every changed file.
  platform:
    platforms: posix
    support: full
    description: Runs on the controller.
options:
  name:
    description:
      - Name of the tenant (a DNS label of at most 40 characters; module namespaces are C(<name>-<module>)).
      - Required unless O(src) is given.
    type: str
  repo:
    description: Path of the GitOps repository's git work tree. Required unless O(validate_only=true).
    type: path
  config:
    description:
      - The whole tenant configuration (the content of C(tenant.yaml)); replaces the one in the repository.
      - Leave unset to read C(tenants/<name>/tenant.yaml) from O(repo) (or O(src)).
    type: dict
  src:
    description: Read the tenant configuration from this file instead.
    type: path
  module:
    description: Enable this catalog module (or update its options) before validating.
    type: str
  module_options:
    description:
      - Options of O(module) merged over its current ones (C(auth), C(roles), C(replicas), C(resources), C(config),
        C(image), C(gpu), C(storage), C(environments)).
      - Roles given here are added to the tenant's C(auth.roles).
    type: dict
  with_dependencies:
    description: Also enable the missing required dependencies of O(module) with default options.
    type: bool
    default: true
  repo_url:
    description: Sets C(gitops.repo_url), the URL Argo CD clones the repository from.
    type: str
  revision:
    description: Sets C(gitops.revision), the branch or tag the Applications follow.
    type: str
  argocd_namespace:
    description: Sets C(gitops.argocd_namespace), where the AppProject and Applications live.
    type: str
  validate_only:
    description: Only validate; nothing is generated or written.
    type: bool
    default: false
  commit_message:
    description: "Commit message; by default it says what happened, e.g. C(tenant acme: add module langfuse)."
    type: str
  author_name:
    description: Author of the commit; defaults to the repository's git configuration, else C(aphex-platform).
    type: str
  author_email:
    description: E-mail of the commit's author.
    type: str
requirements:
  - jsonschema >= 4.18
  - PyYAML
  - git
notes:
  - The module catalog is C(aphex.platform)'s C(tenant_catalog); see C(docs/tenants.md) for the configuration
    fields, the tiers and how a tenant relates to an organization.
seealso:
  - name: Tenants
    description: Configuration, tiers, generated tree, playbooks.
    link: https://github.com/aphex-platform/aphex.platform/blob/main/docs/tenants.md
"""

EXAMPLES = r"""
- name: Create or update a tenant from its configuration
  aphex.platform.tenant:
    name: test-company
    repo: /srv/gitops
    config:
      name: test-company
      tier: starter
      domain: test-company.example.com
      gitops:
        repo_url: https://git.example.com/platform/gitops.git
  delegate_to: localhost

- name: Add langfuse with Keycloak auth and two roles (and its dependencies)
  aphex.platform.tenant:
    name: test-company
    repo: /srv/gitops
    module: langfuse
    module_options:
      auth: true
      roles: [admin, analyst]
  delegate_to: localhost

- name: Validate a tenant file only
  aphex.platform.tenant:
    src: tenants/test-company/tenant.yaml
    validate_only: true
  delegate_to: localhost

- name: Show what would change
  aphex.platform.tenant:
    name: test-company
    repo: /srv/gitops
    module: redis
  check_mode: true
  diff: true
  delegate_to: localhost
"""

RETURN = r"""
tenant:
  description: The validated tenant with defaults filled in (including the tier's C(quota) and C(limit_range)).
  returned: success
  type: dict
  sample: {name: test-company, tier: starter, domain: test-company.example.com, modules: {redis: {}}}
errors:
  description: "The validation errors, each C(<field>: <message>); empty on success."
  returned: always
  type: list
  elements: str
  sample: ["modules.langfuse.roles[1]: 'analyst' is not a tenant role (auth.roles: admin)"]
modules_added:
  description: Modules this run enabled (O(module) and its dependencies).
  returned: success
  type: list
  elements: str
  sample: [langfuse, postgresql, clickhouse, redis]
commit:
  description: The commit made, or null when nothing changed (and always in check mode).
  returned: when O(validate_only=false)
  type: str
  sample: 3f1c0e2a9b7d4c5e6f708192a3b4c5d6e7f80912
head:
  description: HEAD of the work tree after the run.
  returned: when O(validate_only=false)
  type: str
files:
  description: Every file of the tenant and what happened to it (V(create), V(update), V(unchanged), V(delete)).
  returned: when O(validate_only=false)
  type: dict
  sample: {tenants/test-company/tenant.yaml: unchanged}
path:
  description: The tenant's directory in the repository.
  returned: when O(validate_only=false)
  type: str
  sample: tenants/test-company
applications:
  description: Names of the modules' Argo CD Applications.
  returned: when O(validate_only=false)
  type: list
  elements: str
  sample: [test-company-langfuse]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.tenant import schema
from ansible_collections.aphex.platform.plugins.module_utils.tenant.run import TenantError, run


def argument_spec() -> dict:
    return {
        "name": {"type": "str"},
        "repo": {"type": "path"},
        "config": {"type": "dict"},
        "src": {"type": "path"},
        "module": {"type": "str"},
        "module_options": {"type": "dict"},
        "with_dependencies": {"type": "bool", "default": True},
        "repo_url": {"type": "str"},
        "revision": {"type": "str"},
        "argocd_namespace": {"type": "str"},
        "validate_only": {"type": "bool", "default": False},
        "commit_message": {"type": "str"},
        "author_name": {"type": "str"},
        "author_email": {"type": "str"},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_one_of=[("name", "src")], mutually_exclusive=[("config", "src")])
    if not schema.HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(schema.JSONSCHEMA_IMPORT_ERROR))
    try:
        result = run(module.params, check_mode=module.check_mode, diff=module._diff)
    except TenantError as exc:
        module.fail_json(msg=exc.msg, errors=exc.errors, **{k: v for k, v in exc.result.items() if k != "errors"})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
