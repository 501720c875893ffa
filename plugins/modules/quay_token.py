#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_token
short_description: An OAuth token of a Quay application for one consumer, minted once, recorded on the hub, rotatable
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Mints an OAuth access token of an organization's application through Quay's application token API
    (C(/api/v1/organization/<org>/applications/<client_id>/tokens), Quay 3.18 and later) with the I(scopes)
    asked for - for example the ones the Quay Bridge operator needs - and records it in a labelled Secret on
    the cluster the module connects to (the hub), with its id, scopes, expiry and the registry's hostname.
    The application is created if it is missing.
  - A later run keeps the recorded token while Quay still lists it with the same scopes, outside the
    renewal window, and accepts it. Otherwise (or with I(rotate=true)) it mints a new token, records it,
    then revokes the old one and any other token of the same name whose value was never recorded.
  - The token is never returned. Consumers read the record (for example with M(devsecops.multicluster.secret_sync)).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.quay
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  organization:
    description: The organization that owns the application.
    type: str
    required: true
  application:
    description: The OAuth application the token belongs to (created if missing).
    type: str
    required: true
  application_description:
    description: Description of the application when it is created.
    type: str
    default: Managed by devsecops.multicluster
  consumer:
    description: The cluster that uses the token (names the token and the record).
    type: str
    required: true
  purpose:
    description: What the token is for, for example C(bridge).
    type: str
    required: true
  scopes:
    description:
      - Quay scopes of the token, for example C(org:admin repo:admin repo:create repo:read repo:write user:admin
        user:read) for the Quay Bridge. The token's owner must hold them. Required with I(state=present).
    type: list
    elements: str
  token_name:
    description: Name of the token at Quay. Default C(devsecops-multicluster-<consumer>-<purpose>).
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
    description: Name of the record (keys C(token), C(hostname), C(endpoint)). Default C(<consumer>-quay-<purpose>).
    type: str
  rotate:
    description: Mint a new token even if the recorded one is valid, then revoke the old one.
    type: bool
    default: false
  state:
    description: C(present) ensures a valid recorded token; C(absent) revokes it at Quay and deletes the record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.quay_bootstrap
  - module: devsecops.multicluster.secret_sync
"""

EXAMPLES = r"""
- name: The Quay Bridge token of the development cluster
  devsecops.multicluster.quay_token:
    organization: devsecops
    application: quay-bridge
    consumer: dev-1
    purpose: bridge
    scopes: [org:admin, repo:admin, repo:create, repo:read, repo:write, user:admin, user:read]
"""

RETURN = r"""
token:
  description: Where the token is recorded and what it is. Never the token itself.
  returned: always
  type: dict
  contains:
    record:
      description: C(namespace/name) of the record on the hub.
      type: str
    name:
      description: The token's name at Quay.
      type: str
    id:
      description: The token's uuid at Quay.
      type: str
    scopes:
      description: Its scopes.
      type: list
      elements: str
    expires:
      description: Its expiry.
      type: str
    fingerprint:
      description: A short SHA-256 fingerprint of the token, to tell tokens apart without revealing them.
      type: str
    reused:
      description: Whether the recorded token was kept.
      type: bool
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay, quay_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import AppToken


def argument_spec():
    return cluster_argument_spec(
        quay=quay_option(),
        organization=dict(type="str", required=True),
        application=dict(type="str", required=True),
        application_description=dict(type="str", default="Managed by devsecops.multicluster"),
        consumer=dict(type="str", required=True),
        purpose=dict(type="str", required=True),
        scopes=dict(type="list", elements="str"),
        token_name=dict(type="str", no_log=False),
        lifetime_days=dict(type="int", default=365),
        renew_before_days=dict(type="int", default=30),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "quay", Quay, manager_work(AppToken, "token"))


if __name__ == "__main__":
    main()
