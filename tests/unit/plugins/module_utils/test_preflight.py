"""Unit tests for module_utils/preflight.py: every check, its findings and its error paths."""

import datetime
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError
from urllib3.exceptions import MaxRetryError, SSLError

from ansible_collections.devsecops.multicluster.plugins.module_utils import preflight as pf
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.preflight import (
    Preflight,
    PreflightInputError,
    in_range,
    network_cause,
    parse_version,
    read_ca,
    split_url,
    storage_class_requirements,
    version_range,
)
from fakes import crd
from preflight_fakes import OLM, Probe, api_error, package_manifest, refused, world

K8S_RANGE = {"min": "1.29", "max": "1.34"}
OCP_RANGE = {"min": "4.16", "max": "4.20"}


def params(**overrides):
    base = {"cluster_name": "lab-hub", "kubernetes_version": dict(K8S_RANGE), "openshift_version": dict(OCP_RANGE),
            "packages": [{"name": "openshift-gitops-operator", "channel": "gitops-1.19", "needed_by": "gitops"},
                         {"name": "rhacs-operator", "channel": "stable", "starting_csv": "rhacs-operator.v4.9.0"}],
            "storage_classes": ["", {"name": "gp3-csi", "needed_by": "odf"}], "endpoints": [], "skip": [],
            "access": None}
    base.update(overrides)
    return base


def check(fake, probe=None, **overrides):
    return Preflight(fake, params(**overrides), probe=probe or Probe()).run()


def summary(problems):
    return [(p["check"], p["object"], p["cause"]) for p in problems]


# -- helpers -----------------------------------------------------------------
def test_versions_parse_and_compare_at_the_bounds_precision():
    assert parse_version("v1.34.4") == (1, 34, 4)
    assert parse_version("v1.33.5+k3s1") == (1, 33, 5)
    assert parse_version("4.20") == (4, 20)
    assert parse_version("latest") is None and parse_version(None) is None
    assert in_range((1, 34, 9), (1, 29), (1, 34))
    assert not in_range((1, 35, 0), (1, 29), (1, 34))
    assert not in_range((1, 28, 9), (1, 29), None)
    assert in_range((4, 16, 3), (4, 16, 3), None) and not in_range((4, 16, 2), (4, 16, 3), None)
    assert version_range({"min": "4.16.3", "max": "4.16"}, "x") == ((4, 16, 3), (4, 16))
    assert version_range({}, "x") == (None, None) and version_range(None, "x") == (None, None)
    assert pf.describe_range({"min": "1.29"}) == "1.29 or later"
    assert pf.describe_range({"max": "1.34"}) == "up to 1.34"


@pytest.mark.parametrize("value,message", [
    ({"min": "one"}, "kubernetes_version.min 'one' is not a version"),
    ({"min": "1.34", "max": "1.29"}, "kubernetes_version: min 1.34 is above max 1.29"),
])
def test_version_range_rejects_bad_bounds(value, message):
    with pytest.raises(PreflightInputError, match=message):
        version_range(value, "kubernetes_version")


def test_storage_class_requirements_merge_who_needs_them():
    assert storage_class_requirements(["", {"name": "", "needed_by": "quay"}, {"name": "", "needed_by": ["acs", "quay"]},
                                       "gp3", {"name": "gp3", "needed_by": "odf"}, None]) == \
        [("", ["quay", "acs"]), ("gp3", ["odf"])]
    with pytest.raises(PreflightInputError, match="give name"):
        storage_class_requirements([{"class": "x"}])


def test_split_url_and_read_ca(tmp_path):
    assert split_url("https://central.example/v1/ping") == ("https://central.example:443", "/v1/ping")
    assert split_url("https://localhost:8443") == ("https://localhost:8443", "/")
    assert split_url("https://[::1]:9/x?y=1") == ("https://[::1]:9", "/x?y=1")
    for bad, message in (("http://central", "give an https:// URL"), ("central:443", "give an https:// URL"),
                         ("https://central:port/", "not a number"), (None, "give an https:// URL")):
        with pytest.raises(PreflightInputError, match=message):
            split_url(bad)
    pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"
    assert read_ca(pem) == pem and read_ca("") is None
    path = tmp_path / "ca.pem"
    path.write_text(pem)
    assert read_ca(str(path)) == pem
    with pytest.raises(PreflightInputError, match="neither PEM text nor a readable file"):
        read_ca(str(tmp_path / "missing.pem"))


