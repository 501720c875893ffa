#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: resource_info
short_description: Read Kubernetes objects, with kubernetes.core's lookup
version_added: 1.1.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads one object by name, or the objects of a kind that match label and field selectors, with
    the code of kubernetes.core that M(kubernetes.core.k8s_info) runs (its C(K8sService.find)); the
    result has the same keys (C(resources), C(api_found)).
  - The collection's roles read objects with this module because, like every module of the
    collection, it runs in a fork of Ansible's worker when the connection is local (see
    C(docs/performance.md)).
  - A kind the cluster does not serve is not a failure (C(api_found=false), as with
    M(kubernetes.core.k8s_info)); a cluster that cannot be reached or refuses the credentials is a
    failure that names the cluster, never a traceback.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubernetes.core.k8s_wait_options
  - devsecops.multicluster.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  api_version:
    description:
      - API version of the kind, for example C(v1) or C(platform.stackrox.io/v1alpha1).
    type: str
    default: v1
    aliases: [api, version]
  kind:
    description:
      - Kind of the objects.
    type: str
    required: true
  name:
    description:
      - Name of the object; omit to list.
    type: str
  namespace:
    description:
      - Namespace of the objects; omit for cluster-scoped kinds or to list in every namespace.
    type: str
  label_selectors:
    description:
      - Label selectors, for example C(app.kubernetes.io/managed-by=devsecops.multicluster).
    type: list
    elements: str
    default: []
  field_selectors:
    description:
      - Field selectors, for example C(status.phase=Running).
    type: list
    elements: str
    default: []
requirements:
  - kubernetes >= 24.2.0
  - kubernetes.core >= 5.0.0 on the controller
"""

EXAMPLES = r"""
- name: Look for the SecuredCluster resource type and objects
  devsecops.multicluster.resource_info:
    api_version: platform.stackrox.io/v1alpha1
    kind: SecuredCluster
    namespace: stackrox
  register: secured_clusters

- name: The collection's namespaces on this cluster
  devsecops.multicluster.resource_info:
    kind: Namespace
    label_selectors:
      - app.kubernetes.io/managed-by=devsecops.multicluster
"""

RETURN = r"""
api_found:
  description: Whether the cluster serves I(kind) in I(api_version).
  returned: always
  type: bool
  sample: true
resources:
  description: The objects found; empty when there are none or the kind is not served.
  returned: always
  type: list
  elements: dict
  sample:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: stackrox
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    cluster_argument_spec,
    cluster_label,
    explain,
    object_label,
)

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import WAIT_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService
    HAS_KUBERNETES_CORE = True
except ImportError:
    HAS_KUBERNETES_CORE = False
    WAIT_ARG_SPEC = {}
    from ansible.module_utils.basic import AnsibleModule as AnsibleK8SModule


def argument_spec():
    spec = cluster_argument_spec(
        api_version=dict(type="str", default="v1", aliases=["api", "version"]),
        kind=dict(type="str", required=True),
        name=dict(type="str"),
        namespace=dict(type="str"),
        label_selectors=dict(type="list", elements="str", default=[]),
        field_selectors=dict(type="list", elements="str", default=[]),
    )
    spec.update(dict((key, dict(value)) for key, value in WAIT_ARG_SPEC.items()))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_KUBERNETES_CORE:
        module.fail_json(msg="the kubernetes.core collection (>=5.0.0) is required on the controller")
    params = module.params
    label = cluster_label(params)
    try:
        service = K8sService(get_api_client(module), module)
        found = service.find(
            params["kind"], params["api_version"], name=params["name"], namespace=params["namespace"],
            label_selectors=params["label_selectors"], field_selectors=params["field_selectors"],
            wait=params["wait"], wait_sleep=params["wait_sleep"], wait_timeout=params["wait_timeout"],
            condition=params["wait_condition"])
    except Exception as err:  # pylint: disable=broad-except  # connection, discovery, the read: one sentence
        module.fail_json(msg=explain(err, label, object_label(params["kind"], params["name"], params["namespace"]),
                                     params.get("host")))
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
