#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acs_cluster_info
short_description: Secured clusters' health as ACS Central reports it, optionally waiting until healthy
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads Central's cluster list (C(/v1/clusters)) and returns each cluster's health (overall, sensor,
    collector, admission control), last contact and the registration material it used.
  - With I(wait=true) and I(secured_cluster), polls (with backoff, bounded by I(wait_timeout)) until Central
    reports that cluster C(HEALTHY); on timeout it fails with what Central last said about it.
  - Reads only; never changes anything.
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
  secured_cluster:
    description: Only this cluster (its name at Central). Required with I(wait).
    type: str
  wait:
    description: Wait until Central reports I(secured_cluster) healthy.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 600
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait until Central reports dev-east healthy
  devsecops.multicluster.acs_cluster_info:
    central: "{{ central_connection }}"
    secured_cluster: dev-east
    wait: true
    wait_timeout: 900
"""

RETURN = r"""
clusters:
  description: Every secured cluster Central knows (only I(secured_cluster) when given).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Central's cluster id.
      type: str
    name:
      description: Cluster name.
      type: str
    overall:
      description: HEALTHY, DEGRADED, UNHEALTHY or UNINITIALIZED.
      type: str
    sensor:
      description: Sensor health.
      type: str
    collector:
      description: Collector health.
      type: str
    admission_control:
      description: Admission controller health.
      type: str
    last_contact:
      description: Last time the sensor contacted Central.
      type: str
    registered_with:
      description: Id of the init bundle or CRS the cluster registered with.
      type: str
    sensor_version:
      description: Version of the cluster's sensor.
      type: str
cluster:
  description: The entry of I(secured_cluster), or null when Central does not know it.
  returned: when secured_cluster is given
  type: dict
waited:
  description: Seconds spent waiting.
  returned: when wait is true
  type: float
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.acs import AcsError
from ansible_collections.devsecops.multicluster.plugins.module_utils.acs_module import acs_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.central import central_option, health
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll


def argument_spec():
    return cluster_argument_spec(
        central=central_option(),
        secured_cluster=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
    )


def work(module, hub, central):
    params = module.params
    name = params.get("secured_cluster")
    if params["wait"] and not name:
        raise AcsError("cluster %s: wait needs secured_cluster (which cluster to wait for)" % hub.name)

    def states():
        return [health(c) for c in central.clusters() if not name or c.get("name") == name]

    result = {}
    if params["wait"]:
        def probe():
            found = states()
            return bool(found) and found[0]["overall"] == "HEALTHY", found

        try:
            found, elapsed = poll(probe, params["wait_timeout"], 10)
        except WaitTimeout as err:
            last = (err.last or [None])[0]
            said = "Central does not list it (its sensor never registered)" if not last else (
                "Central reports %s (sensor %s, collector %s, admission control %s, last contact %s)"
                % (last["overall"], last["sensor"], last["collector"], last["admission_control"],
                   last["last_contact"] or "never"))
            raise AcsError("cluster %s: secured cluster %s did not report healthy to Central %s within %ds: %s"
                           % (hub.name, name, central.endpoint, params["wait_timeout"], said))
        result["waited"] = round(elapsed, 1)
    else:
        found = states()
    result["clusters"] = found
    if name:
        result["cluster"] = found[0] if found else None
    return None, result


def main():
    acs_main(argument_spec(), work)


if __name__ == "__main__":
    main()
