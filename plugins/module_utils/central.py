# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACS (StackRox) Central REST client: the endpoints the collection uses and nothing more.

Paths and payloads follow Central's API (api/v1 cluster_init_service, api_token_service,
clusters_service). Authentication is an API token (Bearer) or the admin password (Basic), given
directly or read from Secrets on the cluster the module connects to - so a password or token
never has to pass through Ansible variables. Several sources may be given: they are tried in
order until Central accepts one (a revoked automation token falls back to the admin password).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import SECRET_REF, read_secret_ref, unb64
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestClient, RestError

CENTRAL_OPTIONS = dict(
    endpoint=dict(type="str", required=True),
    ca=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    token=dict(type="str", no_log=True),
    username=dict(type="str", default="admin"),
    password=dict(type="str", no_log=True),
    token_secret=dict(type="dict", no_log=False, options=copy.deepcopy(SECRET_REF)),
    password_secret=dict(type="dict", no_log=False, options=copy.deepcopy(SECRET_REF)),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)

CRS_UNSUPPORTED = (404, 405, 501)
CENTRAL_API = "platform.stackrox.io/v1alpha1"


def central_option(required=True):
    return dict(type="dict", required=required, options=copy.deepcopy(CENTRAL_OPTIONS))


class Central(object):
    """One Central endpoint, authenticated."""

    def __init__(self, options, cluster=None, sleep=None):
        self.options = options
        self.cluster = cluster
        self.secret_values = []
        kwargs = dict(ca_pem=options.get("ca"), validate_certs=options.get("validate_certs", True),
                      timeout=options.get("timeout") or 30, retries=options.get("retries", 3))
        if sleep is not None:
            kwargs["sleep"] = sleep
        try:
            self.rest = RestClient("Central", options["endpoint"], **kwargs)
        except ValueError as err:
            raise RestError("Central: %s" % err)
        self.auth_source = None

    @property
    def endpoint(self):
        return self.rest.endpoint

    # -- authentication -------------------------------------------------------
    def _read_secret(self, ref, default_key):
        if self.cluster is None:
            raise RestError("Central %s: cannot read Secret %s/%s: no cluster connection"
                            % (self.endpoint, ref["namespace"], ref["name"]))
        value, problem = read_secret_ref(self.cluster, ref, default_key)
        if value:
            self.secret_values.append(value)
        return value, problem

    def _candidates(self):
        opts = self.options
        if opts.get("token"):
            self.secret_values.append(opts["token"])
            yield "the token given", {"Authorization": "Bearer " + opts["token"]}, None
        if opts.get("password"):
            self.secret_values.append(opts["password"])
            yield "the password given", self._basic(opts["password"]), None
        if opts.get("token_secret"):
            ref = opts["token_secret"]
            value, problem = self._read_secret(ref, "token")
            yield ("the token in Secret %s/%s" % (ref["namespace"], ref["name"]),
                   {"Authorization": "Bearer " + value} if value else None, problem)
        if opts.get("password_secret"):
            ref = opts["password_secret"]
            value, problem = self._read_secret(ref, "password")
            yield ("the password in Secret %s/%s" % (ref["namespace"], ref["name"]),
                   self._basic(value) if value else None, problem)

    def _basic(self, password):
        pair = "%s:%s" % (self.options.get("username") or "admin", password)
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self.secret_values.append(encoded)
        return {"Authorization": "Basic " + encoded}

    def authenticate(self):
        """Use the first credential Central accepts; returns what /v1/auth/status says."""
        problems = []
        for source, headers, problem in self._candidates():
            if headers is None:
                problems.append(problem)
                continue
            try:
                _status, info = self.rest.request("GET", "/v1/auth/status", headers=headers)
            except RestError as err:
                if err.status in (401, 403):
                    problems.append("%s was refused (HTTP %s)" % (source, err.status))
                    continue
                raise
            self.rest.headers.update(headers)
            self.auth_source = source
            return info
        if not problems:
            raise RestError("Central %s: no credential given (token, password, token_secret or password_secret)"
                            % self.endpoint)
        raise RestError("Central %s: authentication failed: %s" % (self.endpoint, "; ".join(problems)), 401)

    def call(self, method, path, body=None, query=None, ok=(200,)):
        return self.rest.request(method, path, body=body, query=query, ok=ok)[1]

    # -- unauthenticated ------------------------------------------------------
    def metadata(self):
        return self.call("GET", "/v1/metadata")

    # -- init bundles and cluster registration secrets ----------------------------
    def init_bundles(self):
        return self.call("GET", "/v1/cluster-init/init-bundles").get("items") or []

    def generate_init_bundle(self, name):
        return self.call("POST", "/v1/cluster-init/init-bundles", {"name": name})

    def revoke_init_bundles(self, ids, confirm_cluster_ids):
        return self.call("PATCH", "/v1/cluster-init/init-bundles/revoke",
                         {"ids": list(ids), "confirmImpactedClustersIds": list(confirm_cluster_ids)})

    def crs_listing(self):
        """The cluster registration secrets, or None where this Central does not serve them (before ACS 4.7)."""
        try:
            return self.list_crs()
        except RestError as err:
            if err.status in CRS_UNSUPPORTED:
                return None
            raise

    def list_crs(self):
        return self.call("GET", "/v1/cluster-init/crs").get("items") or []

    def generate_crs(self, name, valid_for_seconds=None, max_registrations=None):
        body = {"name": name}
        if valid_for_seconds:
            body["validFor"] = "%ds" % valid_for_seconds
        if max_registrations:
            body["maxRegistrations"] = str(max_registrations)
        if len(body) == 1:
            return self.call("POST", "/v1/cluster-init/crs", body)
        return self.call("POST", "/v1/cluster-init/crs-extended", body)

    def revoke_crs(self, ids):
        return self.call("PATCH", "/v1/cluster-init/crs/revoke", {"ids": list(ids)})

    # -- API tokens -------------------------------------------------------------
    def api_tokens(self, revoked=False):
        return self.call("GET", "/v1/apitokens", query={"revoked": "true" if revoked else "false"}).get("tokens") or []

    def api_token(self, token_id):
        try:
            return self.call("GET", "/v1/apitokens/%s" % token_id)
        except RestError as err:
            if err.status == 404:
                return None
            raise

    def generate_token(self, name, roles, expiration=None):
        body = {"name": name, "roles": list(roles)}
        if expiration:
            body["expiration"] = expiration
        return self.call("POST", "/v1/apitokens/generate", body)

    def revoke_token(self, token_id):
        try:
            self.call("PATCH", "/v1/apitokens/revoke/%s" % token_id)
        except RestError as err:
            if err.status == 404:
                return False
            raise
        return True

    def token_status(self, token):
        """What Central says about a token used on its own (None when it is refused)."""
        try:
            return self.rest.request("GET", "/v1/auth/status",
                                     headers={"Authorization": "Bearer " + token})[1]
        except RestError as err:
            if err.status in (401, 403):
                return None
            raise

    # -- secured clusters ---------------------------------------------------------
    def clusters(self):
        return self.call("GET", "/v1/clusters").get("clusters") or []

    def find_cluster(self, name):
        for cluster in self.clusters():
            if cluster.get("name") == name:
                return cluster
        return None

    def delete_cluster(self, cluster_id):
        self.call("DELETE", "/v1/clusters/%s" % cluster_id)


