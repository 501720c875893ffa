# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  quay:
    description:
      - Connection to Quay's API. Set it once per play with C(module_defaults) for the action group
        C(devsecops.multicluster.quay).
      - Quay's API takes OAuth access tokens, not passwords. The tokens are tried in the order I(token),
        I(token_secret) until Quay accepts one; the Secret is read from the cluster the module connects to
        (the hub), so no token has to pass through Ansible variables.
    type: dict
    required: true
    suboptions:
      endpoint:
        description:
          - Quay's address, C(host), C(host:port) or C(https://host:port) (port 443 by default), for example
            the C(endpoint) M(devsecops.multicluster.quay_registry_info) reads from the QuayRegistry's status.
        type: str
        required: true
      ca:
        description:
          - PEM CA certificate(s) Quay's serving certificate is verified against (see
            M(devsecops.multicluster.quay_registry_info), which reads the cluster's ingress CA). Default the
            system trust store.
        type: str
      validate_certs:
        description: Verify Quay's certificate. Turn off only for debugging.
        type: bool
        default: true
      token:
        description: An OAuth access token of a Quay user (a superuser for the bootstrap).
        type: str
      token_secret:
        description: Secret on the cluster holding an OAuth access token (key C(token) by default).
        type: dict
        suboptions:
          namespace:
            description: Namespace of the Secret.
            type: str
            required: true
          name:
            description: Name of the Secret.
            type: str
            required: true
          key:
            description: Key of the token in the Secret's data. Default C(token).
            type: str
      timeout:
        description: Seconds to wait for each answer.
        type: int
        default: 30
      retries:
        description: How often a 5xx answer, a timeout or a refused connection is retried (with exponential backoff).
        type: int
        default: 3
"""
