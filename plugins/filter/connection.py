# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_connection: a cluster's connection options, built only from that host's variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# inventory variable -> connection option (DESIGN section 3)
VARIABLES = (
    ("cluster_kubeconfig", "kubeconfig"),
    ("cluster_context", "context"),
    ("cluster_api_url", "host"),
    ("cluster_api_token", "api_key"),
    ("cluster_ca_cert", "ca_cert"),
    ("cluster_validate_certs", "validate_certs"),
)


def cluster_connection(host_vars, name=None):
    """The connection options of the cluster whose host variables are given (unset ones left out).

    Use it for the far side (target:) of cross-cluster modules and for module_defaults, so that one
    cluster's connection is never mixed with another's, the environment's or a play's defaults. With
    `name`, the result also carries cluster_name (the far-side options and this collection's modules
    take it; kubernetes.core's modules do not).
    """
    options = {}
    for variable, option in VARIABLES:
        value = host_vars.get(variable)
        if value is not None and value != "":
            options[option] = value
    if name:
        options["cluster_name"] = name
    return options


class FilterModule(object):
    def filters(self):
        return {"cluster_connection": cluster_connection}
