#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_token
short_description: Mint a service-account credential on one cluster and record it on the hub
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - On the I(target) cluster (required, with I(target.cluster_name)), ensures a ServiceAccount, its namespace and the RBAC for one
    I(purpose) (an existing ClusterRole by I(cluster_role), or a ClusterRole of the module's own from
    I(rules)), then mints a token for it - a bounded token from the TokenRequest API (I(token_type=bound)),
    or a long-lived service-account-token Secret (I(token_type=long-lived)) for consumers that cannot
    refresh tokens.
  - The credential (API server URL, CA, token) is recorded in a labelled Secret on the cluster the
    module connects to (the hub), named C(<target cluster_name>-<purpose>). A later run reuses it while
    the target still accepts it (TokenReview) and it is outside the renewal window; otherwise it mints
    a new one, records it, then revokes the old one.
  - Bound tokens are bound to a small anchor Secret on the target, so deleting the anchor revokes them
    before they expire; long-lived tokens are revoked by deleting their Secret.
  - The token is never returned; consumers read the record on the hub (see
    M(devsecops.multicluster.secret_sync)). Only a fingerprint (a hash prefix) is returned.
  - The target connection is taken only from I(target) - never from C(K8S_AUTH_*) variables or the
    play's C(module_defaults), which describe the hub.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.far_side
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  purpose:
    description:
      - What the credential is for, for example C(acm-import) or C(argocd). Names the ServiceAccount,
        the RBAC objects and the record.
    type: str
    required: true
  service_account:
    description: ServiceAccount name. Default C(devsecops-multicluster-<purpose>).
    type: str
  namespace:
    description: Namespace of the ServiceAccount on the target.
    type: str
    default: devsecops-multicluster
  cluster_role:
    description: Existing ClusterRole to bind the ServiceAccount to. Exclusive with I(rules).
    type: str
  rules:
    description: PolicyRules of a ClusterRole the module manages for this purpose. Exclusive with I(cluster_role).
    type: list
    elements: dict
  token_type:
    description:
      - C(bound) - a TokenRequest token valid I(duration) seconds, revocable through its anchor Secret.
      - C(long-lived) - a service-account-token Secret, for consumers that cannot refresh tokens.
    type: str
    choices: [bound, long-lived]
    default: bound
  duration:
    description: Lifetime of a bound token in seconds (at least 600).
    type: int
    default: 3600
  renew_before:
    description: Mint a new bound token when the recorded one expires within this many seconds. Default a third of I(duration).
    type: int
  server:
    description: API server URL recorded for consumers, when they reach the target by another address than the controller.
    type: str
  record_namespace:
    description: Namespace of the record on the hub.
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record. Default C(<target cluster_name>-<purpose>).
    type: str
  rotate:
    description: Mint a new credential even if the recorded one is valid, then revoke the old one.
    type: bool
    default: false
  state:
    description: C(present) ensures a valid recorded credential; C(absent) revokes it and removes the ServiceAccount, RBAC and record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.secret_sync
"""

EXAMPLES = r"""
- name: A bounded import token for ACM, recorded on the hub
  devsecops.multicluster.cluster_token:
    target:
      kubeconfig: "{{ hostvars['dev-east'].cluster_kubeconfig }}"
      context: "{{ hostvars['dev-east'].cluster_context }}"
      cluster_name: dev-east
    purpose: acm-import
    cluster_role: cluster-admin
    duration: 3600

- name: A long-lived token for Argo CD
  devsecops.multicluster.cluster_token:
    target:
      host: https://api.dev-east.example.com:6443
      api_key: "{{ dev_east_token }}"
      ca_cert: /etc/pki/dev-east-ca.pem
      cluster_name: dev-east
    purpose: argocd
    cluster_role: cluster-admin
    token_type: long-lived
"""

RETURN = r"""
credential:
  description: The recorded credential, without the token.
  returned: always
  type: dict
  contains:
    record:
      description: Namespace/name of the record on the hub.
      type: str
      sample: devsecops-multicluster/dev-east-argocd
    service_account:
      description: The user the token authenticates as on the target.
      type: str
      sample: system:serviceaccount:devsecops-multicluster:devsecops-multicluster-argocd
    token_type:
      description: bound or long-lived.
      type: str
    fingerprint:
      description: First 12 hex digits of the token's SHA-256, for comparing without revealing it.
      type: str
      sample: 3f9c0a1b22de
    expires:
      description: Expiry of a bound token (UTC, ISO 8601); null for long-lived tokens.
      type: str
    reused:
      description: Whether the recorded credential was valid and kept.
      type: bool
    reason:
      description: Why a new credential was minted.
      type: str
      sample: the target no longer accepts the token (revoked, expired or the service account is gone)
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
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    CredentialMinter,
    CredentialSpec,
)


def argument_spec():
    return cluster_argument_spec(
        target=far_side_option(required=False),
        purpose=dict(type="str", required=True),
        service_account=dict(type="str"),
        namespace=dict(type="str", default="devsecops-multicluster"),
        cluster_role=dict(type="str"),
        rules=dict(type="list", elements="dict"),
        token_type=dict(type="str", choices=["bound", "long-lived"], default="bound"),
        duration=dict(type="int", default=3600),
        renew_before=dict(type="int"),
        server=dict(type="str"),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    module = cluster_module(argument_spec(), mutually_exclusive=[("cluster_role", "rules")])
    params = module.params
    hub = Cluster(module)
    minter = None
    try:
        if not (params["target"] or {}).get("cluster_name"):
            raise ClusterError("cluster %s: target with its cluster_name is required (the spoke's connection; "
                               "cluster_name names the record)" % hub.name)
        target = Cluster(module, options=params["target"], role="target")
        try:
            spec = CredentialSpec(params, target.name)
        except ValueError as err:
            raise ClusterError("cluster %s: %s credential for %s: %s" % (hub.name, params["purpose"], target.name, err))
        minter = CredentialMinter(hub, target, spec, check_mode=module.check_mode)
        if params["state"] == "present":
            credential = minter.present(rotate=params["rotate"])
        else:
            credential = minter.absent()
    except ClusterError as err:
        hide(module, minter.secret_values if minter else [])
        module.fail_json(msg=err.message, actions=minter.actions if minter else [])
    hide(module, minter.secret_values)
    module.exit_json(changed=minter.changed, credential=credential, actions=minter.actions)


if __name__ == "__main__":
    main()
