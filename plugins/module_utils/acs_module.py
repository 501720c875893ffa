# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common main() of the ACS modules: the hub connection, Central authenticated, failures
reported with the cluster, the object and the cause, every secret seen masked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devsecops.multicluster.plugins.module_utils.acs import AcsError
from ansible_collections.devsecops.multicluster.plugins.module_utils.central import Central
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_module,
    hide,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError


def acs_main(argument_spec, work, authenticate=True):
    """work(module, hub, central) -> (manager or None, result dict)."""
    module = cluster_module(argument_spec)
    hub = Cluster(module)
    central = None
    manager = None
    try:
        central = Central(module.params["central"], cluster=hub)
        if authenticate:
            central.authenticate()
        manager, result = work(module, hub, central)
    except (AcsError, RestError, ClusterError) as err:
        hide(module, (central.secret_values if central else []) + (manager.secret_values if manager else []))
        message = err.message
        if not message.startswith("cluster "):
            message = "cluster %s: %s" % (hub.name, message)
        module.fail_json(msg=message, actions=getattr(manager, "actions", []))
    hide(module, central.secret_values + (manager.secret_values if manager else []))
    module.exit_json(changed=bool(manager and manager.changed), actions=getattr(manager, "actions", []), **result)
