#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acs_registration
short_description: One ACS registration (CRS or init bundle) per secured cluster, minted once and kept
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Mints at ACS Central the material a secured cluster registers with - a cluster registration secret
    (CRS, C(/v1/cluster-init/crs)) where Central serves them, else an init bundle
    (C(/v1/cluster-init/init-bundles)) - named after the cluster, records it in a labelled Secret on the
    cluster the module connects to (the hub), and applies it as Secrets in the I(namespace) of the
    I(target) cluster.
  - Central hands the material out only once. A later run that finds the record on the hub, the material
    still valid at Central and the copy on the spoke changes nothing; a missing or stale copy on the spoke is
    rewritten from the record. If Central has material of that name but the record is lost, the module fails
    and says so instead of minting silently; I(rotate=true) then mints new material, applies it, waits for
    Central to report the cluster healthy and revokes the old.
  - Material that Central no longer knows (revoked behind the collection's back, expired) or that expires
    within I(renew_before_days) is replaced the same way.
  - Nothing secret is returned; only a fingerprint (a hash prefix) of the material.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.far_side
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
    description:
      - The secured cluster's name as Central knows it (the SecuredCluster's C(clusterName)). Names the
        material and the record.
    type: str
    required: true
  name:
    description:
      - Name of the material at Central. Default I(secured_cluster); rotations add a UTC timestamp suffix
        (C(<name>-YYYYMMDDhhmmss)) while the previous material still exists.
    type: str
  mechanism:
    description:
      - C(auto) prefers cluster registration secrets and falls back to init bundles when Central does not
        serve them; C(crs) and C(init_bundle) insist on one.
    type: str
    choices: [auto, crs, init_bundle]
    default: auto
  namespace:
    description: Namespace of the secured cluster services on the target, where the material's Secrets go.
    type: str
    default: stackrox
  valid_for_days:
    description: Validity of a new CRS in days.
    type: int
    default: 365
  max_registrations:
    description: How many clusters may register with a new CRS; C(0) means no limit.
    type: int
    default: 0
  renew_before_days:
    description: Replace material that expires within this many days.
    type: int
    default: 30
  wait_timeout:
    description: Seconds to wait, during a rotation, for Central to report the cluster healthy before revoking the old material.
    type: int
    default: 600
  record_namespace:
    description: Namespace of the record on the hub.
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record. Default C(<secured_cluster>-acs-registration).
    type: str
  rotate:
    description: Mint new material even if the recorded one is valid; apply it, wait until healthy, revoke the old.
    type: bool
    default: false
  remove_cluster:
    description: With I(state=absent), also delete the cluster from Central's cluster list.
    type: bool
    default: true
  state:
    description:
      - C(present) ensures valid, recorded material on the target.
      - C(absent) revokes this cluster's material at Central (confirming the impacted cluster, and refusing if
        other clusters use it), deletes the Secrets on the target (if I(target) is given) and the record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
  - PyYAML
seealso:
  - module: devsecops.multicluster.acs_cluster_info
  - module: devsecops.multicluster.acs_central_info
"""

EXAMPLES = r"""
- name: Register dev-east with Central on the hub
  devsecops.multicluster.acs_registration:
    central:
      endpoint: central-stackrox.apps.hub.example.com
      ca: "{{ central_info.ca }}"
      token_secret:
        namespace: devsecops-multicluster
        name: hub-acs-automation
    secured_cluster: dev-east
    target:
      kubeconfig: "{{ hostvars['dev-east'].cluster_kubeconfig }}"
      context: "{{ hostvars['dev-east'].cluster_context }}"
      cluster_name: dev-east

- name: Rotate it
  devsecops.multicluster.acs_registration:
    central: "{{ central_connection }}"
    secured_cluster: dev-east
    target: "{{ dev_east_connection }}"
    rotate: true
"""

RETURN = r"""
registration:
  description: The recorded material, without anything secret.
  returned: always
  type: dict
  contains:
    record:
      description: Namespace/name of the record on the hub.
      type: str
      sample: devsecops-multicluster/dev-east-acs-registration
    mechanism:
      description: C(crs) or C(init-bundle).
      type: str
    id:
      description: Central's id of the material.
      type: str
    name:
      description: Central's name of the material.
      type: str
      sample: dev-east
    fingerprint:
      description: First 12 hex digits of the material's SHA-256.
      type: str
    expires:
      description: When the material expires (RFC 3339).
      type: str
    reused:
      description: Whether the recorded material was kept.
      type: bool
    reason:
      description: Why new material was minted.
      type: str
      sample: no material is recorded
    revoked:
      description: With I(state=absent), how many pieces of material were revoked or already gone.
      type: int
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.acs import Registration, run
from ansible_collections.devsecops.multicluster.plugins.module_utils.acs_module import acs_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.central import central_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    cluster_argument_spec,
    far_side_option,
)


def argument_spec():
    return cluster_argument_spec(
        central=central_option(),
        secured_cluster=dict(type="str", required=True),
        target=far_side_option(required=False),
        name=dict(type="str"),
        mechanism=dict(type="str", choices=["auto", "crs", "init_bundle"], default="auto"),
        namespace=dict(type="str", default="stackrox"),
        valid_for_days=dict(type="int", default=365),
        max_registrations=dict(type="int", default=0),
        renew_before_days=dict(type="int", default=30),
        wait_timeout=dict(type="int", default=600),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        remove_cluster=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def work(module, hub, central):
    params = dict(module.params)
    target = Cluster(module, options=params["target"], role="target") if params.get("target") else None
    manager = Registration(central, hub, target, params, check_mode=module.check_mode)
    if params["state"] == "present":
        result = run(manager, lambda: manager.present(rotate=params["rotate"]))
    else:
        result = run(manager, lambda: manager.absent(remove_cluster=params["remove_cluster"]))
    return manager, {"registration": result}


def main():
    acs_main(argument_spec(), work)


if __name__ == "__main__":
    main()
