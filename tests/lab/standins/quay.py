"""Stand-ins for Red Hat Quay on OpenShift: the Quay operator's QuayRegistry controller, Quay's REST API
and registry token endpoint, and the Quay Bridge operator's QuayIntegration controller.

Follows the Red Hat Quay 3.18 documentation ("Deploying the Red Hat Quay Operator on OpenShift Container
Platform": QuayRegistry, configBundleSecret, managed components, status conditions; "Red Hat Quay API
guide"; "Using the API to create the first user" (/api/v1/user/initialize); "Creating OAuth access tokens"
with the organization application tokens API of 3.18; "Robot accounts"; "Default permissions";
"Integrating Red Hat Quay into OpenShift Container Platform with the Quay Bridge Operator"). Where the
documentation is silent (exact messages, status codes, error bodies, resource names) the stand-ins do
what quay/quay, quay/quay-operator and quay/quay-bridge-operator (redhat-3.18) do.

Quay operator (acts only once a ``quay-operator.`` CSV has Succeeded in the registry's namespace or in
``openshift-operators``; one QuayRegistry per lab cluster is served, a second one is refused with a
``RolloutBlocked`` condition, reason ``LabOneQuayRegistryPerCluster`` - lab only):

* ``spec.configBundleSecret`` unset: the operator creates ``<name>-config-bundle-<random>`` with its base
  ``config.yaml`` and sets the field. Set but missing: ``RolloutBlocked`` True ``ConfigInvalid``
  "unable to get `configBundleSecret`: ...". Without a ``config.yaml`` key (the real operator cannot
  render it) or with unparsable YAML: ``ConfigInvalid`` too.
* Components: a kind not listed counts as managed, except ``monitoring`` (the lab has no Prometheus API,
  so the operator defaults it to unmanaged; listed as managed it blocks with
  ``MonitoringComponentDependencyError``). An unmanaged required component (objectstorage, postgres,
  redis, route, tls) whose fields are missing from ``config.yaml`` blocks with ``ConfigInvalid``
  "required component `objectstorage` marked as unmanaged, but `configBundleSecret` is missing necessary
  fields"; a managed objectstorage/postgres/clair with its fields in ``config.yaml`` blocks likewise.
* Managed objectstorage: ObjectBucketClaim ``<name>-quay-datastore`` (NooBaa class, owned by the
  registry), which the ODF stand-in binds; until it is Bound (and its Secret and ConfigMap exist):
  ``RolloutBlocked`` True ``ObjectStorageComponentDependencyError`` "error checking for object storage
  support: awaiting for bucket claim to be processed", ``ComponentObjectStorageReady`` False "Object bucket
  claim not bound", ``ComponentQuayReady`` False "Awaiting for component objectstorage to become
  available", ``Available`` False ``ComponentNotReady``.
* Ready: every ``Component*Ready`` condition, ``Available`` True ``HealthChecksPassing``,
  ``RolloutBlocked`` False and ``ComponentsCreated`` True (reason ``ComponentsCreationSuccess``),
  ``currentVersion`` (the installed CSV's version), ``registryEndpoint: https://localhost:<quay_port>``
  (lab: the route host does not resolve here), Route ``<name>-quay`` if the route is managed. Quay's API
  then listens on 127.0.0.1:<quay_port> with a certificate for localhost/127.0.0.1 and the route host from
  the cluster's ingress CA (``openshift-config-managed/default-ingress-cert``). Deleting the registry
  stops it and forgets its state (``<lab dir>/quay-<cluster>.json``); its claim goes with it.

Quay API (JSON; errors in Quay's application/problem+json shape ``{detail, error_message, error_type,
title, type, status}`` or ``{"message": ...}`` where Quay answers that way). ``config.yaml`` is read on
every request (FEATURE_USER_INITIALIZE, AUTHENTICATION_TYPE, SUPER_USERS, FEATURE_SUPER_USERS,
FEATURE_SUPERUSERS_FULL_ACCESS, FEATURE_USER_CREATION, FEATURE_MAILING, FEATURE_ANONYMOUS_ACCESS,
OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT), as the operator redeploys Quay when the bundle changes. As in
Quay, /api/v1 takes only ``Authorization: Bearer <OAuth token>``; Basic credentials (users, robots
``org+name:token``, ``$oauthtoken:<token>``) work on the registry's ``/v2/auth`` only. Token scopes cap
the caller's roles as Quay's permission model does; superusers get everything in other namespaces only
with FEATURE_SUPERUSERS_FULL_ACCESS. Organizations have one team here, ``owners`` (their creator). The
token /api/v1/user/initialize hands out expires after 9000 s, as Quay's create_user_access_token does;
tokens minted through the application tokens API last 10 years unless ``expiration`` says otherwise.

Quay Bridge operator (acts only once a ``quay-bridge-operator.`` CSV has Succeeded in
``openshift-operators``; exactly one QuayIntegration; every namespace change and every 20 s): for each
allowed namespace (``allowlistNamespaces`` / ``denylistNamespaces``; never ``default``, ``openshift``,
``management-infra``, ``openshift-*``, ``kube-*`` unless allow-listed) the namespace gets finalizer
``quay.redhat.com/quayintegrations``, Quay organization ``<clusterID lowercased>_<namespace>`` (email
``<org>@redhat.com``), robots ``builder`` (write), ``default`` and ``deployer`` (read) as default
permissions (prototypes), Secrets ``<sa>-quay-<clusterID>`` (kubernetes.io/dockerconfigjson for the
``quayHostname`` host) linked to the ServiceAccounts as pull and mountable secrets (a missing
ServiceAccount - the lab has no builder/deployer - is logged, as QBO does). Deleting such a namespace
deletes its organization, then removes the finalizer. The token is read from key ``token`` of
``spec.credentialsSecret`` (the real operator checks ``key`` exists but always reads ``token``). Status:
only ``status.lastUpdate`` on spec changes, as QBO. Refusals (TLS, HTTP 401, ...) are logged.
**Stricter than QBO** (whose API client skips TLS verification): unless ``insecureRegistry`` is true the
stand-in verifies Quay with the system store plus every PEM the operator pod would see through
SSL_CERT_FILE / SSL_CERT_DIR of the Subscription's ``spec.config.env``, mapped through its
``volumeMounts`` to ConfigMap, Secret or projected ``volumes`` in openshift-operators.

Failure injection: ConfigMap ``devsecops-lab-quay-faults`` in the QuayRegistry's namespace with
``status``, ``count`` (``-1``/absent: until removed), ``path`` (prefix, default ``/api/v1``), ``delay``.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import posixpath
import re
import secrets
import ssl
import string
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.lab.kube import KubeError
from tests.lab.standins.acs import _load_chain, read_state
from tests.lab.standins.hub import NOOBAA_CLASS, _installed
from tests.lab.standins.runtime import LOG, now_iso

API = "quay.redhat.com/v1"
OLM = "operators.coreos.com/v1alpha1"
OBC_API = "objectbucket.io/v1alpha1"
ROUTE_API = "route.openshift.io/v1"
DEFAULT_VERSION = "3.18.0"
FAULTS = "devsecops-lab-quay-faults"
BRIDGE_EVERY = 20  # seconds between the bridge operator's full rounds
BRIDGE_FINALIZER = "quay.redhat.com/quayintegrations"
BRIDGE_ACCOUNTS = (("builder", "write"), ("default", "read"), ("deployer", "read"))  # QBO's permission matrix
BRIDGE_DENIED = ("default", "openshift", "management-infra")
DAY = 24 * 3600
TEN_YEARS = int(DAY * 365.25 * 10)  # Quay's DEFAULT_TOKEN_EXPIRATION_SECONDS (and the maximum)
INITIALIZE_TOKEN_LIFETIME = 9000  # create_user_access_token's expires_in for /api/v1/user/initialize
V2_TOKEN_LIFETIME = 3600
TAG_EXPIRATION = 1209600  # the operator's DEFAULT_TAG_EXPIRATION "2w"
INITIALIZE_SCOPE = "org:admin repo:admin repo:create repo:read repo:write super:user user:admin user:read"
ALL_SCOPES = ("repo:read", "repo:write", "repo:admin", "repo:create", "user:read", "user:admin", "org:admin",
              "super:user")
IMPLIED = {"repo:admin": {"repo:admin", "repo:write", "repo:read"}, "repo:write": {"repo:write", "repo:read"}}
REPO_CAP = {"repo:read": "read", "repo:write": "write", "repo:admin": "admin"}
TEAM_CAP = {"repo:create": "creator", "org:admin": "admin"}
USER_CAP = {"user:read": "read", "user:admin": "admin"}
REPO_ROLES = ("read", "write", "admin")
TEAM_ROLES = ("member", "creator", "admin")
USER_ROLES = ("read", "admin")
USERNAME_RE = re.compile(r"^([a-z0-9]+(?:[._-][a-z0-9]+)*)$")
REPOSITORY_RE = re.compile(r"^[a-z0-9][\.a-z0-9_-]{0,254}$")
NAMESPACE_MESSAGE = "Namespace must match expression ^([a-z0-9]+(?:[._-][a-z0-9]+)*)$"
PASSWORD_MESSAGE = "Invalid password, password must be at least 8 characters and contain no whitespace."
TOKEN_CHARS = string.ascii_letters + string.digits
ROBOT_CHARS = string.ascii_uppercase + string.digits
# The operator's base config.yaml (pkg/kustomize BaseQuayConfig), under the user's config.
BASE_CONFIG = {
    "SETUP_COMPLETE": True, "FEATURE_MAILING": False, "REGISTRY_TITLE": "Red Hat Quay",
    "REGISTRY_TITLE_SHORT": "Red Hat Quay", "AUTHENTICATION_TYPE": "Database",
    "ENTERPRISE_LOGO_URL": "/static/img/RH_Logo_Quay_Black_UX-horizontal.svg", "DEFAULT_TAG_EXPIRATION": "2w",
    "ALLOW_PULLS_WITHOUT_STRICT_LOGGING": False, "TAG_EXPIRATION_OPTIONS": ["2w"], "TEAM_RESYNC_STALE_TIME": "60m",
    "FEATURE_DIRECT_LOGIN": True, "FEATURE_BUILD_SUPPORT": False, "TESTING": False,
}
# Quay's own defaults (config.py) for what the stand-in reads.
QUAY_DEFAULTS = {
    "FEATURE_USER_INITIALIZE": False, "AUTHENTICATION_TYPE": "Database", "SUPER_USERS": [], "FEATURE_SUPER_USERS": True,
    "FEATURE_SUPERUSERS_FULL_ACCESS": False, "FEATURE_USER_CREATION": True, "FEATURE_MAILING": True,
    "FEATURE_ANONYMOUS_ACCESS": True, "OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT": None, "FEATURE_ORG_SHARED_EMAIL": False,
}
# QuayRegistry components: kind -> (Ready condition type, the config.yaml fields of its config-tool field group).
COMPONENTS = {
    "quay": ("ComponentQuayReady", ()),
    "postgres": ("ComponentPostgresReady", ("DB_CONNECTION_ARGS", "DB_URI")),
    "clair": ("ComponentClairReady", ("FEATURE_SECURITY_SCANNER", "SECURITY_SCANNER_ENDPOINT",
                                      "SECURITY_SCANNER_INDEXING_INTERVAL", "SECURITY_SCANNER_NOTIFICATIONS",
                                      "SECURITY_SCANNER_V4_ENDPOINT", "SECURITY_SCANNER_V4_NAMESPACE_WHITELIST")),
    "clairpostgres": ("ComponentClairPostgresReady", ()),
    "redis": ("ComponentRedisReady", ("BUILDLOGS_REDIS", "USER_EVENTS_REDIS", "PULL_METRICS_REDIS")),
    "horizontalpodautoscaler": ("ComponentHPAReady", ()),
    "objectstorage": ("ComponentObjectStorageReady", ("DISTRIBUTED_STORAGE_CONFIG", "DISTRIBUTED_STORAGE_PREFERENCE",
                                                      "DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS",
                                                      "FEATURE_STORAGE_REPLICATION")),
    "route": ("ComponentRouteReady", ("EXTERNAL_TLS_TERMINATION", "PREFERRED_URL_SCHEME", "SERVER_HOSTNAME")),
    "mirror": ("ComponentMirrorReady", ("FEATURE_REPO_MIRROR", "REPO_MIRROR_INTERVAL", "REPO_MIRROR_SERVER_HOSTNAME",
                                        "REPO_MIRROR_TLS_VERIFY")),
    "monitoring": ("ComponentMonitoringReady", ()),
    "tls": ("ComponentTLSReady", ()),
}
# What pkg/cmpstatus reports for a healthy component: (managed, unmanaged) messages.
HEALTHY = {
    "quay": ("Quay component healthy", None),
    "postgres": ("Deployment {name}-quay-database healthy", "Postgres not managed by the operator"),
    "clair": ("Clair component healthy", "Clair not managed by the operator"),
    "clairpostgres": ("Deployment {name}-clair-postgres healthy", "ClairPostgres not managed by the operator"),
    "redis": ("Deployment {name}-quay-redis healthy", "Redis not managed by the operator"),
    "horizontalpodautoscaler": ("Horizontal pod autoscaler found",
                                "Horizontal pod autoscaler not managed by the operator"),
    "objectstorage": ("Object bucket claim bound", "Object storage not managed by the operator"),
    "route": ("Route admitted", "Route is not managed by the operator"),
    "mirror": ("Deployment {name}-quay-mirror healthy", "Mirror not managed by the operator"),
    "monitoring": ("ServiceMonitor and PrometheusRules created", "Monitoring not managed by the operator"),
    "tls": ("Using cluster wildcard certs", "Config bundle contains certs"),
}
REQUIRED = ("postgres", "objectstorage", "route", "redis", "tls")
CONFIG_WHEN_MANAGED = ("route", "mirror", "redis")
WAITING_FOR_STORAGE = "error checking for object storage support: awaiting for bucket claim to be processed"


# -- small helpers -------------------------------------------------------------
def _now():
    return time.time()


def _iso(epoch):
    """Quay's token view timestamps: naive UTC isoformat plus "Z"."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def _rfc2822(epoch):
    """Quay's format_date (robots)."""
    return time.strftime("%a, %d %b %Y %H:%M:%S -0000", time.gmtime(epoch))


