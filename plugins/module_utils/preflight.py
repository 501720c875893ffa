# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only checks of one cluster before anything is written to it (playbooks/preflight.yml).

Each check is a small method of `Preflight` that adds findings - never raises them: a finding is a
problem {check, object, cause, hint} in the result, not a failure of the module. Only bad input is an
error (`PreflightInputError`). Kubernetes is reached only through `Cluster` (kubernetes.core's client);
product endpoints only through the collection's REST base (`rest.RestClient`, TLS verified).

Order: reachable and authenticated gate everything that needs the API server (without them no other
API check can say anything true); rights, versions, olm, packages (only for catalogs that exist and are
READY) and storage_classes follow; endpoints are checked from the controller whatever the API said.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.devsecops.multicluster.plugins.module_utils.central import discover_central
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import discover_registry
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestClient, RestError

try:
    import kubernetes.client
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    HAS_K8S = True
except ImportError:  # pragma: no cover - AnsibleK8SModule reports the missing library
    HAS_K8S = False

    class ResourceNotFoundError(Exception):  # type: ignore[no-redef]
        pass

CHECKS = ("reachable", "authenticated", "rights", "versions", "olm", "packages", "storage_classes", "endpoints")
# reachable and authenticated gate every API check: skipping them would only hide why nothing else ran.
SKIPPABLE = CHECKS[2:]
REQUEST_TIMEOUT = 15
ENDPOINT_TIMEOUT = 10

OLM = "operators.coreos.com/v1alpha1"
PACKAGES_API = "packages.operators.coreos.com/v1"
OLM_CRDS = ("subscriptions.operators.coreos.com", "clusterserviceversions.operators.coreos.com",
            "catalogsources.operators.coreos.com")
# Products whose endpoint the controller (and the spokes) must reach once they run, found on the cluster the way
# acs_central_info and quay_registry_info find them.
SERVICES = {
    "acs_central": {"label": "ACS Central", "namespace": "stackrox", "port": 443, "path": "/v1/ping"},
    "quay": {"label": "Quay", "namespace": "quay-enterprise", "name": "registry", "path": "/health/instance"},
}
INGRESS_CA = {"namespace": "openshift-config-managed", "name": "default-ingress-cert", "key": "ca-bundle.crt"}
DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")

# What a converge of this collection does cluster-wide (namespaces, RBAC for service accounts and
# tokens, OLM subscriptions and operator groups, secrets for credentials, CRD look-ups).
DEFAULT_ACCESS = (
    {"verb": "create", "group": "", "resource": "namespaces"},
    {"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "clusterroles"},
    {"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "clusterrolebindings"},
    {"verb": "get", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions"},
    {"verb": "create", "group": "operators.coreos.com", "resource": "subscriptions"},
    {"verb": "create", "group": "operators.coreos.com", "resource": "operatorgroups"},
    {"verb": "create", "group": "", "resource": "secrets"},
)

HINTS = {
    "reachable": "check the API URL / kubeconfig context and that the controller can reach it (VPN, proxy, firewall)",
    "tls": "give the cluster's CA (cluster_ca_cert or the kubeconfig's certificate-authority); verification stays on",
    "settings": "fix the host's connection variables (cluster_kubeconfig + cluster_context, or cluster_api_url + "
                "cluster_api_token)",
    "authenticated": "renew the token or client certificate (cluster_api_token, the kubeconfig user)",
    "rights": "run as an identity with cluster-admin, or grant these verbs (docs/operations.md, Preflight)",
    "versions": "use a cluster in the supported range, or widen preflight_kubernetes_version / "
                "preflight_openshift_version if you accept the risk",
    "olm": "install Operator Lifecycle Manager, or fix the catalog source (its pod, image, pull secret)",
    "packages": "pin a channel the catalog has (the component's <role>_channel or cluster_operators), or mirror "
                "the package into the catalog",
    "storage_classes": "create the StorageClass, mark one default (storageclass.kubernetes.io/is-default-class), "
                       "or set the role's storage-class variable to one that exists",
    "endpoints": "make the endpoint reachable from the controller (where it is checked from), or give its CA",
    "api": "grant the identity read access to this kind, or fix the API server",
}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


class PreflightInputError(ValueError):
    """Bad module input (not a finding)."""


def parse_version(text):
    """'v1.34.4', '1.34', '4.20.4', 'v1.33.5+k3s1' -> tuple of ints, or None."""
    match = _VERSION.match(to_native(text or "").strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def in_range(version, minimum=None, maximum=None):
    """Whether a version tuple is within [minimum, maximum], each bound compared at its own precision
    (maximum 1.34 admits every 1.34.x)."""
    if minimum and version[:len(minimum)] < minimum:
        return False
    if maximum and version[:len(maximum)] > maximum:
        return False
    return True


def version_range(value, what):
    """Validate a {min, max} option into a pair of version tuples (None for an open end)."""
    value = value or {}
    bounds = []
    for key in ("min", "max"):
        text = value.get(key)
        if text in (None, ""):
            bounds.append(None)
            continue
        parsed = parse_version(text)
        if parsed is None:
            raise PreflightInputError("%s.%s %r is not a version (for example 1.29 or 4.16.3)" % (what, key, text))
        bounds.append(parsed)
    if bounds[0] and bounds[1] and bounds[0][:len(bounds[1])] > bounds[1][:len(bounds[0])]:
        raise PreflightInputError("%s: min %s is above max %s" % (what, value.get("min"), value.get("max")))
    return tuple(bounds)


def describe_range(value):
    low, high = (value or {}).get("min"), (value or {}).get("max")
    if low and high:
        return "%s to %s" % (low, high)
    return ("%s or later" % low) if low else ("up to %s" % high)


def storage_class_requirements(entries):
    """storage_classes entries (a name, '' for the default class, or {name, needed_by}) -> [(name, needed_by)]
    without duplicates, needed_by merged."""
    merged = {}
    order = []
    for entry in entries or []:
        if isinstance(entry, dict):
            unknown = set(entry) - set(("name", "needed_by"))
            if unknown or "name" not in entry:
                raise PreflightInputError("storage_classes entry %r: give name (and optionally needed_by)" % (entry,))
            name, who = entry.get("name"), entry.get("needed_by")
        else:
            name, who = entry, None
        name = "" if name is None else to_native(name)
        if name not in merged:
            merged[name] = []
            order.append(name)
        for one in ([who] if isinstance(who, str) else who or []):
            if one and one not in merged[name]:
                merged[name].append(one)
    return [(name, merged[name]) for name in order]


def split_url(url):
    """An https URL -> (base 'https://host:port', path with query)."""
    parts = urlsplit(to_native(url or "").strip())
    if parts.scheme != "https" or not parts.hostname:
        raise PreflightInputError("endpoint URL %r: give an https:// URL (TLS is always verified)" % (url,))
    try:
        port = parts.port
    except ValueError:
        raise PreflightInputError("endpoint URL %r: the port is not a number" % (url,))
    host = "[%s]" % parts.hostname if ":" in parts.hostname else parts.hostname
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return "https://%s:%d" % (host, port or 443), path


def read_ca(ca):
    """PEM text, or the path of a PEM file, or nothing."""
    if not ca:
        return None
    if "-----BEGIN" in ca:
        return ca
    path = os.path.expanduser(ca)
    if not os.path.isfile(path):
        raise PreflightInputError("ca %r is neither PEM text nor a readable file" % (ca,))
    with open(path) as handle:
        return handle.read()


def _strip_cluster(message, name):
    prefix = "cluster %s: " % name
    return message[len(prefix):] if message.startswith(prefix) else message


def _not_served(err):
    """A ClusterError saying the API server does not serve a kind (CRD missing)."""
    return (getattr(err, "details", None) or {}).get("served") is False or \
        isinstance(getattr(err, "__context__", None), ResourceNotFoundError) or "does not serve" in err.message


def _status_of(err):
    """The HTTP status behind a ClusterError or a client exception, if any."""
    for candidate in (err, getattr(err, "__context__", None)):
        status = getattr(candidate, "status", None)
        if status is None and isinstance(getattr(candidate, "details", None), dict):
            status = candidate.details.get("status")
        if isinstance(status, int):
            return status
    text = to_native(getattr(err, "message", None) or err)
    match = re.search(r"\(HTTP (\d{3})", text)
    return int(match.group(1)) if match else None


def network_cause(err):
    """('tls' | 'network', cause) for a connection failure, from a urllib3/OS error or its message."""
    reason = getattr(err, "reason", None) or err
    text = to_native(reason)
    lower = text.lower()
    if "certificate_verify_failed" in lower or "ssl" in type(reason).__name__.lower() or "tls verification" in lower:
        return "tls", "TLS verification failed: %s" % text
    if "refused" in lower:
        return "network", "connection refused"
    if "timed out" in lower or "timeout" in lower:
        return "network", "connection timed out"
    if "resolve" in lower or "name or service" in lower or "nodename nor servname" in lower:
        return "network", "host name does not resolve"
    return "network", text


class ServerProbe(object):
    """Live requests to the API server through kubernetes' own API classes on kubernetes.core's client:
    the client's discovery may come from its on-disk cache, so reachability is asked afresh."""

    def __init__(self, cluster):
        self.cluster = cluster

    def _api_client(self):
        client = self.cluster.client  # kubernetes.core K8SClient -> DynamicClient -> kubernetes ApiClient
        dynamic = getattr(client, "client", client)
        return getattr(dynamic, "client", dynamic)

    def version(self):
        info = kubernetes.client.VersionApi(self._api_client()).get_code(_request_timeout=REQUEST_TIMEOUT)
        return {"gitVersion": info.git_version, "platform": info.platform, "major": info.major, "minor": info.minor}

    def discovery(self):
        """GET /apis: only whether the credentials may read it (the body is not even parsed)."""
        response = kubernetes.client.ApisApi(self._api_client()).get_api_versions(
            _request_timeout=REQUEST_TIMEOUT, _preload_content=False)
        return getattr(response, "status", None)


class Preflight(object):
    """The checks of one cluster. `run()` returns (problems, facts)."""

    def __init__(self, cluster, params, probe=None, rest_client=RestClient):
        self.cluster = cluster
        self.name = cluster.name
        self.params = params
        self.probe = probe or ServerProbe(cluster)
        self.rest_client = rest_client
        self.problems = []
        self.facts = {"cluster": self.name, "server": None, "kubernetes_version": None, "openshift_version": None,
                      "user": None, "checks_run": [], "checks_skipped": []}
        self.skip = set(params.get("skip") or [])
        unknown = sorted(self.skip - set(CHECKS))
        if unknown:
            raise PreflightInputError("skip: unknown check(s) %s (checks: %s)" % (", ".join(unknown), ", ".join(CHECKS)))
        gates = sorted(self.skip - set(SKIPPABLE))
        if gates:
            raise PreflightInputError("skip: %s cannot be skipped: every other API check depends on it (skip the whole "
                                      "preflight instead)" % ", ".join(gates))
        self.kubernetes_range = version_range(params.get("kubernetes_version"), "kubernetes_version")
        self.openshift_range = version_range(params.get("openshift_version"), "openshift_version")
        self.storage = storage_class_requirements(params.get("storage_classes"))
        self.endpoint_list = []
        for entry in params.get("endpoints") or []:
            base, path = split_url(entry.get("url"))
            self.endpoint_list.append((entry.get("name") or base, base, path, read_ca(entry.get("ca")),
                                       entry.get("needed_by")))
        self.service_list = []
        for entry in params.get("services") or []:
            if entry.get("kind") not in SERVICES:
                raise PreflightInputError("services entry %r: kind must be one of %s" % (entry, ", ".join(sorted(SERVICES))))
            self.service_list.append(dict(SERVICES[entry["kind"]], **dict((k, v) for k, v in entry.items()
                                                                          if v not in (None, ""))))
        self.api = False
        self.package_list = []
        for entry in params.get("packages") or []:
            if not entry.get("name"):
                raise PreflightInputError("packages entry %r has no name" % (entry,))
            self.package_list.append(dict(entry, source=entry.get("source") or "redhat-operators",
                                          source_namespace=entry.get("source_namespace") or "openshift-marketplace"))
        access = params.get("access")
        self.access_list = [dict(entry) for entry in (DEFAULT_ACCESS if access is None else access)]
        for entry in self.access_list:
            if not entry.get("verb") or not entry.get("resource"):
                raise PreflightInputError("access entry %r: give verb and resource (group '' for the core API)" % (entry,))

    # -- bookkeeping ---------------------------------------------------------
    def add(self, check, obj, cause, hint=None):
        self.problems.append({"check": check, "object": obj, "cause": cause, "hint": hint or HINTS.get(check, "")})

    def _cause(self, err):
        return _strip_cluster(to_native(getattr(err, "message", None) or err), self.name)

    def _api_problem(self, check, obj, err):
        """A ClusterError met while checking: 403 says what the identity may not read, the rest as it came."""
        hint = HINTS["rights"] if _status_of(err) == 403 else HINTS["api"]
        self.add(check, obj, self._cause(err), hint)

    def _ran(self, check):
        if check in self.skip:
            self.facts["checks_skipped"].append(check)
            return False
        self.facts["checks_run"].append(check)
        return True

    def run(self):
        api = self.api = self.check_reachable() and self.check_authenticated()
        if api:
            for check in ("rights", "versions"):
                if self._ran(check):
                    getattr(self, "check_" + check)()
            catalogs = self.check_olm() if self._ran("olm") else None
            if self._ran("packages"):
                self.check_packages(catalogs)
            if self._ran("storage_classes"):
                self.check_storage_classes()
        if self._ran("endpoints"):
            self.check_endpoints()
        return self.problems, self.facts

    # -- reachable -------------------------------------------------------------
    def _target(self):
        params = self.cluster.params if hasattr(self.cluster, "params") else self.params
        if params.get("host"):
            return "API server %s" % params["host"]
        if params.get("context"):
            return "kubeconfig context %s" % params["context"]
        return "API server"

    def _client_failure(self, err):
        """Building the client failed (kubernetes.core's discovery ran on a cold cache): say why."""
        status = _status_of(err)
        if status in (401, 403):
            self.facts["checks_run"].append("authenticated")
            self.add("authenticated", self._target(), "credentials refused (HTTP %d) during API discovery" % status)
            return False
        message = self._cause(err)
        context = getattr(err, "__context__", None)
        if "TLS verification" in message:
            detail = network_cause(context)[1] if context is not None else message
            self.add("reachable", self._target(), detail if detail.startswith("TLS") else
                     "TLS verification failed: %s" % detail, HINTS["tls"])
        elif " unreachable while accessing " in message:
            cause = message.split(" unreachable while accessing ", 1)[1].split(": ", 1)[-1]
            self.add("reachable", self._target(), "unreachable: %s" % cause)
        else:
            self.add("reachable", "connection settings", message, HINTS["settings"])
        return False

    def check_reachable(self):
        self.facts["checks_run"].append("reachable")
        try:
            client = self.cluster.client
        except ClusterError as err:
            return self._client_failure(err)
        server = getattr(getattr(client, "configuration", None), "host", None)
        self.facts["server"] = server
        target = "API server %s" % server if server else self._target()
        try:
            version = self.probe.version()
        except Exception as err:  # pylint: disable=broad-except
            status = _status_of(err)
            if status in (401, 403):
                self.facts["checks_run"].append("authenticated")
                self.add("authenticated", target, "credentials refused (HTTP %d) on GET /version" % status)
            elif status is not None:
                self.add("reachable", target, "GET /version answered HTTP %d" % status)
            else:
                kind, cause = network_cause(err)
                self.add("reachable", target, "unreachable: %s" % cause if kind == "network" else cause,
                         HINTS["tls"] if kind == "tls" else HINTS["reachable"])
            return False
        self.facts["kubernetes_version"] = version.get("gitVersion")
        self.facts["platform"] = version.get("platform")
        return True

    # -- authenticated ---------------------------------------------------------
    def check_authenticated(self):
        self.facts["checks_run"].append("authenticated")
        target = "API server %s" % self.facts["server"] if self.facts["server"] else self._target()
        try:
            self.probe.discovery()
        except Exception as err:  # pylint: disable=broad-except
            status = _status_of(err)
            if status in (401, 403):
                reason = "the token or client certificate was not accepted" if status == 401 else \
                    "the identity may not even read API discovery"
                self.add("authenticated", target, "credentials refused (HTTP %d) on API discovery: %s" % (status, reason))
            else:
                kind, cause = network_cause(err) if status is None else ("http", "HTTP %d" % status)
                self.add("reachable", target, "API discovery failed: %s" % cause,
                         HINTS["tls"] if kind == "tls" else HINTS["reachable"])
            return False
        try:
            review = self.cluster.create("authentication.k8s.io/v1", "SelfSubjectReview",
                                         {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            self.facts["user"] = (((review or {}).get("status") or {}).get("userInfo") or {}).get("username")
        except ClusterError:
            pass  # older API servers do not serve it: the user's name is only a nicety in messages
        return True

    # -- rights ----------------------------------------------------------------
    @staticmethod
    def _access_label(entry):
        resource = entry["resource"] + ("/" + entry["subresource"] if entry.get("subresource") else "")
        if entry.get("group"):
            resource += "." + entry["group"]
        where = ("in namespace %s" % entry["namespace"]) if entry.get("namespace") else "in all namespaces"
        return "%s %s %s" % (entry["verb"], resource, where)

    def check_rights(self):
        who = self.facts.get("user") or "this identity"
        allowed = []
        for entry in self.access_list:
            attributes = dict((k, entry[k]) for k in ("verb", "group", "resource", "namespace", "subresource", "name")
                              if entry.get(k) not in (None, ""))
            attributes.setdefault("group", "")
            label = self._access_label(entry)
            try:
                review = self.cluster.create("authorization.k8s.io/v1", "SelfSubjectAccessReview", {
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "spec": {"resourceAttributes": attributes}})
            except ClusterError as err:
                self._api_problem("rights", label, err)
                continue
            status = (review or {}).get("status") or {}
            if status.get("allowed"):
                allowed.append(label)
                continue
            reason = status.get("reason") or status.get("evaluationError")
            self.add("rights", label, "not allowed for %s%s" % (who, (": %s" % reason) if reason else ""))
        self.facts["access_allowed"] = allowed

    # -- versions --------------------------------------------------------------
    def check_versions(self):
        git_version = self.facts.get("kubernetes_version")
        wanted = self.params.get("kubernetes_version")
        if any(self.kubernetes_range):
            parsed = parse_version(git_version)
            if parsed is None:
                self.add("versions", "Kubernetes", "the API server reports version %r, which is not a version" % git_version)
            elif not in_range(parsed, *self.kubernetes_range):
                self.add("versions", "Kubernetes %s" % git_version,
                         "outside the supported range %s" % describe_range(wanted))
        self._openshift_version()

    def _openshift_version(self):
        wanted = self.params.get("openshift_version")
        try:
            cv = self.cluster.get("config.openshift.io/v1", "ClusterVersion", "version")
        except ClusterError as err:
            if _not_served(err):
                self.facts["openshift"] = False
                if any(self.openshift_range):
                    self.add("versions", "OpenShift", "not an OpenShift cluster: the API server does not serve "
                             "config.openshift.io/v1 ClusterVersion",
                             "use OpenShift, or set preflight_openshift_version to {} for a plain Kubernetes cluster")
                return
            self._api_problem("versions", "ClusterVersion version", err)
            return
        self.facts["openshift"] = True
        status = (cv or {}).get("status") or {}
        history = status.get("history") or []
        completed = next((h.get("version") for h in history if h.get("state") == "Completed" and h.get("version")), None)
        desired = (status.get("desired") or {}).get("version")
        version = completed or desired
        self.facts["openshift_version"] = version
        self.facts["openshift_desired_version"] = desired
        if not any(self.openshift_range):
            return
        if cv is None or not version:
            self.add("versions", "ClusterVersion version", "reports no completed or desired OpenShift version")
            return
        parsed = parse_version(version)
        if parsed is None:
            self.add("versions", "OpenShift", "ClusterVersion reports %r, which is not a version" % version)
        elif not in_range(parsed, *self.openshift_range):
            self.add("versions", "OpenShift %s" % version, "outside the supported range %s" % describe_range(wanted))
        elif desired and desired != version and parse_version(desired) and \
                not in_range(parse_version(desired), *self.openshift_range):
            self.add("versions", "OpenShift update to %s" % desired,
                     "in progress, and outside the supported range %s" % describe_range(wanted))

    # -- olm -------------------------------------------------------------------
    def check_olm(self):
        """CRDs of OLM present and Established; each catalog the packages name exists and is READY.
        Returns the set of (namespace, name) catalogs the packages check may look into."""
        olm_ok = True
        for name in OLM_CRDS:
            try:
                crd = self.cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
            except ClusterError as err:
                self._api_problem("olm", "CustomResourceDefinition %s" % name, err)
                olm_ok = False
                continue
            if crd is None:
                self.add("olm", "CustomResourceDefinition %s" % name, "missing: Operator Lifecycle Manager is not "
                         "installed")
                olm_ok = False
                continue
            conditions = ((crd.get("status") or {}).get("conditions")) or []
            if not any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                self.add("olm", "CustomResourceDefinition %s" % name, "not Established")
                olm_ok = False
        usable = set()
        states = {}
        if not olm_ok:
            self.facts["catalog_sources"] = states
            return usable
        for namespace, source in sorted(set((p["source_namespace"], p["source"]) for p in self.package_list)):
            label = "CatalogSource %s/%s" % (namespace, source)
            try:
                catalog = self.cluster.get(OLM, "CatalogSource", source, namespace)
            except ClusterError as err:
                self._api_problem("olm", label, err)
                continue
            if catalog is None:
                needed = sorted(set(p["name"] for p in self.package_list
                                    if (p["source_namespace"], p["source"]) == (namespace, source)))
                self.add("olm", label, "missing (packages %s come from it)" % ", ".join(needed))
                states["%s/%s" % (namespace, source)] = None
                continue
            state = (((catalog.get("status") or {}).get("connectionState") or {}).get("lastObservedState"))
            states["%s/%s" % (namespace, source)] = state
            if state and state != "READY":
                self.add("olm", label, "not READY: its registry connection is %s" % state)
                continue
            usable.add((namespace, source))
        self.facts["catalog_sources"] = states
        return usable

    # -- packages --------------------------------------------------------------
    def _package_manifest(self, name, namespace, source):
        manifest = self.cluster.get(PACKAGES_API, "PackageManifest", name, namespace)
        status = (manifest or {}).get("status") or {}
        if manifest is None or (status.get("catalogSource") == source and
                                status.get("catalogSourceNamespace", namespace) == namespace):
            return manifest
        # The same package name in another catalog answered the GET: ask for this catalog's one.
        for item in self.cluster.list(PACKAGES_API, "PackageManifest", namespace=namespace,
                                      label_selector="catalog=%s" % source):
            if item.get("metadata", {}).get("name") == name:
                return item
        return None

    def check_packages(self, catalogs):
        found = []
        self.facts["packages"] = found
        for package in self.package_list:
            namespace, source, name = package["source_namespace"], package["source"], package["name"]
            if catalogs is not None and (namespace, source) not in catalogs:
                continue  # its catalog is missing or not READY: said under olm
            label = "package %s in %s/%s" % (name, namespace, source)
            who = package.get("needed_by")
            needed = " (needed by %s)" % who if who else ""
            try:
                manifest = self._package_manifest(name, namespace, source)
            except ClusterError as err:
                if _not_served(err):
                    self.add("packages", "PackageManifest API (%s)" % PACKAGES_API,
                             "not served: OLM's package server is not running, so no package can be checked",
                             HINTS["olm"])
                    return
                self._api_problem("packages", label, err)
                continue
            if manifest is None:
                self.add("packages", label, "the catalog has no such package%s" % needed)
                continue
            status = manifest.get("status") or {}
            channels = [c for c in status.get("channels") or [] if c.get("name")]
            names = [c["name"] for c in channels]
            default = status.get("defaultChannel")
            channel = package.get("channel") or default
            found.append({"name": name, "source": source, "channel": channel, "default_channel": default,
                          "channels": names})
            if channel not in names:
                self.add("packages", label, "channel %s does not exist%s; the package has %s (default %s)"
                         % (channel, needed, ", ".join(names) or "no channels", default or "none"))
                continue
            starting = package.get("starting_csv")
            if starting:
                entry = next(c for c in channels if c["name"] == channel)
                csvs = [e.get("name") for e in entry.get("entries") or []] + [entry.get("currentCSV")]
                if starting not in csvs:
                    self.add("packages", label, "starting CSV %s is not in channel %s%s (head: %s)"
                             % (starting, channel, needed, entry.get("currentCSV") or "unknown"))

    # -- storage classes -------------------------------------------------------
    def check_storage_classes(self):
        if not self.storage:
            return
        try:
            classes = self.cluster.list("storage.k8s.io/v1", "StorageClass")
        except ClusterError as err:
            self._api_problem("storage_classes", "StorageClass list", err)
            return
        names = sorted(c["metadata"]["name"] for c in classes)
        defaults = sorted(c["metadata"]["name"] for c in classes
                          if any(((c["metadata"].get("annotations") or {}).get(a) or "").lower() == "true"
                                 for a in DEFAULT_CLASS_ANNOTATIONS))
        self.facts["storage_classes"] = names
        self.facts["default_storage_class"] = defaults[0] if defaults else None
        for name, who in self.storage:
            needed = " (needed by %s)" % ", ".join(who) if who else ""
            if name == "" and not defaults:
                self.add("storage_classes", "default StorageClass",
                         "none is marked default%s; the cluster has %s" % (needed, ", ".join(names) or "no StorageClass"))
            elif name and name not in names:
                self.add("storage_classes", "StorageClass %s" % name,
                         "does not exist%s; the cluster has %s" % (needed, ", ".join(names) or "no StorageClass"))

    # -- endpoints -------------------------------------------------------------
    def _find_service(self, service):
        """(name, url, ca) of a product running on this cluster, or None while it does not run (yet)."""
        label = service["label"]
        if service["kind"] == "acs_central":
            info = discover_central(self.cluster, {"namespace": service["namespace"], "endpoint": service.get("endpoint"),
                                                   "port": int(service["port"]), "ca": service.get("ca")})
            if not info.get("deployed"):
                return None, info.get("problem")
            if not info.get("endpoint"):
                self.add("endpoints", "%s in namespace %s" % (label, service["namespace"]), "%s%s" % (
                    info.get("problem"), self._needed(service)))
                return None, info.get("problem")
            endpoint = info["endpoint"] if "://" in info["endpoint"] else "https://" + info["endpoint"]
        else:
            info = discover_registry(self.cluster, {"name": service["name"], "namespace": service["namespace"],
                                                    "endpoint": service.get("endpoint"), "ca": service.get("ca"),
                                                    "ca_configmap": INGRESS_CA, "quay_validate_certs": True})
            if not info.get("available") or not info.get("endpoint"):
                return None, info.get("problem")
            endpoint = info["endpoint"]
        return (label, endpoint.rstrip("/") + service["path"], info.get("ca") or None), None

    @staticmethod
    def _needed(entry):
        return " (needed by %s)" % entry["needed_by"] if entry.get("needed_by") else ""

    def check_endpoints(self):
        answered = []
        endpoints = list(self.endpoint_list)
        services = {}
        for service in self.service_list if self.api else []:  # found through the API: none without it
            try:
                found, why = self._find_service(service)
            except ClusterError as err:
                if _not_served(err):
                    services[service["kind"]] = "not installed"
                else:
                    self._api_problem("endpoints", "%s in namespace %s" % (service["label"], service["namespace"]), err)
                continue
            if found is None:
                services[service["kind"]] = "not running: %s" % why if why else "not running"
                continue
            name, url, ca = found
            services[service["kind"]] = url
            base, path = split_url(url)
            endpoints.append((name, base, path, ca, service.get("needed_by")))
        if self.service_list and self.api:
            self.facts["services"] = services
        for name, base, path, ca, who in endpoints:
            label = "%s %s%s" % (name, base, path if path != "/" else "")
            needed = " (needed by %s)" % who if who else ""
            try:
                client = self.rest_client(name, base, ca_pem=ca, validate_certs=True, retries=0,
                                          timeout=ENDPOINT_TIMEOUT)
            except RestError as err:
                self.add("endpoints", label, err.message + needed, "give the endpoint's CA as PEM text or a PEM file")
                continue
            where = client.where("GET", path) + ": "
            try:
                client.request("GET", path)
            except RestError as err:
                if err.status is not None:
                    answered.append(label)  # any HTTP answer over verified TLS: the endpoint is reachable
                    continue
                cause = err.message[len(where):] if err.message.startswith(where) else err.message
                if cause.startswith("unreachable ("):
                    cause = "unreachable: %s" % network_cause(Exception(cause[len("unreachable ("):].rstrip(")")))[1]
                elif cause.startswith("TLS verification failed ("):
                    cause = "TLS verification failed: %s" % cause[len("TLS verification failed ("):].split(");")[0]
                tls = cause.startswith("TLS")
                self.add("endpoints", label, cause + needed, ("give the endpoint's CA; " if tls else "") + HINTS["endpoints"])
                continue
            answered.append(label)
        self.facts["endpoints_answered"] = answered
