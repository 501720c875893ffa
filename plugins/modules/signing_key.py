#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signing_key
short_description: A cosign signing key pair for Tekton Chains, recorded on the hub
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Ensures one signing key pair for one consumer cluster and purpose is recorded on the cluster the
    module connects to (the hub), in a labelled Secret with the keys C(cosign.key) (the encrypted private
    key), C(cosign.password) (its password) and C(cosign.pub) (the public key) - the keys Tekton Chains
    reads from its C(signing-secrets) Secret. Copy the record to the consumer with
    M(devsecops.multicluster.secret_sync).
  - The key pair is made without the cosign binary, in cosign's format - an ECDSA P-256 key in PKCS#8,
    encrypted with NaCl secretbox under a key derived from the password with scrypt (N=32768, r=8,
    p=1), in a PEM block of type C(ENCRYPTED COSIGN PRIVATE KEY) - which every cosign version and Tekton
    Chains read. The password is always generated (32 random bytes, URL-safe base64).
  - The key pair is minted once and reused - a later run writes nothing while the recorded key opens with
    the recorded password and C(cosign.pub) is its public key. A record that does not (a key missing, a
    wrong password, a public key that does not match) is replaced by a new key pair, with a warning that
    says why; the public key of the old private key is kept as C(cosign.pub.previous) when the old key
    still opens.
  - I(rotate=true) replaces the key pair and keeps the previous public key in the record as
    C(cosign.pub.previous), so images signed before the rotation still verify while they are re-signed.
  - C(state=absent) deletes the record (the copies made from it are not touched).
  - The private key and the password are never returned, and the diff shows public key fingerprints only.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: No key pair is generated in check mode, so a key pair that would be made is reported with
      empty I(public_key) and I(fingerprint).
  diff_mode:
    support: full
    details: Public key fingerprints only.
  platform:
    platforms: kubernetes
options:
  consumer:
    description: The cluster the key pair signs for (labels the record and names it by default).
    type: str
    required: true
  purpose:
    description: What the key pair is for (labels the record and names it by default).
    type: str
    default: chains-signing
  record_namespace:
    description: Namespace of the record on the hub (created if missing).
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record. Default C(<consumer>-<purpose>) made DNS-safe.
    type: str
  rotate:
    description:
      - Replace the key pair with a new one and keep the current public key as C(cosign.pub.previous)
        (a previous key already there is dropped).
      - Every run with I(rotate=true) rotates; make the task conditional.
    type: bool
    default: false
  state:
    description: C(present) ensures the record holds a usable key pair; C(absent) deletes the record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
  - cryptography
  - PyNaCl >= 1.5
seealso:
  - module: devsecops.multicluster.secret_sync
  - name: Tekton Chains signing configuration
    description: The signing-secrets Secret and its keys.
    link: https://github.com/tektoncd/chains/blob/main/docs/signing.md
"""

EXAMPLES = r"""
- name: A Chains signing key for the dev cluster, recorded on the hub
  devsecops.multicluster.signing_key:
    consumer: dev-east
  register: signing

- name: Give it to Tekton Chains on the dev cluster
  devsecops.multicluster.secret_sync:
    source_namespace: devsecops-multicluster
    source_name: dev-east-chains-signing
    namespace: openshift-pipelines
    name: signing-secrets
    keys:
      cosign.key: cosign.key
      cosign.password: cosign.password
      cosign.pub: cosign.pub
    target:
      kubeconfig: "{{ hostvars['dev-east'].cluster_kubeconfig }}"
      context: "{{ hostvars['dev-east'].cluster_context }}"
      cluster_name: dev-east

- name: Publish the public key for verifiers (policy, cosign verify --key)
  ansible.builtin.copy:
    content: "{{ signing.public_key }}"
    dest: files/dev-east-cosign.pub
    mode: "0644"
  delegate_to: localhost

- name: Rotate the key (the previous public key stays in the record)
  devsecops.multicluster.signing_key:
    consumer: dev-east
    rotate: true
  when: rotate_signing_key | default(false) | bool

- name: Revoke
  devsecops.multicluster.signing_key:
    consumer: dev-east
    state: absent
"""

RETURN = r"""
record:
  description: C(namespace/name) of the record on the hub.
  returned: always
  type: str
  sample: devsecops-multicluster/dev-east-chains-signing
public_key:
  description: The public key (PEM C(PUBLIC KEY)); empty after C(state=absent) and for a key pair that
    check mode reports would be made. Not a secret.
  returned: always
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...\n-----END PUBLIC KEY-----\n"
fingerprint:
  description: C(SHA256:<hex>) of the DER SubjectPublicKeyInfo of I(public_key), or empty.
  returned: always
  type: str
  sample: SHA256:7c5e0f2a6d1b9e3c4f8a0b2d6e1f3a5c7b9d0e2f4a6c8e0b1d3f5a7c9e1b3d5f
previous_public_key:
  description: The public key before the last rotation or replacement (C(cosign.pub.previous)), or empty.
  returned: always
  type: str
previous_fingerprint:
  description: Fingerprint of I(previous_public_key), or empty.
  returned: always
  type: str
created:
  description: When the current key pair was made (UTC, C(YYYY-MM-DDThh:mm:ssZ)), or empty.
  returned: always
  type: str
  sample: "2026-03-01T12:00:00Z"
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_argument_spec,
    cluster_module,
    hide,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.signing import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    HAS_NACL,
    NACL_IMPORT_ERROR,
    SigningError,
    SigningKey,
)


def argument_spec():
    return cluster_argument_spec(
        consumer=dict(type="str", required=True),
        purpose=dict(type="str", default="chains-signing"),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def failure(hub, manager, err):
    """One sentence naming the hub, the record and the cause."""
    cause = err.message if isinstance(err, ClusterError) else str(err)
    prefix = "cluster %s: " % hub.name
    if cause.startswith(prefix):
        cause = cause[len(prefix):]
    where = manager.where if manager else "signing key record"
    return "%s%s: %s" % (prefix, where, cause)


def main():
    module = cluster_module(argument_spec())
    if not HAS_NACL:
        module.fail_json(msg="%s (%s)" % (missing_required_lib("PyNaCl"), NACL_IMPORT_ERROR))
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg="%s (%s)" % (missing_required_lib("cryptography"), CRYPTOGRAPHY_IMPORT_ERROR))
    params = module.params
    hub = Cluster(module)
    manager = None
    try:
        manager = SigningKey(hub, params, check_mode=module.check_mode)
        result = manager.present(rotate=params["rotate"]) if params["state"] == "present" else manager.absent()
    except (ClusterError, SigningError) as err:
        hide(module, manager.secret_values if manager else [])
        module.fail_json(msg=failure(hub, manager, err), actions=manager.actions if manager else [])
    hide(module, manager.secret_values)
    for warning in manager.warnings:
        module.warn(warning)
    output = dict(changed=manager.changed, actions=manager.actions, **result)
    if module._diff:
        output["diff"] = dict(before=manager.before or {}, after=manager.after or {})
    module.exit_json(**output)


if __name__ == "__main__":
    main()
