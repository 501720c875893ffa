#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: harbor_scanner
short_description: A Harbor scanner registration (a pluggable scanner adapter), optionally the system default
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures Harbor has a scanner registration named I(name) for the pluggable scanner adapter at I(url), with the
    settings given; settings not given keep Harbor's value (on creation, Harbor's defaults).
  - A new registration is created only after Harbor reached the adapter (C(POST /api/v2.0/scanners/ping), in
    which Harbor fetches the adapter's C(/api/v1/metadata)); an unknown or unreachable URL fails with the URL and
    what Harbor answered, and nothing is created. A changed URL or authentication is tested the same way before
    the registration is updated (C(PUT)).
  - I(default=true) makes the registration Harbor's system default scanner (C(PATCH /api/v2.0/scanners/{id}) with
    C(is_default) true), the one used by projects that have no scanner of their own. I(default=false) does not unset it - make another
    registration the default instead.
  - C(Trivy) is the built-in registration Harbor itself keeps when the chart's C(trivy.enabled) is true. Harbor
    makes it immutable, so it is never edited or deleted here; asking for a change to it fails clearly, only
    I(default=true) is allowed.
  - Clair is not built into Harbor any more (removed in Harbor 2.2.0); an external adapter such as
    C(goharbor/harbor-scanner-clair) is registered with this module like any other adapter.
  - C(state=absent) deletes the registration.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.harbor
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode still asks Harbor to test the adapter (C(POST /scanners/ping) writes nothing), so a bad URL
      fails in check mode too.
  diff_mode:
    support: full
    details: The access credential is shown as C((hidden)) only.
  platform:
    platforms: kubernetes
options:
  name:
    description: The registration's name (unique in Harbor).
    type: str
    required: true
  url:
    description:
      - The adapter's base URL, for example C(http://harbor-scanner-clair.harbor:8080) (Harbor appends
        C(/api/v1/...)). Harbor stores it without a trailing slash, with C(http://) when no scheme is given.
      - Required to create a registration.
    type: str
  description:
    description: The registration's description.
    type: str
  auth:
    description:
      - How Harbor authenticates to the adapter. An empty string for none.
    type: str
    choices: ['', Basic, Bearer, X-ScannerAdapter-API-Key]
  access_credential:
    description:
      - The credential for I(auth) (for C(Basic) C(user:password)). Write-only - it is never returned.
      - Sent when the registration is created; for an existing registration only with
        I(update_credential=always) (Harbor 2.14.4 and later never return a stored credential, so it cannot be
        compared, and every run with C(always) sends it again and reports a change there).
    type: str
  update_credential:
    description:
      - C(on_create) sets I(access_credential) only when the registration is created (or when I(auth) is set on a
        registration that had none); C(always) also replaces the credential of an existing registration.
    type: str
    choices: [always, on_create]
    default: on_create
  skip_cert_verify:
    description: Let Harbor skip verifying the adapter's TLS certificate.
    type: bool
  use_internal_addr:
    description: Let the adapter pull artifacts through Harbor's internal registry address.
    type: bool
  disabled:
    description: Disable the registration (a disabled registration cannot be the default).
    type: bool
  default:
    description: Make the registration the system default scanner.
    type: bool
    default: false
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.harbor_info
  - module: devsecops.multicluster.harbor_project
  - name: Harbor pluggable scanner adapter specification
    description: The API an adapter serves (C(GET /api/v1/metadata), C(POST /api/v1/scan), ...).
    link: https://github.com/goharbor/pluggable-scanner-spec
"""

EXAMPLES = r"""
- name: Register an external Clair adapter and make it the default scanner
  devsecops.multicluster.harbor_scanner:
    harbor:
      endpoint: harbor.apps.example.com
      ca: "{{ harbor_facts.ca }}"
      password_secret: {namespace: harbor, name: harbor-admin}
    name: Clair
    url: http://harbor-scanner-clair.harbor:8080
    description: Clair v2 through goharbor/harbor-scanner-clair
    default: true

- name: Keep the built-in Trivy registration the default
  devsecops.multicluster.harbor_scanner:
    name: Trivy
    default: true
"""

RETURN = r"""
scanner:
  description: The registration. Never the access credential.
  returned: always
  type: dict
  contains:
    name:
      description: The registration's name.
      type: str
    uuid:
      description: Harbor's identifier of the registration (empty in check mode for one that would be created).
      type: str
    url:
      description: The adapter URL as Harbor stores it.
      type: str
    description:
      description: The description.
      type: str
    auth:
      description: The authentication type.
      type: str
    skip_cert_verify:
      description: Whether Harbor skips verifying the adapter's certificate.
      type: bool
    use_internal_addr:
      description: Whether the adapter pulls through Harbor's internal registry address.
      type: bool
    disabled:
      description: Whether the registration is disabled.
      type: bool
    is_default:
      description: Whether it is the system default scanner.
      type: bool
    immutable:
      description: Whether it is Harbor's built-in C(Trivy) registration.
      type: bool
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, harbor_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import Scanner
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main


def argument_spec():
    return cluster_argument_spec(
        harbor=harbor_option(),
        name=dict(type="str", required=True),
        url=dict(type="str"),
        description=dict(type="str"),
        auth=dict(type="str", choices=["", "Basic", "Bearer", "X-ScannerAdapter-API-Key"]),
        access_credential=dict(type="str", no_log=True),
        update_credential=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        skip_cert_verify=dict(type="bool"),
        use_internal_addr=dict(type="bool"),
        disabled=dict(type="bool"),
        default=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "harbor", Harbor, manager_work(Scanner, "scanner", diff=True))


if __name__ == "__main__":
    main()
