# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  cluster_name:
    description:
      - Name of the cluster used in messages (for example the inventory host name).
      - Defaults to the kubeconfig I(context), else the API server URL in I(host).
    type: str
notes:
  - Connection options are those of kubernetes.core and are read the same way, including the
    C(K8S_AUTH_*) environment variables. Set them once per play with
    C(module_defaults) for the C(group/devsecops.multicluster.cluster) action group.
  - TLS verification of the API server is on unless I(validate_certs=false) is given.
"""
