#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_robot
short_description: A Quay robot account with repository permissions, recorded on the hub as a pull secret
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures a robot account C(<organization>+<name>) exists in Quay with the repository permissions listed,
    and records its credentials on the cluster the module connects to (the hub) as a Secret of type
    C(kubernetes.io/dockerconfigjson) for the registry's hostname, ready to be copied to the namespaces that
    pull from or push to Quay (see M(devsecops.multicluster.secret_sync)).
  - A later run changes nothing while the robot, its permissions and the record agree. A robot token
    regenerated outside the collection is recorded again.
  - I(rotate=true) regenerates the robot's token (Quay invalidates the old one at once) and records the new one.
  - C(state=absent) deletes the robot at Quay and the record.
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
    description: The organization of the robot.
    type: str
    required: true
  name:
    description: The robot's short name (lower-case letter first, then lower-case letters, digits or C(_)).
    type: str
    required: true
  description:
    description: The robot's description (set on creation).
    type: str
  permissions:
    description: Repository permissions of the robot in its organization.
    type: list
    elements: dict
    default: []
    suboptions:
      repository:
        description: The repository.
        type: str
        required: true
      role:
        description: C(read) to pull, C(write) to push, C(admin).
        type: str
        choices: [read, write, admin]
        default: read
  consumer:
    description: The cluster the robot is for (labels the record). Default I(name).
    type: str
  record_namespace:
    description: Namespace of the record on the hub.
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record. Default C(quay-robot-<organization>-<name>) made DNS-safe.
    type: str
  rotate:
    description: Regenerate the robot's token and record the new one.
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
  - module: devsecops.multicluster.quay_organization
  - module: devsecops.multicluster.secret_sync
"""

EXAMPLES = r"""
- name: A pull robot for the production cluster
  devsecops.multicluster.quay_robot:
    organization: devel
    name: prod_1_pull
    permissions:
      - repository: example
        role: read
    consumer: prod-1
"""

RETURN = r"""
robot:
  description: The robot and where its credentials are recorded. Never the token.
  returned: always
  type: dict
  contains:
    name:
      description: The robot's full name C(<organization>+<name>).
      type: str
    record:
      description: C(namespace/name) of the record on the hub.
      type: str
    hostname:
      description: The registry host the docker config is for.
      type: str
    fingerprint:
      description: A short SHA-256 fingerprint of the robot's token.
      type: str
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay, quay_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import Robot


def argument_spec():
    return cluster_argument_spec(
        quay=quay_option(),
        organization=dict(type="str", required=True),
        name=dict(type="str", required=True),
        description=dict(type="str"),
        permissions=dict(type="list", elements="dict", default=[], options=dict(
            repository=dict(type="str", required=True),
            role=dict(type="str", choices=["read", "write", "admin"], default="read"))),
        consumer=dict(type="str"),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "quay", Quay, manager_work(Robot, "robot"))


if __name__ == "__main__":
    main()
