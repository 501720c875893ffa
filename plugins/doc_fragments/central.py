# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  central:
    description:
      - Connection to ACS Central. Set it once per play with C(module_defaults) for the action group
        C(devsecops.multicluster.acs).
      - Credentials are tried in the order I(token), I(password), I(token_secret), I(password_secret) until
        Central accepts one; the Secrets are read from the cluster the module connects to (the hub), so
        no secret has to pass through Ansible variables.
    type: dict
    required: true
    suboptions:
      endpoint:
        description: Central's address, C(host), C(host:port) or C(https://host:port) (port 443 by default).
        type: str
        required: true
      ca:
        description:
          - PEM CA certificate(s) Central's serving certificate is verified against (see
            M(devsecops.multicluster.acs_central_info), which reads it from the cluster). Default the system trust store.
        type: str
      validate_certs:
        description: Verify Central's certificate. Turn off only for debugging.
        type: bool
        default: true
      token:
        description: An API token.
        type: str
      username:
        description: User of I(password) and I(password_secret).
        type: str
        default: admin
      password:
        description: The admin password.
        type: str
      token_secret:
        description: Secret on the cluster holding an API token (key C(token) by default).
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
      password_secret:
        description: Secret on the cluster holding the admin password (key C(password) by default), such as the
          operator's C(central-htpasswd).
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
            description: Key of the password in the Secret's data. Default C(password).
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
