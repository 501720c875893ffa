#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: harbor_scan_all
short_description: Harbor's scan-all schedule (rescan every artifact periodically)
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures Harbor's scan-all job runs on the schedule given (C(/api/v2.0/system/scanAll/schedule)), which rescans
    every artifact with its project's scanner - so images pushed before a vulnerability became known are flagged.
  - C(type=None) or C(state=absent) removes the schedule.
  - Harbor accepts a schedule only while it has a default scanner; otherwise the module fails with Harbor's
    reason.
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
  type:
    description:
      - C(Hourly), C(Daily) and C(Weekly) use the cron Harbor's portal uses for them (C(0 0 * * * *),
        C(0 0 0 * * *), C(0 0 0 * * 0)) unless I(cron) is given; C(Custom) needs I(cron); C(None) removes the
        schedule.
    type: str
    choices: [Hourly, Daily, Weekly, Custom, None]
    default: Daily
  cron:
    description: Harbor's cron, 6 fields with seconds first (which must be C(0)), for example C(0 0 2 * * *).
    type: str
  state:
    description: C(present) or C(absent) (the same as C(type=None)).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.harbor_scanner
"""

EXAMPLES = r"""
- name: Rescan everything every night at two
  devsecops.multicluster.harbor_scan_all:
    type: Custom
    cron: "0 0 2 * * *"
"""

RETURN = r"""
schedule:
  description: The scan-all schedule.
  returned: always
  type: dict
  contains:
    type:
      description: The schedule type (C(None) when there is no schedule).
      type: str
    cron:
      description: The cron.
      type: str
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, harbor_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import ScanAll
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main


def argument_spec():
    return cluster_argument_spec(
        harbor=harbor_option(),
        type=dict(type="str", choices=["Hourly", "Daily", "Weekly", "Custom", "None"], default="Daily"),
        cron=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "harbor", Harbor, manager_work(ScanAll, "schedule", diff=True))


if __name__ == "__main__":
    main()
