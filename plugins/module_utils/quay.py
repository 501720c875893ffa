# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Quay REST client: the endpoints of Quay's API (api/v1) the collection uses and nothing more.

Authentication is an OAuth access token (Bearer) - Quay's API does not take passwords - given
directly or read from a Secret on the cluster the module connects to (the hub), so a token never
has to pass through Ansible variables. Several sources may be given; they are tried in order until
Quay accepts one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import SECRET_REF, read_secret_ref
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestClient, RestError

QUAY_OPTIONS = dict(
    endpoint=dict(type="str", required=True),
    ca=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    token=dict(type="str", no_log=True),
    token_secret=dict(type="dict", no_log=False, options=copy.deepcopy(SECRET_REF)),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)

QUAY_REGISTRY_API = "quay.redhat.com/v1"
# What Quay's /api/v1/user/initialize gives the first user's token (endpoints/web.py).
ADMIN_SCOPES = "org:admin repo:admin repo:create repo:read repo:write super:user user:admin user:read"


def quay_option(required=True):
    return dict(type="dict", required=required, options=copy.deepcopy(QUAY_OPTIONS))


def _path(*parts):
    return "/".join(quote(str(part), safe="+") for part in parts)


class Quay(object):
    """One Quay endpoint; `authenticate()` picks the first token Quay accepts."""

    def __init__(self, options, cluster=None, sleep=None):
        self.options = options
        self.cluster = cluster
        self.secret_values = []
        kwargs = dict(ca_pem=options.get("ca"), validate_certs=options.get("validate_certs", True),
                      timeout=options.get("timeout") or 30, retries=options.get("retries", 3))
        if sleep is not None:
            kwargs["sleep"] = sleep
        try:
            self.rest = RestClient("Quay", options["endpoint"], **kwargs)
        except ValueError as err:
            raise RestError("Quay: %s" % err)
        self.auth_source = None
        self.user_info = None
        self.token = None

    @property
    def endpoint(self):
        return self.rest.endpoint

    @property
    def hostname(self):
        """host[:port] as image references and docker configs name the registry (port 443 left out)."""
        host = self.endpoint.split("://", 1)[1]
        return host[:-4] if host.endswith(":443") else host

    # -- authentication -------------------------------------------------------
    def _read_secret(self, ref):
        value, problem = read_secret_ref(self.cluster, ref, "token")
        if value:
            self.secret_values.append(value)
        return value, problem

    def candidates(self):
        """(source, token or None, problem) for every credential given, in order."""
        opts = self.options
        if opts.get("token"):
            self.secret_values.append(opts["token"])
            yield "the token given", opts["token"], None
        if opts.get("token_secret"):
            ref = opts["token_secret"]
            value, problem = self._read_secret(ref)
            yield "the token in Secret %s/%s" % (ref["namespace"], ref["name"]), value, problem

    def has_credentials(self):
        return bool(self.options.get("token") or self.options.get("token_secret"))

    def authenticate(self):
        """Use the first token Quay accepts; returns Quay's view of its user."""
        problems = []
        for source, token, problem in self.candidates():
            if token is None:
                problems.append(problem)
                continue
            info = self.token_user(token)
            if info is None:
                problems.append("%s was refused (HTTP 401)" % source)
                continue
            self.use_token(token, source, info)
            return info
        if not problems:
            raise RestError("Quay %s: no credential given (token or token_secret)" % self.endpoint)
        raise RestError("Quay %s: authentication failed: %s" % (self.endpoint, "; ".join(problems)), 401)

    def use_token(self, token, source, info=None):
        if token not in self.secret_values:
            self.secret_values.append(token)
        self.rest.headers["Authorization"] = "Bearer " + token
        self.token = token
        self.auth_source = source
        self.user_info = info

    def token_user(self, token):
        """Quay's view of the user a token acts for; None when Quay refuses the token."""
        try:
            return self.rest.request("GET", "/api/v1/user/", headers={"Authorization": "Bearer " + token})[1]
        except RestError as err:
            if err.status == 401:
                return None
            if err.status == 403:  # a valid token without the user:read scope
                return {}
            raise

    def call(self, method, path, body=None, query=None, ok=(200, 201, 204)):
        return self.rest.request(method, path, body=body, query=query, ok=ok)[1]

    def _get_or_none(self, path, query=None):
        try:
            return self.call("GET", path, query=query, ok=(200,))
        except RestError as err:
            if err.status == 404:
                return None
            raise

    def _delete(self, path):
        """True if deleted, False if it was not there."""
        try:
            self.call("DELETE", path)
        except RestError as err:
            if err.status == 404:
                return False
            raise
        return True

    # -- unauthenticated ------------------------------------------------------
    def health(self):
        return self.rest.request("GET", "/health/instance", ok=(200,))[1]

    def initialize(self, username, password, email):
        """POST /api/v1/user/initialize: the first user and its token, only on an empty database."""
        return self.rest.request("POST", "/api/v1/user/initialize", body={
            "username": username, "password": password, "email": email, "access_token": True},
            ok=(200,))[1]

    # -- organizations ----------------------------------------------------------
    def organization(self, name):
        return self._get_or_none("/api/v1/organization/" + _path(name))

    def create_organization(self, name, email=None):
        body = {"name": name}
        if email:
            body["email"] = email
        return self.call("POST", "/api/v1/organization/", body)

    def delete_organization(self, name):
        return self._delete("/api/v1/organization/" + _path(name))

    # -- OAuth applications and their tokens --------------------------------------
    def applications(self, org):
        return self.call("GET", "/api/v1/organization/%s/applications" % _path(org)).get("applications") or []

    def application(self, org, name):
        for app in self.applications(org):
            if app.get("name") == name:
                return app
        return None

    def create_application(self, org, name, description=""):
        return self.call("POST", "/api/v1/organization/%s/applications" % _path(org),
                         {"name": name, "description": description, "redirect_uri": "", "application_uri": ""})

    def delete_application(self, org, client_id):
        return self._delete("/api/v1/organization/%s/applications/%s" % (_path(org), _path(client_id)))

    def app_tokens(self, org, client_id):
        return self.call("GET", "/api/v1/organization/%s/applications/%s/tokens"
                         % (_path(org), _path(client_id))).get("tokens") or []

    def create_app_token(self, org, client_id, name, scope, expiration=None):
        body = {"name": name, "scope": scope}
        if expiration:
            body["expiration"] = int(expiration)
        return self.call("POST", "/api/v1/organization/%s/applications/%s/tokens" % (_path(org), _path(client_id)),
                         body)

    def delete_app_token(self, org, client_id, uuid):
        return self._delete("/api/v1/organization/%s/applications/%s/tokens/%s"
                            % (_path(org), _path(client_id), _path(uuid)))

    # -- repositories -------------------------------------------------------------
    def repository(self, namespace, name):
        return self._get_or_none("/api/v1/repository/%s/%s" % (_path(namespace), _path(name)))

    def create_repository(self, namespace, name, visibility, description=""):
        return self.call("POST", "/api/v1/repository", {
            "namespace": namespace, "repository": name, "visibility": visibility,
            "description": description or "", "repo_kind": "image"})

    def change_visibility(self, namespace, name, visibility):
        return self.call("POST", "/api/v1/repository/%s/%s/changevisibility" % (_path(namespace), _path(name)),
                         {"visibility": visibility})

    def delete_repository(self, namespace, name):
        return self._delete("/api/v1/repository/%s/%s" % (_path(namespace), _path(name)))

    # -- robot accounts -----------------------------------------------------------
    def robot(self, org, short):
        try:
            return self._get_or_none("/api/v1/organization/%s/robots/%s" % (_path(org), _path(short)))
        except RestError as err:
            if err.status == 400:  # Quay answers 400 "Could not find robot with specified username"
                return None
            raise

    def create_robot(self, org, short, description=""):
        return self.call("PUT", "/api/v1/organization/%s/robots/%s" % (_path(org), _path(short)),
                         {"description": description or ""})

    def regenerate_robot(self, org, short):
        return self.call("POST", "/api/v1/organization/%s/robots/%s/regenerate" % (_path(org), _path(short)))

    def delete_robot(self, org, short):
        return self._delete("/api/v1/organization/%s/robots/%s" % (_path(org), _path(short)))

    def permission(self, namespace, repo, member):
        try:
            return self._get_or_none("/api/v1/repository/%s/%s/permissions/user/%s"
                                     % (_path(namespace), _path(repo), _path(member)))
        except RestError as err:
            if err.status == 400:  # Quay answers 400 when the member has no permission on the repository
                return None
            raise

    def set_permission(self, namespace, repo, member, role):
        return self.call("PUT", "/api/v1/repository/%s/%s/permissions/user/%s"
                         % (_path(namespace), _path(repo), _path(member)), {"role": role})


