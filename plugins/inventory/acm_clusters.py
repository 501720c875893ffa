# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: acm_clusters
short_description: Hosts from the ManagedClusters of an ACM hub
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Lists the hub's ManagedClusters as inventory hosts (one host per cluster, C(ansible_connection=local)),
    grouped by their C(clusterGroup) label (so C(development) and C(production) hosts land in the
    groups the collection's playbooks use, under C(spokes)) and by any other label named in I(group_by_labels).
  - Each host gets its ACM status as host variables - C(acm_available), C(acm_joined), C(acm_conditions),
    C(acm_labels), C(acm_kubernetes_version), C(acm_cluster_id) - and C(cluster_api_url) from the
    ManagedCluster's client config.
  - With I(credentials), each host's connection is read from a Secret on the hub (for example the admin
    kubeconfig Hive keeps for a cluster it installed) and written to a private temporary file that
    C(cluster_kubeconfig) points at, so playbooks can target spokes discovered from ACM.
  - The inventory file must end in C(acm_clusters.yml) or C(acm_clusters.yaml).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [devsecops.multicluster.acm_clusters]
    type: str
  kubeconfig:
    description: Kubeconfig file of the hub.
    type: path
  context:
    description: Context of the hub in I(kubeconfig).
    type: str
  host:
    description: API URL of the hub.
    type: str
  api_key:
    description: Bearer token for the hub.
    type: str
  ca_cert:
    description: CA bundle file of the hub's API server.
    type: path
  validate_certs:
    description: Verify the hub's API server certificate.
    type: bool
    default: true
  group_by_labels:
    description:
      - Label keys to group by besides C(clusterGroup); the group is named C(<key>_<value>), sanitized.
    type: list
    elements: str
    default: []
  include_local_cluster:
    description: Include the hub's own C(local-cluster).
    type: bool
    default: false
  only_available:
    description: Only clusters the hub reports available.
    type: bool
    default: false
  credentials:
    description:
      - Where each cluster's kubeconfig is kept on the hub. C({name}) in I(namespace) and I(name) is
        replaced by the ManagedCluster's name.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the Secret.
        type: str
        default: "{name}"
      name:
        description: Name of the Secret.
        type: str
        default: "{name}-admin-kubeconfig"
      key:
        description: Key holding the kubeconfig.
        type: str
        default: kubeconfig
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
# inventories/acm/acm_clusters.yml
plugin: devsecops.multicluster.acm_clusters
kubeconfig: ~/.kube/hub
context: hub
group_by_labels: [cloud, region]
credentials:
  namespace: "{name}"
  name: "{name}-admin-kubeconfig"
