"""Stand-ins for Red Hat Advanced Cluster Security (StackRox): the rhacs-operator's Central and
SecuredCluster controllers, Central's REST API, and the sensor's connection to Central.

Follows the RHACS 4.9 documentation ("Installing Central using the Operator", "Generating and
applying an init bundle / a cluster registration secret", "Managing API tokens", the API
reference of ClusterInitService, APITokenService, ClustersService, AuthService, RoleService).
Both controllers act only when the rhacs-operator CSV has Succeeded (the operator installs into
``openshift-operators`` for all namespaces), as on a real cluster.

Central operator (one Central per lab cluster; a second one is marked Irreconcilable):

* admin password: the ``password`` key of ``spec.central.adminPasswordSecret``, else (unless
  ``adminPasswordGenerationDisabled``) a generated one kept in Secret ``central-htpasswd``
  (``password`` and an htpasswd line); read on every request, so a changed Secret counts at once;
* Secret ``central-tls`` (``ca.pem``, ``ca-key.pem``, ``cert.pem``, ``key.pem``): Central's own CA
  and serving certificate, created once;
* with ``spec.central.exposure.route.enabled``: passthrough Route ``central`` (admitted);
* status: Initialized, then Deployed (InstallSuccessful), productVersion, the admin password info.
  Central's API is served on 127.0.0.1:<central_port of the cluster> (``acs_central_endpoint`` in
  the lab inventory) with that certificate. Deleting the Central stops the server and forgets
  everything it issued.

Central API (grpc-gateway JSON, camelCase, gRPC error bodies; state in
``<lab dir>/central-<cluster>.json`` so a stand-in restart keeps it): ping, metadata,
auth/status, init bundles (generate, list, revoke with impacted-cluster confirmation), cluster
registration secrets (CRS: generate, generate-extended with validity and maxRegistrations,
list, revoke), the CA config, API tokens (generate, list, get, revoke, allowed roles), roles,
clusters (list, get, delete) and the three calls the Continuous Integration role exists for.
Authentication: HTTP basic ``admin:<password>`` (role Admin) or a Bearer API token; the
cluster-init service needs Admin even for reads, as in ACS. Init bundle and CRS names are
unique among unrevoked ones of both kinds (ACS keeps them in one store).

The sensor's connection (lab only, NOT part of ACS's API): a real sensor opens an mTLS gRPC
stream to Central with the init bundle's sensor certificate, or registers with the CRS
certificate and then receives certificates of its own. Here that is ``POST /lab/sensor/hello``
``{"clusterName", "centralEndpoint"}`` over mTLS. Central accepts what ACS accepts: a certificate
of its CA whose ``O=`` names an existing, unrevoked, unexpired init bundle or CRS (a CRS within
its maxRegistrations; a CRS whose limit is used up is revoked, as in ACS), or a cluster
certificate it issued at CRS registration (``CN=SENSOR_SERVICE: <cluster id>``), which keeps
working after the CRS is revoked. Stricter than ACS, to catch crossed wiring in tests: the
bundle/CRS name must equal the cluster name or start with ``<cluster name>-``. Accepted hellos
create or update the cluster by name (HEALTHY, lastContact, initBundleId). A cluster turns
UNHEALTHY when its init bundle is revoked or its sensor has been silent for 120 s.

SecuredCluster operator: status Initialized/Deployed and clusterName; its "sensor" reads
``cluster-registration-secret`` (CRS) or ``sensor-tls`` + ``collector-tls`` +
``admission-control-tls`` (init bundle) in the SecuredCluster's namespace, and after a CRS
registration keeps the certificate Central gave it in Secret ``tls-cert-sensor``. It says hello
to ``spec.centralEndpoint`` on every change and every 20 s; refusals are only logged. Deleting
a SecuredCluster leaves the cluster listed in Central, as in ACS.

Failure injection for tests: a ConfigMap ``devsecops-lab-central-faults`` in the Central's
namespace: ``status`` (HTTP status to answer /v1 requests with), ``count`` (how many requests;
decremented in the ConfigMap; ``-1`` or absent = until removed), ``path`` (only requests whose
path starts with it; default ``/v1``), ``delay`` (seconds to wait before answering).
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import ssl
import string
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from tests.lab.kube import KubeError
from tests.lab.pki import CA
from tests.lab.standins.hub import _installed
from tests.lab.standins.runtime import LOG, now_iso

API = "platform.stackrox.io/v1alpha1"
OLM = "operators.coreos.com/v1alpha1"
VERSION = "4.9.1"
STEP = 0.5  # seconds between Initialized and Deployed
YEAR = datetime.timedelta(days=365)
STALE = 120  # seconds without a hello before a cluster is UNHEALTHY
HELLO_EVERY = 20  # seconds between a sensor's hellos
ZERO_ID = "00000000-0000-0000-0000-000000000000"
FAULTS = "devsecops-lab-central-faults"
NAME_RE = re.compile(r"^[a-zA-Z0-9._-]+$")
MAIN_IMAGE = "registry.redhat.io/advanced-cluster-security/rhacs-main-rhel8"
BUNDLE_SERVICES = (  # Secret name prefix, certificate service, key in the Helm values
    ("sensor", "SENSOR", "sensor"), ("collector", "COLLECTOR", "collector"),
    ("admission-control", "ADMISSION_CONTROL", "admissionControl"))
MATERIAL_SECRETS = ("cluster-registration-secret", "sensor-tls", "collector-tls", "admission-control-tls",
                    "tls-cert-sensor")
ROLES = {
    "Admin": "For users: use it to provide read and write access to all the resources",
    "Analyst": "For users: use it to give read-only access to all the resources",
    "Continuous Integration": "For automation: it includes the permissions required to enforce deployment policies",
    "None": "For users: use it to provide no read and write access to any resource",
}
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}


# -- small helpers -------------------------------------------------------------
def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _ts(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _LiteralDumper(yaml.SafeDumper):
    """YAML with PEM blocks as literal ``|`` scalars, as ACS renders its bundles."""


_LiteralDumper.add_representer(str, lambda dumper, data: dumper.represent_scalar(
    "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None))


def _yaml(*docs):
    return yaml.dump_all(docs, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False)


def _condition(ctype, status, reason="", message=""):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now_iso()}


# -- certificates (in memory; tests/lab/pki.py writes files) -------------------
def issue(ca_cert, ca_key, service, identity=ZERO_ID, organization=None, hosts=(), server=False,
          not_after=None):
    """A leaf certificate ``CN=<SERVICE>_SERVICE: <identity>, OU=<SERVICE>_SERVICE, O=<organization>``.

    Client authentication always (sensor, collector, admission control and the registrant present
    it to Central); server authentication with SANs when ``server``. Returns (cert PEM, key PEM).
    """
    unit = "%s_SERVICE" % service
    cert, key = CA(ca_cert, ca_key).leaf("%s: %s" % (unit, identity), organization=organization, unit=unit,
                                         server=server, client=True, hosts=hosts,
                                         not_after=not_after or _now() + YEAR)
    return cert.decode(), key.decode()


def _subject(cert):
    """{'CN': ..., 'OU': ..., 'O': ...} of a certificate."""
    oids = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.ORGANIZATION_NAME: "O"}
    return {oids[a.oid]: a.value for a in cert.subject if a.oid in oids}


def _load_chain(context, cert_pem, key_pem):
    """ssl wants files for a certificate chain: write them to a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="acs-standin-") as tmp:
        cert_path, key_path = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        with open(cert_path, "w") as handle:
            handle.write(cert_pem)
        with open(key_path, "w") as handle:
            handle.write(key_pem)
        context.load_cert_chain(cert_path, key_path)


