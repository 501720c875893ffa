#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_bootstrap
short_description: Quay's first superuser, created once through the API and recorded on the hub
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - On a new Quay (empty database, C(FEATURE_USER_INITIALIZE) true, database authentication) creates the first
    user through C(POST /api/v1/user/initialize) with a generated password, and records the password and the
    OAuth token Quay returns in a labelled Secret on the cluster the module connects to (the hub). The
    password is recorded before Quay is called, so nothing is lost if the run stops half-way; a re-run
    finishes an initialization that did not complete.
  - The token Quay returns there lives 150 minutes, so it only bootstraps - with it the module mints a
    long-lived token of the collection's own OAuth application (I(application) in the organization
    I(organization), both created if missing) through Quay's application token API (Quay 3.18 and later),
    with the first user's scopes, recorded as I(token_record_name) and renewed before it expires. The other
    Quay modules authenticate with that record.
  - A later run finds the records, checks that Quay still lists and accepts the token, and changes nothing -
    it does not fail because the user exists, unlike a bare call to the endpoint.
  - Where Quay cannot be initialized (users exist, initialization disabled) a superuser's token given as
    I(quay.token) or I(quay.token_secret) is verified and recorded instead; without one the module fails
    and says why, writing nothing at Quay.
  - The user must be listed in C(SUPER_USERS) of Quay's config bundle to administer organizations of others.
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
  username:
    description: The first user's name.
    type: str
    default: quayadmin
  email:
    description: The first user's e-mail address.
    type: str
    default: quayadmin@example.com
  record_namespace:
    description: Namespace of the record on the hub.
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the first user's record (keys C(username), C(password), C(token) - the 150-minute token).
    type: str
    default: quay-admin
  organization:
    description: The organization that holds the collection's OAuth application.
    type: str
    default: devsecops
  organization_email:
    description: Its e-mail address, when it is created (Quay wants one unused by other users and organizations).
    type: str
  application:
    description: The collection's OAuth application, the automation token belongs to.
    type: str
    default: devsecops-multicluster
  token_record_name:
    description: Name of the automation token's record (keys C(token), C(hostname), C(endpoint)).
    type: str
    default: quay-automation
  lifetime_days:
    description: Lifetime of a new automation token in days.
    type: int
    default: 365
  renew_before_days:
    description: Replace the automation token when it expires within this many days.
    type: int
    default: 30
  state:
    description: C(present) ensures the first user and a recorded, working automation token; C(absent) deletes both records (the user stays in Quay).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.quay_registry_info
  - module: devsecops.multicluster.quay_organization
"""

EXAMPLES = r"""
- name: Create Quay's first superuser once and keep its token on the hub
  devsecops.multicluster.quay_bootstrap:
    quay:
      endpoint: "{{ quay_registry.endpoint }}"
      ca: "{{ quay_registry.ca }}"
    username: quayadmin
  no_log: true
"""

RETURN = r"""
admin:
  description: The first user and where its credentials are recorded. Never the password or the token.
  returned: always
  type: dict
  contains:
    username:
      description: The user.
      type: str
    record:
      description: C(namespace/name) of the record on the hub.
      type: str
    mechanism:
      description: C(initialize) (created by this collection) or C(given) (a token given by the user).
      type: str
    reused:
      description: Whether a recorded token was reused (no initialization, nothing adopted).
      type: bool
    automation:
      description: The automation token's record, name, id, scopes, expiry and fingerprint (never the token).
      type: dict
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay, quay_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import Bootstrap


def argument_spec():
    return cluster_argument_spec(
        quay=quay_option(),
        username=dict(type="str", default="quayadmin"),
        email=dict(type="str", default="quayadmin@example.com"),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str", default="quay-admin"),
        organization=dict(type="str", default="devsecops"),
        organization_email=dict(type="str"),
        application=dict(type="str", default="devsecops-multicluster"),
        token_record_name=dict(type="str", default="quay-automation", no_log=False),
        lifetime_days=dict(type="int", default=365),
        renew_before_days=dict(type="int", default=30),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "quay", Quay, manager_work(Bootstrap, "admin"), authenticate=False)


if __name__ == "__main__":
    main()
