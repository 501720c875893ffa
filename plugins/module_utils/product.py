# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common main() of the modules that talk to a product's REST API (ACS Central, Quay) from the
hub: the hub connection, the product client authenticated, failures reported with the cluster, the
object and the cause, and every secret value seen masked in the output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_module,
    hide,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll


class ProductError(Exception):
    """A failure already phrased for the user (cluster, object, cause)."""

    def __init__(self, message):
        super(ProductError, self).__init__(message)
        self.message = message


def run(manager, action, error=ProductError):
    """Call a manager's entry point, turning product and cluster failures into `error` naming the object."""
    try:
        return action()
    except (RestError, ClusterError) as err:
        raise error("%s: %s" % (manager.where, err.message))


def product_main(argument_spec, option, client_class, work, authenticate=True):
    """work(module, hub, client) -> (manager or None, result dict).

    `option` is the name of the module option holding the product connection; `client_class(options,
    cluster=hub)` builds the client, whose `authenticate()` runs first unless `authenticate` is false.
    """
    module = cluster_module(argument_spec)
    hub = Cluster(module)
    client = None
    manager = None
    try:
        client = client_class(module.params[option], cluster=hub)
        if authenticate:
            client.authenticate()
        manager, result = work(module, hub, client)
    except (ProductError, RestError, ClusterError) as err:
        hide(module, (client.secret_values if client else []) + (manager.secret_values if manager else []))
        message = err.message
        if not message.startswith("cluster "):
            message = "cluster %s: %s" % (hub.name, message)
        module.fail_json(msg=message, actions=getattr(manager, "actions", []))
    hide(module, client.secret_values + (manager.secret_values if manager else []))
    module.exit_json(changed=bool(manager and manager.changed), actions=getattr(manager, "actions", []), **result)


def service_info_main(argument_spec, discover, answer, what):
    """main() of an *_info module that finds a product's service on the cluster and, with wait, waits until it
    answers over verified TLS.

    discover(cluster, params) -> info dict (a `problem` key while the product is not ready);
    answer(info, params) -> extra facts once the service answers, or None (with info['problem'] set).
    `what(params)` names the object in messages, for example "Central in namespace stackrox".
    """
    module = cluster_module(argument_spec)
    params = module.params
    cluster = Cluster(module)
    try:
        if not params["wait"]:
            info = discover(cluster, params)
            info.pop("problem", None)
            module.exit_json(changed=False, **info)

        def probe():
            info = discover(cluster, params)
            if info.get("problem"):
                return False, info
            extra = answer(info, params)
            if extra is None:
                return False, info
            info.update(extra)
            return True, info

        try:
            info, _elapsed = poll(probe, params["wait_timeout"], 10)
        except WaitTimeout as err:
            module.fail_json(msg="cluster %s: %s is not ready after %ds: %s" % (
                cluster.name, what(params), params["wait_timeout"], (err.last or {}).get("problem")))
    except (ClusterError, RestError) as err:
        module.fail_json(msg="cluster %s: %s" % (cluster.name, err.message) if not err.message.startswith("cluster ")
                         else err.message)
    module.exit_json(changed=False, **info)


def manager_work(manager_class, key, diff=False):
    """The `work` of a module whose job is one manager's present (with `rotate` where the module has it) or
    absent: returns (manager, {key: what the manager returned}), or what the manager returned itself when `key`
    is None; with `diff`, also the manager's `before` and `after` when the task runs with --diff."""

    def work(module, hub, client):
        params = module.params
        manager = manager_class(client, hub, params, check_mode=module.check_mode)
        if params.get("state", "present") == "absent":
            action = manager.absent
        elif "rotate" in params:
            action = functools.partial(manager.present, rotate=params["rotate"])
        else:
            action = manager.present
        answer = run(manager, action)
        result = dict(answer) if key is None else {key: answer}
        if diff and module._diff:
            result["diff"] = {"before": manager.before, "after": manager.after}
        return manager, result

    return work
