#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: resource_ready
short_description: Wait until a Kubernetes object satisfies a JMESPath expression
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads one object until the JMESPath I(condition) evaluated over the whole object is true,
    for example C(status.phase == 'Running') or
    C(status.conditions[?type=='Available'].status | [0] == 'True'), or conditions that carry no
    C(type) at all, which kubernetes.core's C(wait_condition) cannot express.
  - Fails at once when I(failure_condition) becomes true, and after I(timeout) seconds with the
    object's last observed C(status) in the message.
  - A missing object is waited for like a not-yet-ready one; a kind the cluster does not serve
    fails at once.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the object is read once and the result reported without waiting or failing.
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  api_version:
    description:
      - API version of the object, for example C(v1) or C(operator.open-cluster-management.io/v1).
    type: str
    default: v1
  kind:
    description:
      - Kind of the object.
    type: str
    required: true
  name:
    description:
      - Name of the object.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the object; omit for cluster-scoped kinds.
    type: str
  condition:
    description:
      - JMESPath expression over the object; the object is ready when the result is truthy
        (not null, false, or an empty string, list or object).
    type: str
    required: true
  failure_condition:
    description:
      - JMESPath expression over the object; when truthy the module fails at once.
    type: str
  report:
    description:
      - JMESPath expression whose result is quoted in failure and timeout messages.
      - Defaults to the object's C(status).
    type: str
  timeout:
    description:
      - Seconds to wait before failing.
    type: int
    default: 300
  sleep:
    description:
      - Longest pause between two reads, in seconds. Polling starts at half a second and backs off to this.
    type: int
    default: 5
requirements:
  - kubernetes >= 24.2.0
  - jmespath
"""

EXAMPLES = r"""
- name: Wait for the MultiClusterHub to be Running
  devsecops.multicluster.resource_ready:
    api_version: operator.open-cluster-management.io/v1
    kind: MultiClusterHub
    name: multiclusterhub
    namespace: open-cluster-management
    condition: status.phase == 'Running'
    timeout: 1800

- name: Wait for a claim to be bound, failing fast when it is lost
  devsecops.multicluster.resource_ready:
    kind: PersistentVolumeClaim
    name: data
    namespace: quay
    condition: status.phase == 'Bound'
    failure_condition: status.phase == 'Lost'
"""

RETURN = r"""
ready:
  description: Whether the condition was true when the module returned (false only in check mode).
  returned: always
  type: bool
  sample: true
value:
  description: Result of I(condition) on the last read.
  returned: always
  type: raw
  sample: true
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 2.5
resource:
  description: The object as last read (null if it does not exist).
  returned: always
  type: dict
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
    object_label,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.readiness import wait_ready


def argument_spec():
    return cluster_argument_spec(
        api_version=dict(type="str", default="v1"),
        kind=dict(type="str", required=True),
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        condition=dict(type="str", required=True),
        failure_condition=dict(type="str"),
        report=dict(type="str"),
        timeout=dict(type="int", default=300),
        sleep=dict(type="int", default=5),
    )


def main():
    module = cluster_module(argument_spec())
    params = module.params
    cluster = Cluster(module)
    what = object_label(params["kind"], params["name"], params["namespace"])
    try:
        result = wait_ready(cluster, params, once=module.check_mode)
    except ValueError as err:
        module.fail_json(msg="cluster %s: %s: %s" % (cluster.name, what, err))
    except ClusterError as err:
        module.fail_json(msg=err.message, **err.details)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
