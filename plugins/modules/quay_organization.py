#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_organization
short_description: A Quay organization with its repositories and OAuth applications
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures an organization exists in Quay, with the repositories (and their visibility) and the OAuth
    applications listed; repositories and applications not listed are left alone. Idempotent - a re-run
    with nothing to do calls only Quay's read endpoints.
  - C(state=absent) deletes the organization with everything in it (repositories, robots, applications and
    their tokens), as Quay does.
  - A name Quay rejects fails with Quay's own reason before anything else is created.
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
  name:
    description: The organization.
    type: str
    required: true
  email:
    description: The organization's e-mail address (Quay may require one unique per namespace).
    type: str
  repositories:
    description: Repositories the organization must hold.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The repository.
        type: str
        required: true
      visibility:
        description: Its visibility.
        type: str
        choices: [private, public]
        default: private
      description:
        description: Its description (set on creation).
        type: str
  applications:
    description: OAuth applications the organization must hold (their client ids are returned).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The application.
        type: str
        required: true
      description:
        description: Its description (set on creation).
        type: str
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.quay_robot
  - module: devsecops.multicluster.quay_token
"""

EXAMPLES = r"""
- name: The organization the pipeline pushes to
  devsecops.multicluster.quay_organization:
    name: devel
    email: devel@example.com
    repositories:
      - name: example
        visibility: private
    applications:
      - name: quay-bridge
"""

RETURN = r"""
organization:
  description: The organization, its managed repositories and its applications' client ids.
  returned: always
  type: dict
  contains:
    name:
      description: The organization.
      type: str
    repositories:
      description: The repositories managed here.
      type: list
      elements: str
    applications:
      description: Application name -> client id.
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
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import Organization


def argument_spec():
    return cluster_argument_spec(
        quay=quay_option(),
        name=dict(type="str", required=True),
        email=dict(type="str"),
        repositories=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            visibility=dict(type="str", choices=["private", "public"], default="private"),
            description=dict(type="str"))),
        applications=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str"))),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "quay", Quay, manager_work(Organization, "organization"))


if __name__ == "__main__":
    main()
