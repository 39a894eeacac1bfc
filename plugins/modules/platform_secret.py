#!/usr/bin/python
# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: platform_secret
author:
  - aphex.platform maintainers (@aphex-platform)
short_description: Generate platform secrets once and keep them in a Kubernetes Secret
version_added: 0.1.0
description:
  - Makes sure a Kubernetes Secret holds a value for every listed key. A missing key gets a new random value
    from Python's C(secrets) module (the operating system's CSPRNG); a key that already exists in the cluster
    keeps its value, so re-running a playbook never changes a password, key, OIDC client secret or token.
  - Values are regenerated only on explicit request with O(rotate).
  - Values are never returned or logged unless O(show=true). The result names the keys and says, per key,
    whether it was V(created), V(kept) or V(rotated). Diff mode shows key names only.
  - The Secret is written with server-side apply, field manager C(aphex-platform), and carries the label
    C(app.kubernetes.io/managed-by=aphex-platform). Keys this module applied earlier and no longer lists are
    left in place, and keys written by others are never removed.
attributes:
  check_mode:
    support: full
    description:
      - Reads the live Secret and reports which keys would be created, kept or rotated; a change is validated by
        a server-side dry run of the apply, so nothing is written.
      - When the namespace does not exist yet (an earlier step of the same run creates it), the Secret is
        reported as created with a warning, without a dry run.
  diff_mode:
    support: full
    description: Shows the key names before and after, with C(created)/C(rotated) markers; never the values.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - aphex.platform.k8s
options:
  namespace:
    description: Namespace of the Secret. It must exist, except in check mode (see the C(check_mode) attribute).
    type: str
    required: true
  name:
    description: Name of the Secret.
    type: str
    required: true
  keys:
    description: The keys the Secret must hold, each with the generator used when the key is missing.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Key name in the Secret (letters, digits, V(-), V(_) and V(.)).
        type: str
        required: true
      generator:
        description:
          - V(password) draws O(keys[].length) characters from an alphabet.
          - V(hex) is O(keys[].bytes) random bytes as lower-case hex (encryption keys, cookie secrets).
          - V(base64) is O(keys[].bytes) random bytes, base64-encoded.
          - V(token_urlsafe) is O(keys[].bytes) random bytes, URL-safe base64 without padding (OIDC client
            secrets, webhook secrets, API tokens).
        type: str
        choices: [password, hex, base64, token_urlsafe]
        default: password
      length:
        description:
          - Password length. Defaults to V(32).
          - A password must have at least 128 bits of entropy (length x log2(alphabet size)).
        type: int
      alphabet:
        description:
          - Named character set of a password. Defaults to V(alphanumeric).
          - V(safe_punctuation) adds C(-_.~+=) to the alphanumerics, characters that need no quoting in YAML,
            shells, URLs or connection strings.
        type: str
        choices: [alphanumeric, ascii_letters, lowercase_alphanumeric, digits, hexdigits, safe_punctuation]
      characters:
        description: Explicit characters of a password, instead of O(keys[].alphabet).
        type: str
      bytes:
        description:
          - Number of random bytes for V(hex), V(base64) and V(token_urlsafe). Defaults to V(32) (256 bits).
          - At least V(16).
        type: int
  rotate:
    description:
      - Keys to regenerate even though they exist. V(all) regenerates every listed key.
      - Rotation happens on every run that passes it, so pass it only when a rotation is wanted.
    type: list
    elements: str
    default: []
  show:
    description:
      - Return the values in RV(values). Roles map C(aphex_show_secrets=true) to it.
      - Without it, values are kept out of the result and masked in any message.
    type: bool
    default: false
  labels:
    description: Extra labels of the Secret. C(app.kubernetes.io/managed-by=aphex-platform) is always set.
    type: dict
    default: {}
  annotations:
    description: Annotations of the Secret.
    type: dict
    default: {}
notes:
  - The Secret type is not set; a new Secret is V(Opaque) and an existing one keeps its type.
  - Values are drawn with C(secrets.choice), C(secrets.token_hex), C(secrets.token_bytes) and
    C(secrets.token_urlsafe) only.
