# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service-account credentials minted on one cluster for use on another, recorded on the hub.

The ServiceAccount, its RBAC and the token live on the target cluster; the record (server, CA,
token) lives in a labelled Secret on the recording cluster (the hub), so the credential is minted
once, reused while it is valid, replaced when it is not, and revoked on request:

* bound tokens come from the TokenRequest API, bound to a small "anchor" Secret: deleting the
  anchor revokes the token before it expires;
* long-lived tokens are service-account-token Secrets filled by the token controller; deleting
  that Secret revokes them.

Validity is checked with a TokenReview on the target (authenticated, as the right user) and
against the recorded expiry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import os
import re

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    ClusterError,
    managed_labels,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import WaitTimeout, poll

RBAC = "rbac.authorization.k8s.io/v1"
PURPOSE_LABEL = "devsecops.multicluster/purpose"
CLUSTER_LABEL = "devsecops.multicluster/cluster"
KIND_LABEL = "devsecops.multicluster/credential"
ANNOTATION = "devsecops.multicluster/"
MIN_DURATION = 600


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(stamp):
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def parse_rfc3339(text):
    """A product's RFC 3339 timestamp (with or without fractions, Z or +00:00) -> aware datetime, or None."""
    if not text:
        return None
    text = re.sub(r"\.\d+", "", text).replace("+00:00", "Z")
    return parse_time(text)


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def unb64(text):
    return base64.b64decode(text or "").decode("utf-8")


def fingerprint(token):
    """A short, non-reversible identifier of a token, safe to log and compare."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def ensure_namespace(cluster, name):
    """Create the namespace (labelled as ours) unless it exists. Several clusters' runs write records on the
    hub at the same time: a namespace another run created in between (HTTP 409) is there, not a failure."""
    if cluster.get("v1", "Namespace", name) is not None:
        return False
    try:
        cluster.create("v1", "Namespace", {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": name, "labels": managed_labels()}})
    except ClusterError as err:
        if err.details.get("status") == 409:
            return False
        raise
    return True


# Options naming a Secret whose key holds a credential (the token, the password of a product's API).
SECRET_REF = dict(
    namespace=dict(type="str", required=True),
    name=dict(type="str", required=True),
    key=dict(type="str", no_log=False),
)


def read_secret_ref(cluster, ref, default_key):
    """(value, None) from a SECRET_REF on the cluster, or (None, why not)."""
    key = ref.get("key") or default_key
    where = "Secret %s/%s" % (ref["namespace"], ref["name"])
    if cluster is None:
        return None, "cannot read %s: no cluster connection" % where
    secret = cluster.get("v1", "Secret", ref["name"], ref["namespace"])
    if secret is None:
        return None, "%s does not exist on cluster %s" % (where, cluster.name)
    value = unb64((secret.get("data") or {}).get(key))
    if not value:
        return None, "%s on cluster %s has no key %s" % (where, cluster.name, key)
    return value, None


def record_body(namespace, name, purpose, cluster, kind, annotations, data, secret_type="Opaque"):
    """A labelled record Secret on the hub (DESIGN section 5)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": secret_type,
            "metadata": {"name": name, "namespace": namespace,
                         "labels": managed_labels({PURPOSE_LABEL: purpose, CLUSTER_LABEL: cluster, KIND_LABEL: kind}),
                         "annotations": annotations},
            "data": data}


def annotation(record, key, default=None):
    """One of the collection's annotations of a record (None-safe)."""
    return ((record or {}).get("metadata", {}).get("annotations") or {}).get(ANNOTATION + key, default)


def write_record(hub, old, body):
    """Create the record, or set its labels and replace its annotations and data (a merge patch: None removes a
    key); the namespace is created if needed."""
    meta = body["metadata"]
    ensure_namespace(hub, meta["namespace"])
    if old is None:
        return hub.create("v1", "Secret", body, meta["namespace"])
    patch = {"metadata": {"labels": meta["labels"], "annotations": meta["annotations"]}, "data": body["data"]}
    return hub.patch("v1", "Secret", meta["name"], patch, meta["namespace"])


