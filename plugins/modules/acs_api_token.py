#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acs_api_token
short_description: An ACS API token with named roles, minted once, recorded on the hub, rotatable
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Generates an API token at ACS Central (C(/v1/apitokens/generate)) with the I(roles) asked for - for
    example C(Continuous Integration) for a pipeline, never C(Admin) unless that is the purpose - and records
    it in a labelled Secret on the cluster the module connects to (the hub), with its id, roles and expiry.
  - A later run keeps the recorded token while Central still has it unrevoked, with the same roles, outside
    the renewal window, and accepts it. Otherwise (or with I(rotate=true)) it generates a new token, records
    it, then revokes the old one. Tokens of the same name whose value was never recorded are revoked.
  - The token is never returned. Consumers read the record (for example with
    M(devsecops.multicluster.secret_sync), or as I(central.token_secret) of the other ACS modules).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.central
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  consumer:
    description: The cluster that uses the token (names the token and the record), for example the development cluster whose pipeline scans images.
    type: str
    required: true
  purpose:
    description: What the token is for, for example C(ci) or C(automation).
    type: str
    required: true
  roles:
    description: ACS roles of the token. Required with I(state=present).
    type: list
    elements: str
  token_name:
    description: Name of the token at Central. Default C(devsecops-multicluster-<consumer>-<purpose>).
    type: str
  lifetime_days:
    description: Lifetime of a new token in days.
    type: int
    default: 365
  renew_before_days:
    description: Replace the token when it expires within this many days.
    type: int
    default: 30
  record_namespace:
    description: Namespace of the record on the hub.
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record (keys C(token) and C(endpoint)). Default C(<consumer>-acs-<purpose>).
    type: str
  rotate:
    description: Generate a new token even if the recorded one is valid, then revoke the old one.
    type: bool
    default: false
  state:
    description: C(present) ensures a valid recorded token; C(absent) revokes it at Central and deletes the record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.acs_registration
"""

EXAMPLES = r"""
- name: The development pipeline's token, scoped to the Continuous Integration role
  devsecops.multicluster.acs_api_token:
    central:
      endpoint: central-stackrox.apps.hub.example.com
      ca: "{{ central_info.ca }}"
      token_secret:
        namespace: devsecops-multicluster
        name: hub-acs-automation
    consumer: dev-east
    purpose: ci
    roles: [Continuous Integration]

- name: The collection's own automation token, bootstrapped from the operator's admin password
  devsecops.multicluster.acs_api_token:
    central:
      endpoint: central-stackrox.apps.hub.example.com
      ca: "{{ central_info.ca }}"
      password_secret:
        namespace: stackrox
        name: central-htpasswd
    consumer: hub
    purpose: automation
    roles: [Admin]
"""

RETURN = r"""
token:
  description: The recorded token, without its value.
  returned: always
  type: dict
  contains:
    record:
      description: Namespace/name of the record on the hub.
      type: str
      sample: devsecops-multicluster/dev-east-acs-ci
    name:
      description: Name of the token at Central.
      type: str
    id:
      description: Central's id of the token.
      type: str
    roles:
      description: Roles of the token.
      type: list
      elements: str
    expires:
      description: Expiry (RFC 3339).
      type: str
    fingerprint:
      description: First 12 hex digits of the token's SHA-256.
      type: str
    reused:
      description: Whether the recorded token was kept.
      type: bool
    reason:
      description: Why a new token was generated.
      type: str
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.acs import ApiToken
from ansible_collections.devsecops.multicluster.plugins.module_utils.acs_module import acs_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.central import central_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec


def argument_spec():
    return cluster_argument_spec(
        central=central_option(),
        consumer=dict(type="str", required=True),
        purpose=dict(type="str", required=True),
        roles=dict(type="list", elements="str"),
        token_name=dict(type="str"),
        lifetime_days=dict(type="int", default=365),
        renew_before_days=dict(type="int", default=30),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    acs_main(argument_spec(), manager_work(ApiToken, "token"))


if __name__ == "__main__":
    main()
