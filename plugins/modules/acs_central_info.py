#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acs_central_info
short_description: Find ACS Central on a cluster - its endpoint, CA, admin password Secret and version
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads the Central custom resource in I(namespace), the operator's Route C(central) (its host is the
    endpoint, port I(port)) and the CA that signed Central's serving certificate (key C(ca.pem) of the
    operator's Secret C(central-tls); only that key is read out).
  - With I(wait=true), waits (bounded, with backoff) until the Central resource reports C(Deployed) and Central
    answers C(/v1/ping) over TLS verified with that CA - so a wrong endpoint or a CA mismatch fails here, with the
    endpoint named, before anything is minted.
  - Returns where the admin password lives (the operator's generated C(central-htpasswd) or the Secret the
    Central resource names), never the password.
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
  namespace:
    description: Namespace of the Central resource.
    type: str
    default: stackrox
  endpoint:
    description: Use this endpoint (C(host:port)) instead of the Route's host, for example when a load balancer fronts Central.
    type: str
  port:
    description: Port the Route's host is served on.
    type: int
    default: 443
  ca:
    description: Use this PEM CA instead of the one read from the cluster (for a custom C(defaultTLSSecret)).
    type: str
  wait:
    description: Wait until Central is deployed and answers.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 900
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Find Central on the hub and wait until it answers
  devsecops.multicluster.acs_central_info:
    namespace: stackrox
    wait: true
  register: central_info

- name: Use it
  devsecops.multicluster.acs_cluster_info:
    central:
      endpoint: "{{ central_info.endpoint }}"
      ca: "{{ central_info.ca }}"
      password_secret: "{{ central_info.password_secret }}"
"""

RETURN = r"""
endpoint:
  description: Central's endpoint, C(host:port).
  returned: when Central is exposed
  type: str
  sample: central-stackrox.apps.hub.example.com:443
ca:
  description: PEM of the CA that signed Central's serving certificate (public).
  returned: always
  type: str
password_secret:
  description: Where the admin password is, as I(central.password_secret) of the other ACS modules takes it.
  returned: always
  type: dict
  sample: {namespace: stackrox, name: central-htpasswd, key: password}
central:
  description: Name, conditions and product version of the Central resource.
  returned: when it exists
  type: dict
deployed:
  description: Whether the Central resource reports Deployed.
  returned: always
  type: bool
version:
  description: Central's version from C(/v1/metadata).
  returned: when wait is true
  type: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.central import discover_central as discover
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestClient, RestError
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import service_info_main


def argument_spec():
    return cluster_argument_spec(
        namespace=dict(type="str", default="stackrox"),
        endpoint=dict(type="str"),
        port=dict(type="int", default=443),
        ca=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
    )


def answer(info, params):
    """Central's metadata over TLS verified with the discovered CA (None while it does not answer)."""
    client = RestClient("Central", info["endpoint"], ca_pem=info["ca"] or None, retries=0, timeout=10)
    try:
        client.request("GET", "/v1/ping")
        return client.request("GET", "/v1/metadata")[1]
    except RestError as err:
        if "TLS verification failed" in err.message:
            raise
        info["problem"] = err.message
        return None


def answer_version(info, params):
    meta = answer(info, params)
    return None if meta is None else {"version": meta.get("version")}


def main():
    service_info_main(argument_spec(), discover, answer_version,
                      lambda params: "Central in namespace %s" % params["namespace"])


if __name__ == "__main__":
    main()