seealso:
  - module: kubernetes.core.k8s_info
  - name: Python secrets module
    description: The generator used for every value.
    link: https://docs.python.org/3/library/secrets.html
"""

EXAMPLES = r"""
- name: Admin password for Argo CD, generated once
  aphex.platform.platform_secret:
    namespace: argocd
    name: aphex-argocd-admin
    keys:
      - name: password

- name: Authentik secrets (secret key, PostgreSQL password, bootstrap token)
  aphex.platform.platform_secret:
    namespace: authentik
    name: authentik-credentials
    keys:
      - name: secret-key
        generator: token_urlsafe
        bytes: 48
      - name: postgresql-password
        length: 40
        alphabet: safe_punctuation
      - name: bootstrap-token
        generator: hex
    labels:
      app.kubernetes.io/part-of: platform-auth

- name: OIDC client secrets for Argo CD and the Tekton Dashboard
  aphex.platform.platform_secret:
    namespace: dex
    name: oidc-clients
    keys:
      - name: argocd
        generator: token_urlsafe
      - name: tekton-dashboard
        generator: token_urlsafe

- name: Predict what would be generated (a server-side dry run)
  aphex.platform.platform_secret:
    namespace: argocd
    name: aphex-argocd-admin
    keys: [{name: password}]
  check_mode: true

- name: Rotate one client secret on request (keys not rotated keep their values)
  aphex.platform.platform_secret:
    namespace: dex
    name: oidc-clients
    keys: [{name: argocd, generator: token_urlsafe}, {name: tekton-dashboard, generator: token_urlsafe}]
    rotate: [argocd]

- name: Show the values when the user asks for them
  aphex.platform.platform_secret:
    namespace: argocd
    name: aphex-argocd-admin
    keys:
      - name: password
    show: "{{ aphex_show_secrets | default(false) }}"

- name: One kubeconfig for every platform module
  module_defaults:
    group/aphex.platform.k8s:
      kubeconfig: "{{ platform_kubeconfig }}"
  block:
    - name: Tekton Triggers webhook secret
      aphex.platform.platform_secret:
        namespace: tekton-pipelines
        name: github-webhook
        keys:
          - name: secret
            generator: hex
"""

RETURN = r"""
secret:
  description: Namespace and name of the Secret.
  returned: always
  type: dict
  contains:
    namespace:
      description: Namespace.
      returned: always
      type: str
      sample: dex
    name:
      description: Name.
      returned: always
      type: str
      sample: oidc-clients
  sample: {namespace: dex, name: oidc-clients}
keys:
  description: Per listed key, V(created), V(kept) or V(rotated) (in check mode, what would happen).
  returned: always
  type: dict
  sample: {argocd: kept, tekton-dashboard: created}
values:
  description:
    - The value of every listed key. In check mode only the values of kept keys.
  returned: when O(show=true)
  type: dict
  sample: {argocd: 3q2-7ZJ0c1mK5d2xY3n0lqgX8b4Xf5Y6a7e8r9t0u1w}
"""

from ansible_collections.aphex.platform.plugins.module_utils.k8s.client import AphexK8sModule
from ansible_collections.aphex.platform.plugins.module_utils.platform_secret import ALPHABETS, GENERATORS, run


def argument_spec() -> dict:
    return dict(
        namespace={"type": "str", "required": True},
        name={"type": "str", "required": True},
        keys={"type": "list", "elements": "dict", "required": True, "no_log": False, "options": {
            "name": {"type": "str", "required": True},
            "generator": {"type": "str", "choices": list(GENERATORS), "default": "password"},
            "length": {"type": "int"},
            "alphabet": {"type": "str", "choices": list(ALPHABETS)},
            "characters": {"type": "str"},
            "bytes": {"type": "int"},
        }},
        rotate={"type": "list", "elements": "str", "default": []},
        show={"type": "bool", "default": False},
        labels={"type": "dict", "default": {}},
        annotations={"type": "dict", "default": {}},
    )


def main() -> None:
    AphexK8sModule(argument_spec=argument_spec(), supports_check_mode=True).execute(run)


if __name__ == "__main__":
    main()
