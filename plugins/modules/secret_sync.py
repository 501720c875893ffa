#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_sync
short_description: Copy a Secret to the same or another cluster, optionally in a consumer's format
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Reads a Secret on the cluster the module connects to and writes a Secret with the same data (or a
    selection of keys, or a rendering for a consumer) on I(target), or on the same cluster when
    I(target) is omitted. Idempotent - a re-run with nothing changed writes nothing.
  - The values never leave the module - they are not returned, and C(--diff) shows each key with a
    SHA-256 fingerprint instead of its value.
  - I(format=argocd-cluster) renders an Argo CD cluster Secret (C(name), C(server), C(config) with the
    bearer token and CA) from a record with the keys C(server), C(token) and C(ca.crt), such as
    M(devsecops.multicluster.cluster_token) writes; I(format=kubeconfig) renders a kubeconfig.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.far_side
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Keys and value fingerprints only, never values.
  platform:
    platforms: kubernetes
options:
  source_name:
    description: Name of the source Secret.
    type: str
    required: true
  source_namespace:
    description: Namespace of the source Secret.
    type: str
    required: true
  name:
    description: Name of the destination Secret. Default I(source_name).
    type: str
  namespace:
    description: Namespace of the destination Secret (created if missing). Default I(source_namespace).
    type: str
  namespaces:
    description:
      - Several destination namespaces (each created if missing), written in one call; the same Secret goes into
        each. Mutually exclusive with I(namespace).
      - The result then has I(secrets), and I(secret) names the first.
    type: list
    elements: str
  format:
    description:
      - C(copy) copies the data (all keys, or those named in I(keys)).
      - C(argocd-cluster) renders an Argo CD cluster Secret and adds the label C(argocd.argoproj.io/secret-type=cluster).
      - C(kubeconfig) renders a C(kubeconfig) key.
    type: str
    choices: [copy, argocd-cluster, kubeconfig]
    default: copy
  keys:
    description: With I(format=copy), destination key -> source key; only these keys are written.
    type: dict
  string_data:
    description: Literal, non-secret values added to the destination (for example C(autoImportRetry)).
    type: dict
  cluster_name:
    description: Name of the cluster the rendered credential is for (Argo CD cluster name, kubeconfig context).
    type: str
  type:
    description: Type of the destination Secret. Default the source's type with C(copy), C(Opaque) otherwise.
    type: str
  labels:
    description: Labels of the destination Secret.
    type: dict
  annotations:
    description: Annotations of the destination Secret.
    type: dict
  state:
    description: C(present) writes the destination Secret; C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.cluster_token
"""

EXAMPLES = r"""
- name: Register a spoke in the hub's Argo CD from its recorded credential
  devsecops.multicluster.secret_sync:
    source_namespace: devsecops-multicluster
    source_name: dev-east-argocd
    namespace: openshift-gitops
    name: dev-east-cluster
    format: argocd-cluster
    cluster_name: dev-east

- name: Copy a pull secret from the hub to a spoke
  devsecops.multicluster.secret_sync:
    source_namespace: devsecops-multicluster
    source_name: quay-pull-secret
    namespace: devsecops-ci
    target:
      kubeconfig: "{{ hostvars['dev-east'].cluster_kubeconfig }}"
      context: "{{ hostvars['dev-east'].cluster_context }}"
      cluster_name: dev-east
"""

RETURN = r"""
secret:
  description: Namespace/name of the destination Secret.
  returned: always
  type: str
  sample: openshift-gitops/dev-east-cluster
cluster:
  description: The cluster written to.
  returned: always
  type: str
secrets:
  description: Namespace/name of every destination Secret, with I(namespaces).
  returned: when I(namespaces) is given
  type: list
  elements: str
  sample: [team-a/quay-pull, team-b/quay-pull]
keys:
  description: Keys of the destination Secret (never values).
  returned: always
  type: list
  elements: str
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
    far_side_option,
    hide,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.secret_copy import FORMATS, SecretSync


def argument_spec():
    return cluster_argument_spec(
        source_name=dict(type="str", required=True),
        source_namespace=dict(type="str", required=True),
        name=dict(type="str"),
        namespace=dict(type="str"),
        namespaces=dict(type="list", elements="str"),
        target=far_side_option(required=False),
        format=dict(type="str", choices=list(FORMATS), default="copy"),
        keys=dict(type="dict", no_log=False),
        string_data=dict(type="dict"),
        cluster_name=dict(type="str"),
        type=dict(type="str"),
        labels=dict(type="dict"),
        annotations=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    module = cluster_module(argument_spec(), mutually_exclusive=[("namespace", "namespaces")])
    params = module.params
    source = Cluster(module)
    namespaces = params["namespaces"] if params["namespaces"] is not None else [params["namespace"]]
    if not namespaces:
        module.fail_json(msg="secret_sync: namespaces is empty: name at least one destination namespace")
    syncs, results = [], []
    try:
        dest = Cluster(module, options=params["target"], role="target") if params["target"] else source
        for namespace in namespaces:
            sync = SecretSync(source, dest, dict(params, namespace=namespace), check_mode=module.check_mode)
            syncs.append(sync)
            results.append(sync.present() if params["state"] == "present" else sync.absent())
    except ClusterError as err:
        hide(module, [value for sync in syncs for value in sync.secret_values])
        module.fail_json(msg=err.message, actions=[action for sync in syncs for action in sync.actions])
    hide(module, [value for sync in syncs for value in sync.secret_values])
    output = dict(results[0], changed=any(sync.changed for sync in syncs),
                  actions=[action for sync in syncs for action in sync.actions])
    if params["namespaces"] is not None:
        output["secrets"] = [result["secret"] for result in results]
    if module._diff:
        if params["namespaces"] is None:
            output["diff"] = dict(before=syncs[0].before or {}, after=syncs[0].after or {})
        else:
            output["diff"] = dict(before=dict((r["secret"], s.before or {}) for r, s in zip(results, syncs)),
                                  after=dict((r["secret"], s.after or {}) for r, s in zip(results, syncs)))
    module.exit_json(**output)


if __name__ == "__main__":
    main()
