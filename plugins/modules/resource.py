#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: resource
short_description: Ensure Kubernetes objects are present, patched or absent, with kubernetes.core's resource handling
version_added: 1.1.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Creates, updates, patches or deletes Kubernetes objects with the code of kubernetes.core that
    M(kubernetes.core.k8s) runs (its C(k8s.runner) module_utils). The comparison with what the
    cluster holds, C(changed), C(result), check mode, diff mode, client-side and server-side apply,
    merge types and waits are kubernetes.core's.
  - The collection's roles ensure their objects with this module because, like every module of the
    collection, it runs in a fork of Ansible's worker when the connection is local instead of
    starting a new Python that imports the C(kubernetes) client again (see C(docs/performance.md)).
  - Differences from M(kubernetes.core.k8s). There is no C(template) option; render the template
    with the C(template) lookup and give the result as I(definition). I(src) is a path on the host
    that runs the module (the controller, with a local connection). Failures name the cluster
    (I(cluster_name), else the kubeconfig context, else the API server URL), and a failure to reach
    the cluster is a message, never a traceback.
extends_documentation_fragment:
  - kubernetes.core.k8s_name_options
  - kubernetes.core.k8s_auth_options
  - kubernetes.core.k8s_wait_options
  - kubernetes.core.k8s_delete_options
  - devsecops.multicluster.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: kubernetes