def _hostname(endpoint):
    """host[:port] of an endpoint URL, port 443 left out."""
    host = endpoint.split("://", 1)[-1].rstrip("/")
    return host[:-4] if host.endswith(":443") else host


def discover_registry(cluster, params):
    """A QuayRegistry on this cluster (quay_registry_info, the preflight): whether it exists and is Available, its
    endpoint (params endpoint, else status.registryEndpoint) and the CA to verify it with (params ca, else the
    ConfigMap params ca_configmap); a `problem` key while it is not usable. params: name, namespace, endpoint, ca,
    ca_configmap, quay_validate_certs."""
    name, namespace = params["name"], params["namespace"]
    info = {"exists": False, "available": False, "ca": params.get("ca") or ""}
    if not info["ca"]:
        ref = params["ca_configmap"]
        configmap = cluster.get("v1", "ConfigMap", ref["name"], ref["namespace"])
        info["ca"] = ((configmap or {}).get("data") or {}).get(ref.get("key") or "ca-bundle.crt") or ""
    registry = cluster.get(QUAY_REGISTRY_API, "QuayRegistry", name, namespace)
    if registry is None:
        info["problem"] = "QuayRegistry %s/%s does not exist" % (namespace, name)
        return info
    status = registry.get("status") or {}
    conditions = status.get("conditions") or []
    by_type = dict((c.get("type"), c) for c in conditions)
    available = by_type.get("Available", {})
    info.update(exists=True, conditions=conditions, version=status.get("currentVersion") or None,
                config_bundle_secret=(registry.get("spec") or {}).get("configBundleSecret"),
                available=available.get("status") == "True")
    endpoint = params.get("endpoint") or status.get("registryEndpoint")
    if endpoint:
        info["endpoint"] = endpoint if "://" in endpoint else "https://" + endpoint
        info["hostname"] = _hostname(info["endpoint"])
    if not info["available"]:
        said = [c for c in conditions if c.get("message") and c.get("type") != "Available"]
        info["problem"] = "QuayRegistry %s/%s is not available (%s)" % (
            namespace, name, "; ".join("%s: %s" % (c["type"], c["message"]) for c in said) or
            "Available: %s" % (available.get("message") or available.get("reason") or "not reported"))
    elif not endpoint:
        info["problem"] = "QuayRegistry %s/%s reports no registryEndpoint yet" % (namespace, name)
    elif params["quay_validate_certs"] and not info["ca"]:
        ref = params["ca_configmap"]
        info["problem"] = "no CA to verify Quay with: ConfigMap %s/%s has no %s; give ca" % (
            ref["namespace"], ref["name"], ref.get("key"))
    return info
