#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: quay_registry_info
short_description: Where a QuayRegistry answers, the CA to verify it with, and whether it is available
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads a C(QuayRegistry) (C(quay.redhat.com/v1)) - its conditions, C(status.currentVersion) and
    C(status.registryEndpoint) - and the CA that Quay's route certificate is verified with, by default the
    cluster's ingress CA, which OpenShift publishes in ConfigMap C(openshift-config-managed/default-ingress-cert).
  - With I(wait=true) it waits until the registry is C(Available), has an endpoint, and Quay answers
    C(/health/instance) over TLS verified with that CA; on timeout it reports what the operator said
    (the conditions' messages, for example that the object storage claim is not bound).
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
  name:
    description: Name of the QuayRegistry.
    type: str
    default: registry
  namespace:
    description: Namespace of the QuayRegistry.
    type: str
    default: quay-enterprise
  endpoint:
    description: Quay's address, when it must differ from C(status.registryEndpoint) (for example through a proxy).
    type: str
  ca:
    description: PEM CA to verify Quay with instead of the one read from I(ca_configmap).
    type: str
  ca_configmap:
    description: The ConfigMap on the cluster that holds the CA of Quay's route certificate.
    type: dict
    default: {namespace: openshift-config-managed, name: default-ingress-cert, key: ca-bundle.crt}
    suboptions:
      namespace:
        description: Namespace of the ConfigMap.
        type: str
        required: true
      name:
        description: Name of the ConfigMap.
        type: str
        required: true
      key:
        description: Key of the PEM bundle.
        type: str
        default: ca-bundle.crt
  quay_validate_certs:
    description: Verify Quay's certificate when waiting. Turn off only for debugging.
    type: bool
    default: true
  wait:
    description: Wait until the registry is available and Quay answers.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 900
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.quay_bootstrap
"""

EXAMPLES = r"""
- name: Wait for Quay and read its endpoint and CA
  devsecops.multicluster.quay_registry_info:
    name: registry
    namespace: quay-enterprise
    wait: true
  register: quay_registry
"""

RETURN = r"""
exists:
  description: Whether the QuayRegistry exists.
  returned: always
  type: bool
available:
  description: Whether the QuayRegistry's C(Available) condition is true.
  returned: always
  type: bool
endpoint:
  description: Quay's URL (C(https://host[:port])).
  returned: when known
  type: str
hostname:
  description: The registry host (C(host[:port]), port 443 left out) as image references and docker configs name it.
  returned: when known
  type: str
ca:
  description: The PEM CA Quay's certificate is verified with (public).
  returned: always
  type: str
version:
  description: C(status.currentVersion).
  returned: when known
  type: str
conditions:
  description: The QuayRegistry's conditions.
  returned: when it exists
  type: list
  elements: dict
config_bundle_secret:
  description: The QuayRegistry's C(spec.configBundleSecret).
  returned: when it exists
  type: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import service_info_main
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay, discover_registry as discover
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError


def argument_spec():
    return cluster_argument_spec(
        name=dict(type="str", default="registry"),
        namespace=dict(type="str", default="quay-enterprise"),
        endpoint=dict(type="str"),
        ca=dict(type="str"),
        ca_configmap=dict(type="dict", default=dict(namespace="openshift-config-managed", name="default-ingress-cert",
                                                    key="ca-bundle.crt"),
                          options=dict(namespace=dict(type="str", required=True), name=dict(type="str", required=True),
                                       key=dict(type="str", default="ca-bundle.crt", no_log=False))),
        quay_validate_certs=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
    )


def answer(info, params):
    """Quay's /health/instance over verified TLS (None while it does not answer)."""
    quay = Quay(dict(endpoint=info["endpoint"], ca=info["ca"] or None, validate_certs=params["quay_validate_certs"],
                     timeout=10, retries=0))
    try:
        quay.health()
    except RestError as err:
        if "TLS verification failed" in err.message:
            raise
        info["problem"] = err.message
        return None
    return {}


def main():
    service_info_main(argument_spec(), discover, answer,
                      lambda params: "QuayRegistry %s/%s" % (params["namespace"], params["name"]))


if __name__ == "__main__":
    main()