class CredentialSpec(object):
    def __init__(self, params, target_name):
        self.purpose = params["purpose"]
        self.cluster = target_name
        self.service_account = params.get("service_account") or "devsecops-multicluster-%s" % self.purpose
        self.namespace = params.get("namespace") or "devsecops-multicluster"
        self.cluster_role = params.get("cluster_role")
        self.rules = params.get("rules")
        if bool(self.cluster_role) == bool(self.rules):
            raise ValueError("give exactly one of cluster_role (bind an existing ClusterRole) or rules "
                             "(a ClusterRole of the module's own)")
        self.role_name = self.cluster_role or "devsecops-multicluster-%s" % self.purpose
        self.token_type = params.get("token_type") or "bound"
        self.duration = int(params.get("duration") or 3600)
        if self.token_type == "bound" and self.duration < MIN_DURATION:
            raise ValueError("duration must be at least %d seconds (TokenRequest minimum)" % MIN_DURATION)
        self.renew_before = int(params["renew_before"]) if params.get("renew_before") is not None \
            else self.duration // 3
        self.record_namespace = params.get("record_namespace") or "devsecops-multicluster"
        self.record_name = params.get("record_name") or "%s-%s" % (self.cluster, self.purpose)
        self.server = params.get("server")

    @property
    def username(self):
        return "system:serviceaccount:%s:%s" % (self.namespace, self.service_account)

    def labels(self):
        return managed_labels({PURPOSE_LABEL: self.purpose, CLUSTER_LABEL: self.cluster})


