"""Unit tests for module_utils/posture.py and posture_html.py: what a cluster's posture is made of, how the
report merges clusters, and that the page escapes whatever the clusters say."""

import datetime
import json
import re

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import api_exception

from ansible_collections.devsecops.multicluster.plugins.module_utils import posture as posture_mod
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import METADATA_ONLY, Cluster, ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.posture import (
    build_report,
    collect,
    credential_record,
    image_reference,
    parse_time,
    worst,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.posture_html import render_html
from fakes import FakeCluster

NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
MANAGED = {"app.kubernetes.io/managed-by": "devsecops.multicluster"}
ALL = ("components", "policies", "vulnerabilities", "credentials")


def obj(kind, name, namespace=None, api="x/v1", labels=None, **rest):
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": name, "labels": dict(labels or {})}}
    if namespace:
        body["metadata"]["namespace"] = namespace
    body.update(rest)
    return body


def cond(ctype, status, reason="", message=""):
    return {"type": ctype, "status": status, "reason": reason, "message": message}


def subscription(cluster, package, namespace, csv, phase="Succeeded", reason="", message=""):
    cluster.add(obj("Subscription", package, namespace, labels=MANAGED, spec={"name": package},
                    status={"installedCSV": csv, "state": "AtLatestKnown"}))
    if phase:
        cluster.add(obj("ClusterServiceVersion", csv, namespace,
                        status={"phase": phase, "reason": reason, "message": message}))


def policy_report(cluster, name, namespace, results, kind="PolicyReport"):
    cluster.add(obj(kind, name, namespace, api="wgpolicyk8s.io/v1alpha2",
                    results=[{"policy": p, "rule": "r", "result": r, "source": "kyverno"} for p, r in results]))


def vuln_report(cluster, name, namespace, repository, tag, counts, server="quay.example.com",
                updated="2026-05-30T10:00:00Z"):
    summary = dict(zip(("criticalCount", "highCount", "mediumCount", "lowCount", "unknownCount"), counts))
    cluster.add(obj("VulnerabilityReport", name, namespace, api="aquasecurity.github.io/v1alpha1", report={
        "artifact": {"repository": repository, "tag": tag}, "registry": {"server": server},
        "os": {"family": "alpine"}, "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
        "summary": summary, "updateTimestamp": updated, "vulnerabilities": []}))


def record(cluster, name, purpose, owner, kind, created, annotations=None, data=None):
    secret = obj("Secret", name, "devsecops-multicluster", api="v1", labels=dict(MANAGED, **{
        "devsecops.multicluster/purpose": purpose, "devsecops.multicluster/cluster": owner,
        "devsecops.multicluster/credential": kind}), data=data or {"token": "c2VjcmV0LXRva2VuLXZhbHVl"})
    secret["metadata"]["creationTimestamp"] = created
    secret["metadata"]["annotations"] = dict(("devsecops.multicluster/" + k, v) for k, v in (annotations or {}).items())
    cluster.add(secret)


def production(name="prod"):
    """A production cluster as the collection leaves it, with some reports."""
    cluster = FakeCluster(name)
    cluster.add(obj("Namespace", "default", api="v1"))
    subscription(cluster, "openshift-gitops-operator", "openshift-operators", "openshift-gitops-operator.v1.16.0")
    subscription(cluster, "rhacs-operator", "openshift-operators", "rhacs-operator.v4.9.1")
    cluster.add(obj("ArgoCD", "openshift-gitops", "openshift-gitops", status={"phase": "Available"}))
    cluster.add(obj("SecuredCluster", "stackrox-secured-cluster-services", "stackrox", spec={"clusterName": name},
                    status={"conditions": [cond("Initialized", "True"), cond("Deployed", "True", "InstallSuccessful")],
                            "productVersion": "4.9.1"}))
    for app in ("kyverno", "trivy-operator"):
        cluster.add(obj("Application", app, "openshift-gitops", labels=MANAGED, status={
            "sync": {"status": "Synced", "revision": "3.4.1"}, "health": {"status": "Healthy"}}))
    policy_report(cluster, "pod-a", "shop", [("disallow-privileged-containers", "fail"),
                                             ("restrict-seccomp", "pass"), ("require-run-as-nonroot", "fail")])
    policy_report(cluster, "pod-b", "shop", [("disallow-privileged-containers", "pass"), ("restrict-seccomp", "pass"),
                                             ("restrict-volume-types", "warn")])
    policy_report(cluster, "cluster", None, [("disallow-host-path", "skip"), ("restrict-sysctls", "error")],
                  kind="ClusterPolicyReport")
    vuln_report(cluster, "replicaset-web-nginx", "shop", "shop/web", "1.0", (2, 5, 7, 1, 0))
    vuln_report(cluster, "replicaset-web2-nginx", "shop", "shop/web", "1.0", (2, 5, 7, 1, 0))
    vuln_report(cluster, "replicaset-api-api", "shop", "shop/api", "2.1", (0, 1, 3, 4, 2))
    vuln_report(cluster, "replicaset-clean", "shop", "shop/clean", "1", (0, 0, 0, 0, 0))
    return cluster


def hub(name="hub"):
    cluster = FakeCluster(name)
    cluster.add(obj("Namespace", "default", api="v1"))
    subscription(cluster, "advanced-cluster-management", "open-cluster-management",
                 "advanced-cluster-management.v2.15.0")
    cluster.add(obj("MultiClusterHub", "multiclusterhub", "open-cluster-management",
                    status={"phase": "Running", "conditions": [cond("Complete", "True", "ComponentsAvailable")]}))
    cluster.add(obj("QuayRegistry", "registry", "quay-enterprise", status={"conditions": [
        cond("Available", "True", "HealthChecksPassing"), cond("RolloutBlocked", "False")]}))
    cluster.add(obj("Central", "stackrox-central-services", "stackrox", status={"conditions": [
        cond("Deployed", "True")], "productVersion": "4.9.1"}))
    cluster.add(obj("StorageCluster", "ocs-storagecluster", "openshift-storage", status={"phase": "Ready"}))
    record(cluster, "prod-acs-registration", "acs-registration", "prod", "crs", "2026-01-01T00:00:00Z",
           {"minted": "2026-05-20T00:00:00Z", "expires": "2026-06-10T00:00:00.123456789Z"})
    record(cluster, "hub-acs-automation", "acs-automation", "hub", "api-token", "2025-12-01T00:00:00Z",
           {"minted": "2025-12-01T00:00:00Z", "expires": "2026-05-01T00:00:00Z"})
    record(cluster, "prod-argocd", "argocd", "prod", "service-account-token", "2026-05-31T00:00:00Z",
           {"minted": "2026-05-31T06:00:00Z", "expires": ""})
    record(cluster, "dev-signing", "signing", "dev", "cosign-key-pair", "2025-01-01T00:00:00Z",
           {"created": "2025-01-01T00:00:00Z"})
    return cluster


# -- helpers ------------------------------------------------------------------------------------------

def test_worst_orders_states_and_ignores_unknowns():
    assert worst(["healthy", "warning", None]) == "warning"
    assert worst(["critical", "warning", "unreachable"]) == "unreachable"
    assert worst([]) == "healthy" and worst([None]) == "healthy"


@pytest.mark.parametrize("text,expected", [
    ("2026-06-10T00:00:00Z", "2026-06-10T00:00:00"),
    ("2026-06-10T00:00:00.123456789Z", "2026-06-10T00:00:00"),
    ("2026-06-10T02:00:00+02:00", "2026-06-10T00:00:00"),
    ("2026-06-09T19:00:00-0500", "2026-06-10T00:00:00"),
    ("Wed, 10 Jun 2026 00:00:00 -0000", "2026-06-10T00:00:00"),
])
def test_parse_time_reads_the_formats_products_write(text, expected):
    assert parse_time(text).replace(tzinfo=None).isoformat() == expected


@pytest.mark.parametrize("text", [None, "", "soon", "2026-13-45T00:00:00Z", 42])
def test_parse_time_refuses_what_is_not_a_time(text):
    assert parse_time(text) is None


def test_image_reference_with_tag_digest_and_without_registry():
    assert image_reference({"registry": {"server": "quay.io"}, "artifact": {"repository": "a/b", "tag": "1"}}) == \
        "quay.io/a/b:1"
    assert image_reference({"artifact": {"repository": "a/b", "digest": "sha256:ab"}}) == "a/b@sha256:ab"
    assert image_reference({}) == "(unknown image)"


# -- one cluster ----------------------------------------------------------------------------------------

def test_components_subscriptions_and_products_with_their_health():
    posture = collect(production(), now=NOW)
    items = {(i["kind"], i["name"]): i for i in posture["components"]["items"]}
    sub = items[("Subscription", "rhacs-operator")]
    assert (sub["component"], sub["status"], sub["state"], sub["csv"]) == \
        ("rhacs-operator", "Succeeded", "healthy", "rhacs-operator.v4.9.1")
    assert items[("ArgoCD", "openshift-gitops")]["state"] == "healthy"
    secured = items[("SecuredCluster", "stackrox-secured-cluster-services")]
    assert (secured["component"], secured["status"], secured["cluster_name"]) == \
        ("ACS secured cluster", "Deployed 4.9.1", "prod")
    app = items[("Application", "kyverno")]
    assert (app["component"], app["status"], app["state"], app["revision"]) == \
        ("kyverno", "Synced / Healthy", "healthy", "3.4.1")
    assert posture["components"]["state"] == "healthy"
    assert posture["components"]["status"] == "collected"


def test_components_in_trouble_say_why():
    cluster = FakeCluster("hub")
    subscription(cluster, "quay-operator", "openshift-operators", "quay-operator.v3.18.0", phase="Failed",
                 reason="InstallComponentFailed", message="install strategy failed")
    subscription(cluster, "odf-operator", "openshift-storage", "odf-operator.v4.18.0", phase=None)
    cluster.add(obj("Subscription", "rhacs-operator", "openshift-operators", labels=MANAGED, spec={"name": "rhacs-operator"},
                    status={"conditions": [cond("ResolutionFailed", "True", message="no operators found in channel x")]}))
    cluster.add(obj("Subscription", "by-hand", "openshift-operators", spec={"name": "by-hand"}))
    cluster.add(obj("QuayRegistry", "registry", "quay-enterprise", status={"conditions": [
        cond("Available", "False", "ComponentNotReady"), cond("RolloutBlocked", "True", "ConfigInvalid", "bad bundle")]}))
    cluster.add(obj("TektonConfig", "config", status={"conditions": [cond("Ready", "False", "Error", "webhook down")]}))
    cluster.add(obj("MultiClusterHub", "multiclusterhub", "open-cluster-management"))
    cluster.add(obj("Application", "tracee", "openshift-gitops", labels=MANAGED, status={
        "sync": {"status": "Unknown"}, "health": {"status": "Healthy"},
        "conditions": [{"type": "ComparisonError", "message": "chart version 9.9.9 not found"}]}))
    cluster.add(obj("Central", "central", "stackrox", status={"conditions": [
        cond("Deployed", "False"), cond("ReleaseFailed", "True", message="helm said no")]}))
    items = {(i["kind"], i["name"]): i for i in collect(cluster, now=NOW)["components"]["items"]}
    assert ("Subscription", "by-hand") not in items, "only the collection's Subscriptions"
    quay = items[("Subscription", "quay-operator")]
    assert (quay["state"], quay["status"], quay["message"]) == \
        ("critical", "Failed", "InstallComponentFailed: install strategy failed")
    assert items[("Subscription", "odf-operator")]["status"] == "CSV missing"
    resolution = items[("Subscription", "rhacs-operator")]
    assert resolution["state"] == "critical" and "no operators found" in resolution["message"]
    assert items[("QuayRegistry", "registry")]["state"] == "critical"
    assert "bad bundle" in items[("QuayRegistry", "registry")]["message"]
    assert items[("TektonConfig", "config")]["state"] == "critical"
    assert items[("MultiClusterHub", "multiclusterhub")]["status"] == "no status yet"
    assert items[("MultiClusterHub", "multiclusterhub")]["state"] == "warning"
    assert items[("Application", "tracee")]["state"] == "critical"
    assert items[("Central", "central")]["status"] == "ReleaseFailed"


def test_a_missing_crd_is_not_installed_not_an_error():
    cluster = production()
    cluster.served = {"Namespace", "Secret", "Subscription", "ClusterServiceVersion", "ArgoCD", "Application"}
    posture = collect(cluster, sections=ALL, now=NOW)
    components = posture["components"]
    assert set(components["not_installed"]) == {"MultiClusterHub", "StorageCluster", "QuayRegistry", "Central",
                                                "SecuredCluster", "TektonConfig"}
    assert components["errors"] == [] and components["status"] == "collected"
    assert posture["policies"]["status"] == "not installed" and posture["policies"]["state"] is None
    assert posture["policies"]["not_installed"] == ["PolicyReport", "ClusterPolicyReport"]
    assert posture["vulnerabilities"]["status"] == "not installed"
    assert posture["state"] == "healthy"


def test_a_403_on_one_kind_is_reported_and_the_rest_is_read():
    cluster = production()
    cluster.forbidden = {"PolicyReport", "ArgoCD"}
    posture = collect(cluster, now=NOW)
    policies = posture["policies"]
    assert policies["status"] == "partial" and policies["state"] == "warning"
    assert policies["errors"] == ["cluster prod: permission denied (HTTP 403) on PolicyReport list: policyreport is forbidden"]
    assert policies["totals"] == {"pass": 0, "fail": 0, "warn": 0, "error": 1, "skip": 1}, "ClusterPolicyReports still read"
    argocd = [i for i in posture["components"]["items"] if i["kind"] == "ArgoCD"]
    assert argocd[0]["status"] == "unreadable" and "HTTP 403" in argocd[0]["message"]
    assert posture["components"]["status"] == "partial"
    assert posture["vulnerabilities"]["totals"]["critical"] == 4


def test_all_report_kinds_forbidden_is_failed():
    cluster = production()
    cluster.forbidden = {"PolicyReport", "ClusterPolicyReport", "VulnerabilityReport"}
    posture = collect(cluster, now=NOW)
    assert posture["policies"]["status"] == "failed" and len(posture["policies"]["errors"]) == 2
    assert posture["vulnerabilities"]["status"] == "failed"


def test_policy_results_counted_by_policy():
    policies = collect(production(), now=NOW)["policies"]
    assert policies["reports"] == 3
    assert policies["totals"] == {"pass": 3, "fail": 2, "warn": 1, "error": 1, "skip": 1}
    by = {p["policy"]: p for p in policies["by_policy"]}
    assert by["disallow-privileged-containers"] == {"policy": "disallow-privileged-containers", "pass": 1, "fail": 1,
                                                    "warn": 0, "error": 0, "skip": 0}
    assert by["restrict-seccomp"]["pass"] == 2
    assert [p["policy"] for p in policies["by_policy"]] == sorted(by), "sorted by policy name (stable JSON)"
    assert policies["state"] == "warning"


def test_vulnerabilities_summed_per_cluster_with_top_images():
    vulns = collect(production(), now=NOW, top_images=2)["vulnerabilities"]
    assert vulns["reports"] == 4 and vulns["images"] == 3
    assert vulns["totals"] == {"critical": 4, "high": 11, "medium": 17, "low": 6, "unknown": 2}
    assert [i["image"] for i in vulns["top_images"]] == ["quay.example.com/shop/web:1.0", "quay.example.com/shop/api:2.1"]
    assert vulns["top_images"][0] == {"image": "quay.example.com/shop/web:1.0", "critical": 2, "high": 5, "medium": 7,
                                      "low": 1, "unknown": 0, "workloads": 2}
    assert vulns["state"] == "critical"


def test_the_latest_scan_of_an_image_counts_for_the_image():
    cluster = FakeCluster("prod")
    vuln_report(cluster, "a", "x", "r", "1", (3, 0, 0, 0, 0), updated="2026-05-01T00:00:00Z")
    vuln_report(cluster, "b", "x", "r", "1", (1, 0, 0, 0, 0), updated="2026-05-20T00:00:00Z")
    vulns = collect(cluster, now=NOW)["vulnerabilities"]
    assert vulns["top_images"][0]["critical"] == 1 and vulns["totals"]["critical"] == 4


def test_credentials_from_metadata_only_never_the_data():
    cluster = hub()
    posture = collect(cluster, sections=ALL, now=NOW)
    assert ("Secret", "devsecops-multicluster", "app.kubernetes.io/managed-by=devsecops.multicluster", True) in \
        cluster.listed, "the records are listed metadata-only"
    text = json.dumps(posture)
    assert "c2VjcmV0LXRva2VuLXZhbHVl" not in text and "secret-token-value" not in text
    records = {r["name"]: r for r in posture["credentials"]["records"]}
    crs = records["prod-acs-registration"]
    assert (crs["cluster"], crs["purpose"], crs["kind"]) == ("prod", "acs-registration", "crs")
    assert (crs["minted"], crs["age_days"], crs["expires"], crs["expires_in_days"]) == \
        ("2026-05-20T00:00:00Z", 12.5, "2026-06-10T00:00:00Z", 8.5)
    assert (crs["state"], crs["reason"]) == ("warning", "expires within 30 days")
    assert records["hub-acs-automation"]["state"] == "critical" and records["hub-acs-automation"]["reason"] == "expired"
    fresh = records["prod-argocd"]
    assert (fresh["expires"], fresh["expires_in_days"], fresh["age_days"], fresh["state"]) == (None, None, 1.2, "healthy")
    old = records["dev-signing"]
    assert (old["state"], old["reason"]) == ("warning", "older than 90 days")
    assert posture["credentials"]["state"] == "critical"


def test_credential_record_falls_back_to_creation_time_and_flags_odd_expiry():
    meta = {"name": "x", "creationTimestamp": "2026-05-01T12:00:00Z",
            "annotations": {"devsecops.multicluster/expires": "next tuesday"}}
    rec = credential_record(meta, NOW, 90, 30)
    assert (rec["minted"], rec["age_days"], rec["expires"], rec["state"]) == \
        ("2026-05-01T12:00:00Z", 31.0, "next tuesday", "warning")


def test_credentials_forbidden_is_a_failed_section():
    cluster = hub()
    cluster.forbidden = {"Secret"}
    section = collect(cluster, sections=["credentials"], now=NOW)["credentials"]
    assert section["status"] == "failed" and section["state"] == "warning" and "HTTP 403" in section["errors"][0]


def test_unreachable_cluster_fails_as_a_whole():
    class Down(FakeCluster):
        def iterate(self, *args, **kwargs):
            raise ClusterError("cluster prod: API server at https://127.0.0.1:1 unreachable while accessing Namespace "
                               "list: connection refused")

    with pytest.raises(ClusterError, match="unreachable"):
        collect(Down("prod"), now=NOW)


def test_a_403_on_namespaces_still_proves_the_cluster_answers():
    cluster = production()
    cluster.forbidden = {"Namespace"}
    assert collect(cluster, now=NOW)["components"]["items"]


def test_collect_writes_nothing():
    cluster = hub()
    collect(cluster, sections=ALL, now=NOW)
    assert cluster.writes == []


# -- Cluster.iterate on a real client (pages, metadata only) -------------------------------------------

class PagedResource:
    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def get(self, **kwargs):
        self.calls.append(kwargs)
        if kwargs.get("_continue") is None:
            return self.pages[0]
        return self.pages[int(kwargs["_continue"])]


class Client:
    configuration = type("C", (), {"host": "https://127.0.0.1:6443"})()

    def __init__(self, resource):
        self.res = resource

    def resource(self, kind, api_version):
        return self.res


class Module:
    params = {"cluster_name": "hub", "context": None, "host": None}


def test_iterate_follows_continue_tokens_and_asks_for_metadata_only():
    resource = PagedResource([{"metadata": {"continue": "1"}, "items": [{"metadata": {"name": "a"}}]},
                              {"metadata": {}, "items": [{"metadata": {"name": "b"}}]}])
    cluster = Cluster(Module(), client=Client(resource))
    listed = cluster.iterate("v1", "Secret", namespace="ns", label_selector="l=v", page_size=1, metadata_only=True)
    names = [i["metadata"]["name"] for i in listed]
    assert names == ["a", "b"]
    assert [c["_continue"] for c in resource.calls] == [None, "1"]
    assert all(c["limit"] == 1 and c["header_params"] == {"Accept": METADATA_ONLY} and c["label_selector"] == "l=v"
               for c in resource.calls)
    assert "PartialObjectMetadataList" in METADATA_ONLY and "," not in METADATA_ONLY, "no fallback to full objects"


def test_iterate_turns_a_403_into_a_cluster_error_with_the_status():
    err = ApiException(status=403, reason="Forbidden")
    err.body = json.dumps({"kind": "Status", "message": "policyreports is forbidden"}).encode()
    resource = PagedResource([])

    def refuse(**kwargs):
        raise api_exception(err)
    resource.get = refuse
    cluster = Cluster(Module(), client=Client(resource))
    with pytest.raises(ClusterError) as caught:
        list(cluster.iterate("wgpolicyk8s.io/v1alpha2", "PolicyReport"))
    assert caught.value.details["status"] == 403
    assert caught.value.message == "cluster hub: permission denied (HTTP 403) on PolicyReport list: policyreports is forbidden"


# -- the report ---------------------------------------------------------------------------------------------

CENTRAL = {"status": "collected", "message": "", "clusters": [
    {"name": "prod", "overall": "HEALTHY", "sensor": "HEALTHY", "collector": "HEALTHY", "admission_control": "HEALTHY",
     "last_contact": "2026-06-01T11:59:00Z"}]}


def entries(central=None):
    """The report's input: hub (Central answering with `central`, default CENTRAL), dev unreachable, prod."""
    return [
        {"name": "hub", "groups": ["hub"], "posture": collect(hub(), sections=ALL, now=NOW),
         "acs": CENTRAL if central is None else central},
        {"name": "dev", "groups": ["development"], "posture": None,
         "error": "cluster dev: API server at https://127.0.0.1:1 unreachable while accessing Namespace list: connection refused"},
        {"name": "prod", "groups": ["production"], "posture": collect(production(), now=NOW)},
    ]


def test_report_merges_clusters_acs_and_credentials():
    report = build_report(entries(), generated_at="2026-06-01T12:00:00Z",
                          thresholds={"credential_max_age_days": 90, "credential_expiry_warning_days": 30})
    assert report["schema"] == "devsecops.multicluster/posture-report/v1"
    clusters = {c["name"]: c for c in report["clusters"]}
    assert [c["name"] for c in report["clusters"]] == ["hub", "dev", "prod"]
    prod, dev, hub_ = clusters["prod"], clusters["dev"], clusters["hub"]
    assert prod["acs"]["overall"] == "HEALTHY" and prod["acs"]["central"] == "hub" and prod["acs"]["state"] == "healthy"
    assert hub_["acs"]["status"] == "not secured"
    # records sit with the cluster they are for; the hub keeps its own and the unattributed ones
    assert sorted(r["name"] for r in prod["credentials"]["records"]) == ["prod-acs-registration", "prod-argocd"]
    assert all(r["held_on"] == "hub" for r in prod["credentials"]["records"])
    assert [r["name"] for r in dev["credentials"]["records"]] == ["dev-signing"]
    assert [r["name"] for r in hub_["credentials"]["records"]] == ["hub-acs-automation"]
    assert hub_["state"] == "critical", "its automation token expired"
    assert prod["state"] == "critical", "critical vulnerabilities"
    assert dev["state"] == "unreachable" and not dev["reachable"] and "connection refused" in dev["error"]
    assert dev["components"]["status"] == "not collected" and dev["policies"]["totals"]["fail"] == 0
    assert report["state"] == "unreachable"
    summary = report["summary"]
    assert summary["states"] == {"healthy": 0, "warning": 0, "critical": 2, "unreachable": 1}
    assert summary["by_cluster"]["prod"] == {
        "state": "critical", "components": {"total": 6, "unhealthy": 0}, "acs": "HEALTHY",
        "policies": {"fail": 2, "error": 1}, "vulnerabilities": {"critical": 4, "high": 11},
        "credentials": {"total": 2, "attention": 1}}
    json.dumps(report)


def test_report_acs_states():
    unhealthy = {"status": "collected", "clusters": [dict(CENTRAL["clusters"][0], overall="UNHEALTHY")]}
    assert {c["name"]: c for c in build_report(entries(unhealthy))["clusters"]}["prod"]["acs"]["state"] == "critical"
    missing = {"status": "collected", "clusters": []}
    acs = {c["name"]: c for c in build_report(entries(missing))["clusters"]}["prod"]["acs"]
    assert acs["status"] == "not listed" and acs["state"] == "warning" and "does not list secured cluster prod" in acs["message"]
    down = {"status": "failed", "message": "cluster hub: Central https://c:443: HTTP 503"}
    acs = {c["name"]: c for c in build_report(entries(down))["clusters"]}["prod"]["acs"]
    assert acs["status"] == "unavailable" and "HTTP 503" in acs["message"]


def test_report_without_a_hub_in_the_run():
    only_prod = [e for e in entries() if e["name"] == "prod"]
    prod = build_report(only_prod)["clusters"][0]
    assert prod["acs"]["status"] == "not collected" and prod["acs"]["state"] is None
    assert prod["credentials"]["status"] == "not collected" and prod["credentials"]["records"] == []


def test_report_when_the_hubs_records_cannot_be_read():
    hub_cluster = hub()
    hub_cluster.forbidden = {"Secret"}
    items = entries()
    items[0]["posture"] = collect(hub_cluster, sections=ALL, now=NOW)
    clusters = {c["name"]: c for c in build_report(items)["clusters"]}
    assert clusters["hub"]["credentials"]["status"] == "failed"
    assert "HTTP 403" in clusters["hub"]["credentials"]["errors"][0]
    assert clusters["prod"]["credentials"]["records"] == []


# -- the page ---------------------------------------------------------------------------------------------

def test_html_has_tiles_sections_and_counts():
    report = build_report(entries(), generated_at="2026-06-01T12:00:00Z",
                          thresholds={"credential_max_age_days": 90, "credential_expiry_warning_days": 30})
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page.replace(
        "https://127.0.0.1:1", ""), "self-contained: no scripts, no external assets"
    assert len(re.findall(r'<a class="tile s-', page)) == 3
    assert '<a class="tile s-critical" href="#cluster-2-prod">' in page
    assert '<a class="tile s-unreachable" href="#cluster-1-dev">' in page
    assert 'id="cluster-2-prod"' in page
    assert "2026-06-01T12:00:00Z" in page
    assert "disallow-privileged-containers" in page and "quay.example.com/shop/web:1.0" in page
    assert "CVEs 4 critical, 11 high" in page
    assert "prod-acs-registration" in page and "expires within 30 days" in page
    assert "connection refused" in page
    assert "HEALTHY" in page


def test_html_escapes_hostile_values():
    cluster = production()
    policy_report(cluster, "evil", "shop", [("<script>alert(1)</script>", "fail")])
    vuln_report(cluster, "evil", "shop", "\"><img src=x onerror=alert(2)>", "1", (1, 0, 0, 0, 0))
    cluster.add(obj("Application", "<b>app</b>", "openshift-gitops", labels=MANAGED, status={
        "sync": {"status": "Synced"}, "health": {"status": "Degraded"},
        "conditions": [{"type": "SyncError", "message": "<iframe src=//evil>"}]}))
    items = [{"name": "<i>prod</i>", "groups": ["production"], "posture": collect(cluster, now=NOW)},
             {"name": "x\"><script>", "groups": [], "posture": None, "error": "<script>alert(3)</script>"}]
    page = render_html(build_report(items), title="<title>")
    assert "<script" not in page.lower() and "<img" not in page and "<iframe" not in page and "<b>app" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;i&gt;prod&lt;/i&gt;" in page and "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert 'href="#cluster-1-x-script"' in page, "anchors are made of safe characters only"


def test_html_for_a_cluster_without_anything():
    cluster = FakeCluster("bare", served={"Namespace"})
    cluster.add(obj("Namespace", "default", api="v1"))
    page = render_html(build_report([{"name": "bare", "groups": [], "posture": collect(cluster, now=NOW)}]))
    assert "No component of the collection was found" in page
    assert "Not installed: the cluster serves no wgpolicyk8s.io policy reports" in page


def test_module_utils_posture_has_no_write_calls():
    """The posture code only reads: no create/patch/delete anywhere in it."""
    import inspect
    source = inspect.getsource(posture_mod)
    assert not re.search(r"\.(create|patch|delete|apply)\(", source)