def read_state(path):
    """A Central stand-in's state file, or {} if there is none (or it is unreadable)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# -- Central's API -------------------------------------------------------------
PUBLIC, AUTHENTICATED, READ, ADMIN, CI, SENSOR = "public", "authenticated", "read", "admin", "ci", "sensor"
ROUTES = [  # method, path pattern, who may call it, handler
    ("GET", r"/v1/ping", PUBLIC, "ping"),
    ("GET", r"/v1/metadata", PUBLIC, "metadata"),
    ("GET", r"/v1/auth/status", AUTHENTICATED, "auth_status"),
    ("GET", r"/v1/cluster-init/init-bundles", ADMIN, "list_init_bundles"),
    ("POST", r"/v1/cluster-init/init-bundles", ADMIN, "generate_init_bundle"),
    ("PATCH", r"/v1/cluster-init/init-bundles/revoke", ADMIN, "revoke_init_bundles"),
    ("GET", r"/v1/cluster-init/crs", ADMIN, "list_crs"),
    ("POST", r"/v1/cluster-init/crs", ADMIN, "generate_crs"),
    ("POST", r"/v1/cluster-init/crs-extended", ADMIN, "generate_crs"),
    ("PATCH", r"/v1/cluster-init/crs/revoke", ADMIN, "revoke_crs"),
    ("GET", r"/v1/cluster-init/ca-config", ADMIN, "ca_config"),
    ("POST", r"/v1/apitokens/generate", ADMIN, "generate_token"),
    ("GET", r"/v1/apitokens/generate/allowed-roles", READ, "allowed_roles"),
    ("GET", r"/v1/apitokens", READ, "list_tokens"),
    ("GET", r"/v1/apitokens/(?P<id>[^/]+)", READ, "get_token"),
    ("PATCH", r"/v1/apitokens/revoke/(?P<id>[^/]+)", ADMIN, "revoke_token"),
    ("GET", r"/v1/roles", READ, "roles"),
    ("GET", r"/v1/clusters", READ, "list_clusters"),
    ("GET", r"/v1/clusters/(?P<id>[^/]+)", READ, "get_cluster"),
    ("DELETE", r"/v1/clusters/(?P<id>[^/]+)", ADMIN, "delete_cluster"),
    ("POST", r"/v1/images/scan", CI, "scan_image"),
    ("POST", r"/v1/detect/build", CI, "detect_build"),
    ("POST", r"/v1/detect/deploy/yamls", CI, "detect_deploy"),
    ("POST", r"/lab/sensor/hello", SENSOR, "sensor_hello"),
]
ROUTES = [(method, re.compile(pattern + "$"), access, handler) for method, pattern, access, handler in ROUTES]


class CentralAPI:
    """Central's state and request handling, without HTTP (CentralServer carries the requests)."""

    def __init__(self, cluster, central, tls, endpoint, state_file, kube_factory):
        self.cluster = cluster
        self.namespace = central["metadata"]["namespace"]
        self.spec = central.get("spec") or {}  # kept current by CentralStandin
        self.endpoint = endpoint
        self.ca_pem = tls["ca.pem"]
        self.ca_cert = x509.load_pem_x509_certificate(tls["ca.pem"].encode())
        self.ca_key = serialization.load_pem_private_key(tls["ca-key.pem"].encode(), password=None)
        self.state_file = state_file
        self._kube_factory = kube_factory
        self._local = threading.local()
        self.lock = threading.RLock()
        self._fault_lock = threading.Lock()
        self.state = self._load(central["metadata"])

    # -- persistence ---------------------------------------------------------
    def _load(self, meta):
        state = read_state(self.state_file)
        if state.get("central", {}).get("uid") == meta["uid"]:
            return state
        return {"central": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                "authProviderId": str(uuid.uuid4()), "tokenProviderId": str(uuid.uuid4()),
                "jwtKey": secrets.token_hex(32), "initBundles": {}, "crs": {}, "tokens": {}, "clusters": {}}

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

    # -- one request ---------------------------------------------------------
    def handle(self, method, target, headers, raw, peer_der):
        """Answer one request: returns (HTTP status, JSON body). Never raises."""
        url = urllib.parse.urlsplit(target)
        route_name = None
        try:
            (_method, _pattern, access, route_name), match = self._route(method, url.path)
            if url.path.startswith("/v1/"):
                self._inject_fault(url.path)
            body = {}
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as err:
                    raise ApiError(400, "invalid JSON request body: %s" % err) from None
                if not isinstance(body, dict):
                    raise ApiError(400, "request body must be a JSON object")
            identity = None
            if access not in (PUBLIC, SENSOR):
                identity = self._authenticate(headers.get("Authorization") or "")
                self._authorize(identity, access, method, url.path)
            args = (match.groupdict(), urllib.parse.parse_qs(url.query), body, identity)
            if access == SENSOR:
                args = (peer_der,) + args
            status, result = 200, getattr(self, "_" + route_name)(*args)
        except ApiError as err:
            status, result = err.status, {"code": GRPC_CODES.get(err.status, 2), "message": err.message,
                                          "error": err.message, "details": []}
        except Exception as err:  # noqa: BLE001 - a stand-in bug answers 500, the server keeps running
            LOG.exception("central %s: %s %s failed", self.cluster, method, url.path)
            message = "internal error: %s" % err
            status, result = 500, {"code": 13, "message": message, "error": message, "details": []}
        if (method != "GET" or status >= 400) and route_name != "sensor_hello":  # the sensor logs its own
            LOG.info("central %s: %s %s -> %d", self.cluster, method, url.path, status)
        return status, result

    @staticmethod
    def _route(method, path):
        allowed = False
        for route in ROUTES:
            match = route[1].match(path)
            if match:
                if route[0] == method:
                    return route, match
                allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed")
        raise ApiError(404, "Not Found")

    def _inject_fault(self, path):
        """Apply the devsecops-lab-central-faults ConfigMap. It is read on every request (not cached), so
        a test that creates it sees its very next request fail; the lock makes the count exact."""
        with self._fault_lock:
            cm = self.kube().get_or_none("v1", "configmaps", FAULTS, self.namespace)
            data = (cm or {}).get("data") or {}
            if not data or not path.startswith(data.get("path") or "/v1"):
                return
            try:
                count = int(data.get("count") or -1)
                status = int(data["status"]) if data.get("status") else None
                delay = float(data.get("delay") or 0)
            except ValueError:
                LOG.warning("central %s: ignoring malformed %s: %s", self.cluster, FAULTS, data)
                return
            if count == 0:
                return
            if count > 0:
                try:
                    self.kube().merge_patch("v1", "configmaps", FAULTS, {"data": {"count": str(count - 1)}},
                                            namespace=self.namespace)
                except KubeError as err:
                    LOG.warning("central %s: cannot count down %s: %s", self.cluster, FAULTS, err)
        if delay:
            time.sleep(delay)
        if status:
            raise ApiError(status, "lab fault injection (%s): HTTP %d" % (FAULTS, status))

    # -- authentication and authorization -------------------------------------
    def _admin_password(self):
        central = self.spec.get("central") or {}
        name = (central.get("adminPasswordSecret") or {}).get("name")
        if not name:
            if central.get("adminPasswordGenerationDisabled"):
                return None
            name = "central-htpasswd"
        secret = self.kube().get_or_none("v1", "secrets", name, self.namespace)
        value = ((secret or {}).get("data") or {}).get("password")
        return base64.b64decode(value).decode() if value else None

    def _authenticate(self, header):
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credentials.strip()).decode().partition(":")
            except ValueError:
                raise ApiError(401, "credentials not found: malformed basic authorization header") from None
            expected = self._admin_password()
            if user != "admin" or expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
                raise ApiError(401, "credentials not found: invalid username or password")
            return {"id": "sso:%s:admin" % self.state["authProviderId"], "username": "admin", "roles": ["Admin"],
                    "expires": None, "providerId": self.state["authProviderId"],
                    "providerName": "Login with username/password", "providerType": "basic"}
        if scheme.lower() == "bearer":
            record = self._verify_token(credentials.strip())
            return {"id": "auth-token:%s" % record["id"], "username": "apitoken:%s" % record["name"],
                    "roles": list(record["roles"]), "expires": record["expiration"],
                    "providerId": self.state["tokenProviderId"], "providerName": "API Token",
                    "providerType": "api-token"}
        raise ApiError(401, "credentials not found")

    def _verify_token(self, token):
        parts = token.split(".")
        if len(parts) != 3:
            raise ApiError(401, "credentials not found: token validation failed: malformed token")
        signature = hmac.new(bytes.fromhex(self.state["jwtKey"]), (parts[0] + "." + parts[1]).encode(),
                             hashlib.sha256).digest()
        try:
            valid = hmac.compare_digest(_unb64url(parts[2]), signature)
            claims = json.loads(_unb64url(parts[1])) if valid else {}
        except ValueError:
            valid = False
        if not valid:
            raise ApiError(401, "credentials not found: token validation failed: invalid signature")
        with self.lock:
            record = self.state["tokens"].get(claims.get("jti"))
        if record is None:
            raise ApiError(401, "credentials not found: token validation failed: unknown token")
        if record["revoked"]:
            raise ApiError(401, "credentials not found: token validation failed: token %s has been revoked"
                           % record["id"])
        if _parse_ts(record["expiration"]) <= _now():
            raise ApiError(401, "credentials not found: token validation failed: token %s has expired" % record["id"])
        return record

    @staticmethod
    def _authorize(identity, access, method, path):
        roles = set(identity["roles"])
        if "Admin" in roles or access == AUTHENTICATED:
            return
        if access == READ and "Analyst" in roles:
            return
        if access == CI and "Continuous Integration" in roles:
            return
        raise ApiError(403, "access for this user is not authorized: %s %s is not permitted for role(s) %s"
                       % (method, path, ", ".join(sorted(roles)) or "none"))

    @staticmethod
    def _created_by(identity):
        return {"id": identity["id"], "authProviderId": identity["providerId"], "attributes": []}

    # -- ping, metadata, auth status, roles ------------------------------------
    def _ping(self, *_):
        return {"status": "ok"}

    def _metadata(self, *_):
        return {"version": VERSION, "buildFlavor": "release", "releaseBuild": True, "licenseStatus": "VALID"}

    def _auth_status(self, _params, _query, _body, identity):
        return {"userId": identity["id"], "expires": identity["expires"],
                "authProvider": {"id": identity["providerId"], "name": identity["providerName"],
                                 "type": identity["providerType"]},
                "userInfo": {"username": identity["username"], "friendlyName": identity["username"],
                             "roles": [{"roleName": role} for role in identity["roles"]]},
                "userAttributes": []}

    def _roles(self, *_):
        return {"roles": [{"name": name, "description": text} for name, text in ROLES.items()]}

    # -- init bundles and CRS ----------------------------------------------------
    def _check_name(self, name, kind):
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ApiError(400, "invalid %s name %s: it must match ^[a-zA-Z0-9._-]+$" % (kind, json.dumps(name)))
        taken = [m for m in list(self.state["initBundles"].values()) + list(self.state["crs"].values())
                 if m["name"] == name and not m["revoked"]]
        if taken:
            raise ApiError(409, "generating new %s: init bundle or CRS already exists" % kind)

    def _impacted(self, artifact_id):
        return [{"name": c["name"], "id": c["id"]} for c in self.state["clusters"].values()
                if c["initBundleId"] == artifact_id]

    def _bundle_meta(self, record):
        return {"id": record["id"], "name": record["name"], "impactedClusters": self._impacted(record["id"]),
                "createdAt": record["createdAt"], "createdBy": record["createdBy"], "expiresAt": record["expiresAt"]}

    @staticmethod
    def _crs_meta(record):
        return {"id": record["id"], "name": record["name"], "createdAt": record["createdAt"],
                "createdBy": record["createdBy"], "expiresAt": record["expiresAt"],
                "maxRegistrations": str(record["maxRegistrations"]),
                "registrationsInitiated": list(record["registrationsInitiated"]),
                "registrationsCompleted": list(record["registrationsCompleted"])}

    def _list_init_bundles(self, *_):
        with self.lock:
            return {"items": [self._bundle_meta(r) for r in self.state["initBundles"].values() if not r["revoked"]]}

    def _generate_init_bundle(self, _params, _query, body, identity):
        name = body.get("name")
        with self.lock:
            self._check_name(name, "init bundle")
            bundle_id, created = str(uuid.uuid4()), _now()
            expires = created + YEAR
            record = {"id": bundle_id, "name": name, "createdAt": _ts(created), "expiresAt": _ts(expires),
                      "createdBy": self._created_by(identity), "revoked": False}
            annotations = {"init-bundle.stackrox.io/id": bundle_id, "init-bundle.stackrox.io/name": name,
                           "init-bundle.stackrox.io/created-at": record["createdAt"],
                           "init-bundle.stackrox.io/expires-at": record["expiresAt"]}
            manifests, values = [], {"ca": {"cert": self.ca_pem}}
            for prefix, service, helm_key in BUNDLE_SERVICES:
                cert, key = issue(self.ca_cert, self.ca_key, service, organization=bundle_id, not_after=expires)
                data = {"ca.pem": self.ca_pem, prefix + "-cert.pem": cert, prefix + "-key.pem": key}
                if prefix == "sensor":
                    data["acs-host"] = self.endpoint
                manifests.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                  "metadata": {"name": prefix + "-tls", "annotations": dict(annotations)},
                                  "stringData": data})
                values[helm_key] = {"serviceTLS": {"cert": cert, "key": key}}
            self.state["initBundles"][bundle_id] = record
            self.save()
            return {"meta": self._bundle_meta(record), "helmValuesBundle": _b64(_yaml(values)),
                    "kubectlBundle": _b64(_yaml(*manifests))}

    def _revoke_init_bundles(self, _params, _query, body, _identity):
        confirmed = set(body.get("confirmImpactedClustersIds") or [])
        errors, revoked = [], []
        with self.lock:
            for bundle_id in body.get("ids") or []:
                record = self.state["initBundles"].get(bundle_id)
                impacted = self._impacted(bundle_id)
                if record is None or record["revoked"]:
                    errors.append({"id": bundle_id, "error": "init bundle %s does not exist" % json.dumps(bundle_id),
                                   "impactedClusters": []})
                elif not {c["id"] for c in impacted} <= confirmed:
                    errors.append({"id": bundle_id, "error": "not all clusters were confirmed",
                                   "impactedClusters": impacted})
                else:
                    record["revoked"] = True
                    revoked.append(bundle_id)
                    if impacted:
                        LOG.info("central %s: init bundle %s revoked, clusters %s lose their connection",
                                 self.cluster, record["name"], ", ".join(c["name"] for c in impacted))
            self.save()
        return {"initBundleRevocationErrors": errors, "initBundleRevokedIds": revoked}

    def _list_crs(self, *_):
        with self.lock:
            return {"items": [self._crs_meta(r) for r in self.state["crs"].values() if not r["revoked"]]}

    def _generate_crs(self, _params, _query, body, identity):
        name, created = body.get("name"), _now()
        expires = created + YEAR
        try:
            if body.get("validFor") and body.get("validUntil"):
                raise ApiError(400, "validFor and validUntil are mutually exclusive")
            if body.get("validFor"):
                match = re.match(r"^(\d+(?:\.\d+)?)s$", str(body["validFor"]))
                if not match:
                    raise ApiError(400, "invalid validFor \"%s\": expected a duration like \"3600s\""
                                   % body["validFor"])
                expires = created + datetime.timedelta(seconds=float(match.group(1)))
            elif body.get("validUntil"):
                expires = _parse_ts(str(body["validUntil"])).replace(microsecond=0)
            max_registrations = int(body.get("maxRegistrations") or 0)
        except ValueError as err:
            raise ApiError(400, "invalid CRS request: %s" % err) from None
        if expires <= created:
            raise ApiError(400, "the CRS would expire before it is issued (%s)" % _ts(expires))
        if max_registrations < 0:
            raise ApiError(400, "maxRegistrations must not be negative")
        with self.lock:
            self._check_name(name, "CRS")
            crs_id = str(uuid.uuid4())
            record = {"id": crs_id, "name": name, "createdAt": _ts(created), "expiresAt": _ts(expires),
                      "createdBy": self._created_by(identity), "maxRegistrations": max_registrations,
                      "registrationsInitiated": [], "registrationsCompleted": [], "revoked": False}
            cert, key = issue(self.ca_cert, self.ca_key, "REGISTRANT", organization=crs_id, not_after=expires)
            serialized = _b64(json.dumps({"version": 1, "CAs": [self.ca_pem], "cert": cert, "key": key}))
            secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                      "metadata": {"name": "cluster-registration-secret", "annotations": {
                          "crs.platform.stackrox.io/name": name, "crs.platform.stackrox.io/id": crs_id,
                          "crs.platform.stackrox.io/created-at": record["createdAt"],
                          "crs.platform.stackrox.io/expires-at": record["expiresAt"]}},
                      "data": {"crs": _b64(serialized)}}
            self.state["crs"][crs_id] = record
            self.save()
            return {"meta": self._crs_meta(record), "crs": _b64(_yaml(secret))}

    def _revoke_crs(self, _params, _query, body, _identity):
        errors, revoked = [], []
        with self.lock:
            for crs_id in body.get("ids") or []:
                record = self.state["crs"].get(crs_id)
                if record is None or record["revoked"]:
                    errors.append({"id": crs_id, "error": "CRS %s does not exist" % json.dumps(crs_id)})
                else:
                    record["revoked"] = True
                    revoked.append(crs_id)
            self.save()
        return {"crsRevocationErrors": errors, "revokedIds": revoked}

    def _ca_config(self, *_):
        return {"helmValuesBundle": _b64(_yaml({"ca": {"cert": self.ca_pem}}))}

    # -- API tokens --------------------------------------------------------------
    def _generate_token(self, _params, _query, body, _identity):
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "token name cannot be empty")
        roles = body.get("roles") or ([body["role"]] if body.get("role") else [])
        if not isinstance(roles, list) or not roles:
            raise ApiError(400, "no roles specified for the token")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ApiError(400, "role %s does not exist" % json.dumps(unknown[0]))
        issued = _now()
        expiration = issued + YEAR
        if body.get("expiration"):
            try:
                expiration = _parse_ts(str(body["expiration"])).replace(microsecond=0)
            except ValueError:
                raise ApiError(400, "invalid expiration \"%s\"" % body["expiration"]) from None
            if expiration <= issued:
                raise ApiError(400, "expiration must be in the future")
        token_id = str(uuid.uuid4())
        compact = {"separators": (",", ":")}
        header = _b64url(json.dumps({"alg": "HS256", "kid": "lab-jwt", "typ": "JWT"}, **compact).encode())
        claims = _b64url(json.dumps({
            "aud": ["https://stackrox.io/jwt-sources#api-tokens"], "iss": "https://stackrox.io/jwt",
            "jti": token_id, "sub": token_id, "name": name, "roles": roles,
            "iat": int(issued.timestamp()), "exp": int(expiration.timestamp())}, **compact).encode())
        signature = hmac.new(bytes.fromhex(self.state["jwtKey"]), (header + "." + claims).encode(),
                             hashlib.sha256).digest()
        record = {"id": token_id, "name": name, "roles": list(roles), "issuedAt": _ts(issued),
                  "expiration": _ts(expiration), "revoked": False}
        with self.lock:
            self.state["tokens"][token_id] = record
            self.save()
        return {"token": "%s.%s.%s" % (header, claims, _b64url(signature)), "metadata": dict(record)}

    def _list_tokens(self, _params, query, _body, _identity):
        wanted = (query.get("revoked") or [None])[0]
        with self.lock:
            tokens = [dict(t) for t in self.state["tokens"].values()
                      if wanted is None or str(t["revoked"]).lower() == wanted.lower()]
        return {"tokens": tokens}

    def _get_token(self, params, *_):
        with self.lock:
            record = self.state["tokens"].get(params["id"])
        if record is None:
            raise ApiError(404, "API token %s not found" % params["id"])
        return dict(record)

    def _revoke_token(self, params, *_):
        with self.lock:
            record = self.state["tokens"].get(params["id"])
            if record is None:
                raise ApiError(404, "API token %s not found" % params["id"])
            record["revoked"] = True
            self.save()
        return {}

    def _allowed_roles(self, _params, _query, _body, identity):
        return {"roleNames": list(ROLES) if "Admin" in identity["roles"] else []}

    # -- clusters ----------------------------------------------------------------
    def _health(self, cluster):
        if cluster["registeredWith"] == "INIT_BUNDLE":
            bundle = self.state["initBundles"].get(cluster["initBundleId"])
            if bundle is None or bundle["revoked"] or _parse_ts(bundle["expiresAt"]) <= _now():
                return "UNHEALTHY"  # its sensor's certificate is no longer accepted
        if (_now() - _parse_ts(cluster["lastContact"])).total_seconds() > STALE:
            return "UNHEALTHY"
        return "HEALTHY"

    def _cluster_json(self, cluster):
        health = self._health(cluster)
        return {"id": cluster["id"], "name": cluster["name"], "type": "OPENSHIFT4_CLUSTER", "mainImage": MAIN_IMAGE,
                "centralApiEndpoint": cluster["centralApiEndpoint"], "initBundleId": cluster["initBundleId"],
                "managedBy": "MANAGER_TYPE_KUBERNETES_OPERATOR",
                "status": {"sensorVersion": VERSION, "lastContact": cluster["lastContact"]},
                "healthStatus": {"sensorHealthStatus": health, "collectorHealthStatus": health,
                                 "admissionControlHealthStatus": health, "overallHealthStatus": health,
                                 "lastContact": cluster["lastContact"], "healthInfoComplete": True}}

    def _list_clusters(self, *_):
        with self.lock:
            return {"clusters": [self._cluster_json(c) for c in self.state["clusters"].values()]}

    def _get_cluster(self, params, *_):
        with self.lock:
            cluster = self.state["clusters"].get(params["id"])
            if cluster is None:
                raise ApiError(404, "cluster %s not found" % params["id"])
            return {"cluster": self._cluster_json(cluster)}

    def _delete_cluster(self, params, *_):
        with self.lock:
            if self.state["clusters"].pop(params["id"], None) is None:
                raise ApiError(404, "cluster %s not found" % params["id"])
            self.save()
        return {}

    # -- what the Continuous Integration role is for ------------------------------
    def _scan_image(self, _params, _query, body, _identity):
        image = body.get("imageName")
        if not image:
            raise ApiError(400, "image name must be specified")
        return {"id": "sha256:" + hashlib.sha256(image.encode()).hexdigest(), "name": {"fullName": image},
                "scan": {"scannerVersion": VERSION, "scanTime": _ts(_now()), "components": []}}

    def _detect_build(self, _params, _query, body, _identity):
        if not body.get("imageName") and not body.get("image"):
            raise ApiError(400, "image or image name must be specified")
        return {"alerts": []}

    def _detect_deploy(self, _params, _query, body, _identity):
        if not body.get("yaml"):
            raise ApiError(400, "yaml must be specified")
        return {"runs": [], "ignoredObjectRefs": [], "remarks": []}

    # -- the sensor's connection (lab only) ----------------------------------------
    def _sensor_hello(self, peer_der, _params, _query, body, _identity):
        name = body.get("clusterName")
        if not name or not isinstance(name, str):
            raise ApiError(400, "clusterName is required")
        if not peer_der:
            raise ApiError(403, "a client certificate issued by this Central is required")
        subject = _subject(x509.load_der_x509_certificate(peer_der))
        unit, identity = subject.get("OU"), subject.get("CN", "").partition(": ")[2]
        with self.lock:
            if unit == "SENSOR_SERVICE" and identity and identity != ZERO_ID:
                return self._hello_registered(identity, name)
            if unit == "SENSOR_SERVICE":
                kind, record = "init bundle", self.state["initBundles"].get(subject.get("O"))
            elif unit == "REGISTRANT_SERVICE":
                kind, record = "CRS", self.state["crs"].get(subject.get("O"))
            else:
                raise ApiError(403, "certificate %s is not a sensor's or a registrant's" % subject.get("CN"))
            if record is None:
                raise ApiError(403, "init bundle or CRS not found: %s %s" % (kind, subject.get("O")))
            if record["revoked"]:
                raise ApiError(403, "Init artifact %s is revoked (%s \"%s\")" % (record["id"], kind, record["name"]))
            if _parse_ts(record["expiresAt"]) <= _now():
                raise ApiError(403, "%s \"%s\" expired at %s" % (kind, record["name"], record["expiresAt"]))
            if record["name"] != name and not record["name"].startswith(name + "-"):
                raise ApiError(403, "lab check (stricter than ACS): %s \"%s\" is not meant for cluster \"%s\", "
                               "its name must be the cluster name or start with \"%s-\""
                               % (kind, record["name"], name, name))
            if kind == "CRS":
                self._count_registration(record, name)
            known = next((c for c in self.state["clusters"].values() if c["name"] == name), {})
            cluster = self._upsert_cluster(name, record["id"], "INIT_BUNDLE" if kind == "init bundle" else "CRS",
                                           body.get("centralEndpoint"))
            answer = {"clusterId": cluster["id"]}
            if kind == "CRS":
                cert, key = issue(self.ca_cert, self.ca_key, "SENSOR", identity=cluster["id"],
                                  organization=record["id"], not_after=_now() + YEAR)
                answer["certificates"] = {"ca.pem": self.ca_pem, "cert.pem": cert, "key.pem": key}
            self.save()
            if known.get("initBundleId") != record["id"]:
                LOG.info("central %s: cluster %s registered with %s %s", self.cluster, name, kind,
                         json.dumps(record["name"]))
            return answer

    def _hello_registered(self, cluster_id, name):
        """A sensor with the certificate Central gave it at CRS registration."""
        cluster = self.state["clusters"].get(cluster_id)
        if cluster is None:
            raise ApiError(403, "cluster %s (%s) is not registered with this Central (deleted?)" % (cluster_id, name))
        if cluster["name"] != name:
            raise ApiError(403, "the certificate belongs to cluster \"%s\", not \"%s\"" % (cluster["name"], name))
        cluster["lastContact"] = _ts(_now())
        self.save()
        return {"clusterId": cluster_id}

    def _count_registration(self, record, name):
        """ACS's bookkeeping of a CRS with maxRegistrations > 0 (none without a limit)."""
        limit = record["maxRegistrations"]
        if not limit:
            return
        if name in record["registrationsCompleted"]:
            raise ApiError(403, "cluster %s already registered with cluster registration secret %s/%s"
                           % (name, record["id"], json.dumps(record["name"])))
        if len(record["registrationsInitiated"]) + len(record["registrationsCompleted"]) >= limit:
            raise ApiError(403, "maximum number of allowed cluster registrations reached")
        record["registrationsCompleted"].append(name)  # initiated and completed in one step here
        if len(record["registrationsCompleted"]) >= limit:
            record["revoked"] = True  # used up: ACS revokes it
            LOG.info("central %s: CRS \"%s\" used up (%d registrations), revoked", self.cluster, record["name"], limit)

    def _upsert_cluster(self, name, artifact_id, kind, endpoint):
        cluster = next((c for c in self.state["clusters"].values() if c["name"] == name), None)
        if cluster is None:
            cluster = {"id": str(uuid.uuid4()), "name": name}
            self.state["clusters"][cluster["id"]] = cluster
        cluster.update({"initBundleId": artifact_id, "registeredWith": kind, "lastContact": _ts(_now()),
                        "centralApiEndpoint": endpoint or self.endpoint})
        return cluster


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "central-standin"
    timeout = 15  # idle keep-alive connections
    MAX_BODY = 8 * 1024 * 1024

    def _serve(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.MAX_BODY:
            status, body = 400, {"code": 3, "message": "bad Content-Length", "error": "bad Content-Length",
                                 "details": []}
            self.close_connection = True
        else:
            raw = self.rfile.read(length) if length else b""
            status, body = self.server.api.handle(self.command, self.path, self.headers, raw,
                                                  self.connection.getpeercert(binary_form=True))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        LOG.debug("central %s: %s", self.server.api.cluster, fmt % args)


class CentralServer(ThreadingHTTPServer):
    """Central's HTTPS endpoint: server TLS with central-tls, client certificates requested (for the
    sensor) but not required; the TLS handshake runs in the request's thread."""

    daemon_threads = True

    def __init__(self, address, api, tls):
        self.api = api
        self.serving_cert = tls["cert.pem"]
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _load_chain(self.ssl_context, tls["cert.pem"], tls["key.pem"])
        self.ssl_context.verify_mode = ssl.CERT_OPTIONAL
        self.ssl_context.load_verify_locations(cadata=tls["ca.pem"])
        super().__init__(address, _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="central-%s" % api.cluster, daemon=True)

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            LOG.info("central %s: TLS handshake with %s:%s failed: %s", self.api.cluster,
                     client_address[0], client_address[1], err)
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.shutdown_request(conn)

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, OSError):  # the client went away (a timeout, a reset)
            LOG.info("central %s: connection from %s:%s ended: %s", self.api.cluster, client_address[0],
                     client_address[1], err)
        else:
            LOG.exception("central %s: request from %s failed", self.api.cluster, client_address)


