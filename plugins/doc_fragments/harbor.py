# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  harbor:
    description:
      - Connection to Harbor's API (C(/api/v2.0)). Set it once per play with C(module_defaults) for the action
        group C(devsecops.multicluster.harbor).
      - Harbor's API takes HTTP Basic credentials. The passwords are tried in the order I(password),
        I(password_secret) until Harbor accepts one; the Secret is read from the cluster the module connects to,
        so no password has to pass through Ansible variables.
    type: dict
    required: true
    suboptions:
      endpoint:
        description:
          - Harbor's address, C(host), C(host:port) or C(https://host:port) (port 443 by default) - the host of
            the chart's C(externalURL).
        type: str
        required: true
      ca:
        description:
          - PEM CA certificate(s) Harbor's serving certificate is verified against, for example the cluster's
            ingress CA that M(devsecops.multicluster.harbor_info) returns. Default the system trust store.
        type: str
      validate_certs:
        description: Verify Harbor's certificate. Turn off only for debugging.
        type: bool
        default: true
      username:
        description: The Harbor user. Scanner registrations and the scan-all schedule need a system administrator.
        type: str
        default: admin
      password:
        description: The user's password.
        type: str
      password_secret:
        description:
          - Secret on the cluster holding the password, such as the Secret the Helm chart's
            C(existingSecretAdminPassword) names (C(harbor/harbor-admin)).
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
            description: Key of the password in the Secret's data. Default C(HARBOR_ADMIN_PASSWORD), the chart's
              C(existingSecretAdminPasswordKey).
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