class CredentialMinter(object):
    """Ensures one recorded, valid credential of one purpose for one target cluster."""

    def __init__(self, hub, target, spec, check_mode=False, wait_timeout=60):
        self.hub = hub
        self.target = target
        self.spec = spec
        self.check_mode = check_mode
        self.wait_timeout = wait_timeout
        self.changed = False
        self.actions = []
        self.secret_values = []

    def _record_action(self, text):
        self.changed = True
        self.actions.append(text)

    def _where(self):
        return "cluster %s: %s credential for %s" % (self.hub.name, self.spec.purpose, self.target.name)

    # -- target side: identity and rights -------------------------------------
    def _ensure(self, api_version, kind, body, namespace=None, compare=None):
        name = body["metadata"]["name"]
        current = self.target.get(api_version, kind, name, namespace)
        if current is None:
            self._record_action("create %s %s on %s" % (kind, name, self.target.name))
            if not self.check_mode:
                self.target.create(api_version, kind, body, namespace)
            return
        if compare:
            wanted = dict((k, body[k]) for k in compare)
            if any(current.get(k) != v for k, v in wanted.items()):
                self._record_action("update %s %s on %s" % (kind, name, self.target.name))
                if not self.check_mode:
                    self.target.patch(api_version, kind, name, wanted, namespace)

    def ensure_identity(self):
        spec = self.spec
        labels = spec.labels()
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": spec.namespace, "labels": managed_labels()}}
        account = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": spec.service_account, "namespace": spec.namespace, "labels": labels}}
        self._ensure("v1", "Namespace", namespace)
        self._ensure("v1", "ServiceAccount", account, namespace=spec.namespace)
        if spec.rules:
            self._ensure(RBAC, "ClusterRole", {"apiVersion": RBAC, "kind": "ClusterRole",
                                               "metadata": {"name": spec.role_name, "labels": labels},
                                               "rules": spec.rules}, compare=["rules"])
        self._ensure(RBAC, "ClusterRoleBinding", {
            "apiVersion": RBAC, "kind": "ClusterRoleBinding",
            "metadata": {"name": "devsecops-multicluster-%s" % spec.purpose, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": spec.role_name},
            "subjects": [{"kind": "ServiceAccount", "name": spec.service_account, "namespace": spec.namespace}],
        }, compare=["subjects"])

    # -- the record on the hub --------------------------------------------------
    def record(self):
        return self.hub.get("v1", "Secret", self.spec.record_name, self.spec.record_namespace)

    def check(self, record):
        """Why the recorded credential cannot be reused (None: it can)."""
        if record is None:
            return "no credential is recorded"
        data = record.get("data") or {}
        annotations = record.get("metadata", {}).get("annotations") or {}
        token = unb64(data.get("token"))
        if not token:
            return "the record holds no token"
        self.secret_values.append(token)
        expires = parse_time(annotations.get(ANNOTATION + "expires"))
        if expires is not None and expires - datetime.timedelta(seconds=self.spec.renew_before) <= utcnow():
            return "the token expires at %s (renewal window %ds)" % (iso(expires), self.spec.renew_before)
        wanted_server = self.spec.server or self.target.server
        if unb64(data.get("server")) != wanted_server:
            return "the record points at %s, not %s" % (unb64(data.get("server")), wanted_server)
        recorded_type = annotations.get(ANNOTATION + "token-type")
        if recorded_type != self.spec.token_type:
            return "the recorded token is %s, %s is wanted" % (recorded_type, self.spec.token_type)
        review = self.target.create("authentication.k8s.io/v1", "TokenReview", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
        status = review.get("status") or {}
        if not status.get("authenticated"):
            return "the target no longer accepts the token (revoked, expired or the service account is gone)"
        if (status.get("user") or {}).get("username") != self.spec.username:
            return "the token belongs to %s, not %s" % ((status.get("user") or {}).get("username"), self.spec.username)
        return None

    # -- minting ------------------------------------------------------------------
    def _mint_bound(self):
        spec = self.spec
        anchor_name = "%s-%s" % (spec.service_account, os.urandom(3).hex())
        anchor = self.target.create("v1", "Secret", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": anchor_name, "namespace": spec.namespace, "labels": spec.labels(),
                         "annotations": {ANNOTATION + "anchor-of": spec.service_account}},
            "data": {}}, spec.namespace)
        request = self.target.create_subresource("v1", "ServiceAccount", spec.service_account, "token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": spec.duration, "audiences": [],
                     "boundObjectRef": {"apiVersion": "v1", "kind": "Secret", "name": anchor_name,
                                        "uid": anchor["metadata"]["uid"]}}}, spec.namespace)
        status = request.get("status") or {}
        return status.get("token"), status.get("expirationTimestamp"), anchor_name

    def _mint_long_lived(self):
        spec = self.spec
        name = "%s-token-%s" % (spec.service_account, os.urandom(3).hex())
        self.target.create("v1", "Secret", {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "namespace": spec.namespace, "labels": spec.labels(),
                         "annotations": {"kubernetes.io/service-account.name": spec.service_account}}},
            spec.namespace)

        def filled():
            secret = self.target.get("v1", "Secret", name, spec.namespace) or {}
            token = unb64((secret.get("data") or {}).get("token"))
            return bool(token), token

        try:
            token, _elapsed = poll(filled, self.wait_timeout, 2)
        except WaitTimeout:
            self.target.delete("v1", "Secret", name, spec.namespace)
            raise ClusterError("cluster %s: the token controller did not fill Secret %s/%s within %ds; is the "
                               "service-account token controller running?" % (self.target.name, spec.namespace,
                                                                              name, self.wait_timeout))
        return token, None, name

    def _ca_pem(self):
        path = getattr(self.target.client.configuration, "ssl_ca_cert", None)
        if path and os.path.exists(path):
            with open(path) as handle:
                return handle.read()
        return ""

    def mint(self, reason, old=None):
        """Mint, record, then revoke what the old record pointed at."""
        self._record_action("mint a %s token for %s (%s)" % (self.spec.token_type, self.spec.username, reason))
        if self.check_mode:
            return None
        if self.spec.token_type == "bound":
            token, expires, holder = self._mint_bound()
        else:
            token, expires, holder = self._mint_long_lived()
        self.secret_values.append(token)
        server = self.spec.server or self.target.server
        annotations = {ANNOTATION + "token-type": self.spec.token_type,
                       ANNOTATION + "minted": iso(utcnow()),
                       ANNOTATION + "expires": expires or "",
                       ANNOTATION + "holder": holder,
                       ANNOTATION + "service-account": "%s/%s" % (self.spec.namespace, self.spec.service_account),
                       ANNOTATION + "fingerprint": fingerprint(token),
                       ANNOTATION + "reason": reason}
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": self.spec.record_name, "namespace": self.spec.record_namespace,
                             "labels": dict(self.spec.labels(), **{KIND_LABEL: "service-account-token"}),
                             "annotations": annotations},
                "data": {"server": b64(server), "ca.crt": b64(self._ca_pem()), "token": b64(token),
                         "cluster": b64(self.spec.cluster)}}
        ensure_namespace(self.hub, self.spec.record_namespace)
        if old is None:
            self.hub.create("v1", "Secret", body, self.spec.record_namespace)
        else:
            self.hub.patch("v1", "Secret", self.spec.record_name, {"metadata": {"annotations": annotations},
                                                                   "data": body["data"]},
                           self.spec.record_namespace)
            self.revoke_holder(old)
        return fingerprint(token)

    def revoke_holder(self, record):
        holder = ((record or {}).get("metadata", {}).get("annotations") or {}).get(ANNOTATION + "holder")
        if holder:
            self._record_action("revoke the previous token (delete Secret %s/%s on %s)"
                                % (self.spec.namespace, holder, self.target.name))
            if not self.check_mode:
                self.target.delete("v1", "Secret", holder, self.spec.namespace)

    # -- entry points -----------------------------------------------------------
    def present(self, rotate=False):
        self.ensure_identity()
        record = self.record()
        problem = "rotation requested" if rotate else self.check(record)
        result = {"record": "%s/%s" % (self.spec.record_namespace, self.spec.record_name),
                  "service_account": self.spec.username, "token_type": self.spec.token_type}
        if problem is None:
            annotations = record["metadata"].get("annotations") or {}
            result.update(fingerprint=annotations.get(ANNOTATION + "fingerprint"),
                          expires=annotations.get(ANNOTATION + "expires") or None, reused=True)
            return result
        result["fingerprint"] = self.mint(problem, old=record)
        result.update(reused=False, reason=problem)
        new = None if self.check_mode else self.record()
        if new:
            result["expires"] = (new["metadata"].get("annotations") or {}).get(ANNOTATION + "expires") or None
        return result

    def absent(self):
        record = self.record()
        if record is not None:
            self.revoke_holder(record)
            self._record_action("delete record %s/%s" % (self.spec.record_namespace, self.spec.record_name))
            if not self.check_mode:
                self.hub.delete("v1", "Secret", self.spec.record_name, self.spec.record_namespace)
        selector = "%s=%s" % (PURPOSE_LABEL, self.spec.purpose)
        for secret in self.target.list("v1", "Secret", namespace=self.spec.namespace, label_selector=selector) \
                if self.target.get("v1", "Namespace", self.spec.namespace) else []:
            self._record_action("delete Secret %s/%s on %s" % (self.spec.namespace, secret["metadata"]["name"],
                                                               self.target.name))
            if not self.check_mode:
                self.target.delete("v1", "Secret", secret["metadata"]["name"], self.spec.namespace)
        for api, kind, name, ns in (
                (RBAC, "ClusterRoleBinding", "devsecops-multicluster-%s" % self.spec.purpose, None),
                (RBAC, "ClusterRole", self.spec.role_name if self.spec.rules else None, None),
                ("v1", "ServiceAccount", self.spec.service_account, self.spec.namespace)):
            if name and self.target.get(api, kind, name, ns) is not None:
                self._record_action("delete %s %s on %s" % (kind, name, self.target.name))
                if not self.check_mode:
                    self.target.delete(api, kind, name, ns)
        return {"record": "%s/%s" % (self.spec.record_namespace, self.spec.record_name),
                "service_account": self.spec.username}