# -- the Central operator ---------------------------------------------------------
class CentralStandin:
    def __init__(self, kube, scheduler, domain, lab, cluster):
        self.kube = kube
        self.scheduler = scheduler
        self.domain = domain
        self.cluster = cluster
        self.port = lab.clusters[cluster].get("central_port")
        self.state_file = lab.central_state_file(cluster)
        self.kube_factory = lambda: lab.kube(cluster)
        self.server = None
        self.owner = None  # (namespace, name, uid) of the Central being served
        self.deploying = set()

    def watches(self):
        return [(API, "centrals", self.on_central), (OLM, "clusterserviceversions", self.on_csv)]

    def on_csv(self, event, csv):
        if event != "DELETED" and csv["metadata"]["name"].startswith("rhacs-operator.") and \
                csv.get("status", {}).get("phase") == "Succeeded":
            for central in self.kube.list(API, "centrals")["items"]:
                self.on_central("SYNC", central)

    def on_central(self, event, central):
        meta = central["metadata"]
        if event == "DELETED" or meta.get("deletionTimestamp"):
            if self.owner and self.owner[2] == meta["uid"]:
                self._stop_server(forget=True)
                LOG.info("%s: Central %s/%s deleted, its API stopped", self.kube.name, meta["namespace"], meta["name"])
            return
        if not _installed(self.kube, meta["namespace"], "rhacs-operator"):
            return
        other = self._other_central(meta)
        if other:
            self._refuse(central, other)
            return
        password_status = self._ensure_password(central)
        tls = self._ensure_tls(central)
        self._ensure_route(central)
        if self._ensure_server(central, tls):
            self._report(central, password_status)

    def _other_central(self, meta):
        """The Central already served on this cluster if it is not this one (one per cluster)."""
        owner = self.owner
        recorded = read_state(self.state_file).get("central")
        if owner is None and recorded:
            owner = (recorded.get("namespace"), recorded.get("name"), recorded.get("uid"))
        if owner is None or owner[2] == meta["uid"]:
            return None
        existing = self.kube.get_or_none(API, "centrals", owner[1], owner[0])
        if existing is not None and existing["metadata"]["uid"] == owner[2]:
            return owner
        self._stop_server(forget=True)  # the old one is gone: its deletion was missed
        return None

    def _refuse(self, central, other):
        meta = central["metadata"]
        conditions = (central.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Irreconcilable" and c["status"] == "True" for c in conditions):
            return
        message = ("lab stand-in: one Central per cluster; Central %s/%s already runs on this cluster"
                   % (other[0], other[1]))
        self.kube.merge_patch(API, "centrals", meta["name"], {"status": {"conditions": [
            _condition("Initialized", "True"),
            _condition("Irreconcilable", "True", "LabOneCentralPerCluster", message)]}},
            namespace=meta["namespace"], subresource="status")
        LOG.info("%s: %s", self.kube.name, message)

    @staticmethod
    def _owner_ref(central):
        return [{"apiVersion": API, "kind": "Central", "name": central["metadata"]["name"],
                 "uid": central["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]

    @staticmethod
    def _stale(secret, central):
        """A Secret an earlier Central of the same name owned (the garbage collector will remove it)."""
        return any(o.get("kind") == "Central" and o.get("uid") != central["metadata"]["uid"]
                   for o in (secret or {}).get("metadata", {}).get("ownerReferences") or [])

    def _ensure_password(self, central):
        spec = (central.get("spec") or {}).get("central") or {}
        namespace = central["metadata"]["namespace"]
        user_secret = (spec.get("adminPasswordSecret") or {}).get("name")
        if user_secret:
            return {"info": "The admin password is configured to match the \"password\" entry in the \"%s\" secret."
                    % user_secret}
        if spec.get("adminPasswordGenerationDisabled"):
            return {"info": "Password generation has been disabled, if you want to enable it set "
                            "spec.central.adminPasswordGenerationDisabled to false."}
        existing = self.kube.get_or_none("v1", "secrets", "central-htpasswd", namespace)
        if existing is None or self._stale(existing, central):
            if existing is not None:
                self.kube.delete("v1", "secrets", "central-htpasswd", namespace)
            password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
            line = "admin:{SHA}" + _b64(hashlib.sha1(password.encode()).digest())
            self.kube.ensure("v1", "secrets", {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "central-htpasswd", "namespace": namespace,
                             "ownerReferences": self._owner_ref(central)},
                "stringData": {"password": password, "htpasswd": line + "\n"}}, namespace=namespace)
        return {"info": "A password for the 'admin' user has been automatically generated and stored in the "
                        "\"central-htpasswd\" secret.", "adminPasswordSecretReference": "central-htpasswd"}

    def _route_host(self, central):
        route = (((central.get("spec") or {}).get("central") or {}).get("exposure") or {}).get("route") or {}
        return route.get("host") or "central-%s.%s" % (central["metadata"]["namespace"], self.domain), \
            bool(route.get("enabled"))

    def _ensure_tls(self, central):
        namespace = central["metadata"]["namespace"]
        secret = self.kube.get_or_none("v1", "secrets", "central-tls", namespace)
        keys = ("ca.pem", "ca-key.pem", "cert.pem", "key.pem")
        if secret and all(k in (secret.get("data") or {}) for k in keys) and not self._stale(secret, central):
            return {k: base64.b64decode(secret["data"][k]).decode() for k in keys}
        ca = CA.generate("StackRox Certificate Authority", validity=5 * YEAR)  # as the operator's central-tls
        hosts = ("localhost", "127.0.0.1", "central.%s.svc" % namespace, "central-%s.%s" % (namespace, self.domain),
                 self._route_host(central)[0])
        cert, key = issue(ca.cert, ca.key, "CENTRAL", hosts=tuple(dict.fromkeys(hosts)), server=True,
                          not_after=_now() + 5 * YEAR)
        tls = {"ca.pem": ca.cert_pem.decode(), "ca-key.pem": ca.key_pem.decode(), "cert.pem": cert, "key.pem": key}
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "central-tls", "namespace": namespace,
                             "ownerReferences": self._owner_ref(central)},
                "stringData": tls}
        if secret:
            self.kube.request("PUT", self.kube.path("v1", "secrets", namespace, "central-tls"),
                              dict(body, metadata=dict(body["metadata"],
                                                       resourceVersion=secret["metadata"]["resourceVersion"])))
        else:
            self.kube.create("v1", "secrets", body, namespace=namespace)
        return tls

    def _ensure_route(self, central):
        meta = central["metadata"]
        host, enabled = self._route_host(central)
        existing = self.kube.get_or_none("route.openshift.io/v1", "routes", "central", meta["namespace"])
        if not enabled:
            owners = (existing or {}).get("metadata", {}).get("ownerReferences") or []
            if any(o.get("uid") == meta["uid"] for o in owners):
                self.kube.delete("route.openshift.io/v1", "routes", "central", meta["namespace"])
            return
        if existing and existing["spec"].get("host") == host and (existing.get("status") or {}).get("ingress"):
            return
        if existing is None:
            self.kube.create("route.openshift.io/v1", "routes", {
                "apiVersion": "route.openshift.io/v1", "kind": "Route",
                "metadata": {"name": "central", "namespace": meta["namespace"], "labels": {"app": "central"},
                             "ownerReferences": self._owner_ref(central)},
                "spec": {"host": host, "to": {"kind": "Service", "name": "central", "weight": 100},
                         "port": {"targetPort": "https"}, "tls": {"termination": "passthrough"},
                         "wildcardPolicy": "None"}}, namespace=meta["namespace"])
        else:
            self.kube.merge_patch("route.openshift.io/v1", "routes", "central", {"spec": {"host": host}},
                                  namespace=meta["namespace"])
        self.kube.merge_patch("route.openshift.io/v1", "routes", "central", {"status": {"ingress": [{
            "host": host, "routerName": "default", "wildcardPolicy": "None",
            "routerCanonicalHostname": "router-default." + self.domain,
            "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": now_iso()}]}]}},
            namespace=meta["namespace"], subresource="status")

    def _ensure_server(self, central, tls):
        meta = central["metadata"]
        if self.server and self.server.serving_cert != tls["cert.pem"]:
            self._stop_server(forget=False)  # central-tls was replaced: serve the new certificate
        if self.server is None:
            if not self.port:
                LOG.warning("%s: no central_port in the lab state; Central %s/%s cannot be served",
                            self.kube.name, meta["namespace"], meta["name"])
                return False
            api = CentralAPI(self.cluster, central, tls, "localhost:%d" % self.port, self.state_file,
                             self.kube_factory)
            try:
                server = CentralServer(("127.0.0.1", self.port), api, tls)
            except OSError as err:
                LOG.warning("%s: Central API cannot listen on 127.0.0.1:%d: %s", self.kube.name, self.port, err)
                return False
            with api.lock:
                api.save()  # claims the state file for this Central
            server.thread.start()
            self.server = server
            LOG.info("%s: Central %s/%s API on https://localhost:%d", self.kube.name, meta["namespace"],
                     meta["name"], self.port)
        self.server.api.spec = central.get("spec") or {}
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

    def _report(self, central, password_status):
        meta, status = central["metadata"], central.get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        key = (meta["namespace"], meta["name"])
        if (conditions.get("Deployed") or {}).get("status") != "True":
            if (conditions.get("Initialized") or {}).get("status") != "True":
                self.kube.merge_patch(API, "centrals", meta["name"], {"status": {"conditions": [
                    _condition("Initialized", "True"), _condition("ReleaseFailed", "False"),
                    _condition("Irreconcilable", "False")]}}, namespace=meta["namespace"], subresource="status")
            if key not in self.deploying:
                self.deploying.add(key)
                self.scheduler.call_later(STEP, self._deployed, meta["namespace"], meta["name"], password_status)
            return
        wanted = {"adminPassword": password_status}
        if status.get("central") != wanted or status.get("observedGeneration") != meta.get("generation"):
            admin = dict(password_status)
            admin.setdefault("adminPasswordSecretReference", None)  # merge patch: drop a stale reference
            self.kube.merge_patch(API, "centrals", meta["name"], {"status": {
                "central": {"adminPassword": admin}, "observedGeneration": meta.get("generation")}},
                namespace=meta["namespace"], subresource="status")

    def _deployed(self, namespace, name, password_status):
        self.deploying.discard((namespace, name))
        central = self.kube.get_or_none(API, "centrals", name, namespace)
        if central is None or self.owner is None or self.owner[2] != central["metadata"]["uid"]:
            return
        self.kube.merge_patch(API, "centrals", name, {"status": {
            "conditions": [_condition("Initialized", "True"),
                           _condition("Deployed", "True", "InstallSuccessful",
                                      "StackRox Central Services has been installed."),
                           _condition("ReleaseFailed", "False"), _condition("Irreconcilable", "False")],
            "productVersion": VERSION, "deployedRelease": {"version": VERSION},
            "observedGeneration": central["metadata"].get("generation"),
            "central": {"adminPassword": password_status}}}, namespace=namespace, subresource="status")
        LOG.info("%s: Central %s/%s Deployed", self.kube.name, namespace, name)


