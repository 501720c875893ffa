"""A lab stand-in imitating Harbor 2.12's documented REST API (api/v2.0), and a pluggable scanner adapter
stand-in imitating goharbor/harbor-scanner-clair's adapter API (pluggable-scanner-spec, GET /api/v1/metadata).

Follows Harbor 2.12.3's ``api/v2.0/swagger.yaml`` for paths, payloads and status codes; where the swagger is
silent (messages, which status an error becomes, what is validated) the stand-in does what Harbor's sources at
v2.12.3 do (``src/server/v2.0/handler/{scanner,project,scan_all,user}.go``, ``src/controller/scanner``,
``src/pkg/scan/dao/scanner``, ``src/pkg/project``, ``src/lib/http/error.go``, ``src/core/main.go``).

Per lab cluster it serves, on 127.0.0.1:<harbor_port> over HTTPS with a certificate from the cluster's ingress CA
(``openshift-config-managed/default-ingress-cert``, as the router serves a Route), for localhost, 127.0.0.1 and
``harbor.apps.<cluster>.<lab domain>``:

* "Installed" signal: Harbor answers only while Secret ``harbor/harbor-admin`` with key
  ``HARBOR_ADMIN_PASSWORD`` (the chart's ``existingSecretAdminPassword``/``existingSecretAdminPasswordKey``)
  exists on that cluster; otherwise every path answers 503 (the router's "no backend"). A Secret with a new uid
  is a new installation: the state starts afresh, and the admin's password is the Secret's at that moment. As
  in Harbor, which reads ``HARBOR_ADMIN_PASSWORD`` only when it initialises its database, the password is kept
  in the state from then on: a later change of the Secret changes nothing, ``PUT /users/{user_id}/password``
  does. (State written before the stand-in kept the password takes it from the Secret once.)
* ``GET /api/v2.0/ping`` (``Pong``, text/plain), ``/health`` (every component healthy), ``/systeminfo`` (the
  anonymous subset, the protected fields for a logged-in user; ``harbor_version`` ``v2.12.3-aac2468a``),
  ``/users/current`` (the admin, ``user_id`` 1).
* ``PUT /api/v2.0/users/{user_id}/password`` ``{"old_password", "new_password"}`` as Harbor 2.12.3's
  UpdateUserPassword: 401 without a logged-in user; for the admin's own id (1) a wrong ``old_password`` is 403
  "Current password is incorrect"; a new password that is not 8 to 128 characters with an upper-case letter, a
  lower-case letter and a digit is 400; any other id is 404 (the lab has only the admin); the current password
  again is 400 "New password is identical to old password"; otherwise 200 and the admin's password changes. A
  user id that is not a number is 400, a missing body 422.
* Scanner registrations: the built-in immutable default ``Trivy`` registration is there from the start (url
  ``http://harbor-trivy:8080``, ``use_internal_addr`` true), as core's registerScanners() keeps it. List, get,
  create (201 + ``Location``; 400 for a bad URL, auth type or the reserved name ``Trivy``; 409 "registration name
  or url already exists"; 422 when name or url is missing), update (PUT), delete, set default (PATCH
  ``{"is_default": true}``), ping (``POST /scanners/ping``) and ``/metadata``. Updating or deleting the immutable
  registration answers 403 with Harbor's message. As in Harbor, creating and pinging fetch the adapter's
  ``<url>/api/v1/metadata`` and validate it; an unreachable adapter, a non-200 answer or invalid metadata make
  Harbor answer **500** ``internal server error`` (Harbor logs the cause; the stand-in logs it too). The
  built-in Trivy URL answers as the in-cluster adapter would; other adapters are reached only on loopback
  (any other host "does not resolve" in the lab). As Harbor 2.12 does, GET returns ``access_credential``.
* Projects: the public ``library`` project exists from the start (id 1). Create (201 + ``Location``, id or,
  with ``X-Resource-Name-In-Location``, name; 400 for a bad name or a non-string metadata value; 409 for a
  duplicate), list (paged, ``X-Total-Count``), HEAD ``/projects?project_name=``, get/put/delete by id or name
  (``X-Is-Resource-Name``), metadata strings merged on PUT, ``severity`` normalised as Harbor does, delete of a
  project with repositories 412. Project scanner GET/PUT ``/projects/{p}/scanner`` (GET falls back to the system
  default; like Harbor, PUT does not check the uuid).
* Scan-all schedule GET/POST/PUT ``/system/scanAll/schedule`` (412 without a default scanner, 412 on a second
  POST, 400 for a bad cron or Manual on PUT, 422 for an unknown type).
* Basic auth as ``admin`` with the admin's password; wrong or missing credentials make the request anonymous,
  so protected paths answer 401 ``UNAUTHORIZED`` as Harbor does.

Errors come in Harbor's shape ``{"errors": [{"code": ..., "message": ...}]}``.

Lab-only inputs (ConfigMaps in namespace ``default`` of the cluster):

* ``devsecops-lab-harbor-faults``: ``status`` (HTTP status to answer), ``count`` (how many times; ``-1`` or
  absent: until removed), ``path`` (prefix, default ``/api/v2.0``), ``delay`` (seconds) - to inject 5xx.
* ``devsecops-lab-harbor-repositories``: key = project name, value = comma-separated repository names the
  project holds (as if images had been pushed), so deleting a non-empty project can be exercised.

The scanner adapter stand-in listens on 127.0.0.1:<harbor_adapter_port> (plain HTTP, like an in-cluster adapter
Service) and answers ``GET /api/v1/metadata`` with a Clair-adapter-like metadata document, plus
``/probe/healthy`` and ``/probe/ready``. Its URL is ``harbor_scanner_adapter_url`` in the lab inventory.

State (the admin's password, registrations, projects, schedule) is kept in ``<lab dir>/harbor-<cluster>.json``.
"""

import base64
import binascii
import datetime
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.lab.kube import KubeError
from tests.lab.standins.acs import _load_chain, read_state
from tests.lab.standins.runtime import LOG

