# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Harbor REST client: the endpoints of Harbor's API (api/v2.0, Harbor 2.12) the collection uses and
nothing more.

Authentication is HTTP Basic as a Harbor user, by default C(admin): the password is given, or read
from a Secret on the cluster the module connects to - by default key C(HARBOR_ADMIN_PASSWORD), what the
Helm chart's C(existingSecretAdminPassword) Secret holds - so a password never has to pass through
Ansible variables. Several sources may be given; they are tried in order until Harbor accepts one
(C(GET /api/v2.0/users/current)).

Paths, payloads and status codes follow Harbor 2.12's swagger (api/v2.0/swagger.yaml): scanner
registrations (C(/scanners), C(/scanners/ping), C(PATCH /scanners/{id}) to set the system default),
projects addressed by name (header C(X-Is-Resource-Name: true)) with their string metadata, the
project-level scanner, the scan-all schedule and a user's password (C(PUT /users/{user_id}/password)).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import SECRET_REF, read_secret_ref
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestClient, RestError

HARBOR_OPTIONS = dict(
    endpoint=dict(type="str", required=True),
    ca=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    username=dict(type="str", default="admin"),
    password=dict(type="str", no_log=True),
    password_secret=dict(type="dict", no_log=False, options=copy.deepcopy(SECRET_REF)),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)

API = "/api/v2.0"
# The key of the chart's existingSecretAdminPassword Secret (existingSecretAdminPasswordKey's default).
PASSWORD_KEY = "HARBOR_ADMIN_PASSWORD"
# Harbor's built-in scanner: registered by core at every start when the chart's trivy.enabled is true,
# immutable (its update and delete answer 403) and a reserved name for new registrations (400).
TRIVY = "Trivy"
PAGE_SIZE = 100  # Harbor's largest page
BY_NAME = {"X-Is-Resource-Name": "true"}


def harbor_option(required=True):
    return dict(type="dict", required=required, options=copy.deepcopy(HARBOR_OPTIONS))


def _name(text):
    return quote(str(text), safe="")


def scanner_url(url):
    """A scanner adapter URL as Harbor stores it (lib.ValidateHTTPURL): trimmed, no trailing slash,
    http:// when no scheme is given, no query or fragment."""
    text = (url or "").strip().rstrip("/")
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    return "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)


class _Rest(RestClient):
    """The shared REST base, keeping the headers of the last answer (for Location)."""

    last_headers = None

    def _open(self, method, url, data, headers):
        response = super(_Rest, self)._open(method, url, data, headers)
        self.last_headers = getattr(response, "headers", None)
        return response


