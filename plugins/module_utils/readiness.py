# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for an object to satisfy a JMESPath expression (the resource_ready module's logic)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError, object_label
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import (
    WaitFailed,
    WaitTimeout,
    compile_expression,
    evaluate,
    poll,
    truthy,
)

MAX_QUOTE = 1500


def _quote(value):
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > MAX_QUOTE:
        text = text[:MAX_QUOTE] + "...(truncated)"
    return text


def wait_ready(cluster, params, once=False, **poll_kwargs):
    """Wait for params['condition'] over the object; returns the module result dict.

    Raises ValueError for bad expressions and ClusterError (with the last status) on failure.
    """
    condition = compile_expression(params["condition"], "condition")
    failure = compile_expression(params["failure_condition"], "failure_condition") \
        if params.get("failure_condition") else None
    report_expr = compile_expression(params["report"], "report") if params.get("report") else None
    api_version, kind = params.get("api_version") or "v1", params["kind"]
    name, namespace = params["name"], params.get("namespace")
    what = object_label(kind, name, namespace)
    cluster.resource(api_version, kind)  # a kind the cluster does not serve fails now, not at the deadline

    def report(obj):
        if obj is None:
            return "the object does not exist"
        quoted = evaluate(report_expr, obj) if report_expr else obj.get("status")
        return "last status: %s" % _quote(quoted)

    def probe():
        obj = cluster.get(api_version, kind, name, namespace)
        if obj is None:
            return False, (None, None)
        if failure is not None and truthy(evaluate(failure, obj)):
            raise WaitFailed("cluster %s: %s reached its failure condition %r; %s"
                             % (cluster.name, what, params["failure_condition"], report(obj)), obj)
        value = evaluate(condition, obj)
        return truthy(value), (obj, value)

    if once:
        done, (obj, value) = probe()
        return dict(ready=done, value=value, elapsed=0.0, resource=obj)
    try:
        (obj, value), elapsed = poll(probe, params.get("timeout", 300), params.get("sleep", 5), **poll_kwargs)
    except WaitTimeout as err:
        obj = err.last[0] if err.last else None
        raise ClusterError("cluster %s: %s did not satisfy %r within %ds; %s"
                           % (cluster.name, what, params["condition"], int(err.elapsed), report(obj)),
                           details={"resource": obj})
    except WaitFailed as err:
        raise ClusterError(err.message, details={"resource": err.last})
    return dict(ready=True, value=value, elapsed=round(elapsed, 1), resource=obj)