@pytest.mark.parametrize("err,expected", [
    (refused(), ("network", "connection refused")),
    (MaxRetryError(None, "/", reason=SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
     ("tls", "TLS verification failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
    (OSError("timed out"), ("network", "connection timed out")),
    (OSError("Temporary failure in name resolution: Name or service not known"), ("network", "host name does not resolve")),
    (OSError("network is down"), ("network", "network is down")),
])
def test_network_cause(err, expected):
    assert network_cause(err) == expected


# -- input -------------------------------------------------------------------
@pytest.mark.parametrize("overrides,message", [
    ({"skip": ["olm", "speed"]}, "skip: unknown check(s) speed"),
    ({"skip": ["reachable"]}, "reachable cannot be skipped"),
    ({"skip": ["authenticated", "olm"]}, "authenticated cannot be skipped"),
    ({"access": [{"verb": "create", "resource": ""}]}, "give verb and resource"),
    ({"packages": [{"channel": "x"}]}, "has no name"),
    ({"endpoints": [{"name": "Quay", "url": "http://quay"}]}, "give an https:// URL"),
    ({"openshift_version": {"min": "4.x"}}, "openshift_version.min '4.x' is not a version"),
])
def test_bad_input_is_an_error_not_a_finding(overrides, message):
    with pytest.raises(PreflightInputError) as err:
        Preflight(world(), params(**overrides), probe=Probe())
    assert message in str(err.value)


# -- all clear ---------------------------------------------------------------
def test_a_ready_cluster_has_no_problems_and_nothing_is_written():
    fake = world()
    problems, facts = check(fake)
    assert problems == []
    assert facts["kubernetes_version"] == "v1.34.4" and facts["openshift_version"] == "4.20.4"
    assert facts["server"] == "https://api.hub.example:6443" and facts["user"] == "admin"
    assert facts["checks_run"] == list(pf.CHECKS) and facts["checks_skipped"] == []
    assert facts["catalog_sources"] == {"openshift-marketplace/redhat-operators": "READY"}
    assert facts["default_storage_class"] == "gp3-csi" and facts["storage_classes"] == ["gp3-csi", "slow"]
    assert [p["channel"] for p in facts["packages"]] == ["gitops-1.19", "stable"]
    assert len(facts["access_allowed"]) == len(pf.DEFAULT_ACCESS)
    assert fake.writes == []
    assert {"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "clusterroles"} in fake.reviews


def test_skipped_checks_do_not_run():
    fake = world()
    fake.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3-csi"}})
    problems, facts = check(fake, skip=["storage_classes", "rights", "olm"])
    assert problems == [] and fake.reviews == []
    assert facts["checks_skipped"] == ["rights", "olm", "storage_classes"]
    assert "catalog_sources" not in facts and facts["packages"]  # packages ran without the catalog filter


# -- reachable ---------------------------------------------------------------
def test_unreachable_api_server_stops_the_api_checks_but_not_the_endpoints():
    fake = world()
    problems, facts = check(fake, probe=Probe(version_error=refused()),
                            endpoints=[{"name": "Quay", "url": "https://127.0.0.1:%d/health" % free_port()}])
    assert summary(problems)[0] == ("reachable", "API server https://api.hub.example:6443",
                                    "unreachable: connection refused")
    assert [p["check"] for p in problems] == ["reachable", "endpoints"]
    assert facts["checks_run"] == ["reachable", "endpoints"] and fake.reviews == []


def test_tls_failure_of_the_api_server_is_reachable_with_a_ca_hint():
    err = MaxRetryError(None, "/version", reason=SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate"))
    problems, _facts = check(world(), probe=Probe(version_error=err))
    assert problems[0]["cause"].startswith("TLS verification failed: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert "CA" in problems[0]["hint"]


@pytest.mark.parametrize("status,check_name,cause", [
    (401, "authenticated", "credentials refused (HTTP 401) on GET /version"),
    (403, "authenticated", "credentials refused (HTTP 403) on GET /version"),
    (500, "reachable", "GET /version answered HTTP 500"),
])
def test_http_answers_to_version(status, check_name, cause):
    problems, _facts = check(world(), probe=Probe(version_error=api_error(status)))
    assert summary(problems) == [(check_name, "API server https://api.hub.example:6443", cause)]


def _client_error(message, context):
    try:
        raise context
    except (ApiException, MaxRetryError, ValueError):  # re-raised as Cluster.client does
        try:
            raise ClusterError(message)
        except ClusterError as err:
            return err


@pytest.mark.parametrize("message,context,expected", [
    ("cluster lab-hub: authentication failed (HTTP 401 Unauthorized) while accessing API discovery: the token",
     api_error(401), ("authenticated", "API server https://10.0.0.1:6443",
                      "credentials refused (HTTP 401) during API discovery")),
    ("cluster lab-hub: API server at https://10.0.0.1:6443 unreachable while accessing API discovery: connection "
     "refused", refused(), ("reachable", "API server https://10.0.0.1:6443", "unreachable: connection refused")),
    ("cluster lab-hub: TLS verification of the API server at https://10.0.0.1:6443 failed while accessing API "
     "discovery: certificate verify failed (give the cluster's CA ...)",
     MaxRetryError(None, "/", reason=SSLError("certificate verify failed")),
     ("reachable", "API server https://10.0.0.1:6443", "TLS verification failed: certificate verify failed")),
    ("cluster lab-hub: cannot load connection settings: Invalid kube-config file", ValueError("x"),
     ("reachable", "connection settings", "cannot load connection settings: Invalid kube-config file")),
])
def test_client_construction_failures(message, context, expected):
    fake = world(client_error=_client_error(message, context))
    problems, facts = Preflight(fake, params(host="https://10.0.0.1:6443"), probe=Probe()).run()
    assert summary(problems) == [expected]
    assert facts["server"] is None


def test_client_failure_without_host_names_the_context():
    fake = world(client_error=ClusterError("cluster lab-hub: API server unreachable while accessing API discovery: "
                                           "connection timed out"))
    problems, _facts = Preflight(fake, params(context="lab-hub"), probe=Probe()).run()
    assert summary(problems) == [("reachable", "kubeconfig context lab-hub", "unreachable: connection timed out")]


# -- authenticated -----------------------------------------------------------
@pytest.mark.parametrize("status,detail", [
    (401, "the token or client certificate was not accepted"),
    (403, "the identity may not even read API discovery"),
])
def test_refused_credentials(status, detail):
    problems, facts = check(world(), probe=Probe(discovery_error=api_error(status)))
    assert summary(problems) == [("authenticated", "API server https://api.hub.example:6443",
                                  "credentials refused (HTTP %d) on API discovery: %s" % (status, detail))]
    assert facts["checks_run"] == ["reachable", "authenticated", "endpoints"]


def test_discovery_network_failure_is_reachable():
    problems, _facts = check(world(), probe=Probe(discovery_error=refused()))
    assert summary(problems) == [("reachable", "API server https://api.hub.example:6443",
                                  "API discovery failed: connection refused")]


def test_user_is_unknown_where_self_subject_review_is_not_served():
    fake = world(served={"SelfSubjectAccessReview", "CustomResourceDefinition", "CatalogSource", "ClusterVersion",
                         "PackageManifest", "StorageClass"})
    problems, facts = check(fake)
    assert problems == [] and facts["user"] is None


# -- rights ------------------------------------------------------------------
def test_denied_rights_name_the_verb_resource_and_user():
    fake = world(user="lab-nobody", denied={("create", "namespaces"): "",
                                            ("create", "clusterroles"): "RBAC: clusterrole not found"})
    problems, facts = check(fake)
    assert summary(problems) == [
        ("rights", "create namespaces in all namespaces", "not allowed for lab-nobody"),
        ("rights", "create clusterroles.rbac.authorization.k8s.io in all namespaces",
         "not allowed for lab-nobody: RBAC: clusterrole not found"),
    ]
    assert "cluster-admin" in problems[0]["hint"]
    assert len(facts["access_allowed"]) == len(pf.DEFAULT_ACCESS) - 2


def test_custom_access_entries_and_review_errors():
    fake = world(denied={("create", "serviceaccounts"): "no"})
    access = [{"verb": "create", "group": "", "resource": "serviceaccounts", "subresource": "token",
               "namespace": "stackrox"}]
    problems, _facts = check(fake, access=access)
    assert summary(problems) == [("rights", "create serviceaccounts/token in namespace stackrox",
                                  "not allowed for admin: no")]
    assert fake.reviews == [{"verb": "create", "group": "", "resource": "serviceaccounts", "subresource": "token",
                             "namespace": "stackrox"}]
    assert check(world(), access=[])[0] == []
    broken = world(fail={"SelfSubjectAccessReview": ClusterError(
        "cluster lab-hub: permission denied (HTTP 403) on SelfSubjectAccessReview: forbidden")})
    problems, _facts = check(broken, access=access)
    assert summary(problems) == [("rights", "create serviceaccounts/token in namespace stackrox",
                                  "permission denied (HTTP 403) on SelfSubjectAccessReview: forbidden")]


# -- versions ----------------------------------------------------------------
def test_kubernetes_version_outside_the_range():
    problems, _facts = check(world(), probe=Probe(version="v1.35.0"))
    assert summary(problems) == [("versions", "Kubernetes v1.35.0", "outside the supported range 1.29 to 1.34")]
    problems, _facts = check(world(), probe=Probe(version="unknown"))
    assert summary(problems) == [("versions", "Kubernetes",
                                  "the API server reports version 'unknown', which is not a version")]
    assert check(world(), probe=Probe(version="v1.20.0"), kubernetes_version={})[0] == []


def test_openshift_version_from_history_then_desired():
    fake = world()
    fake.objects[("ClusterVersion", None, "version")]["status"] = {
        "desired": {"version": "4.21.0"},
        "history": [{"state": "Partial", "version": "4.21.0"}, {"state": "Completed", "version": "4.15.9"},
                    {"state": "Completed", "version": "4.14.1"}]}
    problems, facts = check(fake)
    assert summary(problems) == [("versions", "OpenShift 4.15.9", "outside the supported range 4.16 to 4.20")]
    assert facts["openshift_desired_version"] == "4.21.0"
    fake.objects[("ClusterVersion", None, "version")]["status"]["history"][1]["version"] = "4.20.4"
    problems, _facts = check(fake)
    assert summary(problems) == [("versions", "OpenShift update to 4.21.0",
                                  "in progress, and outside the supported range 4.16 to 4.20")]
    fake.objects[("ClusterVersion", None, "version")]["status"] = {"desired": {"version": "4.18.2"}}
    problems, facts = check(fake)
    assert problems == [] and facts["openshift_version"] == "4.18.2"
    fake.objects[("ClusterVersion", None, "version")]["status"] = {}
    assert summary(check(fake)[0]) == [("versions", "ClusterVersion version",
                                        "reports no completed or desired OpenShift version")]


def test_not_openshift():
    fake = world(served={"SelfSubjectReview", "SelfSubjectAccessReview", "CustomResourceDefinition",
                         "CatalogSource", "PackageManifest", "StorageClass"})
    problems, facts = check(fake)
    assert summary(problems) == [("versions", "OpenShift", "not an OpenShift cluster: the API server does not "
                                  "serve config.openshift.io/v1 ClusterVersion")]
    assert facts["openshift"] is False
    problems, facts = check(fake, openshift_version={})
    assert problems == [] and facts["openshift_version"] is None


def test_cluster_version_read_errors_are_findings():
    fake = world(fail={"ClusterVersion": ClusterError(
        "cluster lab-hub: permission denied (HTTP 403) on ClusterVersion version: forbidden")})
    problems, _facts = check(fake)
    assert summary(problems) == [("versions", "ClusterVersion version",
                                  "permission denied (HTTP 403) on ClusterVersion version: forbidden")]
    assert "grant" in problems[0]["hint"]


def test_not_served_is_recognised_from_the_discovery_error():
    try:
        raise ResourceNotFoundError("no ClusterVersion")
    except ResourceNotFoundError:
        try:
            raise ClusterError("cluster lab-hub: the API server does not serve ClusterVersion")
        except ClusterError as err:
            assert pf._not_served(err)  # pylint: disable=protected-access
    assert not pf._not_served(ClusterError("cluster x: boom"))  # pylint: disable=protected-access


# -- olm ---------------------------------------------------------------------
def test_olm_missing_crd_stops_the_package_checks():
    fake = world()
    del fake.objects[("CustomResourceDefinition", None, "subscriptions.operators.coreos.com")]
    fake.add(crd("clusterserviceversions.operators.coreos.com", established=False))
    problems, facts = check(fake)
    assert summary(problems) == [
        ("olm", "CustomResourceDefinition subscriptions.operators.coreos.com",
         "missing: Operator Lifecycle Manager is not installed"),
        ("olm", "CustomResourceDefinition clusterserviceversions.operators.coreos.com", "not Established")]
    assert facts["packages"] == [] and facts["catalog_sources"] == {}


def test_olm_crd_read_forbidden():
    fake = world(fail={"CustomResourceDefinition": ClusterError(
        "cluster lab-hub: permission denied (HTTP 403) on CustomResourceDefinition x: forbidden")})
    problems, _facts = check(fake, access=[])
    assert [p["check"] for p in problems] == ["olm"] * 3


def test_catalog_sources_missing_or_not_ready():
    fake = world()
    fake.objects[("CatalogSource", "openshift-marketplace", "redhat-operators")]["status"] = {
        "connectionState": {"lastObservedState": "TRANSIENT_FAILURE"}}
    pkgs = [{"name": "rhacs-operator", "channel": "stable"},
            {"name": "trivy", "source": "community-operators", "channel": "alpha"},
            {"name": "x", "source": "mirror", "source_namespace": "olm"}]
    problems, facts = check(fake, packages=pkgs)
    assert summary(problems) == [
        ("olm", "CatalogSource olm/mirror", "missing (packages x come from it)"),
        ("olm", "CatalogSource openshift-marketplace/community-operators", "missing (packages trivy come from it)"),
        ("olm", "CatalogSource openshift-marketplace/redhat-operators",
         "not READY: its registry connection is TRANSIENT_FAILURE")]
    assert facts["packages"] == []  # no catalog to look into
    del fake.objects[("CatalogSource", "openshift-marketplace", "redhat-operators")]["status"]
    problems, _facts = check(fake, packages=pkgs[:1])
    assert problems == []  # a catalog that reports no state is taken as it is


def test_catalog_source_read_error():
    fake = world(fail={"CatalogSource": ClusterError("cluster lab-hub: API server error (HTTP 503) on CatalogSource")})
    problems, _facts = check(fake)
    assert summary(problems) == [("olm", "CatalogSource openshift-marketplace/redhat-operators",
                                  "API server error (HTTP 503) on CatalogSource")]


# -- packages ----------------------------------------------------------------
def test_wrong_channel_missing_package_and_starting_csv():
    pkgs = [{"name": "openshift-gitops-operator", "channel": "gitops-9.9", "needed_by": "gitops"},
            {"name": "no-such-operator", "channel": "stable"},
            {"name": "rhacs-operator", "starting_csv": "rhacs-operator.v4.8.0"},
            {"name": "rhacs-operator", "channel": "stable", "starting_csv": "rhacs-operator.v4.9.1"}]
    problems, facts = check(world(), packages=pkgs)
    assert summary(problems) == [
        ("packages", "package openshift-gitops-operator in openshift-marketplace/redhat-operators",
         "channel gitops-9.9 does not exist (needed by gitops); the package has latest, gitops-1.19 (default latest)"),
        ("packages", "package no-such-operator in openshift-marketplace/redhat-operators",
         "the catalog has no such package"),
        ("packages", "package rhacs-operator in openshift-marketplace/redhat-operators",
         "starting CSV rhacs-operator.v4.8.0 is not in channel stable (head: rhacs-operator.v4.9.1)")]
    assert facts["packages"][1]["channel"] == "stable" and facts["packages"][1]["default_channel"] == "stable"


def test_package_server_not_served_is_said_once():
    fake = world(served={"SelfSubjectReview", "SelfSubjectAccessReview", "CustomResourceDefinition", "CatalogSource",
                         "ClusterVersion", "StorageClass"})
    problems, _facts = check(fake)
    assert summary(problems) == [("packages", "PackageManifest API (packages.operators.coreos.com/v1)",
                                  "not served: OLM's package server is not running, so no package can be checked")]


def test_package_of_the_same_name_in_another_catalog():
    fake = world()
    fake.add({"apiVersion": OLM, "kind": "CatalogSource",
              "metadata": {"name": "mirror", "namespace": "openshift-marketplace"}, "status": {}})
    other = package_manifest("rhacs-operator", {"rhacs-4.9": "rhacs-operator.v4.9.1"}, "rhacs-4.9", source="mirror")
    other["metadata"]["name"] = "rhacs-operator-mirror-copy"  # the fake keys by name; the lab and OLM list by label
    other["metadata"]["labels"]["catalog"] = "mirror"
    fake.add(other)
    fake.objects[("PackageManifest", "openshift-marketplace", "rhacs-operator")]["status"]["catalogSource"] = "other"
    problems, _facts = check(fake, packages=[{"name": "rhacs-operator", "source": "mirror", "channel": "rhacs-4.9"}])
    assert summary(problems) == [("packages", "package rhacs-operator in openshift-marketplace/mirror",
                                  "the catalog has no such package")]
    other["metadata"]["name"] = "rhacs-operator"
    fake.objects[("PackageManifest", "openshift-marketplace", "rhacs-operator-mirror-copy")] = other
    assert check(fake, packages=[{"name": "rhacs-operator", "source": "mirror", "channel": "rhacs-4.9"}])[0] == []


def test_package_read_error():
    fake = world(fail={"PackageManifest": ClusterError(
        "cluster lab-hub: permission denied (HTTP 403) on PackageManifest openshift-marketplace/rhacs-operator: no")})
    problems, _facts = check(fake, packages=[{"name": "rhacs-operator"}])
    assert summary(problems) == [("packages", "package rhacs-operator in openshift-marketplace/redhat-operators",
                                  "permission denied (HTTP 403) on PackageManifest openshift-marketplace/"
                                  "rhacs-operator: no")]


# -- storage classes ---------------------------------------------------------
def test_storage_classes_default_and_named():
    fake = world()
    fake.objects[("StorageClass", None, "gp3-csi")]["metadata"]["annotations"] = {}
    problems, facts = check(fake, storage_classes=[{"name": "", "needed_by": ["quay", "acs_central"]},
                                                   {"name": "fast", "needed_by": "odf"}, "slow"])
    assert summary(problems) == [
        ("storage_classes", "default StorageClass", "none is marked default (needed by quay, acs_central); the "
                                                    "cluster has gp3-csi, slow"),
        ("storage_classes", "StorageClass fast", "does not exist (needed by odf); the cluster has gp3-csi, slow")]
    assert facts["default_storage_class"] is None
    fake.objects[("StorageClass", None, "slow")]["metadata"]["annotations"] = {
        "storageclass.beta.kubernetes.io/is-default-class": "True"}
    assert check(fake, storage_classes=[""])[0] == []


def test_storage_classes_on_an_empty_cluster_and_list_errors():
    fake = world()
    for key in [k for k in fake.objects if k[0] == "StorageClass"]:
        del fake.objects[key]
    problems, _facts = check(fake, storage_classes=["gp3-csi"])
    assert summary(problems) == [("storage_classes", "StorageClass gp3-csi",
                                  "does not exist; the cluster has no StorageClass")]
    broken = world(fail={"StorageClass": ClusterError("cluster lab-hub: permission denied (HTTP 403) on StorageClass "
                                                      "list: no")})
    problems, _facts = check(broken)
    assert summary(problems) == [("storage_classes", "StorageClass list",
                                  "permission denied (HTTP 403) on StorageClass list: no")]
    assert check(broken, storage_classes=[])[0] == []  # nothing asked, nothing listed


# -- endpoints ---------------------------------------------------------------
def _cert(subject, issuer_key, issuer_name, key, ca=False, sans=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pki(directory):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "preflight test CA")])
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_key, ca_name, key,
                 sans=[x509.DNSName("localhost")])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tls.crt").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return ca.public_bytes(serialization.Encoding.PEM).decode(), str(directory / "tls.crt"), str(directory / "tls.key")


@pytest.fixture
def https(tmp_path):
    ca, cert, key = _pki(tmp_path / "server")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            status = 200 if self.path.startswith("/health") else 404
            body = json.dumps({"status": "ok" if status == 200 else "not found"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield {"url": "https://localhost:%d" % httpd.server_address[1], "ca": ca}
    httpd.shutdown()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_endpoints_that_answer_over_verified_tls(https, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(https["ca"])
    problems, facts = check(world(), endpoints=[
        {"name": "Quay", "url": https["url"] + "/health/instance", "ca": https["ca"]},
        {"name": "ACS Central", "url": https["url"] + "/v1/ping", "ca": str(ca_file)}])  # 404 is an answer
    assert problems == []
    assert facts["endpoints_answered"] == ["Quay %s/health/instance" % https["url"],
                                           "ACS Central %s/v1/ping" % https["url"]]


def test_endpoint_with_the_wrong_ca_or_none(https, tmp_path):
    other_ca, _c, _k = _pki(tmp_path / "other")
    problems, _facts = check(world(), endpoints=[
        {"name": "Quay", "url": https["url"] + "/health/instance", "ca": other_ca},
        {"name": "Harbor", "url": https["url"] + "/api/v2.0/ping"}])
    assert [p["object"] for p in problems] == ["Quay %s/health/instance" % https["url"],
                                               "Harbor %s/api/v2.0/ping" % https["url"]]
    for problem in problems:
        assert problem["check"] == "endpoints"
        assert problem["cause"].startswith("TLS verification failed: ") and "CERTIFICATE_VERIFY_FAILED" in \
            problem["cause"], problem
        assert problem["hint"].startswith("give the endpoint's CA")


def test_endpoint_unreachable_and_invalid_ca():
    port = free_port()
    problems, _facts = check(world(), endpoints=[
        {"name": "ACS Central", "url": "https://127.0.0.1:%d/v1/ping" % port},
        {"name": "Quay", "url": "https://127.0.0.1:%d/" % port, "ca": "-----BEGIN CERTIFICATE-----\nnope\n"}])
    assert problems[0]["object"] == "ACS Central https://127.0.0.1:%d/v1/ping" % port
    assert problems[0]["cause"] == "unreachable: connection refused"
    assert "from the controller" in problems[0]["hint"]
    assert problems[1]["object"] == "Quay https://127.0.0.1:%d" % port
    assert problems[1]["cause"].startswith("the CA given is not a valid PEM certificate")


def test_endpoint_timeout_is_reported():
    class Slow:
        def __init__(self, product, endpoint, **kwargs):
            self.product, self.endpoint = product, endpoint

        def where(self, method, path):
            return "%s %s: %s %s" % (self.product, self.endpoint, method, path)

        def request(self, method, path):
            raise pf.RestError("%s: timed out after 10s (read timeout)" % self.where(method, path))

    problems, _facts = Preflight(world(), params(endpoints=[{"name": "Quay", "url": "https://quay.example/"}]),
                                 probe=Probe(), rest_client=Slow).run()
    assert summary(problems) == [("endpoints", "Quay https://quay.example:443", "timed out after 10s (read timeout)")]


# -- the live probe ----------------------------------------------------------
def test_server_probe_uses_kubernetes_api_classes(monkeypatch):
    calls = []

    class VersionApi:
        def __init__(self, api_client):
            calls.append(("version", api_client))

        def get_code(self, _request_timeout=None):
            calls.append(("timeout", _request_timeout))
            return type("V", (), {"git_version": "v1.34.4", "platform": "linux/amd64", "major": "1", "minor": "34"})()

    class ApisApi:
        def __init__(self, api_client):
            pass

        def get_api_versions(self, _request_timeout=None, _preload_content=True):
            calls.append(("preload", _preload_content))
            return type("HTTPResponse", (), {"status": 200})()

    monkeypatch.setattr(pf.kubernetes.client, "VersionApi", VersionApi)
    monkeypatch.setattr(pf.kubernetes.client, "ApisApi", ApisApi)

    api_client = object()
    fake = type("C", (), {"client": type("K8SClient", (), {"client": type("Dyn", (), {"client": api_client})()})()})()
    probe = pf.ServerProbe(fake)
    assert probe.version()["gitVersion"] == "v1.34.4"
    assert probe.discovery() == 200
    assert calls == [("version", api_client), ("timeout", pf.REQUEST_TIMEOUT), ("preload", False)]


# -- services (the hub's Central and Quay) ------------------------------------
class Recorder:
    """A REST client that records what it was asked and answers 200."""

    calls = []

    def __init__(self, product, endpoint, ca_pem=None, **kwargs):
        self.product, self.endpoint, self.ca = product, endpoint, ca_pem

    def where(self, method, path):
        return "%s %s: %s %s" % (self.product, self.endpoint, method, path)

    def request(self, method, path):
        Recorder.calls.append((self.product, self.endpoint + path, self.ca))
        return 200, {}


def central_world(deployed=True, route=True, ca=True, **kwargs):
    fake = world(**kwargs)
    fake.add({"apiVersion": "platform.stackrox.io/v1alpha1", "kind": "Central",
              "metadata": {"name": "stackrox-central-services", "namespace": "stackrox"},
              "status": {"conditions": [{"type": "Deployed", "status": "True" if deployed else "False",
                                         "reason": "InstallSuccessful" if deployed else "Installing"}]}})
    if route:
        fake.add({"apiVersion": "route.openshift.io/v1", "kind": "Route",
                  "metadata": {"name": "central", "namespace": "stackrox"},
                  "spec": {"host": "central-stackrox.apps.hub.example"}})
    if ca:
        fake.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "central-tls", "namespace": "stackrox"},
                  "data": {"ca.pem": "Q0VOVFJBTC1DQQ=="}})  # "CENTRAL-CA"
    fake.add({"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "default-ingress-cert", "namespace": "openshift-config-managed"},
              "data": {"ca-bundle.crt": "INGRESS-CA"}})
    return fake


def quay_registry(fake, available=True):
    fake.add({"apiVersion": "quay.redhat.com/v1", "kind": "QuayRegistry",
              "metadata": {"name": "registry", "namespace": "quay-enterprise"},
              "status": {"registryEndpoint": "https://registry-quay.apps.hub.example",
                         "conditions": [{"type": "Available", "status": "True" if available else "False",
                                         "message": "all good" if available else "awaiting bucket claim"}]}})


def check_services(fake, services, **overrides):
    Recorder.calls = []
    return Preflight(fake, params(services=services, **overrides), probe=Probe(), rest_client=Recorder).run()


SERVICES = [{"kind": "acs_central", "needed_by": "lab-hub, lab-dev", "port": 443},
            {"kind": "quay", "needed_by": "lab-dev", "port": 443}]


def test_running_services_are_found_and_checked_with_the_ca_found_on_the_cluster():
    fake = central_world()
    quay_registry(fake)
    problems, facts = check_services(fake, SERVICES)
    assert problems == []
    assert Recorder.calls == [
        ("ACS Central", "https://central-stackrox.apps.hub.example:443/v1/ping", "CENTRAL-CA"),
        ("Quay", "https://registry-quay.apps.hub.example:443/health/instance", "INGRESS-CA")]
    assert facts["services"] == {"acs_central": "https://central-stackrox.apps.hub.example:443/v1/ping",
                                 "quay": "https://registry-quay.apps.hub.example/health/instance"}
    assert fake.writes == []


def test_an_endpoint_given_replaces_the_route_and_is_named_with_who_needs_it():
    fake = central_world(route=False)
    problems, facts = check_services(fake, [{"kind": "acs_central", "endpoint": "localhost:%d" % free_port(),
                                             "needed_by": "lab-hub, lab-dev", "port": 443}])
    assert problems == [] and Recorder.calls[0][1].startswith("https://localhost:")
    dead = free_port()
    problems, facts = Preflight(central_world(route=False, ca=False), params(services=[
        {"kind": "acs_central", "endpoint": "localhost:%d" % dead, "needed_by": "lab-hub, lab-dev"}]),
        probe=Probe()).run()
    assert summary(problems) == [("endpoints", "ACS Central https://localhost:%d/v1/ping" % dead,
                                  "unreachable: connection refused (needed by lab-hub, lab-dev)")]


def test_services_not_running_yet_have_nothing_to_reach():
    fake = central_world(deployed=False)
    quay_registry(fake, available=False)
    problems, facts = check_services(fake, SERVICES)
    assert problems == [] and Recorder.calls == []
    assert facts["services"]["acs_central"].startswith("not running: Central stackrox/stackrox-central-services is "
                                                       "not deployed yet")
    assert facts["services"]["quay"].startswith("not running: QuayRegistry quay-enterprise/registry is not available")
    problems, facts = check_services(world(), SERVICES)
    assert problems == [] and facts["services"]["quay"] == "not running: QuayRegistry quay-enterprise/registry does " \
                                                           "not exist"


def test_services_whose_kinds_are_not_served_or_not_readable():
    fake = world(served={"SelfSubjectReview", "SelfSubjectAccessReview", "CustomResourceDefinition", "CatalogSource",
                         "ClusterVersion", "PackageManifest", "StorageClass", "ConfigMap"})
    problems, facts = check_services(fake, SERVICES)
    assert problems == [] and facts["services"] == {"acs_central": "not installed", "quay": "not installed"}
    fake = central_world(fail={"Central": ClusterError("cluster lab-hub: permission denied (HTTP 403) on Central list "
                                                       "in namespace stackrox: forbidden")})
    problems, _facts = check_services(fake, SERVICES[:1])
    assert summary(problems) == [("endpoints", "ACS Central in namespace stackrox",
                                  "permission denied (HTTP 403) on Central list in namespace stackrox: forbidden")]


def test_deployed_central_without_an_endpoint_is_a_finding():
    problems, _facts = check_services(central_world(route=False), SERVICES[:1])
    assert summary(problems) == [("endpoints", "ACS Central in namespace stackrox",
                                  "Central stackrox/stackrox-central-services has no Route 'central' with a host; "
                                  "enable spec.central.exposure.route or give endpoint (needed by lab-hub, lab-dev)")]


def test_services_are_not_looked_for_without_the_api_and_bad_kinds_are_input_errors():
    Recorder.calls = []
    problems, facts = Preflight(central_world(), params(services=SERVICES), probe=Probe(version_error=refused()),
                                rest_client=Recorder).run()
    assert [p["check"] for p in problems] == ["reachable"] and Recorder.calls == [] and "services" not in facts
    with pytest.raises(PreflightInputError, match="kind must be one of acs_central, quay"):
        Preflight(world(), params(services=[{"kind": "harbor"}]), probe=Probe())