API = "/api/v2.0"
VERSION = "v2.12.3-aac2468a"  # version.ReleaseVersion-version.GitCommit of the v2.12.3 tag
ADMIN_SECRET = ("harbor", "harbor-admin")
PASSWORD_KEY = "HARBOR_ADMIN_PASSWORD"
FAULTS = "devsecops-lab-harbor-faults"
REPOSITORIES = "devsecops-lab-harbor-repositories"
LAB_NAMESPACE = "default"
TRIVY = "Trivy"
TRIVY_URL = "http://harbor-trivy:8080"  # the chart's TRIVY_ADAPTER_URL for release "harbor"
RESERVED = (TRIVY,)
AUTH_TYPES = ("Basic", "Bearer", "X-ScannerAdapter-API-Key")
SCHEDULE_TYPES = ("Hourly", "Daily", "Weekly", "Custom", "Manual", "None", "Schedule")
PROJECT_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_CRON_ITEM = r"(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?"
CRON_FIELD = re.compile("^%s(,%s)*$" % (_CRON_ITEM, _CRON_ITEM))
METADATA_KEYS = ("public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "severity",
                 "auto_scan", "auto_sbom_generation", "reuse_sys_cve_allowlist", "retention_id", "proxy_speed_kb")
SEVERITIES = ("none", "unknown", "low", "medium", "high", "critical")
COMPONENTS = ("core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy")
# pkg/scan/rest/v1 MIME types
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
NATIVE_REPORT = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
GENERIC_REPORT = "application/vnd.security.vulnerability.report; version=1.1"
SBOM_REPORT = "application/vnd.security.sbom.report+json; version=1.0"
ADAPTER_META = "application/vnd.scanner.adapter.metadata+json; version=1.0"
SUPPORTED_REPORTS = (NATIVE_REPORT, GENERIC_REPORT, SBOM_REPORT)
# What the chart's trivy-adapter-photon v2.12.3 (harbor-scanner-trivy) reports.
TRIVY_METADATA = {
    "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.58.2"},
    "capabilities": [
        {"type": "vulnerability", "consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST],
         "produces_mime_types": [NATIVE_REPORT, GENERIC_REPORT]},
        {"type": "sbom", "consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST], "produces_mime_types": [SBOM_REPORT]}],
    "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
                   "harbor.scanner-adapter/vulnerability-database-next-update-at": "",
                   "harbor.scanner-adapter/vulnerability-database-updated-at": "",
                   "env.SCANNER_TRIVY_SKIP_UPDATE": "false", "env.SCANNER_TRIVY_OFFLINE_SCAN": "false",
                   "env.SCANNER_TRIVY_SECURITY_CHECKS": "vuln", "env.SCANNER_TRIVY_IGNORE_UNFIXED": "false",
                   "env.SCANNER_TRIVY_SEVERITY": "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL",
                   "env.SCANNER_TRIVY_TIMEOUT": "5m0s"},
}
# What goharbor/harbor-scanner-clair's GetMetadata answers (pkg/http/api/v1/handler.go).
CLAIR_METADATA = {
    "scanner": {"name": "Clair", "vendor": "CoreOS", "version": "2.0.8"},
    "capabilities": [{"consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST], "produces_mime_types": [NATIVE_REPORT]}],
    "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"},
}
INTERNAL_ERROR = "internal server error"
ADMIN_ID = 1
# server/v2.0/handler/user.go requireValidSecret
PASSWORD_RULES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"))
PASSWORD_POLICY = ("the password or secret must be 8-128, inclusively, characters long with at least 1 uppercase "
                   "letter, 1 lowercase letter and 1 number")


def _now():
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


class ApiError(Exception):
    """An HTTP answer other than success, in Harbor's error shape."""

    def __init__(self, status, code, message, headers=None):
        super().__init__("HTTP %s: %s" % (status, message))
        self.status = status
        self.body = {"errors": [{"code": code, "message": message}]}
        self.headers = headers or {}


def _bad(message):
    return ApiError(400, "BAD_REQUEST", message)


def _not_found(message):
    return ApiError(404, "NOT_FOUND", message)


def _unprocessable(message):
    return ApiError(422, "UNPROCESSABLE_ENTITY", message)


def _internal():
    """Harbor answers every error without a code (a wrapped plain error) as 500 and hides the cause."""
    return ApiError(500, "UNKNOWN", INTERNAL_ERROR)


# -- pluggable scanner adapters ------------------------------------------------------------------
class AdapterError(Exception):
    """Why Harbor could not use an adapter (what core logs; the client only sees HTTP 500)."""


def validate_url(text):
    """lib.ValidateHTTPURL: (normalised URL, None) or (None, Harbor's message)."""
    text = (text or "").strip().rstrip("/")
    if not text:
        return None, "empty string"
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError as err:
        return None, "invalid URL: %s" % err
    if parts.scheme not in ("http", "https"):
        return None, "invalid HTTP scheme: %s" % parts.scheme
    return "%s://%s%s" % (parts.scheme, parts.netloc, parts.path), None


def validate_metadata(meta):
    """ScannerAdapterMetadata.Validate: None when valid, else the reason."""
    scanner = (meta or {}).get("scanner") if isinstance(meta, dict) else None
    if not isinstance(scanner, dict) or not all(scanner.get(k) for k in ("name", "version", "vendor")):
        return "invalid scanner in metadata"
    capabilities = meta.get("capabilities") or []
    if not capabilities:
        return "invalid capabilities in metadata"
    for cap in capabilities:
        if DOCKER_MANIFEST not in (cap.get("consumes_mime_types") or []):
            return "missing %s in consumes_mime_types" % DOCKER_MANIFEST
        if not any(m in SUPPORTED_REPORTS for m in cap.get("produces_mime_types") or []):
            return "missing %s or %s in produces_mime_types" % (NATIVE_REPORT, GENERIC_REPORT)
    return None


def convert_capability(meta):
    """ScannerAdapterMetadata.ConvertCapability."""
    result, old = {}, True
    for cap in meta.get("capabilities") or []:
        if cap.get("type"):
            old = False
        if cap.get("type") == "vulnerability":
            result["support_vulnerability"] = True
        elif cap.get("type") == "sbom":
            result["support_sbom"] = True
    if old and not result:
        result = {"support_vulnerability": True, "support_sbom": False}
    return result


def fetch_metadata(url, auth="", credential="", skip_verify=False, timeout=5):
    """What Harbor's v1 client does for GET <url>/api/v1/metadata, from inside the lab."""
    if url.rstrip("/") == TRIVY_URL:
        return json.loads(json.dumps(TRIVY_METADATA))  # the in-cluster adapter of the chart
    target = url.rstrip("/") + "/api/v1/metadata"
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise AdapterError('Get "%s": dial tcp: lookup %s: no such host' % (target, host))
    request = urllib.request.Request(target, headers={"Accept": ADAPTER_META})
    if auth:
        if not credential:
            raise AdapterError("%s: missing data to authorize request" % auth)
        if auth == "Basic":
            request.add_header("Authorization", "Basic " + base64.b64encode(credential.encode()).decode())
        elif auth == "Bearer":
            request.add_header("Authorization", "Bearer " + credential)
        else:
            request.add_header(auth, credential)
    context = None
    if target.startswith("https://"):
        context = ssl._create_unverified_context() if skip_verify else ssl.create_default_context()  # noqa: S323
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as err:
        raise AdapterError("v1 client: get metadata: unexpected status code: %d, expected: 200" % err.code) from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise AdapterError('Get "%s": %s' % (target, getattr(err, "reason", err))) from None
    try:
        meta = json.loads(raw)
    except ValueError as err:
        raise AdapterError("v1 client: get metadata: %s" % err) from None
    problem = validate_metadata(meta)
    if problem:
        raise AdapterError(problem)
    return meta


# -- Harbor's API ---------------------------------------------------------------------------------
SCANNER = API + r"/scanners/(?P<uuid>[^/]+)"
PROJECT = API + r"/projects/(?P<project>[^/]+)"
ROUTES = [  # method, path, handler, authentication required
    ("GET", API + r"/ping", "ping", False),
    ("GET", API + r"/health", "health", False),
    ("GET", API + r"/systeminfo", "systeminfo", False),
    ("GET", API + r"/users/current", "current_user", True),
    ("PUT", API + r"/users/(?P<user_id>[^/]+)/password", "update_password", True),
    ("GET", API + r"/scanners", "list_scanners", True),
    ("POST", API + r"/scanners", "create_scanner", True),
    ("POST", API + r"/scanners/ping", "ping_scanner", True),
    ("GET", SCANNER, "get_scanner", True),
    ("PUT", SCANNER, "update_scanner", True),
    ("DELETE", SCANNER, "delete_scanner", True),
    ("PATCH", SCANNER, "set_default_scanner", True),
    ("GET", SCANNER + r"/metadata", "scanner_metadata", True),
    ("GET", API + r"/projects", "list_projects", False),
    ("HEAD", API + r"/projects", "head_project", True),
    ("POST", API + r"/projects", "create_project", True),
    ("GET", PROJECT, "get_project", False),
    ("PUT", PROJECT, "update_project", True),
    ("DELETE", PROJECT, "delete_project", True),
    ("GET", PROJECT + r"/scanner", "get_project_scanner", True),
    ("PUT", PROJECT + r"/scanner", "set_project_scanner", True),
    ("GET", PROJECT + r"/scanner/candidates", "list_scanners", True),
    ("GET", API + r"/system/scanAll/schedule", "get_schedule", True),
    ("POST", API + r"/system/scanAll/schedule", "create_schedule", True),
    ("PUT", API + r"/system/scanAll/schedule", "update_schedule", True),
]
ROUTES = [(method, re.compile(pattern + "/?$"), handler, auth) for method, pattern, handler, auth in ROUTES]


def _cron_problem(cron):
    """utils.ValidateCronString (robfig/cron with seconds, the seconds field fixed to 0)."""
    if not cron:
        return "empty cron string is invalid"
    fields = cron.split(" ")
    if len(fields) != 6:
        return "expected exactly 6 fields, found %d: [%s]" % (len(fields), cron)
    for field in fields:
        if not CRON_FIELD.match(field):
            return "failed to parse int from %s" % field
    if fields[0] != "0":
        return "the 1st field (indicating Seconds of time) of the cron setting must be 0"
    return None


class HarborAPI:
    """Harbor's state and request handling, without HTTP (HarborServer carries the requests).

    installed() -> (the Secret's admin password, Secret uid) or (None, why not); the password is taken when the uid
    is new (an installation) and kept in the state; fault(path) -> (status or None, delay);
    repositories(project name) -> the repositories a project holds.
    """

    def __init__(self, cluster, state_file, installed, fault=None, repositories=None):
        self.cluster = cluster
        self.state_file = state_file
        self.installed = installed
        self.fault = fault or (lambda path: (None, 0))
        self.repositories = repositories or (lambda name: [])
        self.lock = threading.RLock()
        self.state = read_state(state_file) if state_file else {}
        self.was_installed = None

    # -- persistence ----------------------------------------------------------------------
    def _fresh(self, uid, password):
        stamp = _now()
        trivy = {"uuid": str(uuid.uuid4()), "name": TRIVY, "description": "The Trivy scanner adapter",
                 "url": TRIVY_URL, "disabled": False, "is_default": True, "auth": "", "access_credential": "",
                 "skip_certVerify": False, "use_internal_addr": True, "immutable": True, "create_time": stamp,
                 "update_time": stamp}
        library = {"project_id": 1, "name": "library", "owner_id": 1, "owner_name": "admin", "creation_time": stamp,
                   "update_time": stamp, "metadata": {"public": "true"}, "cve_allowlist_id": 1}
        return {"secret_uid": uid, "installed_at": stamp, "admin_password": password,
                "scanners": {trivy["uuid"]: trivy},
                "projects": {"1": library}, "next_project": 2, "project_scanners": {}, "schedule": None,
                "next_schedule": 1}

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=1)
        os.replace(tmp, self.state_file)

    def _ensure_state(self, uid, password):
        """A Secret with a new uid is a new installation, whose admin password is the Secret's."""
        with self.lock:
            if self.state.get("secret_uid") != uid:
                self.state = self._fresh(uid, password)
                self.save()
                LOG.info("harbor %s: installed (Secret %s/%s uid %s): Trivy registered as default, project library",
                         self.cluster, ADMIN_SECRET[0], ADMIN_SECRET[1], uid)
            elif not self.state.get("admin_password"):
                self.state["admin_password"] = password  # state written before the stand-in kept the password
                self.save()

    # -- one request ---------------------------------------------------------------------------
    def handle(self, method, target, headers, raw):
        """Answer one request: (status, body, extra headers, content type). Never raises."""
        url = urllib.parse.urlsplit(target)
        path = url.path
        try:
            handler, params, needs_auth = self._route(method, path)
            password, uid = self.installed()
            if password is None:
                if self.was_installed is not False:
                    LOG.info("harbor %s: not installed: %s", self.cluster, uid)
                self.was_installed = False
                raise ApiError(503, "SERVICE_UNAVAILABLE", "lab stand-in: Harbor is not installed on cluster %s (%s)"
                               % (self.cluster, uid))
            self.was_installed = True
            self._ensure_state(uid, password)
            status, delay = self.fault(path)
            if delay:
                time.sleep(delay)
            if status:
                raise ApiError(status, "UNKNOWN", "lab fault injection (%s): HTTP %d" % (FAULTS, status))
            admin = self._authenticated(headers.get("Authorization") or "", self.state["admin_password"])
            if needs_auth and not admin:
                raise ApiError(401, "UNAUTHORIZED", "unauthorized")
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as err:
                    raise _bad("parsing body body from \"\" failed, because %s" % err) from None
            query = urllib.parse.parse_qs(url.query)
            request = {"method": method, "path": path, "headers": headers, "params": params, "query": query,
                       "body": body, "admin": admin}
            with self.lock:
                result = getattr(self, "_" + handler)(request)
            if not isinstance(result, tuple):
                result = (200, result)
            answer = (result[0], result[1], result[2] if len(result) > 2 else {},
                      result[3] if len(result) > 3 else "application/json")
        except ApiError as err:
            answer = (err.status, err.body, err.headers, "application/json; charset=utf-8")
        except Exception:  # noqa: BLE001 - a stand-in bug answers 500, the server keeps running
            LOG.exception("harbor %s: %s %s failed", self.cluster, method, path)
            answer = (500, {"errors": [{"code": "UNKNOWN", "message": INTERNAL_ERROR}]}, {}, "application/json")
        if method not in ("GET", "HEAD") or answer[0] >= 400:
            LOG.info("harbor %s: %s %s -> %d", self.cluster, method, path, answer[0])
        return answer

    def _route(self, method, path):
        allowed = False
        for route_method, pattern, handler, needs_auth in ROUTES:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}, needs_auth
                allowed = True
        if allowed:
            raise ApiError(405, "METHOD_NOT_ALLOWED", "method %s is not allowed" % method)
        raise _not_found("the resource %s is not found" % path)

    @staticmethod
    def _authenticated(header, password):
        """Basic admin:<password> -> True; anything else leaves the request anonymous (as Harbor's basicAuth)."""
        if not header.startswith("Basic "):
            return False
        try:
            user, _sep, given = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == "admin" and given == password

    # -- unauthenticated -----------------------------------------------------------------------------
    def _ping(self, _request):
        return 200, b"Pong", {}, "text/plain"

    def _health(self, _request):
        return {"status": "healthy", "components": [{"name": c, "status": "healthy"} for c in COMPONENTS]}

    def _systeminfo(self, request):
        info = {"auth_mode": "db_auth", "primary_auth_mode": False, "self_registration": False,
                "harbor_version": VERSION, "banner_message": "", "oidc_provider_name": ""}
        if request["admin"]:
            info.update(has_ca_root=False, project_creation_restriction="everyone",
                        external_url="https://" + (request["headers"].get("Host") or "localhost"),
                        registry_url=request["headers"].get("Host") or "localhost", read_only=False,
                        registry_storage_provider_name="filesystem", notification_enable=True, current_time=_now())
        return info

    def _current_user(self, _request):
        return {"user_id": ADMIN_ID, "username": "admin", "email": "admin@example.com", "realname": "system admin",
                "comment": "admin user", "sysadmin_flag": True, "admin_role_in_auth": False, "oidc_user_meta": None,
                "creation_time": self.state["installed_at"], "update_time": self.state["installed_at"]}

    def _update_password(self, request):
        """UpdateUserPassword: the caller is the admin (anonymous requests answered 401 already)."""
        text = request["params"]["user_id"]
        if not re.match(r"^-?[0-9]+$", text):
            raise _bad('parsing user_id path from "" failed, because strconv.ParseInt: parsing "%s": invalid syntax'
                       % text)
        user_id = int(text)
        body = request["body"]
        if not isinstance(body, dict):
            raise _unprocessable("password in body is required")
        for key in ("old_password", "new_password"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise _bad("parsing password body from \"\" failed, because json: cannot unmarshal %s into Go struct "
                           "field PasswordReq.%s of type string" % (type(body[key]).__name__, key))
        current = self.state["admin_password"]
        if user_id == ADMIN_ID and body.get("old_password") != current:
            raise ApiError(403, "FORBIDDEN", "Current password is incorrect")
        new = body.get("new_password") or ""
        if not (8 <= len(new) <= 128 and all(rule.search(new) for rule in PASSWORD_RULES)):
            raise _bad(PASSWORD_POLICY)
        if user_id != ADMIN_ID:
            raise _not_found("user %d not found" % user_id)
        if new == current:
            raise _bad("New password is identical to old password")
        self.state["admin_password"] = new
        self.save()
        LOG.info("harbor %s: the admin's password changed", self.cluster)
        return 200, None

    # -- scanners -------------------------------------------------------------------------------------
    def _registration(self, reg, capabilities=None, health=None, meta=None):
        """model.ScannerRegistration.ToSwagger (Harbor 2.12 returns access_credential)."""
        view = {k: reg[k] for k in ("uuid", "name", "url", "description", "auth", "access_credential",
                                    "skip_certVerify", "use_internal_addr", "is_default", "disabled", "create_time",
                                    "update_time")}
        if capabilities is not None:
            view["capabilities"] = capabilities
        if health:
            view["health"] = health
        if meta:
            view.update(adapter=meta["scanner"]["name"], vendor=meta["scanner"]["vendor"],
                        version=meta["scanner"]["version"])
        return view

    def _adapter(self, reg):
        return fetch_metadata(reg["url"], reg.get("auth"), reg.get("access_credential"), reg.get("skip_certVerify"))

    def _scanner_or_404(self, ident, message="scanner %s not found"):
        reg = self.state["scanners"].get(ident)
        if reg is None:
            raise _not_found(message % ident)
        return reg

    def _list_scanners(self, request):
        regs = sorted(self.state["scanners"].values(), key=lambda r: r["create_time"])
        views, failed = [], False
        for reg in regs:
            caps = None
            if not failed:
                try:
                    caps = convert_capability(self._adapter(reg))
                except AdapterError as err:
                    LOG.info("harbor %s: Get registration error: %s", self.cluster, err)
                    failed = True  # ListRegistrations stops retrieving capabilities at the first failure
            views.append(self._registration(reg, caps))
        page = int((request["query"].get("page") or ["1"])[0])
        size = int((request["query"].get("page_size") or ["10"])[0])
        start = (page - 1) * size
        return 200, views[start:start + size], {"X-Total-Count": str(len(views))}

    @staticmethod
    def _registration_body(body, what="registration"):
        if not isinstance(body, dict):
            raise _unprocessable("%s in body is required" % what)
        for key in ("name", "url"):
            if body.get(key) is None:
                raise _unprocessable("%s.%s in body is required" % (what, key))
        for key in ("name", "url", "description", "auth", "access_credential"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise _bad("parsing %s body from \"\" failed, because json: cannot unmarshal %s into Go struct field "
                           "%s of type string" % (what, type(body[key]).__name__, key))
        return body

    @staticmethod
    def _validate_registration(reg):
        """Registration.Validate: (normalised url) or ApiError 400."""
        if not reg.get("name"):
            raise _bad("missing registration name")
        url, problem = validate_url(reg.get("url"))
        if problem:
            raise _bad("scanner registration validate: %s" % problem)
        auth = reg.get("auth") or ""
        if auth and auth not in AUTH_TYPES:
            raise _bad("auth type %s is not supported" % auth)
        if auth and not reg.get("access_credential"):
            raise _bad("access_credential is required for auth type %s" % auth)
        return url

    def _ping_adapter(self, reg):
        try:
            return self._adapter(reg)
        except AdapterError as err:
            LOG.warning("harbor %s: failed to ping scanner: scanner controller: ping: %s", self.cluster, err)
            raise _internal() from None

    def _create_scanner(self, request):
        body = self._registration_body(request["body"])
        reg = {"name": body["name"], "url": body["url"], "description": body.get("description") or "",
               "auth": body.get("auth") or "", "access_credential": body.get("access_credential") or "",
               "skip_certVerify": bool(body.get("skip_certVerify")),
               "use_internal_addr": bool(body.get("use_internal_addr")), "disabled": bool(body.get("disabled")),
               "is_default": False, "immutable": False}
        reg["url"] = self._validate_registration(reg)
        if reg["name"] in RESERVED:
            raise _bad('name "%s" is reserved, please try a different name' % reg["name"])
        self._ping_adapter(reg)
        if any(r["name"] == reg["name"] or r["url"] == reg["url"] for r in self.state["scanners"].values()):
            raise ApiError(409, "CONFLICT", "registration name or url already exists")
        if not self.state["scanners"]:
            reg["is_default"] = True  # the first registration becomes the default
        stamp = _now()
        reg.update(uuid=str(uuid.uuid4()), create_time=stamp, update_time=stamp)
        self.state["scanners"][reg["uuid"]] = reg
        self.save()
        return 201, None, {"Location": "%s/%s" % (request["path"].rstrip("/"), reg["uuid"])}

    def _ping_scanner(self, request):
        body = self._registration_body(request["body"], "settings")
        reg = {"name": body["name"], "url": body["url"], "auth": body.get("auth") or "",
               "access_credential": body.get("access_credential") or ""}
        reg["url"] = self._validate_registration(reg)
        self._ping_adapter(reg)
        return 200, None

    def _get_scanner(self, request):
        reg = self._scanner_or_404(request["params"]["uuid"])
        try:
            caps = convert_capability(self._adapter(reg))
        except AdapterError as err:
            LOG.info("harbor %s: Get registration error: %s", self.cluster, err)
            caps = None
        return self._registration(reg, caps)

    def _update_scanner(self, request):
        reg = self._scanner_or_404(request["params"]["uuid"])
        if reg["immutable"]:
            raise ApiError(403, "FORBIDDEN", "registration %s is not allowed to update as it is immutable: scanner "
                                             "API: update" % reg["name"])
        body = self._registration_body(request["body"])
        updated = dict(reg, name=body["name"], url=body["url"], description=body.get("description") or "",
                       auth=body.get("auth") or "", access_credential=body.get("access_credential") or "",
                       skip_certVerify=bool(body.get("skip_certVerify")),
                       use_internal_addr=bool(body.get("use_internal_addr")), disabled=bool(body.get("disabled")))
        updated["url"] = self._validate_registration(updated)
        if updated["is_default"] and updated["disabled"]:
            LOG.warning("harbor %s: default registration %s can not be marked to deactivated", self.cluster,
                        reg["uuid"])
            raise _internal()
        if updated["name"] in RESERVED:
            raise _bad('name "%s" is reserved, please try a different name' % updated["name"])
        if any(r["uuid"] != reg["uuid"] and (r["name"] == updated["name"] or r["url"] == updated["url"])
               for r in self.state["scanners"].values()):
            raise _internal()  # a unique-constraint violation from the update is not mapped to a code
        updated["update_time"] = _now()
        self.state["scanners"][reg["uuid"]] = updated
        self.save()
        return 200, None

    def _delete_scanner(self, request):
        reg = self._scanner_or_404(request["params"]["uuid"])
        if reg["immutable"]:
            raise ApiError(403, "FORBIDDEN", "registration %s is not allowed to delete as it is immutable: scanner "
                                             "API: delete" % reg["name"])
        del self.state["scanners"][reg["uuid"]]
        self.save()
        return self._registration(reg)

    def _set_default_scanner(self, request):
        body = request["body"]
        if not isinstance(body, dict):
            raise _unprocessable("payload in body is required")
        if body.get("is_default") is True:
            ident = request["params"]["uuid"]
            reg = self.state["scanners"].get(ident)
            if reg is None or reg["disabled"]:
                raise _not_found("registration %s not found" % ident)
            for other in self.state["scanners"].values():
                other["is_default"] = other["uuid"] == ident
            self.save()
        return 200, None

    def _scanner_metadata(self, request):
        reg = self._scanner_or_404(request["params"]["uuid"], "registration %s not found")
        meta = self._ping_adapter(reg)
        return {"scanner": meta["scanner"], "capabilities": meta["capabilities"],
                "properties": meta.get("properties") or {}}

    # -- projects -----------------------------------------------------------------------------------------
    def _project_or_404(self, request):
        ident = request["params"]["project"]
        by_name = (request["headers"].get("X-Is-Resource-Name") or "").lower() == "true"
        if not by_name and re.match(r"^[0-9]+$", ident):
            project = self.state["projects"].get(str(int(ident)))
            if project is None:
                raise _not_found("project %s not found" % ident)
        else:
            if " " in ident:
                raise _bad("invalid project name: '%s'" % ident)
            project = next((p for p in self.state["projects"].values() if p["name"] == ident), None)
            if project is None:
                raise _not_found("project %s not found" % ident)
        if not request["admin"]:
            if request["method"] != "GET" or project["metadata"].get("public") != "true":
                raise ApiError(401, "UNAUTHORIZED", "unauthorized")
        return project

    def _project(self, project):
        """model.Project.ToSwagger."""
        meta = dict(project["metadata"])
        if "severity" in meta:
            severity = str(meta["severity"]).lower()
            meta["severity"] = severity if severity in SEVERITIES else "unknown"
        return {"project_id": project["project_id"], "owner_id": project["owner_id"], "name": project["name"],
                "registry_id": 0, "creation_time": project["creation_time"], "update_time": project["update_time"],
                "owner_name": project["owner_name"], "current_user_role_id": 1, "current_user_role_ids": [1],
                "repo_count": len(self.repositories(project["name"])), "metadata": meta,
                "cve_allowlist": {"id": project["cve_allowlist_id"], "project_id": project["project_id"],
                                  "items": [], "creation_time": "0001-01-01T00:00:00.000Z",
                                  "update_time": "0001-01-01T00:00:00.000Z"}}

    @staticmethod
    def _metadata_body(body, what):
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _bad("parsing %s body from \"\" failed, because json: cannot unmarshal %s into Go struct field "
                       "%s.metadata of type models.ProjectMetadata" % (what, type(body).__name__, what))
        meta = {}
        for key, value in body.items():
            if key not in METADATA_KEYS:
                continue  # models.ProjectMetadata has no such field: dropped
            if value is None:
                continue
            if not isinstance(value, str):
                raise _bad("parsing %s body from \"\" failed, because json: cannot unmarshal %s into Go struct field "
                           "ProjectMetadata.metadata.%s of type string" % (what, type(value).__name__, key))
            meta[key] = value
        return meta

    def _list_projects(self, request):
        query = request["query"]
        projects = sorted(self.state["projects"].values(), key=lambda p: p["project_id"])
        if not request["admin"]:
            projects = [p for p in projects if p["metadata"].get("public") == "true"]
        if query.get("name"):
            projects = [p for p in projects if query["name"][0] in p["name"]]
        if query.get("public"):
            wanted = query["public"][0].lower()
            projects = [p for p in projects if p["metadata"].get("public") == wanted]
        page = int((query.get("page") or ["1"])[0])
        size = int((query.get("page_size") or ["10"])[0])
        start = (page - 1) * size
        return 200, [self._project(p) for p in projects[start:start + size]], {"X-Total-Count": str(len(projects))}

    def _head_project(self, request):
        name = (request["query"].get("project_name") or [""])[0]
        if not any(p["name"] == name for p in self.state["projects"].values()):
            raise _not_found("project %s not found" % name)
        return 200, None

    def _create_project(self, request):
        body = request["body"]
        if not isinstance(body, dict):
            raise _unprocessable("project in body is required")
        name = body.get("project_name") or ""
        if not isinstance(name, str):
            raise _bad("parsing project body from \"\" failed, because json: cannot unmarshal %s into Go struct "
                       "field ProjectReq.project_name of type string" % type(name).__name__)
        meta = self._metadata_body(body.get("metadata"), "project")
        if body.get("public") is not None and not meta.get("public"):
            meta["public"] = "true" if body["public"] else "false"
        meta.setdefault("public", "false")
        if meta["public"] not in ("true", "false"):
            raise _bad("metadata.public should only be 'true' or 'false', but got: '%s'" % meta["public"])
        if meta.get("retention_id"):
            raise _bad("the retention_id in the request's payload when creating a project should be omitted, "
                       "alternatively passing an empty string")
        meta.pop("retention_id", None)
        meta.pop("proxy_speed_kb", None)
        if not 1 <= len(name) <= 255:
            raise _bad("Project name %s is illegal in length. (greater than 255 or less than 1)" % name)
        if not PROJECT_NAME.match(name):
            raise _bad("project name is not in lower case or contains illegal characters")
        if any(p["name"] == name for p in self.state["projects"].values()):
            raise ApiError(409, "CONFLICT", "The project named %s already exists" % name)
        project_id = self.state["next_project"]
        self.state["next_project"] = project_id + 1
        stamp = _now()
        self.state["projects"][str(project_id)] = {
            "project_id": project_id, "name": name, "owner_id": 1, "owner_name": "admin", "creation_time": stamp,
            "update_time": stamp, "metadata": meta, "cve_allowlist_id": project_id}
        self.save()
        in_location = (request["headers"].get("X-Resource-Name-In-Location") or "").lower() == "true"
        return 201, None, {"Location": "%s/%s" % (request["path"].rstrip("/"), name if in_location else project_id)}

    def _get_project(self, request):
        return self._project(self._project_or_404(request))

    def _update_project(self, request):
        project = self._project_or_404(request)
        body = request["body"]
        if not isinstance(body, dict):
            raise _unprocessable("project in body is required")
        meta = self._metadata_body(body.get("metadata"), "project")
        meta.pop("proxy_speed_kb", None)
        if "retention_id" in meta and meta["retention_id"] != project["metadata"].get("retention_id"):
            raise _bad("the retention_id in the request's payload when updating a project should be omitted, "
                       "alternatively passing the one that has already been associated to this project")
        project["metadata"].update(meta)
        project["update_time"] = _now()
        self.save()
        return 200, None

    def _delete_project(self, request):
        project = self._project_or_404(request)
        if self.repositories(project["name"]):
            raise ApiError(412, "PRECONDITION", "the project contains repositories, can not be deleted")
        del self.state["projects"][str(project["project_id"])]
        self.state["project_scanners"].pop(str(project["project_id"]), None)
        self.save()
        return 200, None

    def _default_scanner(self):
        return next((r for r in self.state["scanners"].values() if r["is_default"]), None)

    def _get_project_scanner(self, request):
        project = self._project_or_404(request)
        key = str(project["project_id"])
        reg = self.state["scanners"].get(self.state["project_scanners"].get(key) or "")
        if reg is None and key in self.state["project_scanners"]:
            del self.state["project_scanners"][key]  # the registration was deleted: the reference is cleared
            self.save()
        reg = reg or self._default_scanner()
        if reg is None:
            return 200, None
        try:
            meta = self._adapter(reg)
            return self._registration(reg, convert_capability(meta), "healthy", meta)
        except AdapterError as err:
            LOG.info("harbor %s: api controller: get project scanner: %s", self.cluster, err)
            return self._registration(reg, None, "unhealthy")

    def _set_project_scanner(self, request):
        project = self._project_or_404(request)
        body = request["body"]
        if not isinstance(body, dict) or not body.get("uuid"):
            raise _unprocessable("payload.uuid in body is required")
        self.state["project_scanners"][str(project["project_id"])] = body["uuid"]
        self.save()
        return 200, None

    # -- scan all ----------------------------------------------------------------------------------------
    def _require_scanner(self):
        if self._default_scanner() is None:
            raise ApiError(412, "PRECONDITION", "no scanner is configured, it's not possible to scan")

    @staticmethod
    def _schedule_body(request):
        body = request["body"]
        if not isinstance(body, dict) or not isinstance(body.get("schedule"), dict):
            raise _unprocessable("schedule in body is required")
        obj = body["schedule"]
        kind = obj.get("type")
        if kind not in SCHEDULE_TYPES:
            raise _unprocessable("schedule.schedule.type in body should be one of [%s]" % " ".join(SCHEDULE_TYPES))
        return kind, obj.get("cron") or ""

    def _set_schedule(self, kind, cron):
        problem = _cron_problem(cron)
        if problem:
            raise _bad("invalid cron string for scheduled scan all: %s, error: %s" % (cron, problem))
        current = self.state["schedule"]
        if current and current["schedule"]["type"] == kind and current["schedule"]["cron"] == cron:
            return
        stamp = _now()
        self.state["schedule"] = {"id": self.state["next_schedule"], "status": "Scheduled", "creation_time": stamp,
                                  "update_time": stamp, "schedule": {"type": kind, "cron": cron},
                                  "parameters": {"operator": "harbor-jobservice"}}
        self.state["next_schedule"] += 1
        self.save()

    def _get_schedule(self, _request):
        self._require_scanner()
        return 200, self.state["schedule"]

    def _create_schedule(self, request):
        self._require_scanner()
        kind, cron = self._schedule_body(request)
        if kind == "None":
            return 201, None
        if kind == "Manual":
            LOG.info("harbor %s: scan all triggered manually (nothing to scan in the lab)", self.cluster)
            return 201, None
        if self.state["schedule"]:
            raise ApiError(412, "PRECONDITION", "fail to set schedule for scan all as always had one, please delete "
                                                "it firstly then to re-schedule")
        self._set_schedule(kind, cron)
        return 201, None

    def _update_schedule(self, request):
        self._require_scanner()
        kind, cron = self._schedule_body(request)
        if kind == "Manual":
            raise _bad("fail to update scan all schedule as wrong schedule type: %s" % kind)
        if kind == "None":
            self.state["schedule"] = None
            self.save()
        else:
            self._set_schedule(kind, cron)
        return 200, None


# -- HTTP ------------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harbor-standin"
    timeout = 15
    MAX_BODY = 1024 * 1024

    def _serve(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.MAX_BODY:
            status, body, headers, content_type = 400, {"errors": [{"code": "BAD_REQUEST",
                                                                   "message": "bad Content-Length"}]}, {}, \
                "application/json"
            self.close_connection = True
        else:
            raw = self.rfile.read(length) if length else b""
            status, body, headers, content_type = self.server.api.handle(self.command, self.path, self.headers, raw)
        if body is None or self.command == "HEAD":
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        LOG.debug("harbor %s: %s", self.server.api.cluster, fmt % args)


class HarborServer(ThreadingHTTPServer):
    """Harbor's HTTPS endpoint; the TLS handshake runs in the request's thread."""

    daemon_threads = True

    def __init__(self, address, api, cert_pem, key_pem):
        self.api = api
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _load_chain(self.ssl_context, cert_pem, key_pem)
        super().__init__(address, _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="harbor-%s" % api.cluster, daemon=True)

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            LOG.info("harbor %s: TLS handshake with %s:%s failed: %s", self.api.cluster, client_address[0],
                     client_address[1], err)
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.shutdown_request(conn)

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, OSError):
            LOG.info("harbor %s: connection from %s:%s ended: %s", self.api.cluster, client_address[0],
                     client_address[1], err)
        else:
            LOG.exception("harbor %s: request from %s failed", self.api.cluster, client_address)


class _AdapterHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harbor-scanner-clair-standin"

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/v1/metadata":
            status, data, content_type = 200, json.dumps(CLAIR_METADATA).encode(), ADAPTER_META
        elif path in ("/probe/healthy", "/probe/ready"):
            status, data, content_type = 200, b"", "text/plain"
        else:
            status, data, content_type = 404, b"404 page not found\n", "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        LOG.debug("scanner adapter: %s", fmt % args)


class AdapterServer(ThreadingHTTPServer):
    """A pluggable scanner adapter (Clair-adapter-like) on plain HTTP, as an in-cluster adapter Service serves."""

    daemon_threads = True

    def __init__(self, address, name="adapter"):
        super().__init__(address, _AdapterHandler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="scanner-adapter-%s" % name, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


# -- the lab wiring -----------------------------------------------------------------------------------
class HarborStandin:
    """Harbor and a scanner adapter for one lab cluster, listening from the stand-ins' start."""

    def __init__(self, kube, lab, cluster, domain):
        self.kube = kube
        self.lab = lab
        self.cluster = cluster
        self.domain = domain
        info = lab.clusters[cluster]
        self.port = info.get("harbor_port")
        self.adapter_port = info.get("harbor_adapter_port")
        self.kube_factory = lambda: lab.kube(cluster)
        self._local = threading.local()
        self._fault_lock = threading.Lock()
        self.server = None
        self.adapter = None

    def watches(self):
        return []

    def _kube(self):
        if not hasattr(self._local, "kube"):
            self._local.kube = self.kube_factory()
        return self._local.kube

    def installed(self):
        secret = self._kube().get_or_none("v1", "secrets", ADMIN_SECRET[1], ADMIN_SECRET[0])
        if secret is None:
            return None, "no Secret %s/%s" % ADMIN_SECRET
        value = (secret.get("data") or {}).get(PASSWORD_KEY)
        if not value:
            return None, "Secret %s/%s has no key %s" % (ADMIN_SECRET[0], ADMIN_SECRET[1], PASSWORD_KEY)
        return base64.b64decode(value).decode(errors="replace"), secret["metadata"]["uid"]

    def fault(self, path):
        """The devsecops-lab-harbor-faults ConfigMap, read on every request; the lock makes the count exact."""
        with self._fault_lock:
            cm = self._kube().get_or_none("v1", "configmaps", FAULTS, LAB_NAMESPACE)
            data = (cm or {}).get("data") or {}
            if not data or not path.startswith(data.get("path") or API):
                return None, 0
            try:
                count = int(data.get("count") or -1)
                status = int(data["status"]) if data.get("status") else None
                delay = float(data.get("delay") or 0)
            except ValueError:
                LOG.warning("harbor %s: ignoring malformed %s: %s", self.cluster, FAULTS, data)
                return None, 0
            if count == 0:
                return None, 0
            if count > 0:
                try:
                    self._kube().merge_patch("v1", "configmaps", FAULTS, {"data": {"count": str(count - 1)}},
                                             namespace=LAB_NAMESPACE)
                except KubeError as err:
                    LOG.warning("harbor %s: cannot count down %s: %s", self.cluster, FAULTS, err)
            return status, delay

    def repositories(self, project):
        cm = self._kube().get_or_none("v1", "configmaps", REPOSITORIES, LAB_NAMESPACE)
        text = ((cm or {}).get("data") or {}).get(project) or ""
        return [r.strip() for r in text.split(",") if r.strip()]

    def start(self):
        if not self.port or not self.adapter_port:
            LOG.warning("%s: no harbor_port/harbor_adapter_port in the lab state; Harbor is not served", self.cluster)
            return
        try:
            self.adapter = AdapterServer(("127.0.0.1", self.adapter_port), self.cluster)
            self.adapter.thread.start()
        except OSError as err:
            LOG.warning("%s: scanner adapter cannot listen on 127.0.0.1:%d: %s", self.cluster, self.adapter_port, err)
        ca = self.lab.ingress_ca(self.cluster)
        if ca is None:
            LOG.warning("%s: no ingress CA in the lab state; Harbor is not served", self.cluster)
            return
        cert, key = ca.leaf("harbor-core", server=True, hosts=("localhost", "127.0.0.1", "harbor." + self.domain))
        api = HarborAPI(self.cluster, self.lab.harbor_state_file(self.cluster), self.installed, self.fault,
                        self.repositories)
        try:
            self.server = HarborServer(("127.0.0.1", self.port), api, cert.decode(), key.decode())
        except OSError as err:
            LOG.warning("%s: Harbor cannot listen on 127.0.0.1:%d: %s", self.cluster, self.port, err)
            return
        self.server.thread.start()
        LOG.info("%s: Harbor API on https://localhost:%d (answers once Secret %s/%s exists), scanner adapter on %s",
                 self.cluster, self.port, ADMIN_SECRET[0], ADMIN_SECRET[1],
                 self.adapter.url if self.adapter else "-")
