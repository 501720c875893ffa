#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_posture
short_description: One cluster's posture - components and their health, policy results, vulnerabilities, credential records
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads, and never changes, one cluster's posture for the cross-cluster report (C(playbooks/report.yml)).
  - C(components) - every OLM Subscription labelled C(app.kubernetes.io/managed-by=devsecops.multicluster) with
    the phase of its installed ClusterServiceVersion, and the product resources found on the cluster -
    MultiClusterHub (C(status.phase)), ArgoCD (C(status.phase)), StorageCluster (C(status.phase) and conditions),
    QuayRegistry (C(Available), C(RolloutBlocked)), Central and SecuredCluster (C(Deployed), C(ReleaseFailed),
    C(Irreconcilable)), TektonConfig (C(Ready)) and the collection's Argo CD Applications (sync and health).
    A kind the cluster does not serve is listed as not installed; it is not an error.
  - C(policies) - Kyverno's C(wgpolicyk8s.io/v1alpha2) PolicyReports and ClusterPolicyReports, their
    C(results) counted by policy into pass, fail, warn, error and skip.
  - C(vulnerabilities) - Trivy Operator's C(aquasecurity.github.io/v1alpha1) VulnerabilityReports, their
    C(report.summary) counts summed per severity, and the images with the most findings.
  - C(credentials) (on the hub) - the credential records (Secrets labelled
    C(app.kubernetes.io/managed-by=devsecops.multicluster) in I(record_namespace)) with the cluster, purpose and
    kind from their labels, their age and expiry from their annotations. Only the records' metadata is asked
    for (a metadata-only list), so their data never leaves the API server.
  - Reports are read page by page. A kind that cannot be read (for example HTTP 403) is reported in its section
    and everything else is still read; the module fails only when the cluster cannot be reached at all or
    refuses the credentials.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  sections:
    description: What to read.
    type: list
    elements: str
    choices: [components, policies, vulnerabilities, credentials]
    default: [components, policies, vulnerabilities]
  record_namespace:
    description: Namespace of the credential records (with C(credentials)).
    type: str
    default: devsecops-multicluster
  top_images:
    description: How many images with findings to list, most critical first.
    type: int
    default: 10
  credential_max_age_days:
    description: A record minted longer ago than this is flagged C(warning) (rotate it).
    type: int
    default: 90
  credential_expiry_warning_days:
    description: A record expiring within this many days is flagged C(warning); an expired one C(critical).
    type: int
    default: 30
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.acs_cluster_info
  - name: The posture report
    description: C(playbooks/report.yml) and the report's JSON schema, in docs/operations.md.
    link: https://github.com/devsecops-multicluster/devsecops.multicluster/blob/main/docs/operations.md
"""

EXAMPLES = r"""
- name: Read a production cluster's posture
  devsecops.multicluster.cluster_posture:
    cluster_name: "{{ inventory_hostname }}"
  register: posture

- name: Read the hub's posture and its credential records
  devsecops.multicluster.cluster_posture:
    cluster_name: hub
    sections: [components, policies, vulnerabilities, credentials]
    credential_max_age_days: 180

- name: Fail when a cluster has critical vulnerabilities
  ansible.builtin.assert:
    that: posture.posture.vulnerabilities.totals.critical == 0
"""

RETURN = r"""
posture:
  description: The cluster's posture. Every section has C(status) (collected, partial, failed, not installed) and
    C(state) (healthy, warning, critical, or null when there is nothing to judge).
  returned: always
  type: dict
  contains:
    cluster:
      description: The cluster's name (I(cluster_name), else the context or API URL).
      type: str
    collected_at:
      description: When it was read (UTC, RFC 3339).
      type: str
    state:
      description: The worst state of the sections.
      type: str
      sample: warning
    components:
      description:
        - C(items) - one per Subscription or product resource - component, kind, namespace, name, status (for
          example the CSV phase), state, message; SecuredClusters add cluster_name, Applications revision, Subscriptions csv.
        - C(not_installed) - the kinds the cluster does not serve; C(errors) - kinds that could not be read.
      returned: with components
      type: dict
    policies:
      description: C(reports), C(totals) (pass, fail, warn, error, skip), C(by_policy) (policy and its five counts,
        sorted by policy), C(not_installed), C(errors).
      returned: with policies
      type: dict
    vulnerabilities:
      description: C(reports), C(images) (distinct images), C(totals) (critical, high, medium, low, unknown, summed
        over all reports), C(top_images) (image, the five counts, workloads), C(not_installed), C(errors).
      returned: with vulnerabilities
      type: dict
    credentials:
      description: C(namespace), C(records) (name, namespace, cluster, purpose, kind, created, minted, age_days,
        expires, expires_in_days, state, reason - never any data), C(errors).
      returned: with credentials
      type: dict
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.posture import DEFAULT_SECTIONS, SECTIONS, collect


def argument_spec():
    return cluster_argument_spec(
        sections=dict(type="list", elements="str", choices=list(SECTIONS), default=list(DEFAULT_SECTIONS)),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        top_images=dict(type="int", default=10),
        credential_max_age_days=dict(type="int", default=90),
        credential_expiry_warning_days=dict(type="int", default=30),
    )


def main():
    module = cluster_module(argument_spec())
    params = module.params
    cluster = Cluster(module)
    try:
        posture = collect(cluster, sections=params["sections"], record_namespace=params["record_namespace"],
                          top_images=params["top_images"], max_age_days=params["credential_max_age_days"],
                          expiry_warning_days=params["credential_expiry_warning_days"])
    except ClusterError as err:
        module.fail_json(msg=err.message)
    module.exit_json(changed=False, posture=posture)


if __name__ == "__main__":
    main()
