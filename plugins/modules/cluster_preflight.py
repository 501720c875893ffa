#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_preflight
short_description: Check, without changing anything, that a cluster can take what the collection will install
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Runs read-only checks against one cluster and returns every finding as a problem
    (C(check), C(object), C(cause), C(hint)) together with facts about the cluster. A finding never fails
    the module; only bad input does (with a message naming the cluster).
  - C(reachable) - the API server answers C(GET /version) (connection refused, time-outs, DNS and TLS
    verification failures are findings).
  - C(authenticated) - API discovery accepts the credentials (HTTP 401 or 403 are findings).
  - C(rights) - a C(SelfSubjectAccessReview) (C(authorization.k8s.io/v1)) for each entry of I(access) says
    the identity is allowed.
  - C(versions) - the Kubernetes C(gitVersion) is within I(kubernetes_version), and the OpenShift version
    (ClusterVersion C(version) - the newest C(Completed) entry of C(status.history), else
    C(status.desired.version)) within I(openshift_version).
  - C(olm) - the CRDs of OLM (subscriptions, clusterserviceversions, catalogsources) are present and
    Established, and every CatalogSource named in I(packages) exists and, where it reports
    C(status.connectionState.lastObservedState), is C(READY).
  - C(packages) - each package of I(packages) is in its catalog with the requested channel (and
    I(starting_csv) in that channel), as OLM's package server (C(packages.operators.coreos.com/v1)
    PackageManifest) reports it.
  - C(storage_classes) - each StorageClass of I(storage_classes) exists; an empty name asks for a default
    StorageClass (annotation C(storageclass.kubernetes.io/is-default-class=true)).
  - C(endpoints) - each URL of I(endpoints) answers an HTTPS GET from the controller, TLS verified (any
    HTTP status counts as an answer); so does each product of I(services) that runs on the cluster, at the
    endpoint and with the CA found there (C(/v1/ping) of ACS Central, C(/health/instance) of Quay).
  - The only requests that are not reads are C(SelfSubjectReview) and C(SelfSubjectAccessReview) creations,
    which the API server evaluates and never stores.
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
  access:
    description:
      - What the identity must be allowed to do, one C(SelfSubjectAccessReview) each.
      - Default, cluster-wide - create namespaces, clusterroles, clusterrolebindings, subscriptions and
        operatorgroups (C(operators.coreos.com)), secrets; get customresourcedefinitions.
      - An empty list checks no rights.
    type: list
    elements: dict
    suboptions:
      verb:
        description: The verb, for example C(create).
        type: str
        required: true
      group:
        description: The API group, C('') for the core API.
        type: str
        default: ''
      resource:
        description: The resource (plural), for example C(namespaces).
        type: str
        required: true
      subresource:
        description: A subresource, for example C(token).
        type: str
      namespace:
        description: The namespace; omitted means all namespaces.
        type: str
      name:
        description: One object's name.
        type: str
  kubernetes_version:
    description:
      - Supported Kubernetes versions, each bound compared at its own precision (C(max=1.34) admits 1.34.x).
      - Empty or omitted - not checked.
    type: dict
    suboptions:
      min:
        description: Lowest supported version, for example C(1.29).
        type: str
      max:
        description: Highest supported version, for example C(1.34).
        type: str
  openshift_version:
    description:
      - Supported OpenShift versions. When given, a cluster that is not OpenShift (no ClusterVersion API) is
        a finding too.
      - Empty or omitted - not checked (the version is still reported in C(facts) when there is one).
    type: dict
    suboptions:
      min:
        description: Lowest supported version, for example C(4.16).
        type: str
      max:
        description: Highest supported version, for example C(4.20).
        type: str
  packages:
    description: OLM packages a converge will subscribe to.
    type: list
    elements: dict
    suboptions:
      name:
        description: The package name.
        type: str
        required: true
      channel:
        description: The channel; omitted means the package's default channel.
        type: str
      source:
        description: The CatalogSource.
        type: str
        default: redhat-operators
      source_namespace:
        description: Namespace of the CatalogSource.
        type: str
        default: openshift-marketplace
      starting_csv:
        description: A CSV that must be in the channel.
        type: str
      needed_by:
        description: Who needs it (a component name), for messages.
        type: str
  storage_classes:
    description:
      - StorageClasses that must exist; C('') means a default StorageClass must exist.
      - Each entry is a name or a dict with C(name) and C(needed_by) (a component name or a list of them,
        for messages).
    type: list
    elements: raw
  endpoints:
    description: HTTPS endpoints the controller must reach.
    type: list
    elements: dict
    suboptions:
      name:
        description: What it is, for messages (for example C(ACS Central)).
        type: str
        required: true
      url:
        description: The https URL to GET.
        type: str
        required: true
      ca:
        description: The CA to verify it with, PEM text or the path of a PEM file; omitted means the system trust store.
        type: str
      needed_by:
        description: Who needs it (for example the clusters that use it), for messages.
        type: str
  services:
    description:
      - Products on this cluster whose endpoint must answer once they run, found the way
        M(devsecops.multicluster.acs_central_info) (Central Deployed, its Route or I(endpoint), the CA of
        Secret C(central-tls)) and M(devsecops.multicluster.quay_registry_info) (QuayRegistry Available, its
        C(registryEndpoint) or I(endpoint), the cluster's ingress CA or I(ca)) find them.
      - One not installed or not running yet has nothing to reach and is not checked (C(facts.services) says so).
    type: list
    elements: dict
    suboptions:
      kind:
        description: Which product.
        type: str
        required: true
        choices: [acs_central, quay]
      namespace:
        description: Its namespace (default C(stackrox) for Central, C(quay-enterprise) for Quay).
        type: str
      name:
        description: The QuayRegistry's name (default C(registry)).
        type: str
      endpoint:
        description: Where it answers, instead of what the cluster says (C(host:port) or an https URL).
        type: str
      port:
        description: The port of Central's Route host.
        type: int
        default: 443
      ca:
        description: The CA to verify it with instead of the one found on the cluster (PEM).
        type: str
      needed_by:
        description: Who needs it (for example the clusters that use it), for messages.
        type: str
  skip:
    description:
      - Checks not to run - any of C(rights), C(versions), C(olm), C(packages), C(storage_classes), C(endpoints).
      - C(reachable) and C(authenticated) cannot be skipped - every API check depends on them.
    type: list
    elements: str
    default: []
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.olm_operator
  - name: Preflight (docs/operations.md)
    description: What playbooks/preflight.yml checks and where the requirements come from.
    link: https://github.com/devsecops-multicluster/devsecops.multicluster/blob/main/docs/operations.md
"""

EXAMPLES = r"""
- name: Check a cluster before converging it
  devsecops.multicluster.cluster_preflight:
    cluster_name: dev-east
    kubernetes_version: {min: "1.29", max: "1.34"}
    openshift_version: {min: "4.16", max: "4.20"}
    packages:
      - name: openshift-gitops-operator
        channel: gitops-1.19
        needed_by: gitops
    storage_classes:
      - ""
      - name: gp3-csi
        needed_by: odf
    endpoints:
      - name: Git server
        url: https://git.example.com/
        ca: /etc/pki/corporate-ca.pem
    services:
      - kind: acs_central
        needed_by: dev-east, prod-east
  register: preflight

- name: Say what is wrong
  ansible.builtin.debug:
    msg: "{{ preflight.problems | map(attribute='cause') | list }}"
"""

RETURN = r"""
problems:
  description: Every finding, in check order; empty when the cluster is ready.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check that found it (reachable, authenticated, rights, versions, olm, packages, storage_classes, endpoints).
      type: str
      sample: packages
    object:
      description: What it is about.
      type: str
      sample: package openshift-gitops-operator in openshift-marketplace/redhat-operators
    cause:
      description: What is wrong.
      type: str
      sample: channel gitops-9.9 does not exist (needed by gitops); the package has latest, gitops-1.18, gitops-1.19 (default latest)
    hint:
      description: What usually fixes it.
      type: str
facts:
  description: What the checks learnt about the cluster.
  returned: always
  type: dict
  contains:
    cluster:
      description: The cluster's name in messages.
      type: str
    server:
      description: The API server URL.
      type: str
    kubernetes_version:
      description: The API server's C(gitVersion).
      type: str
      sample: v1.33.5
    openshift:
      description: Whether the cluster serves OpenShift's ClusterVersion.
      type: bool
    openshift_version:
      description: The newest completed OpenShift version (else the desired one).
      type: str
      sample: 4.20.4
    openshift_desired_version:
      description: ClusterVersion's C(status.desired.version).
      type: str
    user:
      description: Who the credentials authenticate as (from a SelfSubjectReview, where served).
      type: str
    access_allowed:
      description: The I(access) entries the identity is allowed.
      type: list
      elements: str
    catalog_sources:
      description: C(namespace/name) of each CatalogSource looked at -> its C(lastObservedState) (null when missing).
      type: dict
    packages:
      description: Each package found - name, source, channel, default_channel, channels.
      type: list
      elements: dict
    storage_classes:
      description: The cluster's StorageClasses.
      type: list
      elements: str
    default_storage_class:
      description: The default StorageClass, if any.
      type: str
    services:
      description: Each product of I(services) -> the URL checked, C(not installed) or C(not running) with why.
      type: dict
    endpoints_answered:
      description: The endpoints that answered.
      type: list
      elements: str
    checks_run:
      description: The checks that ran.
      type: list
      elements: str
    checks_skipped:
      description: The checks skipped on request.
      type: list
      elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.preflight import Preflight, PreflightInputError


def argument_spec():
    version = dict(type="dict", options=dict(min=dict(type="str"), max=dict(type="str")))
    return cluster_argument_spec(
        access=dict(type="list", elements="dict", options=dict(
            verb=dict(type="str", required=True),
            group=dict(type="str", default=""),
            resource=dict(type="str", required=True),
            subresource=dict(type="str"),
            namespace=dict(type="str"),
            name=dict(type="str"),
        )),
        kubernetes_version=version,
        openshift_version=dict(version),
        packages=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            channel=dict(type="str"),
            source=dict(type="str", default="redhat-operators"),
            source_namespace=dict(type="str", default="openshift-marketplace"),
            starting_csv=dict(type="str"),
            needed_by=dict(type="str"),
        )),
        storage_classes=dict(type="list", elements="raw"),
        services=dict(type="list", elements="dict", options=dict(
            kind=dict(type="str", required=True, choices=["acs_central", "quay"]),
            namespace=dict(type="str"),
            name=dict(type="str"),
            endpoint=dict(type="str"),
            port=dict(type="int", default=443),
            ca=dict(type="str"),
            needed_by=dict(type="str"),
        )),
        endpoints=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            url=dict(type="str", required=True),
            ca=dict(type="str"),
            needed_by=dict(type="str"),
        )),
        skip=dict(type="list", elements="str", default=[]),
    )


def main():
    module = cluster_module(argument_spec())
    cluster = Cluster(module)
    try:
        preflight = Preflight(cluster, module.params)
        problems, facts = preflight.run()
    except (PreflightInputError, ClusterError) as err:
        message = str(err) if isinstance(err, PreflightInputError) else err.message
        if not message.startswith("cluster "):
            message = "cluster %s: preflight: %s" % (cluster.name, message)
        module.fail_json(msg=message)
    module.exit_json(changed=False, problems=problems, facts=facts)


if __name__ == "__main__":
    main()
