#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: harbor_project
short_description: A Harbor project with scan on push, vulnerability gating and its scanner
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures a Harbor project exists with the metadata given - C(public), C(auto_scan) (scan on push),
    C(prevent_vul) and C(severity) - and optionally its own scanner registration; metadata not given are left as
    they are. Harbor keeps project metadata as the strings C("true") and C("false"); the module takes booleans.
  - With I(scanner) the project uses that registration instead of the system default one
    (C(PUT /api/v2.0/projects/{name}/scanner)).
  - C(state=absent) deletes the project if it is empty; a project that still holds repositories fails clearly
    and is kept (Harbor refuses to delete it too).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.harbor
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: kubernetes
options:
  name:
    description: The project (lower-case letters and digits, optionally separated by one C(.), C(_) or C(-)).
    type: str
    required: true
  public:
    description: Whether anyone may pull from the project without logging in.
    type: bool
    default: false
  auto_scan:
    description: Scan every artifact pushed to the project (scan on push). Not given, Harbor's value is kept
      (on creation Harbor's default, off).
    type: bool
  prevent_vulnerable:
    description: Refuse pulls of artifacts with vulnerabilities of I(severity) or worse (metadata C(prevent_vul)).
    type: bool
  severity:
    description: The severity from which I(prevent_vulnerable) refuses pulls.
    type: str
    choices: [none, low, medium, high, critical]
  scanner:
    description:
      - The name of the scanner registration the project uses (see M(devsecops.multicluster.harbor_scanner)).
        Not given, the project keeps what it has (by default the system default scanner).
    type: str
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.harbor_scanner
  - module: devsecops.multicluster.harbor_info
"""

EXAMPLES = r"""
- name: A private project that scans on push and blocks pulls of critical findings
  devsecops.multicluster.harbor_project:
    harbor:
      endpoint: harbor.apps.example.com
      ca: "{{ harbor_facts.ca }}"
      password_secret: {namespace: harbor, name: harbor-admin}
    name: team-a
    auto_scan: true
    prevent_vulnerable: true
    severity: critical

- name: A cache project that is not scanned
  devsecops.multicluster.harbor_project:
    name: kaniko-cache
    auto_scan: false
"""

RETURN = r"""
project:
  description: The project.
  returned: always
  type: dict
  contains:
    name:
      description: The project.
      type: str
    project_id:
      description: Harbor's id of the project (empty in check mode for one that would be created).
      type: int
    public:
      description: Whether it is public.
      type: bool
    auto_scan:
      description: Whether artifacts are scanned on push.
      type: bool
    prevent_vulnerable:
      description: Whether pulls of vulnerable artifacts are refused.
      type: bool
    severity:
      description: The severity from which pulls are refused, when set.
      type: str
    scanner:
      description: The name of the project's scanner registration, when I(scanner) was given.
      type: str
    repo_count:
      description: How many repositories the project holds.
      type: int
    metadata:
      description: The project's metadata as Harbor keeps them (strings).
      type: dict
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, harbor_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import Project
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main


def argument_spec():
    return cluster_argument_spec(
        harbor=harbor_option(),
        name=dict(type="str", required=True),
        public=dict(type="bool", default=False),
        auto_scan=dict(type="bool"),
        prevent_vulnerable=dict(type="bool"),
        severity=dict(type="str", choices=["none", "low", "medium", "high", "critical"]),
        scanner=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "harbor", Harbor, manager_work(Project, "project", diff=True))


if __name__ == "__main__":
    main()
