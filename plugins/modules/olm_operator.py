#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: olm_operator
short_description: Install or remove an operator through Operator Lifecycle Manager
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures an operator is installed through OLM on one cluster. Creates the namespace if
    needed, makes sure the namespace has exactly one OperatorGroup that fits I(install_mode)
    (creating one when there is none, never a second), creates or updates the Subscription,
    approves exactly the expected InstallPlan when I(install_plan_approval=Manual), and waits,
    bounded by I(wait_timeout), until the ClusterServiceVersion is C(Succeeded) and the CRDs it
    owns are C(Established).
  - On failure the message carries what OLM reported - Subscription conditions (for example a
    package or channel missing from the catalog), InstallPlan phase, and CSV phase, reason and message.
  - With I(state=absent), deletes the Subscription and the operator's ClusterServiceVersions, and
    the OperatorGroup if this collection created it and no other Subscription in the namespace
    uses it. The namespace is left in place.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
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
    description:
      - The OLM package name, for example C(rhacs-operator).
    type: str
    required: true
  subscription_name:
    description:
      - Name of the Subscription. Defaults to I(name), which is what OpenShift's console does.
    type: str
  namespace:
    description:
      - Namespace of the Subscription and OperatorGroup.
      - Defaults to I(global_operators_namespace) when I(install_mode=AllNamespaces); required otherwise.
    type: str
  global_operators_namespace:
    description:
      - The namespace whose OperatorGroup targets all namespaces on this cluster.
    type: str
    default: openshift-operators
  install_mode:
    description:
      - How the operator watches namespaces; decides the OperatorGroup's C(targetNamespaces).
      - C(AllNamespaces) targets every namespace, C(OwnNamespace) only I(namespace),
        C(SingleNamespace) and C(MultiNamespace) the namespaces in I(target_namespaces).
    type: str
    choices: [AllNamespaces, OwnNamespace, SingleNamespace, MultiNamespace]
    default: AllNamespaces
  target_namespaces:
    description:
      - Namespaces the operator watches with C(SingleNamespace) (one) or C(MultiNamespace) (several).
    type: list
    elements: str
  operator_group_name:
    description:
      - Name of the OperatorGroup to create when the namespace has none. Defaults to the namespace name.
      - An existing OperatorGroup is reused whatever its name.
    type: str
  channel:
    description:
      - Update channel. When omitted OLM uses the package's default channel; pin it for repeatable installs.
    type: str
  source:
    description:
      - Name of the CatalogSource that provides the package.
    type: str
    default: redhat-operators
  source_namespace:
    description:
      - Namespace of the CatalogSource.
    type: str
    default: openshift-marketplace
  starting_csv:
    description:
      - Exact CSV to install, for example C(rhacs-operator.v4.9.1).
      - With I(install_plan_approval=Manual), only the InstallPlan that installs this CSV is approved.
    type: str
  install_plan_approval:
    description:
      - C(Automatic) lets OLM install and upgrade on its own.
      - C(Manual) makes the module approve exactly the InstallPlan for I(starting_csv) (or, on the
        first install, the CSV the Subscription resolved to); later upgrades wait for a person or a
        new I(starting_csv).
    type: str
    choices: [Automatic, Manual]
    default: Automatic
  config:
    description:
      - The Subscription's C(spec.config) (for example C(env), C(resources), C(nodeSelector), C(tolerations)).
    type: dict
  namespace_labels:
    description:
      - Labels the namespace must carry (for example C(openshift.io/cluster-monitoring=true)).
    type: dict
  state:
    description:
      - C(present) installs, C(absent) removes.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the CSV is C(Succeeded) and its owned CRDs are C(Established).
      - Without waiting the module still looks once and reports C(operator.ready), and fails at once
        on what waiting cannot fix (a package missing from the catalog, an OperatorGroup OLM rejects).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with what OLM last reported.
    type: int
    default: 600
  wait_sleep:
    description:
      - Longest pause between two looks, in seconds. Polling starts at half a second and backs off to this.
    type: int
    default: 5
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.resource_ready
  - name: OLM concepts
    description: Subscriptions, InstallPlans, OperatorGroups and CSVs.
    link: https://olm.operatorframework.io/docs/concepts/crds/