class Harbor(object):
    """One Harbor endpoint; `authenticate()` picks the first password Harbor accepts."""

    def __init__(self, options, cluster=None, sleep=None):
        self.options = options
        self.cluster = cluster
        self.secret_values = []
        kwargs = dict(ca_pem=options.get("ca"), validate_certs=options.get("validate_certs", True),
                      timeout=options.get("timeout") or 30, retries=options.get("retries", 3))
        if sleep is not None:
            kwargs["sleep"] = sleep
        try:
            self.rest = _Rest("Harbor", options["endpoint"], **kwargs)
        except ValueError as err:
            raise RestError("Harbor: %s" % err)
        self.username = options.get("username") or "admin"
        self.auth_source = None
        self.user = None

    @property
    def endpoint(self):
        return self.rest.endpoint

    # -- authentication -------------------------------------------------------
    def _basic(self, password):
        encoded = base64.b64encode(("%s:%s" % (self.username, password)).encode("utf-8")).decode("ascii")
        self.secret_values.extend([password, encoded])
        return {"Authorization": "Basic " + encoded}

    def candidates(self):
        """(source, headers or None, problem) for every credential given, in order."""
        opts = self.options
        if opts.get("password"):
            yield "the password given", self._basic(opts["password"]), None
        if opts.get("password_secret"):
            ref = opts["password_secret"]
            value, problem = read_secret_ref(self.cluster, ref, PASSWORD_KEY)
            yield ("the password in Secret %s/%s" % (ref["namespace"], ref["name"]),
                   self._basic(value) if value else None, problem)

    def has_credentials(self):
        return bool(self.options.get("password") or self.options.get("password_secret"))

    def _login(self, source, headers):
        """Harbor's view of the user these headers authenticate (and use them from now on), or the HTTP status
        of the refusal (401, 403); other failures raise."""
        try:
            user = self.rest.request("GET", API + "/users/current", headers=headers, ok=(200,))[1]
        except RestError as err:
            if err.status in (401, 403):
                return None, err.status
            raise
        self.rest.headers.update(headers)
        self.auth_source = source
        self.user = user if isinstance(user, dict) else {}
        return self.user, None

    def login(self, password, source):
        """Use this password if Harbor accepts it: Harbor's view of the user, or None when Harbor refuses it."""
        return self._login(source, self._basic(password))[0]

    def authenticate(self):
        """Use the first password Harbor accepts; returns Harbor's view of the user."""
        problems = []
        for source, headers, problem in self.candidates():
            if headers is None:
                problems.append(problem)
                continue
            user, refused = self._login(source, headers)
            if user is None:
                problems.append("%s for user %s was refused (HTTP %s)" % (source, self.username, refused))
                continue
            return user
        if not problems:
            raise RestError("Harbor %s: no credential given (password or password_secret)" % self.endpoint)
        raise RestError("Harbor %s: authentication failed: %s" % (self.endpoint, "; ".join(problems)), 401)

    @property
    def is_admin(self):
        return bool((self.user or {}).get("sysadmin_flag"))

    def change_password(self, user_id, old, new):
        """PUT /users/{user_id}/password, sent once: a retry after a change Harbor made but did not confirm would
        be refused (the old password no longer holds), so the caller asks Harbor which password it accepts."""
        retries, self.rest.retries = self.rest.retries, 0
        try:
            return self.call("PUT", "/users/%s/password" % _name(user_id), {"old_password": old, "new_password": new},
                             ok=(200,))
        finally:
            self.rest.retries = retries

    def call(self, method, path, body=None, query=None, headers=None, ok=(200, 201)):
        return self.rest.request(method, API + path, body=body, query=query, headers=headers, ok=ok)[1]

    def _get_or_none(self, path, headers=None):
        try:
            return self.call("GET", path, headers=headers, ok=(200,))
        except RestError as err:
            if err.status == 404:
                return None
            raise

    def _pages(self, path, query=None):
        items, page = [], 1
        while True:
            batch = self.call("GET", path, query=dict(query or {}, page=page, page_size=PAGE_SIZE), ok=(200,))
            batch = batch if isinstance(batch, list) else []
            items.extend(batch)
            if len(batch) < PAGE_SIZE:
                return items
            page += 1

    # -- unauthenticated ------------------------------------------------------
    def ping(self):
        """GET /ping answers the text "Pong" (text/plain) while the API server is up."""
        try:
            self.rest.request("GET", API + "/ping", ok=(200,))
        except RestError as err:
            if err.status != 200:  # 200 with a body that is not JSON: the documented "Pong"
                raise
        return "Pong"

    def health(self):
        return self.call("GET", "/health", ok=(200,))

    def system_info(self):
        return self.call("GET", "/systeminfo", ok=(200,))

    # -- scanner registrations -------------------------------------------------
    def scanners(self):
        return self._pages("/scanners")

    def scanner(self, uuid):
        return self._get_or_none("/scanners/" + _name(uuid))

    def scanner_by_name(self, name):
        return next((s for s in self.scanners() if s.get("name") == name), None)

    def ping_scanner(self, name, url, auth="", access_credential=""):
        """POST /scanners/ping: Harbor fetches the adapter's /api/v1/metadata with these settings."""
        return self.call("POST", "/scanners/ping", {"name": name, "url": url, "auth": auth or "",
                                                    "access_credential": access_credential or ""}, ok=(200,))

    def create_scanner(self, body):
        """POST /scanners -> the new registration's UUID (from the Location header, 201)."""
        self.call("POST", "/scanners", body, ok=(201,))
        location = (self.rest.last_headers or {}).get("Location") or ""
        uuid = location.rstrip("/").rsplit("/", 1)[-1] if "/scanners/" in location else None
        if not uuid:
            found = self.scanner_by_name(body["name"])
            uuid = (found or {}).get("uuid")
        return uuid

    def update_scanner(self, uuid, body):
        return self.call("PUT", "/scanners/" + _name(uuid), body, ok=(200,))

    def delete_scanner(self, uuid):
        """True if deleted, False if it was not there."""
        try:
            self.call("DELETE", "/scanners/" + _name(uuid), ok=(200,))
        except RestError as err:
            if err.status == 404:
                return False
            raise
        return True

    def set_default_scanner(self, uuid):
        return self.call("PATCH", "/scanners/" + _name(uuid), {"is_default": True}, ok=(200,))

    def scanner_metadata(self, uuid):
        return self.call("GET", "/scanners/%s/metadata" % _name(uuid), ok=(200,))

    # -- projects --------------------------------------------------------------------
    def project(self, name):
        return self._get_or_none("/projects/" + _name(name), headers=BY_NAME)

    def projects(self):
        return self._pages("/projects", {"with_detail": "true"})

    def create_project(self, name, metadata):
        return self.call("POST", "/projects", {"project_name": name, "metadata": dict(metadata)},
                         headers={"X-Resource-Name-In-Location": "true"}, ok=(201,))

    def update_project_metadata(self, name, metadata):
        return self.call("PUT", "/projects/" + _name(name), {"metadata": dict(metadata)}, headers=BY_NAME,
                         ok=(200,))

    def delete_project(self, name):
        """True if deleted, False if it was not there."""
        try:
            self.call("DELETE", "/projects/" + _name(name), headers=BY_NAME, ok=(200,))
        except RestError as err:
            if err.status == 404:
                return False
            raise
        return True

    def project_scanner(self, name):
        """The project's own scanner registration, or the system default one when it has none."""
        return self.call("GET", "/projects/%s/scanner" % _name(name), headers=BY_NAME, ok=(200,))

    def set_project_scanner(self, name, uuid):
        return self.call("PUT", "/projects/%s/scanner" % _name(name), {"uuid": uuid}, headers=BY_NAME, ok=(200,))

    # -- scan all ----------------------------------------------------------------------
    def scan_all_schedule(self):
        """The scan-all schedule ({} when there is none: Harbor answers 200 with an empty body)."""
        return self.call("GET", "/system/scanAll/schedule", ok=(200,)) or {}

    def create_scan_all_schedule(self, schedule_type, cron):
        return self.call("POST", "/system/scanAll/schedule", {"schedule": {"type": schedule_type, "cron": cron}},
                         ok=(201,))

    def update_scan_all_schedule(self, schedule_type, cron):
        body = {"schedule": {"type": schedule_type}}
        if cron:
            body["schedule"]["cron"] = cron
        return self.call("PUT", "/system/scanAll/schedule", body, ok=(200,))