def health(cluster):
    """A cluster's health in one dict (None: Central does not know the cluster)."""
    if not cluster:
        return None
    status = cluster.get("healthStatus") or {}
    return {
        "id": cluster.get("id"),
        "name": cluster.get("name"),
        "overall": status.get("overallHealthStatus") or "UNINITIALIZED",
        "sensor": status.get("sensorHealthStatus") or "UNINITIALIZED",
        "collector": status.get("collectorHealthStatus") or "UNINITIALIZED",
        "admission_control": status.get("admissionControlHealthStatus") or "UNINITIALIZED",
        "last_contact": status.get("lastContact") or (cluster.get("status") or {}).get("lastContact"),
        "registered_with": cluster.get("initBundleId") or None,
        "sensor_version": (cluster.get("status") or {}).get("sensorVersion"),
    }


def _conditions(obj):
    """A resource's status conditions by type."""
    return dict((c.get("type"), c) for c in (obj.get("status") or {}).get("conditions") or [])


def discover_central(cluster, params):
    """Central on this cluster (acs_central_info, the preflight): its resource, whether it is Deployed, its endpoint
    (params endpoint, else the Route 'central' host with params port) and CA (params ca, else central-tls ca.pem);
    a `problem` key while it is not usable. params: namespace, endpoint, port, ca."""
    namespace = params["namespace"]
    centrals = cluster.list(CENTRAL_API, "Central", namespace=namespace)
    info = {"deployed": False, "ca": params.get("ca") or "", "password_secret": None}
    if not centrals:
        info["problem"] = "no Central resource in namespace %s" % namespace
        return info
    central = centrals[0]
    spec = (central.get("spec") or {}).get("central") or {}
    conditions = _conditions(central)
    deployed = conditions.get("Deployed", {})
    info["central"] = {"name": central["metadata"]["name"], "productVersion": (central.get("status") or {}).get(
        "productVersion"), "conditions": list(conditions.values())}
    info["deployed"] = deployed.get("status") == "True"
    secret_name = (spec.get("adminPasswordSecret") or {}).get("name") or "central-htpasswd"
    info["password_secret"] = {"namespace": namespace, "name": secret_name, "key": "password"}
    if not info["deployed"]:
        failed = [c for c in conditions.values() if c.get("type") in ("ReleaseFailed", "Irreconcilable")
                  and c.get("status") == "True"]
        info["problem"] = "Central %s/%s is not deployed yet (%s)" % (
            namespace, central["metadata"]["name"],
            "; ".join("%s: %s" % (c["type"], c.get("message") or c.get("reason")) for c in failed) or
            "Deployed: %s" % (deployed.get("reason") or deployed.get("status") or "not reported"))
        return info
    if params.get("endpoint"):
        info["endpoint"] = params["endpoint"]
    else:
        route = cluster.get("route.openshift.io/v1", "Route", "central", namespace)
        host = (route or {}).get("spec", {}).get("host")
        if not host:
            info["problem"] = ("Central %s/%s has no Route 'central' with a host; enable "
                               "spec.central.exposure.route or give endpoint" % (namespace, central["metadata"]["name"]))
            return info
        info["endpoint"] = "%s:%d" % (host, params["port"])
    if not info["ca"]:
        secret = cluster.get("v1", "Secret", "central-tls", namespace)
        info["ca"] = unb64(((secret or {}).get("data") or {}).get("ca.pem"))
        if not info["ca"]:
            info["problem"] = "Secret %s/central-tls has no ca.pem yet" % namespace
    return info
