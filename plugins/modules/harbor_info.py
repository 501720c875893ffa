#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: harbor_info
short_description: Whether Harbor answers and is healthy, its version, scanners and projects, and the CA to verify it
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Asks Harbor's API whether it is up (C(GET /api/v2.0/ping)) and healthy (C(GET /api/v2.0/health)), and
    returns the CA Harbor's certificate is verified with - I(harbor.ca) when given, else the cluster's ingress CA,
    which OpenShift publishes in ConfigMap C(openshift-config-managed/default-ingress-cert).
  - With credentials (I(harbor.password) or I(harbor.password_secret)) it also returns the system information a
    logged-in user sees, the scanner registrations (which is the system default) and the projects. The scanners'
    access credentials are never returned.
  - With I(wait=true) it waits, bounded by I(wait_timeout), until Harbor answers over TLS verified with that CA
    and reports every component healthy; on timeout it reports what Harbor last said (the unreachable endpoint
    or the unhealthy components). A refused password fails at once.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.harbor
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  ca_configmap:
    description: The ConfigMap on the cluster that holds the CA of Harbor's certificate, read when I(harbor.ca) is
      not given.
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
  wait:
    description: Wait until Harbor answers and is healthy.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 600
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.harbor_scanner
  - module: devsecops.multicluster.harbor_project
"""

EXAMPLES = r"""
- name: Wait for Harbor and read its CA, scanners and projects
  devsecops.multicluster.harbor_info:
    harbor:
      endpoint: harbor.apps.example.com
      password_secret: {namespace: harbor, name: harbor-admin}
    wait: true
    wait_timeout: 900
  register: harbor_facts

- name: The built-in Trivy scanner is the default
  ansible.builtin.assert:
    that: harbor_facts.default_scanner == 'Trivy'
"""

RETURN = r"""
endpoint:
  description: Harbor's URL (C(https://host:port)).
  returned: always
  type: str
ca:
  description: The PEM CA Harbor's certificate is verified with (public); empty for the system trust store.
  returned: always
  type: str
answering:
  description: Whether Harbor's API answered C(/ping).
  returned: always
  type: bool
healthy:
  description: Whether C(/health) reports Harbor healthy.
  returned: always
  type: bool
problem:
  description: Why Harbor does not answer or is not healthy.
  returned: when not answering or not healthy
  type: str
health:
  description: What C(/health) reported (C(status) and C(components) with each component's C(status)).
  returned: when Harbor answered
  type: dict
version:
  description: Harbor's build version (C(harbor_version), for example C(v2.12.3-a3ae7e2f)).
  returned: when Harbor answered
  type: str
system_info:
  description: C(/systeminfo) (with credentials, what a logged-in user sees).
  returned: when Harbor answered
  type: dict
user:
  description: The user the credentials belong to and whether it is a system administrator.
  returned: with credentials
  type: dict
scanners:
  description: The scanner registrations (C(name), C(uuid), C(url), C(is_default), C(immutable), ...), never their
    access credentials.
  returned: with credentials
  type: list
  elements: dict
default_scanner:
  description: The name of the system default scanner registration, or null.
  returned: with credentials
  type: str
projects:
  description: The projects (C(name), C(project_id), C(public), C(auto_scan), C(prevent_vulnerable), C(severity),
    C(repo_count), C(metadata)).
  returned: with credentials
  type: list
  elements: dict
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
    hide,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, harbor_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import project_view, scanner_view
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll


def argument_spec():
    return cluster_argument_spec(
        harbor=harbor_option(),
        ca_configmap=dict(type="dict", default=dict(namespace="openshift-config-managed", name="default-ingress-cert",
                                                    key="ca-bundle.crt"),
                          options=dict(namespace=dict(type="str", required=True), name=dict(type="str", required=True),
                                       key=dict(type="str", default="ca-bundle.crt", no_log=False))),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
    )


def read_ca(cluster, params):
    options = params["harbor"]
    if options.get("ca") or not options.get("validate_certs", True):
        return options.get("ca") or ""
    ref = params["ca_configmap"]
    configmap = cluster.get("v1", "ConfigMap", ref["name"], ref["namespace"])
    return ((configmap or {}).get("data") or {}).get(ref.get("key") or "ca-bundle.crt") or ""


def probe(harbor):
    """(done, info): Harbor answers /ping and /health says healthy."""
    info = {"answering": False, "healthy": False}
    try:
        harbor.ping()
        info["answering"] = True
        health = harbor.health()
    except RestError as err:
        if "TLS verification failed" in err.message:
            raise
        info["problem"] = err.message
        return False, info
    info["health"] = health
    info["healthy"] = health.get("status") == "healthy"
    if not info["healthy"]:
        bad = ["%s: %s" % (c.get("name"), c.get("error") or c.get("status")) for c in health.get("components") or []
               if c.get("status") != "healthy"]
        state = health.get("status") or "not healthy"
        info["problem"] = "Harbor %s is %s (%s)" % (harbor.endpoint, state, "; ".join(bad) or "no component reported")
        return False, info
    return True, info


def facts(harbor, info):
    if harbor.has_credentials():
        info["user"] = {"username": (harbor.authenticate() or {}).get("username") or harbor.username,
                        "sysadmin": harbor.is_admin}
    system = harbor.system_info()
    info["system_info"] = system
    info["version"] = system.get("harbor_version")
    if not harbor.has_credentials():
        return info
    scanners = []
    for reg in harbor.scanners():
        if reg.get("access_credential"):
            harbor.secret_values.append(reg["access_credential"])
        scanners.append(scanner_view(reg))
    info["scanners"] = scanners
    info["default_scanner"] = next((s["name"] for s in scanners if s["is_default"]), None)
    info["projects"] = [project_view(p) for p in harbor.projects()]
    return info


def main():
    module = cluster_module(argument_spec())
    params = module.params
    cluster = Cluster(module)
    harbor = None
    try:
        ca = read_ca(cluster, params)
        options = dict(params["harbor"], ca=ca or None)
        if params["wait"]:
            options["retries"] = 0  # the wait retries
        harbor = Harbor(options, cluster=cluster)
        base = {"endpoint": harbor.endpoint, "ca": ca}
        if params["wait"]:
            try:
                info, _elapsed = poll(lambda: probe(harbor), params["wait_timeout"], 10)
            except WaitTimeout as err:
                hide(module, harbor.secret_values)
                module.fail_json(msg="cluster %s: Harbor %s is not ready after %ds: %s" % (
                    cluster.name, harbor.endpoint, params["wait_timeout"], (err.last or {}).get("problem")), **base)
            harbor.rest.retries = max(0, int(params["harbor"].get("retries", 3)))
        else:
            _done, info = probe(harbor)
        info.update(base)
        if info["answering"]:
            info = facts(harbor, info)
    except (ClusterError, RestError) as err:
        hide(module, harbor.secret_values if harbor else [])
        message = err.message
        if "TLS verification failed" in message and not (params["harbor"].get("ca")):
            ref = params["ca_configmap"]
            message += " (the CA came from ConfigMap %s/%s key %s; give harbor.ca)" % (
                ref["namespace"], ref["name"], ref.get("key"))
        module.fail_json(msg=message if message.startswith("cluster ") else "cluster %s: %s" % (cluster.name, message))
    hide(module, harbor.secret_values)
    module.exit_json(changed=False, **info)


if __name__ == "__main__":
    main()