"""

EXAMPLES = r"""
- name: Install the ACS operator for all namespaces
  devsecops.multicluster.olm_operator:
    name: rhacs-operator
    channel: stable

- name: Install ACM into its own namespace, approving exactly one pinned version
  devsecops.multicluster.olm_operator:
    name: advanced-cluster-management
    namespace: open-cluster-management
    install_mode: OwnNamespace
    channel: release-2.15
    starting_csv: advanced-cluster-management.v2.15.0
    install_plan_approval: Manual

- name: Remove the operator again
  devsecops.multicluster.olm_operator:
    name: rhacs-operator
    state: absent
"""

RETURN = r"""
operator:
  description: What was installed or removed.
  returned: always
  type: dict
  contains:
    subscription:
      description: Subscription name.
      type: str
      sample: rhacs-operator
    namespace:
      description: Namespace of the Subscription.
      type: str
      sample: openshift-operators
    package:
      description: OLM package name.
      type: str
      sample: rhacs-operator
    operator_group:
      description: OperatorGroup used (present only).
      type: str
      sample: global-operators
    installed_csv:
      description: The installed ClusterServiceVersion (present, after waiting).
      type: str
      sample: rhacs-operator.v4.9.1
    csv_phase:
      description: Phase of the installed CSV.
      type: str
      sample: Succeeded
    approved_install_plan:
      description: The InstallPlan this run approved, if any.
      type: str
      sample: install-8kz2p
    ready:
      description:
        - Whether the CSV is C(Succeeded) and its owned CRDs C(Established). Always true after a
          successful wait; with I(wait=false) it is the result of one look.
      type: bool
      sample: true
    owned_crds:
      description: CRDs the CSV owns, all Established.
      type: list
      elements: str
    removed:
      description: With I(state=absent), the Subscription, CSVs and OperatorGroup deleted.
      type: dict
actions:
  description: The changes made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: str
  sample: ["create Subscription openshift-operators/rhacs-operator"]
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.olm import (
    INSTALL_MODES,
    OperatorInstaller,
    OperatorSpec,
)


def argument_spec():
    return cluster_argument_spec(
        name=dict(type="str", required=True),
        subscription_name=dict(type="str"),
        namespace=dict(type="str"),
        global_operators_namespace=dict(type="str", default="openshift-operators"),
        install_mode=dict(type="str", choices=list(INSTALL_MODES), default="AllNamespaces"),
        target_namespaces=dict(type="list", elements="str"),
        operator_group_name=dict(type="str"),
        channel=dict(type="str"),
        source=dict(type="str", default="redhat-operators"),
        source_namespace=dict(type="str", default="openshift-marketplace"),
        starting_csv=dict(type="str"),
        install_plan_approval=dict(type="str", choices=["Automatic", "Manual"], default="Automatic"),
        config=dict(type="dict"),
        namespace_labels=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_sleep=dict(type="int", default=5),
    )


def main():
    module = cluster_module(argument_spec())
    params = module.params
    cluster = Cluster(module)
    try:
        spec = OperatorSpec(params)
    except ValueError as err:
        module.fail_json(msg="cluster %s: operator %s: %s" % (cluster.name, params["name"], err))
    installer = OperatorInstaller(cluster, spec, check_mode=module.check_mode)
    try:
        if params["state"] == "present":
            operator = installer.present(wait=params["wait"], timeout=params["wait_timeout"],
                                         max_interval=params["wait_sleep"])
        else:
            operator = installer.absent()
    except ClusterError as err:
        module.fail_json(msg=err.message, actions=installer.actions, olm_status=err.details)
    result = dict(changed=installer.changed, operator=operator, actions=installer.actions)
    if module._diff:
        result["diff"] = dict(before=installer.before, after=installer.after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