def _random(length, chars=TOKEN_CHARS):
    return "".join(secrets.choice(chars) for _ in range(length))


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _avatar(name, kind):
    digest = hashlib.md5(name.encode()).hexdigest()  # noqa: S324 - Quay's avatar hash, not security
    return {"name": name, "hash": digest, "color": "#" + digest[:6], "kind": kind}


def _condition(ctype, status, reason, message):
    stamp = now_iso()
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": stamp, "lastTransitionTime": stamp}


def _secret_text(secret, key):
    value = ((secret or {}).get("data") or {}).get(key)
    return None if value is None else base64.b64decode(value).decode(errors="replace")


def _go_time():
    """Go's time.Now().UTC().String(), as QBO writes status.lastUpdate."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + "%06d000 +0000 UTC" % moment.microsecond


def validate_email(address):
    """util/validation.py validate_email."""
    if not address or len(address) > 254 or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    labels = domain.split(".")
    return bool(local) and len(labels) >= 2 and all(labels)


def validate_username(name):
    """util/validation.py validate_username: (ok, message)."""
    if not isinstance(name, str) or not USERNAME_RE.match(name):
        return False, NAMESPACE_MESSAGE
    if not 2 <= len(name) <= 255:
        return False, "Namespace must be between 2 and 255 characters in length"
    return True, ""


def scopes_of(text):
    """auth/scopes.py scopes_from_scope_string: a set of known scopes, or an empty set if any is unknown."""
    found = {part for part in re.split(" |,", text or "")}
    return found if found <= set(ALL_SCOPES) else set()


def _implied(scopes):
    result = set()
    for scope in scopes:
        result |= IMPLIED.get(scope, {scope})
    return result


class ApiError(Exception):
    """An HTTP answer other than success: status, JSON (or text) body, extra headers."""

    def __init__(self, status, body, headers=None, content_type="application/json"):
        super().__init__("HTTP %s" % status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


class Identity:
    """Who a request acts for. scopes None: not limited by an OAuth token (a password or a robot)."""

    def __init__(self, kind, name, scopes=None, token=None):
        self.kind = kind  # "oauth", "user" or "robot"
        self.name = name
        self.scopes = scopes
        self.token = token


def _cap(identity, table, order):
    """The highest role an identity's token scopes allow (Quay's _translate_role_for_scopes)."""
    if identity.scopes is None:
        return order[-1]
    ranks = [order.index(table[s]) for s in identity.scopes if s in table]
    return order[max(ranks)] if ranks else None


def _min_role(role, cap, order):
    if role is None or cap is None:
        return None
    return order[min(order.index(role), order.index(cap))]


# -- Quay's API ------------------------------------------------------------------
ORG = r"/api/v1/organization/(?P<org>[^/]+)"
REPO = r"/api/v1/repository/(?P<ns>[^/]+)/(?P<repo>[^/]+)"
APP = ORG + r"/applications/(?P<client_id>[^/]+)"
ROBOT = ORG + r"/robots/(?P<short>[^/]+)"
ROUTES = [  # method, path, handler; /api/v1 routes go through OAuth processing
    ("GET", r"/health/instance", "health"),
    ("GET", r"/health", "health"),
    ("POST", r"/api/v1/user/initialize", "initialize"),
    ("GET", r"/api/v1/user/", "get_user"),
    ("POST", r"/api/v1/user/", "create_user"),
    ("GET", r"/api/v1/superuser/users/", "superuser_users"),
    ("POST", r"/api/v1/organization/", "create_org"),
    ("GET", ORG, "get_org"),
    ("DELETE", ORG, "delete_org"),
    ("GET", ORG + r"/applications", "list_apps"),
    ("POST", ORG + r"/applications", "create_app"),
    ("GET", APP, "get_app"),
    ("DELETE", APP, "delete_app"),
    ("GET", APP + r"/tokens", "list_tokens"),
    ("POST", APP + r"/tokens", "create_token"),
    ("DELETE", APP + r"/tokens/(?P<uuid>[^/]+)", "delete_token"),
    ("GET", ORG + r"/robots", "list_robots"),
    ("GET", ROBOT, "get_robot"),
    ("PUT", ROBOT, "create_robot"),
    ("DELETE", ROBOT, "delete_robot"),
    ("POST", ROBOT + r"/regenerate", "regenerate_robot"),
    ("GET", ORG + r"/prototypes", "list_prototypes"),
    ("POST", ORG + r"/prototypes", "create_prototype"),
    ("POST", r"/api/v1/repository", "create_repo"),
    ("GET", REPO, "get_repo"),
    ("DELETE", REPO, "delete_repo"),
    ("POST", REPO + r"/changevisibility", "change_visibility"),
    ("GET", REPO + r"/permissions/user/(?P<member>[^/]+)", "get_permission"),
    ("PUT", REPO + r"/permissions/user/(?P<member>[^/]+)", "set_permission"),
    ("DELETE", REPO + r"/permissions/user/(?P<member>[^/]+)", "delete_permission"),
    ("GET", r"/v2/", "v2_base"),
    ("GET", r"/v2/auth", "v2_auth"),
]
ROUTES = [(method, re.compile(pattern + "$"), handler) for method, pattern, handler in ROUTES]
NOT_FOUND_HTML = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
                  b"<p>The requested URL was not found on the server.</p></body></html>")


class QuayAPI:
    """Quay's state and request handling, without HTTP (QuayServer carries the requests)."""

    def __init__(self, cluster, registry, endpoint, state_file, kube_factory):
        self.cluster = cluster
        self.namespace = registry["metadata"]["namespace"]
        self.spec = registry.get("spec") or {}  # kept current by QuayOperatorStandin
        self.host = endpoint  # SERVER_HOSTNAME as clients reach it: localhost:<port>
        self.base_url = "https://" + endpoint
        self.state_file = state_file
        self._kube_factory = kube_factory
        self._local = threading.local()
        self.lock = threading.RLock()
        self._fault_lock = threading.Lock()
        self._last_config = {}
        self.state = self._load(registry["metadata"])
        self._key = serialization.load_pem_private_key(self.state["jwtKey"].encode(), password=None)

    # -- persistence and configuration ----------------------------------------------
    def _load(self, meta):
        state = read_state(self.state_file)
        if state.get("registry", {}).get("uid") == meta["uid"]:
            return state
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"registry": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                "jwtKey": pem, "jwtKid": _random(16).lower(), "secretKey": secrets.token_hex(32),
                "users": {}, "orgs": {}, "apps": {}, "tokens": {}, "robots": {}, "repos": {}, "permissions": {},
                "prototypes": {}}

    def save(self):
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=1)
        os.replace(tmp, self.state_file)

    def kube(self):
        """One apiserver client per server thread (a requests Session is not shared)."""
        if not hasattr(self._local, "kube"):
            self._local.kube = self._kube_factory()
        return self._local.kube

    def config(self):
        """config.yaml of the config bundle, read now (the operator redeploys Quay when it changes), over
        the operator's base config and Quay's defaults. A bundle gone or broken keeps the last good one."""
        name = self.spec.get("configBundleSecret")
        secret = self.kube().get_or_none("v1", "secrets", name, self.namespace) if name else None
        text = _secret_text(secret, "config.yaml")
        if text is not None:
            try:
                user = yaml.safe_load(text) or {}
                if isinstance(user, dict):
                    self._last_config = user
            except yaml.YAMLError:
                pass
        merged = dict(QUAY_DEFAULTS)
        merged.update(BASE_CONFIG)
        merged.update(self._last_config)
        return merged

    # -- one request ---------------------------------------------------------------
    def handle(self, method, target, headers, raw):
        """Answer one request: (status, body, extra headers, content type). Never raises."""
        url = urllib.parse.urlsplit(target)
        path = url.path
        name = None
        try:
            handler, params = self._route(method, path, url.query)
            name = handler
            self._inject_fault(path)
            cfg = self.config()
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, {"message": "The browser (or proxy) sent a request that this server "
                                                    "could not understand."}) from None
            query = urllib.parse.parse_qs(url.query)
            identity = None
            if path.startswith("/api/v1/") and handler != "initialize":
                identity = self._oauth_identity(headers.get("Authorization") or "")
            request = {"method": method, "headers": headers, "params": params, "query": query, "body": body,
                       "identity": identity, "config": cfg}
            result = getattr(self, "_" + handler)(request)
            status, payload, extra = (result + ({},))[:3] if isinstance(result, tuple) else (200, result, {})
            content_type = "application/json"
            if isinstance(payload, bytes):
                content_type = extra.pop("Content-Type", "text/html; charset=utf-8")
            answer = (status, payload, extra, content_type)
        except ApiError as err:
            answer = (err.status, err.body, err.headers, err.content_type)
        except Exception as err:  # noqa: BLE001 - a stand-in bug answers 500, the server keeps running
            LOG.exception("quay %s: %s %s failed", self.cluster, method, path)
            answer = (500, {"message": "Internal Server Error: %s" % err}, {}, "application/json")
        if (method != "GET" or answer[0] >= 400) and name not in ("v2_auth",):
            LOG.info("quay %s: %s %s -> %d", self.cluster, method, path, answer[0])
        return answer

    def _route(self, method, path, query):
        allowed = False
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                allowed = True
        if allowed:
            raise ApiError(405, {"message": "The method is not allowed for the requested URL."})
        if not path.endswith("/") and any(p.match(path + "/") for _m, p, _h in ROUTES):
            # Flask's strict slashes: /api/v1/user redirects to /api/v1/user/
            location = self.base_url + path + "/" + ("?" + query if query else "")
            raise ApiError(308, b"", headers={"Location": location}, content_type="text/html; charset=utf-8")
        if path.startswith("/api/"):
            raise ApiError(404, {"message": "The requested URL was not found on the server. If you entered the "
                                            "URL manually please check your spelling and try again."})
        raise ApiError(404, NOT_FOUND_HTML, content_type="text/html; charset=utf-8")

    def _inject_fault(self, path):
        """Apply the devsecops-lab-quay-faults ConfigMap, read on every request; the lock makes the count exact."""
        with self._fault_lock:
            cm = self.kube().get_or_none("v1", "configmaps", FAULTS, self.namespace)
            data = (cm or {}).get("data") or {}
            if not data or not path.startswith(data.get("path") or "/api/v1"):
                return
            try:
                count = int(data.get("count") or -1)
                status = int(data["status"]) if data.get("status") else None
                delay = float(data.get("delay") or 0)
            except ValueError:
                LOG.warning("quay %s: ignoring malformed %s: %s", self.cluster, FAULTS, data)
                return
            if count == 0:
                return
            if count > 0:
                try:
                    self.kube().merge_patch("v1", "configmaps", FAULTS, {"data": {"count": str(count - 1)}},
                                            namespace=self.namespace)
                except KubeError as err:
                    LOG.warning("quay %s: cannot count down %s: %s", self.cluster, FAULTS, err)
        if delay:
            time.sleep(delay)
        if status:
            raise self._problem(status, "downstream_issue", "lab fault injection (%s): HTTP %d" % (FAULTS, status))

    # -- error bodies -----------------------------------------------------------------
    def _problem(self, status, error_type, detail, **payload):
        """endpoints/exception.py ApiException.to_dict."""
        body = dict(payload)
        body.update({"detail": detail, "error_message": detail, "error_type": error_type, "title": error_type,
                     "type": "%s/api/v1/error/%s" % (self.base_url, error_type), "status": status})
        return ApiError(status, body)

    def _invalid(self, detail):
        return self._problem(400, "invalid_request", detail)

    def _not_found(self):
        return self._problem(404, "not_found", "Not Found")

    def _unauthorized(self, identity):
        """endpoints/exception.py Unauthorized: 401 without a user, 403 for a user who may not."""
        if identity is None:
            return self._problem(401, "invalid_token", "Requires authentication")
        return self._problem(403, "insufficient_scope", "Unauthorized")

    @staticmethod
    def _message(text, status=400):
        """A plain {"message": ...}: DataModelException's handler and a few handlers' own 400s."""
        return ApiError(status, {"message": text})

    def _validate(self, body, schema, optional=False):
        """validate_json_request: a tiny subset of jsonschema (required, type string/number/object, enum,
        minLength, maxLength, minimum) with jsonschema's messages."""
        if body is None:
            if optional:
                return {}
            raise self._invalid("Missing JSON body")
        if not isinstance(body, dict):
            raise self._invalid("%r is not of type 'object'" % (body,))
        for field in schema.get("required", ()):
            if field not in body:
                raise self._invalid("%r is a required property" % field)
        for field, rules in schema.get("properties", {}).items():
            if field not in body:
                continue
            value = body[field]
            kinds = rules.get("type")
            kinds = (kinds,) if isinstance(kinds, str) else (kinds or ())
            checks = {"string": lambda v: isinstance(v, str), "object": lambda v: isinstance(v, dict),
                      "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
                      "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
            if kinds and not any(checks[k](value) for k in kinds):
                raise self._invalid("%r is not of type %s" % (value, ", ".join("%r" % k for k in kinds)))
            if "enum" in rules and value not in rules["enum"]:
                raise self._invalid("%r is not one of %r" % (value, rules["enum"]))
            if isinstance(value, str) and len(value) < rules.get("minLength", 0):
                raise self._invalid("%r is too short" % value)
            if isinstance(value, str) and "maxLength" in rules and len(value) > rules["maxLength"]:
                raise self._invalid("%r is too long" % value)
            if "minimum" in rules and isinstance(value, (int, float)) and value < rules["minimum"]:
                raise self._invalid("%r is less than the minimum of %r" % (value, rules["minimum"]))
        return body

    # -- authentication -----------------------------------------------------------------
    def _token_record(self, token):
        """auth/oauth.py validate_app_oauth_token: (record, None) or (None, error message)."""
        if not isinstance(token, str) or len(token) <= 20:
            return None, "OAuth access token could not be validated"
        with self.lock:
            record = self.state["tokens"].get(token[:20])
            if record is None or not hmac.compare_digest(record["codeHash"], _sha256(token[20:])):
                return None, "OAuth access token could not be validated"
            if record["expiresAt"] <= _now():
                return None, "OAuth access token has expired"
            user = self.state["users"].get(record["user"])
            if user is None or not user.get("enabled", True):
                return None, "Granter of the oauth access token is disabled"
            record["lastAccessed"] = _now()
            return record, None

    def _oauth_identity(self, header):
        """process_oauth: a valid Bearer token sets the identity; anything else leaves the request anonymous
        (Quay's API ignores Basic credentials, and an invalid token only means "no user")."""
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        record, _error = self._token_record(parts[1])
        if record is None:
            return None
        return Identity("oauth", record["user"], scopes=scopes_of(record["scope"]), token=record)

    def _basic_identity(self, header):
        """process_basic_auth on /v2/auth: (identity or None, error message or None, credentials sent)."""
        if not header:
            return None, None, False
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "basic":
            return None, None, True
        try:
            user, sep, secret = base64.b64decode(parts[1]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None, True
        if not sep:
            return None, None, True
        if user == "$oauthtoken":
            record, error = self._token_record(secret)
            if record is None:
                return None, error, True
            return Identity("oauth", record["user"], scopes=scopes_of(record["scope"]), token=record), None, True
        if user in ("$token", "$app"):
            return None, "Invalid access token" if user == "$token" else "Invalid token", True
        if "+" in user:
            with self.lock:
                robot = self.state["robots"].get(user)
                if robot is None:
                    return None, "Could not find robot with specified username", True
                if user.split("+", 1)[0] not in self.state["orgs"] and user.split("+", 1)[0] not in self.state["users"]:
                    return None, "Robot %s owner does not exist" % user, True
                if not hmac.compare_digest(robot["token"].encode(), secret.encode()):
                    return None, "Could not find robot with username: %s and supplied password." % user, True
                robot["lastAccessed"] = _now()
            return Identity("robot", user), None, True
        with self.lock:
            record = self.state["users"].get(user)
            ok = record is not None and (self._password_matches(record, secret) or
                                         hmac.compare_digest(record.get("encryptedPassword", ""), secret))
        if not ok:
            return None, "Invalid Username or Password", True
        return Identity("user", user), None, True

    @staticmethod
    def _password_hash(salt, password):
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000).hex()

    def _password_matches(self, record, password):
        return hmac.compare_digest(record["passwordHash"], self._password_hash(record["salt"], password))

    # -- Quay's permission model (auth/permissions.py), with one "owners" team per organization --------
    def _superuser(self, identity, cfg):
        """SuperUserPermission: a user in SUPER_USERS whose token carries super:user (or no token)."""
        return (identity is not None and identity.kind != "robot" and bool(cfg.get("FEATURE_SUPER_USERS")) and
                identity.name in (cfg.get("SUPER_USERS") or []) and
                (identity.scopes is None or "super:user" in identity.scopes))

    def _full_access(self, identity, cfg):
        return self._superuser(identity, cfg) and bool(cfg.get("FEATURE_SUPERUSERS_FULL_ACCESS"))

    def _team_role(self, identity, namespace):
        """The caller's team role in an organization (or on their own namespace), capped by token scopes."""
        if identity is None or identity.kind == "robot":
            return None
        org = self.state["orgs"].get(namespace)
        if namespace == identity.name or (org is not None and identity.name in org["admins"]):
            return _min_role("admin", _cap(identity, TEAM_CAP, TEAM_ROLES), TEAM_ROLES)
        return None

    def _org_admin(self, identity, namespace, cfg):
        return self._full_access(identity, cfg) or self._team_role(identity, namespace) == "admin"

    def _org_member(self, identity, namespace, cfg):
        return self._full_access(identity, cfg) or self._team_role(identity, namespace) is not None

    def _can_create_repo(self, identity, namespace, cfg):
        return self._full_access(identity, cfg) or self._team_role(identity, namespace) in ("creator", "admin")

    def _repo_role(self, identity, namespace, repo, cfg):
        """The caller's role on a repository: org admins' org-wide role, the owner's, explicit grants."""
        if identity is None:
            return None
        if self._full_access(identity, cfg):
            return "admin"
        roles = []
        explicit = self.state["permissions"].get("%s/%s" % (namespace, repo), {}).get(identity.name)
        if identity.kind == "robot":
            return explicit
        cap = _cap(identity, REPO_CAP, REPO_ROLES)
        org = self.state["orgs"].get(namespace)
        if namespace == identity.name or (org is not None and identity.name in org["admins"]):
            roles.append(_min_role("admin", cap, REPO_ROLES))
        roles.append(_min_role(explicit, cap, REPO_ROLES))
        roles = [r for r in roles if r]
        return max(roles, key=REPO_ROLES.index) if roles else None

    def _repo_can(self, identity, namespace, repo, level, cfg):
        role = self._repo_role(identity, namespace, repo, cfg)
        return role is not None and REPO_ROLES.index(role) >= REPO_ROLES.index(level)

    @staticmethod
    def _user_cap(identity, username):
        if identity is None or identity.kind == "robot" or identity.name != username:
            return None
        return _cap(identity, USER_CAP, USER_ROLES)

    def _require_user(self, identity, username, level):
        """require_user_read / require_user_admin."""
        cap = self._user_cap(identity, username)
        if cap is None or USER_ROLES.index(cap) < USER_ROLES.index(level):
            raise self._unauthorized(identity)

    # -- views ------------------------------------------------------------------------
    def _orgs_of(self, username):
        return sorted(name for name, org in self.state["orgs"].items() if username in org["admins"])

    def _user_view(self, identity, username, cfg):
        """endpoints/api/user.py user_view."""
        user = self.state["users"][username]
        view = {"anonymous": False, "username": username, "avatar": _avatar(username, "user")}
        cap = self._user_cap(identity, username)
        admin = cap == "admin"
        if admin:
            view.update({"can_create_repo": True, "is_me": True, "verified": True, "email": user["email"],
                         "logins": [], "invoice_email": False, "invoice_email_address": None,
                         "preferred_namespace": False, "tag_expiration_s": TAG_EXPIRATION, "prompts": [],
                         "company": None, "family_name": None, "given_name": None, "location": None,
                         "is_free_account": True, "has_password_set": True})
        if cap is not None:
            view["organizations"] = [self._user_org_view(identity, name, cfg, admin)
                                     for name in self._orgs_of(username)]
        if cfg.get("FEATURE_SUPER_USERS") and self._superuser(identity, cfg):
            view["super_user"] = True
        return view

    def _user_org_view(self, identity, name, cfg, user_admin):
        view = {"name": name, "avatar": _avatar(name, "org"), "can_create_repo": self._can_create_repo(
            identity, name, cfg), "public": False}
        if user_admin:
            view.update({"is_org_admin": self._org_admin(identity, name, cfg), "preferred_namespace": False})
        return view

    def _org_view(self, identity, name, cfg):
        """endpoints/api/organization.py org_view."""
        org = self.state["orgs"][name]
        is_admin = self._org_admin(identity, name, cfg)
        is_member = self._org_member(identity, name, cfg)
        if self._full_access(identity, cfg):
            is_admin = is_member = True
        view = {"name": name, "email": org["email"] if is_admin and validate_email(org["email"]) else "",
                "avatar": _avatar(name, "org"), "is_admin": is_admin, "is_member": is_member}
        if is_member:
            view["teams"] = {"owners": {"name": "owners", "description": "", "role": "admin",
                                        "avatar": _avatar("owners", "team"), "can_view": True,
                                        "repo_count": 0, "member_count": len(org["admins"]), "is_synced": False}}
            view["ordered_teams"] = ["owners"]
        if is_admin:
            view.update({"invoice_email": False, "invoice_email_address": None, "tag_expiration_s": TAG_EXPIRATION,
                         "is_free_account": True})
        return view

    def _app_view(self, identity, app, cfg):
        admin = self._org_admin(identity, app["owner"], cfg)
        return {"name": app["name"], "description": app["description"], "application_uri": app["applicationUri"],
                "client_id": app["clientId"], "client_secret": app["clientSecret"] if admin else None,
                "redirect_uri": app["redirectUri"] if admin else None,
                "avatar_email": app["avatarEmail"] if admin else None}

    @staticmethod
    def _token_view(record, secret=None):
        view = {"uuid": record["uuid"], "name": record["displayName"], "scope": record["scope"],
                "expires_at": _iso(record["expiresAt"]), "created": _iso(record["created"]),
                "created_by": record["user"],
                "last_accessed": _iso(record["lastAccessed"]) if record.get("lastAccessed") else None}
        if secret is not None:
            view["token"] = secret
        return view

    @staticmethod
    def _robot_view(name, robot, token=False, metadata=False, permissions=None):
        view = {"name": name, "created": _rfc2822(robot["created"]),
                "last_accessed": _rfc2822(robot["lastAccessed"]) if robot.get("lastAccessed") else None,
                "description": robot["description"]}
        if permissions is not None:
            view["teams"] = []
            view["repositories"] = permissions
        if token:
            view["token"] = robot["token"]
        if metadata:
            view["unstructured_metadata"] = robot.get("unstructuredMetadata") or {}
        return view

    def _repo_view(self, identity, key, cfg):
        repo = self.state["repos"][key]
        namespace, name = key.split("/", 1)
        can_write = self._repo_can(identity, namespace, name, "write", cfg)
        can_admin = self._repo_can(identity, namespace, name, "admin", cfg)
        return {"namespace": namespace, "name": name, "kind": repo["kind"], "description": repo["description"],
                "is_public": repo["visibility"] == "public", "is_organization": namespace in self.state["orgs"],
                "is_starred": False, "status_token": "", "trust_enabled": False, "tag_expiration_s": TAG_EXPIRATION,
                "state": "NORMAL", "tags": {}, "is_free_account": True, "can_write": can_write,
                "can_admin": can_admin}

    def _permission_view(self, namespace, member, role):
        robot = "+" in member
        view = {"role": role, "name": member, "is_robot": robot,
                "avatar": _avatar(member, "robot" if robot else "user")}
        if namespace in self.state["orgs"]:
            view["is_org_member"] = robot or member in self.state["orgs"][namespace]["admins"]
        return view

    def _prototype_view(self, org, proto):
        delegate = proto["delegate"]
        return {"activating_user": None, "role": proto["role"], "id": proto["id"], "delegate": {
            "name": delegate, "is_robot": "+" in delegate, "kind": "user",
            "is_org_member": "+" in delegate or delegate in self.state["orgs"][org]["admins"],
            "avatar": _avatar(delegate, "robot" if "+" in delegate else "user")}}

    # -- unauthenticated ----------------------------------------------------------------
    def _health(self, _request):
        services = {name: True for name in ("auth", "database", "disk_space", "redis", "registry_gunicorn",
                                            "service_key", "web_gunicorn")}
        return {"data": {"services": services}, "status_code": 200}

    def _create_user_record(self, username, password, email, cfg):
        """data/model/user.py create_user (DataModelException messages)."""
        if not isinstance(password, str) or re.search(r"\s", password) or len(password) < 8:
            raise ValueError(PASSWORD_MESSAGE)
        if cfg.get("FEATURE_MAILING") and not validate_email(email):
            raise ValueError("Invalid email address: %s" % email)
        ok, issue = validate_username(username)
        if not ok:
            raise ValueError("Invalid namespace %s: %s" % (username, issue))
        if username in self.state["orgs"]:
            raise ValueError("Username has already been taken by an organization and cannot be reused: %s" % username)
        if username in self.state["users"]:
            raise ValueError("Username has already been taken by user cannot be reused: %s" % username)
        if cfg.get("FEATURE_MAILING") and any(u["email"] == email for u in self.state["users"].values()):
            raise ValueError("Email has already been used: %s" % email)
        salt = secrets.token_hex(8)
        encrypted = _b64url(hmac.new(bytes.fromhex(self.state["secretKey"]), (username + ":" + password).encode(),
                                     hashlib.sha256).digest())
        self.state["users"][username] = {"email": email or str(uuid.uuid4()), "salt": salt, "enabled": True,
                                         "passwordHash": self._password_hash(salt, password),
                                         "encryptedPassword": encrypted, "created": _now()}
        return encrypted

    def _mint(self, user, client_id, owner, scope, lifetime, display_name=None):
        token = _random(40)
        record = {"uuid": str(uuid.uuid4()), "codeHash": _sha256(token[20:]), "clientId": client_id, "owner": owner,
                  "user": user, "scope": scope, "created": _now(), "expiresAt": _now() + lifetime,
                  "displayName": display_name, "lastAccessed": None}
        self.state["tokens"][token[:20]] = record
        return record, token

    def _initialize(self, request):
        """endpoints/web.py user_initialize (404 while FEATURE_USER_INITIALIZE is off: the route is hidden)."""
        cfg, data = request["config"], request["body"]
        if not cfg.get("FEATURE_USER_INITIALIZE"):
            raise ApiError(404, NOT_FOUND_HTML, content_type="text/html; charset=utf-8")
        if cfg.get("AUTHENTICATION_TYPE") != "Database":
            raise self._message("Cannot initialize user in a non-database auth system")
        with self.lock:
            if self.state["users"]:
                raise self._message("Cannot initialize user in a non-empty database")
            if not isinstance(data, dict) or "username" not in data or "password" not in data:
                raise ApiError(500, {"message": "Internal Server Error"})  # Quay: a KeyError
            try:
                encrypted = self._create_user_record(data["username"], data["password"], data.get("email"), cfg)
            except ValueError as err:
                raise self._message("Failed to initialize user: %s" % err) from None
            result = {"username": data["username"], "email": data.get("email"), "encrypted_password": encrypted}
            if data.get("access_token"):
                self.state["apps"][data["username"]] = {
                    "clientId": data["username"], "clientSecret": _random(40, ROBOT_CHARS), "name": "automation",
                    "description": "Application token generated via /api/v1/user/initialize", "applicationUri": "",
                    "redirectUri": "", "avatarEmail": None, "owner": data["username"]}
                _record, token = self._mint(data["username"], data["username"], data["username"], INITIALIZE_SCOPE,
                                            INITIALIZE_TOKEN_LIFETIME)
                result["access_token"] = token
            self.save()
        return result

    # -- users --------------------------------------------------------------------------
    def _get_user(self, request):
        identity, cfg = request["identity"], request["config"]
        if identity is None or self._user_cap(identity, identity.name) is None:
            raise self._problem(401, "invalid_token", "Requires authentication", session_required=False)
        with self.lock:
            return self._user_view(identity, identity.name, cfg)

    def _create_user(self, request):
        """POST /api/v1/user/ (FEATURE_USER_CREATION; Database auth only)."""
        cfg = request["config"]
        if not cfg.get("FEATURE_USER_CREATION") or not cfg.get("FEATURE_DIRECT_LOGIN", True):
            raise ApiError(405, {"message": "The method is not allowed for the requested URL."})
        if cfg.get("AUTHENTICATION_TYPE") != "Database":
            raise ApiError(404, NOT_FOUND_HTML, content_type="text/html; charset=utf-8")
        data = self._validate(request["body"], {"required": ["username", "password"], "properties": {
            "username": {"type": "string"}, "password": {"type": "string"}, "email": {"type": "string"}}})
        with self.lock:
            if data["username"] in self.state["users"]:
                raise self._invalid("The username already exists")
            if cfg.get("FEATURE_MAILING") and not data.get("email"):
                raise self._invalid("Email address is required")
            try:
                self._create_user_record(data["username"], data["password"], data.get("email"), cfg)
            except ValueError as err:
                raise self._invalid(str(err)) from None
            self.save()
            return self._user_view(Identity("user", data["username"]), data["username"], cfg)

    def _superuser_users(self, request):
        identity, cfg = request["identity"], request["config"]
        if identity is None:
            raise self._unauthorized(None)
        if not self._superuser(identity, cfg):
            raise self._unauthorized(identity)
        supers = cfg.get("SUPER_USERS") or []
        with self.lock:
            return {"users": [{"kind": "user", "name": name, "username": name, "email": user["email"], "verified": True,
                               "avatar": _avatar(name, "user"), "super_user": name in supers,
                               "enabled": user.get("enabled", True)}
                              for name, user in sorted(self.state["users"].items())]}

    # -- organizations ----------------------------------------------------------------------
    def _create_org(self, request):
        identity, cfg = request["identity"], request["config"]
        if identity is None:
            raise self._unauthorized(None)
        self._require_user(identity, identity.name, "admin")
        data = self._validate(request["body"], {"required": ["name"], "properties": {
            "name": {"type": "string"}, "email": {"type": "string"}, "contact_email": {"type": "string"}}})
        name = data["name"]
        with self.lock:
            if name in self.state["orgs"] or name in self.state["users"]:
                raise self._invalid("A user or organization with this name already exists")
            email = data.get("contact_email") or data.get("email")
            if email and not validate_email(email):
                raise self._invalid("Invalid email address")
            owners = list(self.state["users"].values()) + list(self.state["orgs"].values())
            if email and not cfg.get("FEATURE_ORG_SHARED_EMAIL") and any(r["email"] == email for r in owners):
                raise self._invalid("Email has already been used: %s" % email)
            ok, issue = validate_username(name)
            if not ok:
                raise self._invalid("Invalid namespace %s: %s" % (name, issue))
            self.state["orgs"][name] = {"email": email or str(uuid.uuid4()), "admins": [identity.name],
                                        "created": _now()}
            self.save()
        return 201, "Created"

    def _get_org(self, request):
        with self.lock:
            if request["params"]["org"] not in self.state["orgs"]:
                raise self._not_found()
            return self._org_view(request["identity"], request["params"]["org"], request["config"])

    def _delete_org(self, request):
        identity, cfg, org = request["identity"], request["config"], request["params"]["org"]
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            if org not in self.state["orgs"]:
                raise self._not_found()
            self._forget_namespace(org)
            self.save()
        return 204, None

    def _forget_namespace(self, name):
        """An organization goes with its repositories, robots, applications and their tokens."""
        self.state["orgs"].pop(name, None)
        self.state["prototypes"].pop(name, None)
        for key in [k for k in self.state["repos"] if k.split("/", 1)[0] == name]:
            self.state["repos"].pop(key)
            self.state["permissions"].pop(key, None)
        for robot in [r for r in self.state["robots"] if r.split("+", 1)[0] == name]:
            self._forget_robot(robot)
        for client_id in [c for c, a in self.state["apps"].items() if a["owner"] == name]:
            self._forget_app(client_id)

    def _forget_robot(self, robot):
        self.state["robots"].pop(robot, None)
        for grants in self.state["permissions"].values():
            grants.pop(robot, None)
        for org, protos in self.state["prototypes"].items():
            self.state["prototypes"][org] = [p for p in protos if p["delegate"] != robot]

    def _forget_app(self, client_id):
        self.state["apps"].pop(client_id, None)
        for name in [n for n, t in self.state["tokens"].items() if t["clientId"] == client_id]:
            self.state["tokens"].pop(name)

    def _org_or_404(self, org):
        if org not in self.state["orgs"]:
            raise self._not_found()

    # -- applications and their tokens --------------------------------------------------------
    def _list_apps(self, request):
        identity, cfg, org = request["identity"], request["config"], request["params"]["org"]
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            self._org_or_404(org)
            return {"applications": [self._app_view(identity, a, cfg) for a in self.state["apps"].values()
                                     if a["owner"] == org]}

    def _create_app(self, request):
        identity, cfg, org = request["identity"], request["config"], request["params"]["org"]
        data = self._validate(request["body"], {"required": ["name"], "properties": {
            "name": {"type": "string"}, "redirect_uri": {"type": "string"}, "application_uri": {"type": "string"},
            "description": {"type": "string"}, "avatar_email": {"type": "string"}}})
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            self._org_or_404(org)
            if data["name"] == "__quay_bootstrap_app":
                raise self._invalid("Application name is reserved for bootstrap token provisioning")
            client_id = _random(20, ROBOT_CHARS)
            app = {"clientId": client_id, "clientSecret": _random(40, ROBOT_CHARS), "name": data["name"],
                   "description": data.get("description", ""), "applicationUri": data.get("application_uri", ""),
                   "redirectUri": data.get("redirect_uri", ""), "avatarEmail": data.get("avatar_email"), "owner": org}
            self.state["apps"][client_id] = app
            self.save()
            return self._app_view(identity, app, cfg)

    def _app_or_404(self, org, client_id):
        self._org_or_404(org)
        app = self.state["apps"].get(client_id)
        if app is None or app["owner"] != org:
            raise self._not_found()
        return app

    def _get_app(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            return self._app_view(identity, self._app_or_404(params["org"], params["client_id"]), cfg)

    def _delete_app(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            self._app_or_404(params["org"], params["client_id"])
            self._forget_app(params["client_id"])
            self.save()
        return 204, None

    def _list_tokens(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            self._app_or_404(params["org"], params["client_id"])
            live = [t for t in self.state["tokens"].values()
                    if t["clientId"] == params["client_id"] and t["expiresAt"] > _now()]
            return {"tokens": [self._token_view(t) for t in sorted(live, key=lambda t: -t["created"])]}

    def _can_mint(self, identity, org, scope, cfg):
        """organization_application_tokens.py _can_mint_scope: within the caller's own token, and each scope's
        permission held by the caller in this organization."""
        if identity.token is not None:
            held = scopes_of(identity.token["scope"])
            if not held or not scopes_of(scope) <= _implied(held):
                return False
        for wanted in scopes_of(scope):
            if wanted in REPO_CAP:
                allowed = self._repo_can(identity, org, "", REPO_CAP[wanted], cfg)
            elif wanted == "repo:create":
                allowed = self._can_create_repo(identity, org, cfg)
            elif wanted in USER_CAP:
                cap = self._user_cap(identity, identity.name)
                allowed = cap is not None and USER_ROLES.index(cap) >= USER_ROLES.index(USER_CAP[wanted])
            elif wanted == "org:admin":
                allowed = self._org_admin(identity, org, cfg)
            else:
                allowed = self._superuser(identity, cfg)
            if not allowed:
                return False
        return True

    def _create_token(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        data = self._validate(request["body"], {"required": ["name", "scope"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255}, "scope": {"type": "string"},
            "expiration": {"type": "number", "minimum": 1}}})
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            app = self._app_or_404(params["org"], params["client_id"])
            name = data["name"].strip()
            if not name:
                raise self._message("'name' must not be empty")
            scope = " ".join(dict.fromkeys(data["scope"].replace(",", " ").split()))
            if not scopes_of(scope):
                raise self._message("Invalid scope: %s" % data["scope"])
            if identity is None:
                raise self._unauthorized(None)
            if not self._can_mint(identity, params["org"], scope, cfg):
                raise self._unauthorized(identity)
            lifetime = min(max(int(data.get("expiration", TEN_YEARS)), 1), TEN_YEARS)
            limit = cfg.get("OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT")
            if limit is not None:
                live = [t for t in self.state["tokens"].values()
                        if t["clientId"] == app["clientId"] and t["expiresAt"] > _now()]
                if len(live) >= int(limit):
                    raise self._message("Token limit reached: maximum %d non-expired tokens per application"
                                        % int(limit))
            record, token = self._mint(identity.name, app["clientId"], params["org"], scope, lifetime, name)
            self.save()
            return self._token_view(record, token)

    def _delete_token(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            self._app_or_404(params["org"], params["client_id"])
            found = [n for n, t in self.state["tokens"].items()
                     if t["clientId"] == params["client_id"] and t["uuid"] == params["uuid"]]
            if not found:
                raise self._not_found()
            self.state["tokens"].pop(found[0])
            self.save()
        return 204, None

    # -- robots and default permissions ------------------------------------------------------
    def _robot_permissions(self, robot):
        return sorted(key.split("/", 1)[1] for key, grants in self.state["permissions"].items() if robot in grants)

    def _list_robots(self, request):
        identity, cfg, org, query = request["identity"], request["config"], request["params"]["org"], request["query"]
        with self.lock:
            if not self._org_member(identity, org, cfg):
                raise self._unauthorized(identity)
            admin = self._org_admin(identity, org, cfg)
            token = admin and (query.get("token", ["true"])[0].lower() not in ("false", "0", "no"))
            permissions = admin and query.get("permissions", ["false"])[0].lower() in ("true", "1", "yes")
            robots = [(n, r) for n, r in sorted(self.state["robots"].items()) if n.split("+", 1)[0] == org]
            limit = query.get("limit", [None])[0]
            if limit is not None and limit.isdigit():
                robots = robots[:int(limit)]
            return {"robots": [self._robot_view(n, r, token=token, permissions=(
                self._robot_permissions(n) if permissions else [])) for n, r in robots]}

    def _robot_or_400(self, org, short, message="Could not find robot with specified username"):
        robot = self.state["robots"].get("%s+%s" % (org, short))
        if robot is None:
            raise self._message(message)
        return robot

    def _get_robot(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            robot = self._robot_or_400(params["org"], params["short"])
            return self._robot_view("%s+%s" % (params["org"], params["short"]), robot, token=True, metadata=True)

    def _create_robot(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        data = self._validate(request["body"], {"properties": {
            "description": {"type": "string", "maxLength": 255}, "unstructured_metadata": {"type": "object"}}},
            optional=True)
        org, short = params["org"], params["short"]
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            if org not in self.state["orgs"]:
                raise self._message("Organization does not exist: %s" % org)
            ok, issue = validate_username(short)
            if not ok:
                raise self._invalid("The name for the robot '%s' is invalid: %s" % (short, issue))
            name = "%s+%s" % (org, short)
            if name in self.state["robots"]:
                raise self._invalid("Existing robot with name: %s" % name)
            robot = {"token": _random(64, ROBOT_CHARS), "description": (data.get("description") or "")[:255],
                     "unstructuredMetadata": data.get("unstructured_metadata") or {}, "created": _now(),
                     "lastAccessed": None}
            self.state["robots"][name] = robot
            self.save()
            return 201, self._robot_view(name, robot, token=True, metadata=True)

    def _delete_robot(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        name = "%s+%s" % (params["org"], params["short"])
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            self._robot_or_400(params["org"], params["short"], "Could not find robot with username: %s" % name)
            self._forget_robot(name)
            self.save()
        return 204, None

    def _regenerate_robot(self, request):
        identity, cfg, params = request["identity"], request["config"], request["params"]
        with self.lock:
            if not self._org_admin(identity, params["org"], cfg):
                raise self._unauthorized(identity)
            robot = self._robot_or_400(params["org"], params["short"])
            robot["token"] = _random(64, ROBOT_CHARS)
            self.save()
            return self._robot_view("%s+%s" % (params["org"], params["short"]), robot, token=True)

    def _list_prototypes(self, request):
        identity, cfg, org = request["identity"], request["config"], request["params"]["org"]
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            self._org_or_404(org)
            return {"prototypes": [self._prototype_view(org, p) for p in self.state["prototypes"].get(org, [])]}

    def _create_prototype(self, request):
        identity, cfg, org = request["identity"], request["config"], request["params"]["org"]
        data = self._validate(request["body"], {"required": ["role", "delegate"], "properties": {
            "role": {"type": "string", "enum": ["read", "write", "admin"]}, "delegate": {"type": "object"},
            "activating_user": {"type": "object"}}})
        with self.lock:
            if not self._org_admin(identity, org, cfg):
                raise self._unauthorized(identity)
            self._org_or_404(org)
            if (data.get("activating_user") or {}).get("name"):
                raise self._invalid("Unknown activating user")  # the lab keeps no per-user prototypes
            delegate = data["delegate"]
            name = delegate.get("name") if delegate.get("kind") == "user" else None
            if not name or (name not in self.state["users"] and name not in self.state["robots"]):
                raise self._invalid("Missing delegate user or team")
            proto = {"id": str(uuid.uuid4()), "role": data["role"], "delegate": name}
            self.state["prototypes"].setdefault(org, []).append(proto)
            self.save()
            return self._prototype_view(org, proto)

    # -- repositories and their permissions -------------------------------------------------
    def _create_repo(self, request):
        identity, cfg = request["identity"], request["config"]
        data = self._validate(request["body"], {"required": ["repository", "visibility", "description"],
                                                "properties": {
            "repository": {"type": "string"}, "visibility": {"type": "string", "enum": ["public", "private"]},
            "namespace": {"type": "string"}, "description": {"type": "string"},
            "repo_kind": {"type": ["string", "null"], "enum": ["image", None]}}})
        if identity is None and "namespace" not in data:
            raise self._invalid("Must provide a namespace or must be logged in.")
        namespace = data.get("namespace") or identity.name
        name = data["repository"]
        with self.lock:
            if not self._can_create_repo(identity, namespace, cfg):
                raise self._unauthorized(identity)
            key = "%s/%s" % (namespace, name)
            if key in self.state["repos"]:
                raise self._invalid("Repository already exists")
            if not REPOSITORY_RE.match(name):
                raise self._invalid("Invalid repository name")
            kind = data.get("repo_kind") or "image"
            self._add_repo(namespace, name, data["visibility"], data["description"], kind)
            self.save()
        return 201, {"namespace": namespace, "name": name, "kind": kind}

    def _add_repo(self, namespace, name, visibility, description="", kind="image"):
        """A new repository gets its organization's default permissions (prototypes)."""
        key = "%s/%s" % (namespace, name)
        self.state["repos"][key] = {"visibility": visibility, "description": description, "kind": kind,
                                    "created": _now()}
        grants = self.state["permissions"].setdefault(key, {})
        for proto in self.state["prototypes"].get(namespace, []):
            grants[proto["delegate"]] = proto["role"]

    def _repo_access(self, request, level, allow_public=False):
        """require_repo_read/write/admin(allow_for_superuser=True)."""
        identity, cfg, params = request["identity"], request["config"], request["params"]
        key = "%s/%s" % (params["ns"], params["repo"])
        public = allow_public and self.state["repos"].get(key, {}).get("visibility") == "public"
        if not (public or self._repo_can(identity, params["ns"], params["repo"], level, cfg)):
            raise self._unauthorized(identity)
        return key

    def _get_repo(self, request):
        with self.lock:
            key = self._repo_access(request, "read", allow_public=True)
            if key not in self.state["repos"]:
                raise self._not_found()
            return self._repo_view(request["identity"], key, request["config"])

    def _delete_repo(self, request):
        with self.lock:
            key = self._repo_access(request, "admin")
            if key not in self.state["repos"]:
                raise self._not_found()
            self.state["repos"].pop(key)
            self.state["permissions"].pop(key, None)
            self.save()
        return 204, None

    def _change_visibility(self, request):
        with self.lock:
            key = self._repo_access(request, "admin")
            data = self._validate(request["body"], {"required": ["visibility"], "properties": {
                "visibility": {"type": "string", "enum": ["public", "private"]}}})
            if key not in self.state["repos"]:
                raise self._not_found()
            self.state["repos"][key]["visibility"] = data["visibility"]
            self.save()
        return {"success": True}

    def _get_permission(self, request):
        params = request["params"]
        with self.lock:
            key = self._repo_access(request, "admin")
            role = self.state["permissions"].get(key, {}).get(params["member"])
            if role is None:
                raise self._message("User does not have permission for repo.")
            return self._permission_view(params["ns"], params["member"], role)

    def _set_permission(self, request):
        params = request["params"]
        member, namespace = params["member"], params["ns"]
        with self.lock:
            key = self._repo_access(request, "admin")
            data = self._validate(request["body"], {"required": ["role"], "properties": {
                "role": {"type": "string", "enum": ["read", "write", "admin"]}}})
            if member == namespace:
                raise self._invalid("Namespace owner must always be admin.")
            if member not in self.state["users"] and member not in self.state["robots"]:
                raise self._invalid("Invalid username: %s" % member)
            if "+" in member and member.split("+", 1)[0] != namespace:
                raise self._invalid("Cannot add robot %s under namespace %s" % (member, namespace))
            if key not in self.state["repos"]:
                raise self._invalid("Invalid repository: %s" % key)
            self.state["permissions"].setdefault(key, {})[member] = data["role"]
            self.save()
            return self._permission_view(namespace, member, data["role"])

    def _delete_permission(self, request):
        params = request["params"]
        with self.lock:
            key = self._repo_access(request, "admin")
            if params["member"] == params["ns"]:
                raise self._invalid("Namespace owner must always be admin.")
            if params["member"] not in self.state["permissions"].get(key, {}):
                raise self._invalid("User does not have permission for repo.")
            self.state["permissions"][key].pop(params["member"])
            self.save()
        return 204, None

    # -- the registry's auth endpoints ----------------------------------------------------------
    def _v2_headers(self):
        return {"WWW-Authenticate": 'Bearer realm="%s/v2/auth",service="%s"' % (self.base_url, self.host),
                "Docker-Distribution-API-Version": "registry/2.0"}

    def _v2_error(self, status, code, message):
        headers = self._v2_headers() if status == 401 else {}
        return ApiError(status, {"errors": [{"code": code, "message": message, "detail": {}}]}, headers=headers)

    def _sign(self, claims):
        header = {"alg": "RS256", "typ": "JWT", "kid": self.state["jwtKid"]}
        signing_input = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def _verify_jwt(self, token):
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            self._key.public_key().verify(_unb64url(parts[2]), (parts[0] + "." + parts[1]).encode(),
                                          padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(_unb64url(parts[1]))
        except Exception:  # noqa: BLE001 - any failure: not our token
            return None
        return claims if claims.get("exp", 0) > _now() else None

    def _v2_base(self, request):
        """GET /v2/: "true", 200 with a registry bearer token issued here, else 401 (and where to get one)."""
        parts = (request["headers"].get("Authorization") or "").split()
        valid = len(parts) == 2 and parts[0].lower() == "bearer" and self._verify_jwt(parts[1]) is not None
        headers = dict(self._v2_headers(), **{"X-Sparse-Manifest-Support": "false",
                                              "Content-Type": "text/html; charset=utf-8"})
        return (200 if valid else 401), b"true", headers

    def _v2_auth(self, request):
        """endpoints/v2/v2auth.py generate_registry_jwt: a token whose access list holds what the credentials
        may do; missing permissions are not an error, they are left out of the token (downscoping)."""
        cfg = request["config"]
        identity, error, sent = self._basic_identity(request["headers"].get("Authorization") or "")
        scopes = request["query"].get("scope") or []
        if sent and identity is None:
            LOG.info("quay %s: /v2/auth refused: %s", self.cluster, error or "Specified credentials are invalid")
            raise self._v2_error(401, "UNAUTHORIZED", error or "Specified credentials are invalid")
        if identity is None and not scopes:
            raise self._v2_error(401, "UNAUTHORIZED", "access to the requested resource is not authorized")
        if identity is None and not cfg.get("FEATURE_ANONYMOUS_ACCESS"):
            raise self._v2_error(401, "UNAUTHORIZED", "Anonymous access is not allowed")
        pattern = re.compile(r"^repository:((?:%s\/)?((?:[\.a-zA-Z0-9_\-]+\/)*[\.a-zA-Z0-9_\-]+)):"
                             r"((?:push|pull|\*)(?:,(?:push|pull|\*))*)$" % re.escape(self.host))
        access = []
        with self.lock:
            for scope in scopes:
                match = pattern.match(scope)
                if match is None:
                    raise self._v2_error(400, "INVALID_REQUEST", "Unable to decode repository and actions: %s" % scope)
                full, path, actions = match.group(1), match.group(2), match.group(3).split(",")
                namespace, _, repo = path.rpartition("/")
                if not namespace or not REPOSITORY_RE.match(repo):
                    message = "Invalid repository name: %s" % path
                    if "/" in namespace:
                        message = "Nested repositories are not supported. Found: %s" % path
                    raise self._v2_error(400, "NAME_INVALID", message)
                access.append({"type": "repository", "name": full,
                               "actions": self._v2_actions(identity, namespace, repo, actions, cfg)})
            if any("push" in a["actions"] for a in access):
                self.save()  # a push may have created the repository
        if identity is not None:
            context = {"kind": identity.kind, "user" if identity.kind == "oauth" else identity.kind: identity.name}
            subject = identity.name
        else:
            context, subject = {"kind": "anonymous"}, "(anonymous)"
        context.update({"version": 2, "entity_kind": context["kind"], "com.apostille.roots": {},
                        "com.apostille.root": "$disabled"})
        now = int(_now())
        claims = {"iss": "quay", "aud": (request["query"].get("service") or [None])[0], "nbf": now, "iat": now,
                  "exp": now + V2_TOKEN_LIFETIME, "sub": subject, "access": access, "context": context}
        LOG.info("quay %s: /v2/auth for %s: %s", self.cluster, subject,
                 ", ".join("%s:%s" % (a["name"], ",".join(a["actions"]) or "-") for a in access) or "login")
        return {"token": self._sign(claims)}

    def _v2_actions(self, identity, namespace, repo, wanted, cfg):
        key = "%s/%s" % (namespace, repo)
        record = self.state["repos"].get(key)
        if namespace not in self.state["orgs"] and namespace not in self.state["users"]:
            return []  # no such namespace (CREATE_NAMESPACE_ON_PUSH is off)
        granted = []
        if "push" in wanted and identity is not None:
            if record is not None:
                if self._repo_can(identity, namespace, repo, "write", cfg):
                    granted.append("push")
            elif self._can_create_repo(identity, namespace, cfg):
                self._add_repo(namespace, repo, "private")  # push creates the repository (private)
                record = self.state["repos"][key]
                granted.append("push")
        if "pull" in wanted:
            public = record is not None and record["visibility"] == "public"
            if public or self._repo_can(identity, namespace, repo, "read", cfg):
                granted.append("pull")
        if "*" in wanted and record is not None and self._repo_can(identity, namespace, repo, "admin", cfg):
            granted.append("*")
        return granted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "quay-standin"
    timeout = 15  # idle keep-alive connections
    MAX_BODY = 8 * 1024 * 1024

    def _serve(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.MAX_BODY:
            status, body, headers, content_type = 400, {"message": "bad Content-Length"}, {}, "application/json"
            self.close_connection = True
        else:
            raw = self.rfile.read(length) if length else b""
            status, body, headers, content_type = self.server.api.handle(self.command, self.path, self.headers, raw)
        if body is None or status in (204, 304):
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        if status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        LOG.debug("quay %s: %s", self.server.api.cluster, fmt % args)


class QuayServer(ThreadingHTTPServer):
    """Quay's HTTPS endpoint with a certificate from the cluster's ingress CA (as the router serves it); the TLS
    handshake runs in the request's thread."""

    daemon_threads = True

    def __init__(self, address, api, cert_pem, key_pem):
        self.api = api
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _load_chain(self.ssl_context, cert_pem, key_pem)
        super().__init__(address, _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="quay-%s" % api.cluster, daemon=True)

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            LOG.info("quay %s: TLS handshake with %s:%s failed: %s", self.api.cluster,
                     client_address[0], client_address[1], err)
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.shutdown_request(conn)

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, OSError):  # the client went away (a timeout, a reset)
            LOG.info("quay %s: connection from %s:%s ended: %s", self.api.cluster, client_address[0],
                     client_address[1], err)
        else:
            LOG.exception("quay %s: request from %s failed", self.api.cluster, client_address)


# -- the Quay operator ---------------------------------------------------------------------
def _components(spec, bundle_keys):
    """kind -> managed, as the operator settles spec.components: a kind not listed is managed, except tls when
    the bundle brings ssl.cert/ssl.key and monitoring (no Prometheus API in the lab)."""
    declared = {c.get("kind"): bool(c.get("managed")) for c in spec.get("components") or [] if isinstance(c, dict)}
    managed = {}
    for kind in COMPONENTS:
        if kind == "quay":
            managed[kind] = True  # the operator rolls quay back to managed
        elif kind in declared:
            managed[kind] = declared[kind]
        elif kind == "tls":
            managed[kind] = not ("ssl.cert" in bundle_keys and "ssl.key" in bundle_keys)
        else:
            managed[kind] = kind != "monitoring"
    return managed


def _config_problem(managed, cfg, bundle_keys):
    """quayregistry_controller.go hasNecessaryConfig, for the effective components."""
    for kind, is_managed in managed.items():
        if kind == "tls":
            has = "ssl.cert" in bundle_keys and "ssl.key" in bundle_keys
        elif kind == "clairpostgres":
            has = "clair-config.yaml" in bundle_keys
        else:
            has = any(field in cfg for field in COMPONENTS[kind][1])
        if is_managed:
            if has and kind not in CONFIG_WHEN_MANAGED:
                return "%s component marked as managed, but `configBundleSecret` contains required fields" % kind
            continue
        if has:
            continue
        if kind in REQUIRED:
            return ("required component `%s` marked as unmanaged, but `configBundleSecret` is missing necessary "
                    "fields" % kind)
        if kind == "clairpostgres" and managed["clair"]:
            return "clairpostgres component unmanaged but no clair postgres config provided"
    return None


class QuayOperatorStandin:
    def __init__(self, kube, scheduler, domain, lab, cluster):
        self.kube = kube
        self.scheduler = scheduler
        self.domain = domain
        self.lab = lab
        self.cluster = cluster
        self.port = lab.clusters[cluster].get("quay_port")
        self.state_file = lab.quay_state_file(cluster)
        self.kube_factory = lambda: lab.kube(cluster)
        self.server = None
        self.owner = None  # (namespace, name, uid) of the QuayRegistry being served
        self.known = {}  # (namespace, name) -> configBundleSecret, for the Secret and claim watches
        self.bundles = {}  # uid -> the base config bundle created for it (one, even if events repeat)

    def watches(self):
        return [(API, "quayregistries", self.on_registry), (OLM, "clusterserviceversions", self.on_csv),
                ("v1", "secrets", self.on_dependency), (OBC_API, "objectbucketclaims", self.on_dependency)]

    def on_csv(self, event, csv):
        if event != "DELETED" and csv["metadata"]["name"].startswith("quay-operator.") and \
                csv.get("status", {}).get("phase") == "Succeeded":
            for registry in self.kube.list(API, "quayregistries")["items"]:
                self.on_registry("SYNC", registry)

    def on_dependency(self, event, obj):
        """The config bundle or the datastore claim (and its Secret) of a known registry changed."""
        meta = obj["metadata"]
        for (namespace, name), bundle in list(self.known.items()):
            if namespace == meta.get("namespace") and meta["name"] in (bundle, name + "-quay-datastore"):
                registry = self.kube.get_or_none(API, "quayregistries", name, namespace)
                if registry is not None:
                    self.on_registry("SYNC", registry)

    def on_registry(self, event, registry):
        meta = registry["metadata"]
        key = (meta["namespace"], meta["name"])
        if event == "DELETED" or meta.get("deletionTimestamp"):
            self.known.pop(key, None)
            if self.owner and self.owner[2] == meta["uid"]:
                self._stop_server(forget=True)
                self._delete_claim(meta)
                LOG.info("%s: QuayRegistry %s/%s deleted, its API stopped", self.kube.name, *key)
            return
        self.known[key] = (registry.get("spec") or {}).get("configBundleSecret")
        version = self._installed_version(meta["namespace"])
        if version is None:
            return
        other = self._other_registry(meta)
        if other:
            self._refuse(registry, other)
            return
        self._reconcile(registry, version)

    def _installed_version(self, namespace):
        """The version of a Succeeded quay-operator CSV in the namespace or openshift-operators, else None."""
        for ns in (namespace, "openshift-operators"):
            try:
                csvs = self.kube.list(OLM, "clusterserviceversions", namespace=ns)["items"]
            except KubeError:
                continue
            for csv in csvs:
                name = csv["metadata"]["name"]
                if name.startswith("quay-operator.") and csv.get("status", {}).get("phase") == "Succeeded":
                    version = name.split(".v", 1)[1] if ".v" in name else DEFAULT_VERSION
                    return version.split("-")[0]
        return None

    def _other_registry(self, meta):
        """The QuayRegistry already served on this cluster if it is not this one (one per cluster)."""
        owner = self.owner
        recorded = read_state(self.state_file).get("registry")
        if owner is None and recorded:
            owner = (recorded.get("namespace"), recorded.get("name"), recorded.get("uid"))
        if owner is None or owner[2] == meta["uid"]:
            return None
        existing = self.kube.get_or_none(API, "quayregistries", owner[1], owner[0])
        if existing is not None and existing["metadata"]["uid"] == owner[2]:
            return owner
        self._stop_server(forget=True)  # the old one is gone: its deletion was missed
        return None

    def _refuse(self, registry, other):
        message = ("lab stand-in: one QuayRegistry per cluster; QuayRegistry %s/%s already runs on this cluster"
                   % (other[0], other[1]))
        if self._set_status(registry, [_condition("RolloutBlocked", "True", "LabOneQuayRegistryPerCluster", message)]):
            LOG.info("%s: %s", self.kube.name, message)

    @staticmethod
    def _owner_ref(registry):
        return [{"apiVersion": API, "kind": "QuayRegistry", "name": registry["metadata"]["name"],
                 "uid": registry["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]

    def _set_status(self, registry, wanted, extra=None):
        """SetCondition for each wanted condition (the transition time kept while the status stays), plus
        extra fields; writes only if something other than timestamps changed. True if written."""
        meta, status = registry["metadata"], registry.get("status") or {}
        current = list(status.get("conditions") or [])
        by_type = {c.get("type"): i for i, c in enumerate(current)}
        changed = False
        for cond in wanted:
            index = by_type.get(cond["type"])
            old = current[index] if index is not None else None
            if old is not None and old.get("status") == cond["status"]:
                cond["lastTransitionTime"] = old.get("lastTransitionTime") or cond["lastTransitionTime"]
            if old is None or any(old.get(k) != cond[k] for k in ("status", "reason", "message")):
                changed = True
            if index is None:
                by_type[cond["type"]] = len(current)
                current.append(cond)
            else:
                current[index] = cond
        patch = {"conditions": current, "observedGeneration": meta.get("generation"),
                 "lastUpdated": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime())}
        for field, value in (extra or {}).items():
            if status.get(field) != value:
                changed = True
            patch[field] = value
        if status.get("observedGeneration") != meta.get("generation"):
            changed = True
        if not changed:
            return False
        self.kube.merge_patch(API, "quayregistries", meta["name"], {"status": patch}, namespace=meta["namespace"],
                              subresource="status")
        return True

    def _blocked(self, registry, reason, message):
        if self._set_status(registry, [_condition("RolloutBlocked", "True", reason, message)]):
            LOG.info("%s: QuayRegistry %s/%s blocked (%s): %s", self.kube.name, registry["metadata"]["namespace"],
                     registry["metadata"]["name"], reason, message)

    def _reconcile(self, registry, version):
        meta, spec = registry["metadata"], registry.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        bundle_name = spec.get("configBundleSecret")
        if not bundle_name:
            self._create_bundle(registry)
            return
        bundle = self.kube.get_or_none("v1", "secrets", bundle_name, namespace)
        if bundle is None:
            self._blocked(registry, "ConfigInvalid", 'unable to get `configBundleSecret`: secrets "%s" not found'
                          % bundle_name)
            return
        keys = set((bundle.get("data") or {}).keys())
        text = _secret_text(bundle, "config.yaml")
        if text is None:
            self._blocked(registry, "ConfigInvalid", "lab stand-in: `configBundleSecret` %s has no config.yaml "
                                                     "(the operator cannot render Quay's configuration)" % bundle_name)
            return
        try:
            cfg = yaml.safe_load(text) or {}
            if not isinstance(cfg, dict):
                raise yaml.YAMLError("config.yaml is not a mapping")
        except yaml.YAMLError as err:
            self._blocked(registry, "ConfigInvalid", "error converting YAML to JSON: %s" % err)
            return
        managed = _components(spec, keys)
        if managed["monitoring"]:
            self._blocked(registry, "MonitoringComponentDependencyError",
                          "could not check for monitoring support: monitoring.coreos.com APIs not found")
            return
        claim_name = name + "-quay-datastore"
        claim = self.kube.get_or_none(OBC_API, "objectbucketclaims", claim_name, namespace)
        if managed["objectstorage"] and claim is not None and not self._claim_ready(claim):
            self._waiting(registry, managed, "Object bucket claim not bound")
            return
        problem = _config_problem(managed, cfg, keys)
        if problem:
            self._blocked(registry, "ConfigInvalid", problem)
            return
        if managed["route"]:
            self._ensure_route(registry)
        if managed["objectstorage"] and claim is None:
            self.kube.ensure(OBC_API, "objectbucketclaims", {
                "apiVersion": OBC_API, "kind": "ObjectBucketClaim",
                "metadata": {"name": claim_name, "namespace": namespace,
                             "labels": {"quay-component": "quay-datastore"},
                             "annotations": {"quay-component": "objectstorage"},
                             "ownerReferences": self._owner_ref(registry)},
                "spec": {"generateBucketName": "quay-datastore", "storageClassName": NOOBAA_CLASS,
                         "additionalConfig": {"bucketclass": "noobaa-default-bucket-class"}}}, namespace=namespace)
            LOG.info("%s: QuayRegistry %s/%s: ObjectBucketClaim %s created, waiting for object storage",
                     self.kube.name, namespace, name, claim_name)
            self._waiting(registry, managed, "Object bucket claim not bound")
            return
        if not self._ensure_server(registry):
            return
        self._ready(registry, managed, version)

    def _create_bundle(self, registry):
        """spec.configBundleSecret unset: the operator creates a base config bundle and sets the field."""
        meta = registry["metadata"]
        name = self.bundles.get(meta["uid"])
        if name is None:
            created = self.kube.create("v1", "secrets", {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"generateName": meta["name"] + "-config-bundle-", "namespace": meta["namespace"],
                             "ownerReferences": self._owner_ref(registry)},
                "stringData": {"config.yaml": yaml.safe_dump(BASE_CONFIG, default_flow_style=False)}},
                namespace=meta["namespace"])
            name = self.bundles[meta["uid"]] = created["metadata"]["name"]
        self.kube.merge_patch(API, "quayregistries", meta["name"], {"spec": {"configBundleSecret": name}},
                              namespace=meta["namespace"])
        LOG.info("%s: QuayRegistry %s/%s: base config bundle %s created", self.kube.name, meta["namespace"],
                 meta["name"], name)

    def _claim_ready(self, claim):
        """Bound, with the Secret and ConfigMap the provisioner writes (what the operator reads)."""
        meta = claim["metadata"]
        return (claim.get("status") or {}).get("phase") == "Bound" and \
            self.kube.get_or_none("v1", "secrets", meta["name"], meta["namespace"]) is not None and \
            self.kube.get_or_none("v1", "configmaps", meta["name"], meta["namespace"]) is not None

    def _component_conditions(self, registry, managed):
        name = registry["metadata"]["name"]
        conditions = []
        for kind, (ctype, _fields) in COMPONENTS.items():
            healthy, unmanaged = HEALTHY[kind]
            if managed[kind]:
                conditions.append(_condition(ctype, "True", "ComponentReady", healthy.format(name=name)))
            elif kind == "tls":
                conditions.append(_condition(ctype, "True", "ComponentReady", unmanaged))
            else:
                conditions.append(_condition(ctype, "True", "ComponentNotManaged", unmanaged))
        return conditions

    def _waiting(self, registry, managed, claim_message):
        """The claim is not bound yet: the main controller blocks, the status controller reports the chain."""
        conditions = [c for c in self._component_conditions(registry, managed)
                      if c["type"] not in ("ComponentObjectStorageReady", "ComponentQuayReady", "ComponentMirrorReady")]
        conditions += [
            _condition("ComponentObjectStorageReady", "False", "ComponentNotReady", claim_message),
            _condition("ComponentQuayReady", "False", "ComponentNotReady",
                       "Awaiting for component objectstorage to become available"),
            _condition("ComponentMirrorReady", "False", "ComponentNotReady",
                       "Awaiting for component quay to become available"),
            _condition("Available", "False", "ComponentNotReady", "Some components are not ready"),
            _condition("RolloutBlocked", "True", "ObjectStorageComponentDependencyError", WAITING_FOR_STORAGE)]
        self._set_status(registry, conditions)

    def _ready(self, registry, managed, version):
        meta = registry["metadata"]
        conditions = self._component_conditions(registry, managed) + [
            _condition("Available", "True", "HealthChecksPassing", "All components reporting as healthy"),
            _condition("RolloutBlocked", "False", "ComponentsCreationSuccess",
                       "All objects created/updated successfully"),
            _condition("ComponentsCreated", "True", "ComponentsCreationSuccess", "All registry components created")]
        endpoint = "https://localhost:%d" % self.port
        if self._set_status(registry, conditions, {"currentVersion": version, "registryEndpoint": endpoint}):
            LOG.info("%s: QuayRegistry %s/%s Available at %s (Quay %s)", self.kube.name, meta["namespace"],
                     meta["name"], endpoint, version)

    def _route_host(self, registry):
        meta = registry["metadata"]
        return "%s-quay-%s.%s" % (meta["name"], meta["namespace"], self.domain)

    def _ensure_route(self, registry):
        meta = registry["metadata"]
        route_name = meta["name"] + "-quay"
        if self.kube.get_or_none(ROUTE_API, "routes", route_name, meta["namespace"]) is not None:
            return
        host = self._route_host(registry)
        self.kube.ensure(ROUTE_API, "routes", {
            "apiVersion": ROUTE_API, "kind": "Route",
            "metadata": {"name": route_name, "namespace": meta["namespace"],
                         "labels": {"quay-component": "quay-app-route"}, "annotations": {"quay-component": "route"},
                         "ownerReferences": self._owner_ref(registry)},
            "spec": {"host": host, "to": {"kind": "Service", "name": meta["name"] + "-quay-app", "weight": 100},
                     "port": {"targetPort": "http"},
                     "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
                     "wildcardPolicy": "None"}}, namespace=meta["namespace"])
        self.kube.merge_patch(ROUTE_API, "routes", route_name, {"status": {"ingress": [{
            "host": host, "routerName": "default", "wildcardPolicy": "None",
            "routerCanonicalHostname": "router-default." + self.domain,
            "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": now_iso()}]}]}},
            namespace=meta["namespace"], subresource="status")

    def _ensure_server(self, registry):
        meta = registry["metadata"]
        if self.server is None:
            if not self.port:
                LOG.warning("%s: no quay_port in the lab state; QuayRegistry %s/%s cannot be served",
                            self.kube.name, meta["namespace"], meta["name"])
                return False
            ca = self.lab.ingress_ca(self.cluster)
            if ca is None:
                LOG.warning("%s: no ingress CA in the lab state; QuayRegistry %s/%s cannot be served",
                            self.kube.name, meta["namespace"], meta["name"])
                return False
            cert, key = ca.leaf("quay-app", server=True, hosts=("localhost", "127.0.0.1", self._route_host(registry)))
            api = QuayAPI(self.cluster, registry, "localhost:%d" % self.port, self.state_file, self.kube_factory)
            try:
                server = QuayServer(("127.0.0.1", self.port), api, cert.decode(), key.decode())
            except OSError as err:
                LOG.warning("%s: Quay API cannot listen on 127.0.0.1:%d: %s", self.kube.name, self.port, err)
                return False
            with api.lock:
                api.save()  # claims the state file for this registry
            server.thread.start()
            self.server = server
            LOG.info("%s: QuayRegistry %s/%s API on https://localhost:%d", self.kube.name, meta["namespace"],
                     meta["name"], self.port)
        self.server.api.spec = registry.get("spec") or {}
        self.owner = (meta["namespace"], meta["name"], meta["uid"])
        return True

    def _stop_server(self, forget):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.owner = None
        if forget and os.path.exists(self.state_file):
            os.remove(self.state_file)

    def _delete_claim(self, meta):
        """The claim is owned by the registry (the garbage collector removes it); delete it at once as well."""
        claim = self.kube.get_or_none(OBC_API, "objectbucketclaims", meta["name"] + "-quay-datastore",
                                      meta["namespace"])
        owners = ((claim or {}).get("metadata") or {}).get("ownerReferences") or []
        if any(o.get("uid") == meta["uid"] for o in owners):
            self.kube.delete(OBC_API, "objectbucketclaims", claim["metadata"]["name"], meta["namespace"])


# -- the Quay Bridge operator ----------------------------------------------------------------
class _BridgeClient:
    """QBO's Quay client (pkg/client/quay): the quayHostname's scheme and host, Bearer token, JSON."""

    def __init__(self, base_url, token, context):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError('unsupported protocol scheme "%s"' % parsed.scheme)
        self.https = parsed.scheme == "https"
        self.host, self.port = parsed.hostname, parsed.port or (443 if self.https else 80)
        self.token = token
        self.context = context

    def call(self, method, path, body=None):
        """(HTTP status, decoded body); redirects followed as Go's client does. Raises OSError."""
        for _hop in range(4):
            if self.https:
                conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=10)
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            headers = {"Accept": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            data = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(body)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw, location = resp.read(), resp.getheader("Location")
            except http.client.HTTPException as err:
                raise OSError(str(err)) from err
            finally:
                conn.close()
            if resp.status in (301, 302, 303, 307, 308) and location:
                target = urllib.parse.urlsplit(location)
                path = target.path + ("?" + target.query if target.query else "")
                continue
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw.decode(errors="replace")
        raise OSError("stopped after 4 redirects")


def _volume_files(kube, namespace, volume):
    """{relative path: text} of a ConfigMap, Secret or projected volume, as the kubelet would write it."""
    def source_files(kind, ref):
        name = ref.get("name") or ref.get("secretName")
        obj = kube.get_or_none("v1", "configmaps" if kind == "configMap" else "secrets", name, namespace) if name \
            else None
        data = dict((obj or {}).get("data") or {})
        if kind == "secret":
            data = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
        items = ref.get("items")
        if items:
            return {i.get("path") or i["key"]: data[i["key"]] for i in items if i.get("key") in data}
        return data

    files = {}
    for kind in ("configMap", "secret"):
        if volume.get(kind):
            files.update(source_files(kind, volume[kind]))
    for source in (volume.get("projected") or {}).get("sources") or []:
        for kind in ("configMap", "secret"):
            if source.get(kind):
                files.update(source_files(kind, source[kind]))
    return files


def operator_trust(kube, package, namespace="openshift-operators"):
    """The PEMs an operator pod of `package` trusts beyond the system store: Go's crypto/x509 reads SSL_CERT_FILE
    and every file of each SSL_CERT_DIR directory; the Subscription's spec.config sets the variables and
    mounts ConfigMap/Secret volumes there. Returns (list of (path, PEM text), description)."""
    subs = [s for s in kube.list(OLM, "subscriptions", namespace=namespace)["items"]
            if (s.get("spec") or {}).get("name") == package]
    config = ((subs[0].get("spec") or {}).get("config") or {}) if subs else {}
    env = {e.get("name"): e.get("value") for e in config.get("env") or [] if isinstance(e, dict)}
    volumes = {v.get("name"): v for v in config.get("volumes") or [] if isinstance(v, dict)}
    files = {}
    for mount in config.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if not volume or not mount.get("mountPath"):
            continue
        content = _volume_files(kube, namespace, volume)
        target = posixpath.normpath(mount["mountPath"])
        if mount.get("subPath"):
            if mount["subPath"] in content:
                files[target] = content[mount["subPath"]]
        else:
            for rel, text in content.items():
                files[posixpath.normpath(posixpath.join(target, rel))] = text
    found = []
    if env.get("SSL_CERT_FILE"):
        path = posixpath.normpath(env["SSL_CERT_FILE"])
        if path in files:
            found.append((path, files[path]))
    for directory in (env.get("SSL_CERT_DIR") or "").split(":"):
        if directory:
            directory = posixpath.normpath(directory)
            found += [(p, t) for p, t in sorted(files.items()) if posixpath.dirname(p) == directory]
    described = "SSL_CERT_FILE=%s SSL_CERT_DIR=%s: %d file(s) mounted there" % (
        env.get("SSL_CERT_FILE") or "-", env.get("SSL_CERT_DIR") or "-", len(found))
    return found, described


class QuayBridgeStandin:
    def __init__(self, kube, kube_factory, stop):
        self.kube = kube
        self.kube_factory = kube_factory
        self.stop = stop
        self.pending = set()
        self.everything = False
        self.cond = threading.Condition()
        self.last = {}  # key -> last outcome, logged when it changes
        self.seen_spec = {}  # QuayIntegration name -> spec last given a status.lastUpdate
        self.thread = threading.Thread(target=self._run, name="qbo-%s" % kube.name, daemon=True)

    def start(self):
        self.thread.start()

    def watches(self):
        return [(API, "quayintegrations", self.on_integration), ("v1", "namespaces", self.on_namespace),
                (OLM, "clusterserviceversions", self.on_csv), (OLM, "subscriptions", self.on_subscription)]

    def _enqueue(self, names=(), everything=False):
        with self.cond:
            self.pending.update(names)
            self.everything = self.everything or everything
            self.cond.notify()

    def on_integration(self, event, integration):
        name = integration["metadata"]["name"]
        if event == "DELETED":
            self.seen_spec.pop(name, None)
            self._enqueue(everything=True)
            return
        if not _installed(self.kube, "openshift-operators", "quay-bridge-operator"):
            return
        spec = json.dumps(integration.get("spec") or {}, sort_keys=True)
        if self.seen_spec.get(name) != spec:  # QuayIntegrationReconciler: only lastUpdate, on a spec change
            self.kube.merge_patch(API, "quayintegrations", name, {"status": {"lastUpdate": _go_time()}},
                                  subresource="status")
            self.seen_spec[name] = spec
            self._enqueue(everything=True)

    def on_namespace(self, event, namespace):
        if event != "DELETED":
            self._enqueue([namespace["metadata"]["name"]])

    def on_csv(self, event, csv):
        if event != "DELETED" and csv["metadata"]["name"].startswith("quay-bridge-operator.") and \
                csv.get("status", {}).get("phase") == "Succeeded":
            for integration in self.kube.list(API, "quayintegrations")["items"]:
                self.on_integration("SYNC", integration)
            self._enqueue(everything=True)

    def on_subscription(self, event, sub):
        if (sub.get("spec") or {}).get("name") == "quay-bridge-operator":
            self._enqueue(everything=True)  # a new spec.config restarts the operator pod

    def _note(self, key, outcome, warn=False):
        if self.last.get(key) != outcome:
            self.last[key] = outcome
            (LOG.warning if warn else LOG.info)("%s: quay-bridge-operator: %s", self.kube.name, outcome)

    # -- the work, off the watch threads -------------------------------------------------------
    def _run(self):
        kube = None
        next_round = time.monotonic() + BRIDGE_EVERY
        while not self.stop.is_set():
            with self.cond:
                while not self.pending and not self.everything and time.monotonic() < next_round and \
                        not self.stop.is_set():
                    self.cond.wait(min(1.0, max(0.0, next_round - time.monotonic())))
                if time.monotonic() >= next_round:
                    self.everything = True
                    next_round = time.monotonic() + BRIDGE_EVERY
                names, everything = set(self.pending), self.everything
                self.pending, self.everything = set(), False
            try:
                kube = kube or self.kube_factory()
                self._round(kube, names, everything)
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.exception("%s: quay-bridge-operator round failed", self.kube.name)

    @staticmethod
    def allowed(spec, namespace):
        """QuayIntegration.IsAllowedNamespace."""
        if namespace in (spec.get("denylistNamespaces") or []):
            return False
        if namespace in (spec.get("allowlistNamespaces") or []):
            return True
        if namespace in BRIDGE_DENIED or namespace.startswith(("openshift-", "kube-")):
            return False
        return not spec.get("allowlistNamespaces")

    def _round(self, kube, names, everything):
        if not _installed(kube, "openshift-operators", "quay-bridge-operator"):
            return
        integrations = kube.list(API, "quayintegrations")["items"]
        if len(integrations) != 1:
            if integrations:
                self._note("integration", "No QuayIntegrations defined or more than 1 integration present "
                                          "(Expected 1, Actual %d)" % len(integrations), warn=True)
            return
        integration = integrations[0]
        spec = integration.get("spec") or {}
        if everything:
            names = {n["metadata"]["name"] for n in kube.list("v1", "namespaces")["items"]}
        names = sorted(n for n in names if self.allowed(spec, n))
        if not names:
            return
        token, problem = self._credentials(kube, spec)
        if problem:
            self._note("credentials", problem, warn=True)
            return
        self._note("credentials", "credentials Secret %s/%s found" % (
            spec["credentialsSecret"].get("namespace"), spec["credentialsSecret"].get("name")))
        client, unreachable = self._client(kube, spec, token)
        for name in names:
            try:
                self._namespace(kube, client, unreachable, spec, name)
            except KubeError as err:
                if err.status == 409:
                    self._enqueue([name])  # someone else wrote the namespace: look again
                else:
                    LOG.warning("%s: quay-bridge-operator: namespace %s: %s", self.kube.name, name, err)

    def _credentials(self, kube, spec):
        ref = spec.get("credentialsSecret") or {}
        if not ref.get("name"):
            return None, "Required parameter 'CredentialsSecret' not found"
        secret = kube.get_or_none("v1", "secrets", ref["name"], ref.get("namespace"))
        if secret is None:
            return None, "Error Locating Quay Integration Secret - Namespace, %s, Secret, %s" % (
                ref.get("namespace"), ref["name"])
        key = ref.get("key") or "token"
        if key not in (secret.get("data") or {}):
            return None, "Credential Secret does not contain key '%s'" % key
        return _secret_text(secret, "token") or "", None  # QBO checks `key` but reads "token"

    def _client(self, kube, spec, token):
        """(client, None) or (None, why Quay cannot be reached) after a GET /api/v1/user (QBO's GetUser), whose
        outcome is logged: the connection, TLS verification, and whether Quay takes the token."""
        base = spec.get("quayHostname") or ""
        if spec.get("insecureRegistry"):
            context = ssl._create_unverified_context()  # noqa: S323 - what insecureRegistry asks for
            trust = "insecureRegistry: TLS not verified"
        else:
            context = ssl.create_default_context()
            pems, trust = operator_trust(kube, "quay-bridge-operator")
            for path, text in pems:
                try:
                    context.load_verify_locations(cadata=text)
                except (ssl.SSLError, ValueError):
                    LOG.debug("%s: quay-bridge-operator: %s holds no certificate", self.kube.name, path)
        try:
            client = _BridgeClient(base, token, context)
            status, body = client.call("GET", "/api/v1/user")
        except ssl.SSLCertVerificationError as err:
            why = "TLS verification of %s failed (%s; trust: system store + %s): %s" % (base, err.verify_message, trust,
                                                                                        err)
            self._note("quay", why, warn=True)
            return None, why
        except (OSError, ValueError) as err:
            why = "cannot reach Quay at %s: %s" % (base, err)
            self._note("quay", why, warn=True)
            return None, why
        if status == 200 and isinstance(body, dict):
            self._note("quay", "Quay at %s takes the token (user %s; trust: %s)" % (base, body.get("username"), trust))
        else:
            detail = body.get("detail") or body.get("message") if isinstance(body, dict) else body
            self._note("quay", "Quay at %s refused the token: HTTP %d %s" % (base, status, detail), warn=True)
        return client, None

    def _namespace(self, kube, client, unreachable, spec, name):
        namespace = kube.get_or_none("v1", "namespaces", name)
        if namespace is None:
            return
        meta = namespace["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        org = "%s_%s" % ((spec.get("clusterID") or "").lower(), name)
        key = ("namespace", name)
        if meta.get("deletionTimestamp"):
            if BRIDGE_FINALIZER not in finalizers:
                return
            if unreachable:
                self._note(key, "namespace %s is being deleted, organization %s not deleted: %s" % (
                    name, org, unreachable), warn=True)
                return
            if not self._cleanup(client, org, key):
                return
            finalizers.remove(BRIDGE_FINALIZER)
            kube.merge_patch("v1", "namespaces", name, {"metadata": {
                "finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}})
            self._note(key, "namespace %s deleted: organization %s deleted, finalizer removed" % (name, org))
            return
        if BRIDGE_FINALIZER not in finalizers:
            annotations = meta.get("annotations") or {}
            if "openshift.io/display-name" in annotations and "openshift.io/description" in annotations and \
                    "openshift.io/sa.scc.mcs" not in annotations:
                return  # an OpenShift project the SCC controller has not annotated yet
            kube.merge_patch("v1", "namespaces", name, {"metadata": {
                "finalizers": finalizers + [BRIDGE_FINALIZER], "resourceVersion": meta["resourceVersion"]}})
            return
        if unreachable:
            self._note(key, "namespace %s: organization %s not set up: %s" % (name, org, unreachable), warn=True)
            return
        self._setup(kube, client, spec, name, org, key)

    def _cleanup(self, client, org, key):
        path = "/api/v1/organization/" + urllib.parse.quote(org)
        try:
            status, body = client.call("GET", path)
            if status == 404:
                return True
            if status == 200:
                status, body = client.call("DELETE", path)
                if status == 204:
                    return True
        except OSError as err:
            status, body = 0, str(err)
        self._note(key, "Error occurred deleting Organization %s: HTTP %s %s" % (org, status, body), warn=True)
        return False

    def _setup(self, kube, client, spec, name, org, key):
        path = "/api/v1/organization/" + urllib.parse.quote(org)
        try:
            status, body = client.call("GET", path)
            if status == 404:
                status, body = client.call("POST", "/api/v1/organization/", {"name": org, "email": org + "@redhat.com"})
                if status != 201:
                    self._note(key, "Error occurred creating Quay Organization %s: HTTP %d %s" % (org, status, body),
                               warn=True)
                    return
            elif status != 200:
                self._note(key, "Error occurred retrieving Quay Organization %s: HTTP %d %s" % (org, status, body),
                           warn=True)
                return
            host = urllib.parse.urlsplit(spec.get("quayHostname") or "").netloc
            problems = [p for p in (self._account(kube, client, spec, name, org, account, role, host)
                                    for account, role in BRIDGE_ACCOUNTS) if p]
        except OSError as err:
            self._note(key, "namespace %s: Quay unreachable: %s" % (name, err), warn=True)
            return
        self._note(key, "namespace %s: organization %s, robots and pull secrets in place%s" % (
            name, org, "; " + "; ".join(problems) if problems else ""), warn=bool(problems))

    def _account(self, kube, client, spec, namespace, org, account, role, host):
        """createRobotAccountAssociateToSA: robot, default permission, pull secret, ServiceAccount links."""
        robots = "/api/v1/organization/%s/robots/%s" % (urllib.parse.quote(org), account)
        status, robot = client.call("GET", robots)
        if status == 400:
            status, robot = client.call("PUT", robots)
            if status != 201:
                return "Error occurred creating robot account %s+%s: HTTP %d" % (org, account, status)
        elif status != 200:
            return "Error occurred retrieving robot account %s+%s: HTTP %d" % (org, account, status)
        prototypes = "/api/v1/organization/%s/prototypes" % urllib.parse.quote(org)
        status, listing = client.call("GET", prototypes)
        if status != 200:
            return "Error occurred retrieving Prototypes for Quay Organization %s: HTTP %d" % (org, status)
        if not any(p.get("role") == role and (p.get("delegate") or {}).get("is_robot") and
                   (p.get("delegate") or {}).get("name") == robot.get("name") for p in listing.get("prototypes") or []):
            status, _ = client.call("POST", prototypes, {"role": role, "delegate": {
                "kind": "user", "name": robot.get("name"), "is_robot": True, "is_org_member": True}})
            if status != 200:
                return "Error occurred creating Robot account permissions for Prototype %s: HTTP %d" % (role, status)
        secret_name = "%s-quay-%s" % (account, spec.get("clusterID") or "")
        auth = base64.b64encode(("%s:%s" % (robot.get("name"), robot.get("token"))).encode()).decode()
        config = json.dumps({"auths": {host: {"auth": auth}}}, separators=(",", ":"))
        body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                "metadata": {"name": secret_name, "namespace": namespace},
                "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()}}
        try:
            kube.create("v1", "secrets", body, namespace=namespace)
        except KubeError as err:
            if err.status != 409:
                raise
            existing = kube.get("v1", "secrets", secret_name, namespace)
            if existing.get("data") != body["data"]:
                body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
                kube.request("PUT", kube.path("v1", "secrets", namespace, secret_name), body)
        account_obj = kube.get_or_none("v1", "serviceaccounts", account, namespace)
        if account_obj is None:
            return "Failed to get existing platform service account %s" % account
        pulls = list(account_obj.get("imagePullSecrets") or [])
        mounts = list(account_obj.get("secrets") or [])
        if any(p.get("name") == secret_name for p in pulls) and any(m.get("name") == secret_name for m in mounts):
            return None
        if not any(p.get("name") == secret_name for p in pulls):
            pulls.append({"name": secret_name})
        if not any(m.get("name") == secret_name for m in mounts):
            mounts.append({"name": secret_name})
        kube.merge_patch("v1", "serviceaccounts", account, {
            "imagePullSecrets": pulls, "secrets": mounts,
            "metadata": {"resourceVersion": account_obj["metadata"]["resourceVersion"]}}, namespace=namespace)
        return None
