#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_organization_info
short_description: Whether organizations exist in Quay, optionally waiting until they do
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Looks the organizations up in Quay. With I(wait=true) waits, bounded, until all exist - for example the
    C(<prefix>_<namespace>) organizations the Quay Bridge operator creates for the namespaces it manages,
    which proves the bridge reaches Quay with its token - and on timeout names the ones still missing.
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
  names:
    description: The organizations.
    type: list
    elements: str
    required: true
  wait:
    description: Wait until all of them exist.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 300
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait until the Quay Bridge has created the organizations of its namespaces
  devsecops.multicluster.quay_organization_info:
    names: [openshift_devsecops-ci]
    wait: true
"""

RETURN = r"""
organizations:
  description: Organization name -> whether it exists.
  returned: always
  type: dict
missing:
  description: The organizations that do not exist.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import product_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay, quay_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay_manage import QuayError
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll


def argument_spec():
    return cluster_argument_spec(
        quay=quay_option(),
        names=dict(type="list", elements="str", required=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )


def work(module, hub, quay):
    params = module.params

    def probe():
        found = dict((name, quay.organization(name) is not None) for name in params["names"])
        return all(found.values()), found

    if params["wait"]:
        try:
            found, _elapsed = poll(probe, params["wait_timeout"], 10)
        except WaitTimeout as err:
            missing = [name for name, there in (err.last or {}).items() if not there]
            raise QuayError("Quay %s: organizations %s do not exist after %ds" % (
                quay.endpoint, ", ".join(missing), params["wait_timeout"]))
    else:
        found = probe()[1]
    return None, {"organizations": found, "missing": sorted(name for name, there in found.items() if not there)}


def main():
    product_main(argument_spec(), "quay", Quay, work)


if __name__ == "__main__":
    main()
