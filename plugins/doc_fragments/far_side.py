# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  target:
    description:
      - Connection to the far side of a cross-cluster task (a spoke, or wherever the result is written).
      - Taken only from this option - never from C(K8S_AUTH_*) variables or the play's C(module_defaults),
        which describe the cluster the module connects to.
    type: dict
    suboptions:
      kubeconfig:
        description: Path to a kubeconfig file, or the kubeconfig as a dict.
        type: raw
      context:
        description: Context of the kubeconfig.
        type: str
      host:
        description: API server URL.
        type: str
      api_key:
        description: Bearer token.
        type: str
      ca_cert:
        description: CA bundle file for the API server.
        type: path
        aliases: [ssl_ca_cert]
      client_cert:
        description: Client certificate file.
        type: path
        aliases: [cert_file]
      client_key:
        description: Client key file.
        type: path
        aliases: [key_file]
      validate_certs:
        description: Verify the API server's certificate.
        type: bool
        default: true
        aliases: [verify_ssl]
      cluster_name:
        description: Name of the far-side cluster (its inventory host name), for messages and record names.
        type: str
"""
