#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: harbor_admin_password
short_description: Harbor's admin password, minted once, recorded on the hub, rotatable
version_added: 1.0.0
author:
  - devsecops.multicluster contributors (@devsecops-multicluster)
description:
  - Keeps the password of a Harbor user - the admin, I(harbor.username) - in a labelled Secret on the cluster the
    module connects to (the hub), key C(password) (and C(username)). Copy it into the Secret the Harbor chart
    reads (C(existingSecretAdminPassword)) with M(devsecops.multicluster.secret_sync).
  - Without a record, a new password is minted and recorded - 32 random letters and digits from Python's
    C(secrets) module, always with an upper-case letter, a lower-case letter and a digit, as Harbor requires
    (8 to 128 characters). Harbor is not asked; it takes the password at its first start from the chart's
    Secret.
  - A later run reuses the recorded password and writes nothing (Harbor is not asked either). A record written
    before the collection kept the C(devsecops.multicluster/credential) label and the C(minted) and
    C(fingerprint) annotations gets them once, with its password unchanged.
  - I(rotate=true) logs in to Harbor with the recorded password, writes a new password into the record as
    C(pending), changes it in Harbor with C(PUT /api/v2.0/users/{user_id}/password), then records it as the
    password (annotations C(minted) and C(rotated)). If the run stops in between, the next run finds the
    pending password and asks Harbor which of the two it accepts, then records that one, so a password Harbor
    may hold is never lost. When Harbor refuses the change or cannot be reached, the task fails with the
    cause and the record keeps the password Harbor has. Without a record, I(rotate=true) just mints.
  - The password options of I(harbor) (I(harbor.password), I(harbor.password_secret)) are not used - the
    module logs in with the passwords its record holds.
  - C(state=absent) deletes the record (the copies made from it are not touched).
  - No password is ever returned; results and the diff carry fingerprints only.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - devsecops.multicluster.cluster
  - devsecops.multicluster.harbor
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written and Harbor's password is not changed. A rotation still logs in to Harbor (a
      read), so a rotation that would fail fails in check mode too. A password that would be minted is reported
      with an empty I(fingerprint).
  diff_mode:
    support: full
    details: The fingerprint of the recorded password and whether a pending one is recorded.
  platform:
    platforms: kubernetes
options:
  consumer:
    description: The cluster Harbor runs on (its inventory name); labels the record and names it by default.
    type: str
    required: true
  record_namespace:
    description: Namespace of the record on the hub (created if missing).
    type: str
    default: devsecops-multicluster
  record_name:
    description: Name of the record. Default C(<consumer>-harbor-admin).
    type: str
  rotate:
    description:
      - Change the password in Harbor to a new one and record it.
      - Every run with I(rotate=true) rotates; make the task conditional.
    type: bool
    default: false
  state:
    description: C(present) ensures a recorded password; C(absent) deletes the record.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0
seealso:
  - module: devsecops.multicluster.secret_sync
  - module: devsecops.multicluster.harbor_info
  - name: Harbor API (PUT /users/{user_id}/password)
    description: Harbor 2.12's swagger.
    link: https://github.com/goharbor/harbor/blob/v2.12.3/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: The admin password of prod-east's Harbor, recorded on the hub
  devsecops.multicluster.harbor_admin_password:
    harbor:
      endpoint: harbor.apps.prod-east.example.com
      ca: "{{ ingress_ca }}"
    consumer: prod-east
  no_log: true

- name: Give it to the chart on prod-east
  devsecops.multicluster.secret_sync:
    source_namespace: devsecops-multicluster
    source_name: prod-east-harbor-admin
    namespace: harbor
    name: harbor-admin
    keys:
      HARBOR_ADMIN_PASSWORD: password
    target:
      kubeconfig: "{{ hostvars['prod-east'].cluster_kubeconfig }}"
      context: "{{ hostvars['prod-east'].cluster_context }}"
      cluster_name: prod-east
  no_log: true

- name: Rotate it (then copy it again as above)
  devsecops.multicluster.harbor_admin_password:
    harbor:
      endpoint: harbor.apps.prod-east.example.com
      ca: "{{ ingress_ca }}"
    consumer: prod-east
    rotate: true
  when: rotate_harbor_password | default(false) | bool

- name: Delete the record
  devsecops.multicluster.harbor_admin_password:
    harbor:
      endpoint: harbor.apps.prod-east.example.com
    consumer: prod-east
    state: absent
"""

RETURN = r"""
record:
  description: C(namespace/name) of the record on the hub.
  returned: always
  type: str
  sample: devsecops-multicluster/prod-east-harbor-admin
username:
  description: The Harbor user whose password the record keeps.
  returned: always
  type: str
  sample: admin
fingerprint:
  description: A short SHA-256 fingerprint of the recorded password, to tell passwords apart without revealing
    them; empty after C(state=absent) and for a password that check mode reports would be minted.
  returned: always
  type: str
  sample: 3f9a0c1d7b2e
minted:
  description: When the recorded password was minted or rotated in (UTC, C(YYYY-MM-DDThh:mm:ssZ)), or empty.
  returned: always
  type: str
  sample: "2026-03-01T12:00:00Z"
rotated:
  description: When the password was last rotated, or empty.
  returned: always
  type: str
  sample: "2026-06-01T12:00:00Z"
reused:
  description: Whether the recorded password was kept (nothing minted, rotated or settled).
  returned: always
  type: bool
reason:
  description: Why a password was minted, rotated, settled or the record relabelled; empty when nothing was to do.
  returned: always
  type: str
  sample: no password is recorded
actions:
  description: Changes made (or that would be made in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import cluster_argument_spec
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, harbor_option
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import AdminPassword
from ansible_collections.devsecops.multicluster.plugins.module_utils.product import manager_work, product_main


def argument_spec():
    return cluster_argument_spec(
        harbor=harbor_option(),
        consumer=dict(type="str", required=True),
        record_namespace=dict(type="str", default="devsecops-multicluster"),
        record_name=dict(type="str"),
        rotate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    product_main(argument_spec(), "harbor", Harbor, manager_work(AdminPassword, None, diff=True), authenticate=False)


if __name__ == "__main__":
    main()