options:
  resource_definition:
    description:
      - The object or objects to ensure, as a mapping, a list of mappings or a YAML string (several
        documents allowed).
      - Its C(apiVersion), C(kind) and C(metadata.name)/C(metadata.namespace) take the place of
        I(api_version), I(kind), I(name) and I(namespace).
    type: raw
    aliases: [definition, inline]
  src:
    description:
      - Path of a YAML file with the object or objects, on the host that runs the module, or an
        C(https://) URL. Mutually exclusive with I(resource_definition).
    type: path
  state:
    description:
      - C(present) creates the object or updates it to match the definition; C(absent) deletes it;
        C(patched) changes an existing object and does nothing when it does not exist.
    type: str
    choices: [present, absent, patched]
    default: present
  force:
    description:
      - With I(state=present), replace the existing object instead of patching it.
    type: bool
    default: false
  merge_type:
    description:
      - How an existing object is patched to match the definition; by default a strategic merge
        patch, falling back to a JSON merge patch for custom resources.
      - Mutually exclusive with I(apply).
    type: list
    elements: str
    choices: [merge, strategic-merge]
  apply:
    description:
      - Use apply (client-side with the last-applied annotation, or server-side with
        I(server_side_apply)) to reconcile the object.
    type: bool
    default: false
  server_side_apply:
    description:
      - With I(apply=true), apply on the API server, owning the fields of the definition under
        I(field_manager).
    type: dict
    suboptions:
      field_manager:
        description:
          - Name of the field manager that owns the applied fields.
        type: str
        required: true
      force_conflicts:
        description:
          - Take over fields another field manager owns.
        type: bool
        default: false
  label_selectors:
    description:
      - With I(state=absent) and no I(name), delete the objects of I(kind) that carry these labels,
        for example C(app.kubernetes.io/managed-by=devsecops.multicluster).
    type: list
    elements: str
  continue_on_error:
    description:
      - With several objects in I(definition), go on after one fails and report its error in its
        own result instead of failing the task.
    type: bool
    default: false
requirements:
  - kubernetes >= 24.2.0
  - kubernetes.core >= 5.0.0 on the controller
"""

EXAMPLES = r"""
- name: Ensure a namespace labelled as the collection's
  devsecops.multicluster.resource:
    definition:
      apiVersion: v1
      kind: Namespace
      metadata:
        name: devsecops-ci
        labels:
          app.kubernetes.io/managed-by: devsecops.multicluster
    cluster_name: lab-dev

- name: Own two fields of the TektonConfig with server-side apply
  devsecops.multicluster.resource:
    apply: true
    server_side_apply:
      field_manager: devsecops.multicluster-chains
      force_conflicts: true
    definition:
      apiVersion: operator.tekton.dev/v1alpha1
      kind: TektonConfig
      metadata:
        name: config
      spec:
        chain:
          artifacts.oci.format: simplesigning
          artifacts.oci.storage: oci

- name: Delete a namespace and wait until it is gone
  devsecops.multicluster.resource:
    state: absent
    kind: Namespace
    name: devsecops-ci
    wait: true
    wait_sleep: 1
"""

RETURN = r"""
result:
  description:
    - The object as the API server returned it after the change, or as it was found when nothing
      changed; empty after a deletion.
    - With several objects in I(definition), C(result.results) holds one C(changed)/C(result) per object.
  returned: success
  type: dict
  sample:
    apiVersion: v1
    kind: Namespace
    metadata:
      name: devsecops-ci
duration:
  description: Seconds spent waiting for the object, with I(wait=true).
  returned: when wait is true
  type: int
  sample: 2
diff:
  description: The object before and after, in diff mode.
  returned: when diff mode is on and something changed
  type: dict
"""

import copy

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    cluster_argument_spec,
    cluster_label,
    explain,
    object_label,
)

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import (
        DELETE_OPTS_ARG_SPEC,
        NAME_ARG_SPEC,
        WAIT_ARG_SPEC,
    )
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.runner import run_module
    HAS_KUBERNETES_CORE = True
except ImportError:
    HAS_KUBERNETES_CORE = False
    DELETE_OPTS_ARG_SPEC = NAME_ARG_SPEC = WAIT_ARG_SPEC = {}
    from ansible.module_utils.basic import AnsibleModule as AnsibleK8SModule


def argument_spec():
    spec = cluster_argument_spec(
        state=dict(type="str", default="present", choices=["present", "absent", "patched"]),
        force=dict(type="bool", default=False),
        merge_type=dict(type="list", elements="str", choices=["merge", "strategic-merge"]),
        apply=dict(type="bool", default=False),
        server_side_apply=dict(type="dict", options=dict(
            field_manager=dict(type="str", required=True),
            force_conflicts=dict(type="bool", default=False),
        )),
        label_selectors=dict(type="list", elements="str"),
        continue_on_error=dict(type="bool", default=False),
        delete_options=dict(type="dict", options=copy.deepcopy(DELETE_OPTS_ARG_SPEC)),
    )
    for part in (NAME_ARG_SPEC, WAIT_ARG_SPEC):
        spec.update(copy.deepcopy(part))
    # kubernetes.core checks the type (mapping, list or string) itself when it reads the definitions.
    spec.update(resource_definition=dict(type="raw", aliases=["definition", "inline"]), src=dict(type="path"))
    return spec


def naming_cluster(module, label):
    """module, whose failures start with 'cluster <label>: ' (kubernetes.core's messages name the object)."""
    fail_json = module.fail_json

    def fail(**kwargs):
        message = kwargs.get("msg") or "failed"
        if not message.startswith("cluster "):
            kwargs["msg"] = "cluster %s: %s" % (label, message)
        kwargs.pop("exception", None)  # a message, not a traceback
        fail_json(**kwargs)

    module.fail_json = fail
    return module


def what(params):
    """The objects of the task, for a message."""
    if params.get("resource_definition") or params.get("src"):
        return "the objects of the definition"
    return object_label(params.get("kind") or "object", params.get("name"), params.get("namespace"))


def main():
    module = AnsibleK8SModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("resource_definition", "src"), ("merge_type", "apply")],
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES_CORE:
        module.fail_json(msg="the kubernetes.core collection (>=5.0.0) is required on the controller")
    label = cluster_label(module.params)
    naming_cluster(module, label)
    try:
        run_module(module)
    except Exception as err:  # pylint: disable=broad-except  # connection, discovery, definitions: one sentence
        module.fail_json(msg=explain(err, label, what(module.params), module.params.get("host")))


if __name__ == "__main__":
    main()