"""

import base64
import os
import re
import sys
import tempfile

import yaml
from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    AUTH_ARG_SPEC,
    Cluster,
    ClusterError,
)

GROUPS = {"development": "development", "production": "production", "hub": "hub"}
MC_API = "cluster.open-cluster-management.io/v1"


def _sanitize(text):
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _status(mc):
    conditions = (mc.get("status") or {}).get("conditions") or []
    state = dict((c.get("type"), c.get("status") == "True") for c in conditions)
    return {
        "acm_available": state.get("ManagedClusterConditionAvailable", False),
        "acm_joined": state.get("ManagedClusterJoined", False),
        "acm_conditions": [dict((k, c.get(k)) for k in ("type", "status", "reason", "message")) for c in conditions],
        "acm_labels": (mc.get("metadata") or {}).get("labels") or {},
        "acm_kubernetes_version": ((mc.get("status") or {}).get("version") or {}).get("kubernetes"),
        "acm_cluster_id": ((mc.get("metadata") or {}).get("labels") or {}).get("clusterID"),
    }


def plan(managed_clusters, group_by_labels=(), include_local_cluster=False, only_available=False):
    """Hosts (name -> vars) and groups (name -> [hosts]) from ManagedCluster objects."""
    hosts, groups = {}, {}
    for mc in managed_clusters:
        name = mc["metadata"]["name"]
        labels = mc["metadata"].get("labels") or {}
        if name == "local-cluster" and not include_local_cluster:
            continue
        status = _status(mc)
        if only_available and not status["acm_available"]:
            continue
        # Modules run on the controller, in the Python that runs Ansible (and has the kubernetes library).
        host_vars = dict(status, ansible_connection="local", ansible_python_interpreter=sys.executable)
        configs = (mc.get("spec") or {}).get("managedClusterClientConfigs") or []
        if configs and configs[0].get("url"):
            host_vars["cluster_api_url"] = configs[0]["url"]
        hosts[name] = host_vars
        group = GROUPS.get(labels.get("clusterGroup", ""))
        if group:
            groups.setdefault(group, []).append(name)
        for key in group_by_labels:
            if key in labels:
                groups.setdefault(_sanitize("%s_%s" % (key, labels[key])), []).append(name)
    return hosts, groups


class _HubConnection(object):
    """What kubernetes.core's client factory reads from a module, for the inventory's options."""

    def __init__(self, options):
        self.params = dict((key, None) for key in AUTH_ARG_SPEC)
        self.params.update(dict((k, v) for k, v in options.items() if k in AUTH_ARG_SPEC and v is not None))
        self.params["cluster_name"] = options.get("context") or options.get("host") or "the hub"
        self.server_side_dry_run = False

    def requires(self, *args, **kwargs):
        return None


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "devsecops.multicluster.acm_clusters"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and \
            path.endswith(("acm_clusters.yml", "acm_clusters.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        keys = ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs")
        options = dict((k, self.get_option(k)) for k in keys)
        hub = Cluster(_HubConnection(options))
        try:
            items = hub.list(MC_API, "ManagedCluster")
        except ClusterError as err:
            raise AnsibleParserError("acm_clusters: %s" % err.message)
        hosts, groups = plan(items, self.get_option("group_by_labels") or [],
                             self.get_option("include_local_cluster"), self.get_option("only_available"))
        self.inventory.add_group("spokes")
        for group in ("development", "production"):
            self.inventory.add_group(group)
            self.inventory.add_child("spokes", group)
        credentials = self.get_option("credentials")
        for name, host_vars in sorted(hosts.items()):
            self.inventory.add_host(name)
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            if credentials is not None:
                self._credentials(hub, name, credentials)
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=False)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=False)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=False)
        for group, members in groups.items():
            self.inventory.add_group(group)
            for name in members:
                self.inventory.add_host(name, group=group)

    def _credentials(self, hub, name, credentials):
        namespace = (credentials.get("namespace") or "{name}").replace("{name}", name)
        secret_name = (credentials.get("name") or "{name}-admin-kubeconfig").replace("{name}", name)
        key = credentials.get("key") or "kubeconfig"
        try:
            secret = hub.get("v1", "Secret", secret_name, namespace)
        except ClusterError as err:
            raise AnsibleParserError("acm_clusters: %s" % err.message)
        data = (secret or {}).get("data") or {}
        if key not in data:
            self.display.warning("acm_clusters: no credentials for %s (Secret %s/%s key %s not found on the hub)"
                                 % (name, namespace, secret_name, key))
            return
        text = base64.b64decode(data[key]).decode("utf-8")
        try:
            current = (yaml.safe_load(text) or {}).get("current-context")
        except yaml.YAMLError as err:
            raise AnsibleParserError("acm_clusters: Secret %s/%s key %s is not a kubeconfig: %s"
                                     % (namespace, secret_name, key, to_native(err)))
        directory = getattr(self, "_credentials_dir", None) or tempfile.mkdtemp(prefix="acm-clusters-")
        self._credentials_dir = directory
        path = os.path.join(directory, "%s.kubeconfig" % _sanitize(name))
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(text)
        self.inventory.set_variable(name, "cluster_kubeconfig", path)
        if current:
            self.inventory.set_variable(name, "cluster_context", current)