# -- the SecuredCluster operator and its sensor -------------------------------------
def _secret_data(secret):
    return {k: base64.b64decode(v).decode() for k, v in ((secret or {}).get("data") or {}).items()}


def _split_endpoint(endpoint):
    """``host:port`` (optionally with a scheme and path) -> (host, port); ACS's default port is 443."""
    rest = endpoint.split("://", 1)[-1].split("/", 1)[0]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return rest.strip("[]"), 443
    return host.strip("[]"), int(port)


class SecuredClusterStandin:
    def __init__(self, kube, scheduler, kube_factory, stop):
        self.kube = kube
        self.scheduler = scheduler
        self.kube_factory = kube_factory
        self.stop = stop
        self.known = set()  # (namespace, name) of the SecuredClusters on this cluster
        self.pending = set()
        self.cond = threading.Condition()
        self.last = {}  # (namespace, name) -> last outcome of its hello, logged when it changes
        self.deploying = set()
        self.thread = threading.Thread(target=self._run, name="sensor-%s" % kube.name, daemon=True)

    def start(self):
        self.thread.start()

    def watches(self):
        return [(API, "securedclusters", self.on_securedcluster), ("v1", "secrets", self.on_secret),
                (OLM, "clusterserviceversions", self.on_csv)]

    def _enqueue(self, keys):
        with self.cond:
            self.pending.update(keys)
            self.cond.notify()

    def on_csv(self, event, csv):
        if event != "DELETED" and csv["metadata"]["name"].startswith("rhacs-operator.") and \
                csv.get("status", {}).get("phase") == "Succeeded":
            for sc in self.kube.list(API, "securedclusters")["items"]:
                self.on_securedcluster("SYNC", sc)

    def on_secret(self, event, secret):
        meta = secret["metadata"]
        if meta["name"] in MATERIAL_SECRETS:
            with self.cond:
                keys = [k for k in self.known if k[0] == meta["namespace"]]
            self._enqueue(keys)

    def on_securedcluster(self, event, sc):
        meta = sc["metadata"]
        key = (meta["namespace"], meta["name"])
        if event == "DELETED" or meta.get("deletionTimestamp"):
            with self.cond:
                self.known.discard(key)
                self.pending.discard(key)
            return
        with self.cond:
            self.known.add(key)
        if not _installed(self.kube, meta["namespace"], "rhacs-operator"):
            return
        self._report(sc)
        self._enqueue([key])

    def _report(self, sc):
        meta, status = sc["metadata"], sc.get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        cluster_name = (sc.get("spec") or {}).get("clusterName")
        if (conditions.get("Deployed") or {}).get("status") == "True":
            if status.get("clusterName") != cluster_name or status.get("observedGeneration") != meta.get("generation"):
                self.kube.merge_patch(API, "securedclusters", meta["name"], {"status": {
                    "clusterName": cluster_name, "observedGeneration": meta.get("generation")}},
                    namespace=meta["namespace"], subresource="status")
            return
        if (conditions.get("Initialized") or {}).get("status") != "True":
            self.kube.merge_patch(API, "securedclusters", meta["name"], {"status": {"conditions": [
                _condition("Initialized", "True"), _condition("ReleaseFailed", "False"),
                _condition("Irreconcilable", "False")]}}, namespace=meta["namespace"], subresource="status")
        key = (meta["namespace"], meta["name"])
        if key not in self.deploying:
            self.deploying.add(key)
            self.scheduler.call_later(STEP, self._deployed, meta["namespace"], meta["name"])

    def _deployed(self, namespace, name):
        self.deploying.discard((namespace, name))
        sc = self.kube.get_or_none(API, "securedclusters", name, namespace)
        if sc is None:
            return
        self.kube.merge_patch(API, "securedclusters", name, {"status": {
            "conditions": [_condition("Initialized", "True"),
                           _condition("Deployed", "True", "InstallSuccessful",
                                      "StackRox Secured Cluster Services have been installed."),
                           _condition("ReleaseFailed", "False"), _condition("Irreconcilable", "False")],
            "clusterName": (sc.get("spec") or {}).get("clusterName"), "productVersion": VERSION,
            "deployedRelease": {"version": VERSION}, "observedGeneration": sc["metadata"].get("generation")}},
            namespace=namespace, subresource="status")
        LOG.info("%s: SecuredCluster %s/%s Deployed", self.kube.name, namespace, name)

    # -- the sensor: off the watch threads, one hello at a time, every HELLO_EVERY s --
    def _run(self):
        kube = None
        next_round = time.monotonic() + HELLO_EVERY
        while not self.stop.is_set():
            with self.cond:
                while not self.pending and time.monotonic() < next_round and not self.stop.is_set():
                    self.cond.wait(min(1.0, max(0.0, next_round - time.monotonic())))
                if time.monotonic() >= next_round:
                    self.pending.update(self.known)
                    next_round = time.monotonic() + HELLO_EVERY
                batch, self.pending = sorted(self.pending), set()
            for namespace, name in batch:
                try:
                    kube = kube or self.kube_factory()
                    self._hello(kube, namespace, name)
                except Exception:  # noqa: BLE001 - one broken SecuredCluster must not stop the others
                    LOG.exception("%s: sensor of %s/%s failed", self.kube.name, namespace, name)

    def _note(self, key, outcome):
        if self.last.get(key) != outcome:
            self.last[key] = outcome
            LOG.info("%s: sensor of SecuredCluster %s/%s: %s", self.kube.name, key[0], key[1], outcome)

    @staticmethod
    def _material(kube, namespace):
        """(what, ca, cert, key) the sensor authenticates with, or (None, problem)."""
        def get(name):
            return kube.get_or_none("v1", "secrets", name, namespace)

        def issued_to(cert_pem):
            return _subject(x509.load_pem_x509_certificate(cert_pem.encode())).get("O")

        own = _secret_data(get("tls-cert-sensor"))
        own_id = issued_to(own["cert.pem"]) if own.get("cert.pem") else None
        crs_secret = get("cluster-registration-secret")
        if crs_secret is not None:
            try:
                crs = json.loads(base64.b64decode(_secret_data(crs_secret)["crs"]))
                crs_id = issued_to(crs["cert"])
                crs_ca = crs["CAs"][0]
            except (KeyError, IndexError, ValueError, TypeError) as err:
                return None, "cluster-registration-secret is malformed (%s)" % err
            if own_id is not None and own_id == crs_id:
                return ("its own certificate (registered with CRS %s)" % crs_id,
                        own["ca.pem"], own["cert.pem"], own["key.pem"]), None
            return ("CRS %s" % crs_id, crs_ca, crs["cert"], crs["key"]), None
        sensor = _secret_data(get("sensor-tls"))
        if sensor:
            missing = [k for k in ("ca.pem", "sensor-cert.pem", "sensor-key.pem") if k not in sensor]
            missing += [s for s in ("collector-tls", "admission-control-tls") if get(s) is None]
            if missing:
                return None, "init bundle incomplete, missing %s" % ", ".join(missing)
            try:
                bundle_id = issued_to(sensor["sensor-cert.pem"])
            except ValueError as err:
                return None, "sensor-tls is malformed (%s)" % err
            return ("init bundle %s" % bundle_id, sensor["ca.pem"], sensor["sensor-cert.pem"],
                    sensor["sensor-key.pem"]), None
        if own_id is not None:
            return ("its own certificate", own["ca.pem"], own["cert.pem"], own["key.pem"]), None
        return None, "no cluster-registration-secret and no sensor-tls in namespace %s" % namespace

    def _hello(self, kube, namespace, name):
        key = (namespace, name)
        sc = kube.get_or_none(API, "securedclusters", name, namespace)
        if sc is None or not _installed(kube, namespace, "rhacs-operator"):
            return
        spec = sc.get("spec") or {}
        endpoint = spec.get("centralEndpoint") or "central.stackrox.svc:443"
        material, problem = self._material(kube, namespace)
        if material is None:
            self._note(key, problem)
            return
        what, ca_pem, cert_pem, key_pem = material
        host, port = _split_endpoint(endpoint)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=ca_pem)
            _load_chain(context, cert_pem, key_pem)
        except (ssl.SSLError, ValueError) as err:
            self._note(key, "unusable certificate material (%s): %s" % (what, err))
            return
        payload = json.dumps({"clusterName": spec.get("clusterName"), "centralEndpoint": endpoint})
        conn = http.client.HTTPSConnection(host, port, context=context, timeout=5)
        try:
            conn.request("POST", "/lab/sensor/hello", body=payload, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            status, body = resp.status, resp.read()
        except (OSError, http.client.HTTPException) as err:
            self._note(key, "cannot reach Central at %s with %s: %s" % (endpoint, what, err))
            return
        finally:
            conn.close()
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {"message": body[:200].decode(errors="replace")}
        if status != 200:
            self._note(key, "Central at %s refused %s: HTTP %d %s" % (endpoint, what, status, answer.get("message")))
            return
        if answer.get("certificates"):
            self._keep_certificates(kube, sc, answer["certificates"])
        self._note(key, "connected to Central at %s as %s (cluster id %s) with %s"
                   % (endpoint, spec.get("clusterName"), answer.get("clusterId"), what))

    @staticmethod
    def _keep_certificates(kube, sc, certificates):
        """After a CRS registration the sensor keeps the certificate Central issued to the cluster."""
        namespace = sc["metadata"]["namespace"]
        data = {k: _b64(v) for k, v in certificates.items()}
        if kube.get_or_none("v1", "secrets", "tls-cert-sensor", namespace) is None:
            kube.create("v1", "secrets", {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "tls-cert-sensor", "namespace": namespace},
                "data": data}, namespace=namespace)
        else:
            kube.merge_patch("v1", "secrets", "tls-cert-sensor", {"data": data}, namespace=namespace)

