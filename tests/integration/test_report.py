"""The posture report on the lab: site.yml converges the platform, the test plays Kyverno and Trivy Operator
(the lab runs no pods, so nothing would ever write policy or vulnerability reports) by creating a few reports
on lab-prod as those operators write them (the apiserver validates them against the upstream CRDs), then
report.yml reads every cluster and writes the HTML page and the JSON document."""

import json
import os

import pytest
import yaml

from tests.integration.conftest import REPO, write_inventory
from tests.lab.lab import Lab

WGPOLICY = "wgpolicyk8s.io/v1alpha2"
TRIVY = "aquasecurity.github.io/v1alpha1"
APP_NAMESPACE = "devsecops-report-shop"
HOSTILE_POLICY = "<script>alert('policy')</script>"
CLUSTERS = ["lab-hub", "lab-dev", "lab-prod"]
SEVERITIES = ("critical", "high", "medium", "low", "unknown")

# (workload, container, repository, tag, counts critical/high/medium/low/unknown)
SCANS = [
    ("replicaset-web-7d9f8b6c5", "nginx", "shop/web", "1.4.2", (2, 3, 5, 1, 0)),
    ("replicaset-web-canary-5c6b7", "nginx", "shop/web", "1.4.2", (2, 3, 5, 1, 0)),
    ("replicaset-api-6f7c9d8b4", "api", "shop/api", "2.0.1", (1, 0, 2, 4, 1)),
    ("statefulset-db", "postgres", "sclorg/postgresql-16-c9s", "latest", (0, 0, 0, 0, 0)),
]
# (resource, policy, result) per Deployment, as Kyverno's background scan reports them
RESULTS = {
    "web": [("disallow-privileged-containers", "pass"), ("require-run-as-nonroot", "fail"),
            ("restrict-seccomp-strict", "fail"), ("disallow-capabilities-strict", "pass")],
    "api": [("disallow-privileged-containers", "pass"), ("require-run-as-nonroot", "pass"),
            ("restrict-seccomp-strict", "fail"), ("disallow-host-path", "skip"), (HOSTILE_POLICY, "warn")],
}


def policy_report(name, results):
    uid = {"web": "0b7a3c52-1f6e-4d55-9c1e-2a7f3d1e9a01", "api": "5e2c8d19-7b4a-4f0e-8d6c-3b9e1a7f2c02"}[name]
    return {
        "apiVersion": WGPOLICY, "kind": "PolicyReport",
        "metadata": {"name": uid, "namespace": APP_NAMESPACE,
                     "labels": {"app.kubernetes.io/managed-by": "kyverno"}},
        "scope": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "namespace": APP_NAMESPACE, "uid": uid},
        "results": [{"policy": policy, "rule": "autogen-" + policy, "result": result, "scored": True,
                     "severity": "medium", "category": "Pod Security Standards (Restricted)", "source": "kyverno",
                     "message": "validation rule 'autogen-%s' %s" % (policy, "passed" if result == "pass" else result),
                     "timestamp": {"seconds": 1780000000, "nanos": 0}, "properties": {"process": "background scan"}}
                    for policy, result in results],
        "summary": {r: sum(1 for _p, res in results if res == r) for r in ("pass", "fail", "warn", "error", "skip")},
    }


def cluster_policy_report():
    return {
        "apiVersion": WGPOLICY, "kind": "ClusterPolicyReport",
        "metadata": {"name": "devsecops-report-namespace-shop", "labels": {"app.kubernetes.io/managed-by": "kyverno"}},
        "scope": {"apiVersion": "v1", "kind": "Namespace", "name": APP_NAMESPACE},
        "results": [{"policy": "require-labels", "rule": "check-team", "result": "error", "source": "kyverno",
                     "message": "failed to evaluate preconditions", "timestamp": {"seconds": 1780000000, "nanos": 0}}],
        "summary": {"pass": 0, "fail": 0, "warn": 0, "error": 1, "skip": 0},
    }


def vulnerability_report(workload, container, repository, tag, counts):
    vulnerabilities = []
    for severity, count in zip(SEVERITIES, counts):
        for index in range(count):
            vulnerabilities.append({
                "vulnerabilityID": "CVE-2025-%d%03d" % (SEVERITIES.index(severity) + 1, index),
                "resource": "openssl", "installedVersion": "3.0.13-r0", "fixedVersion": "3.0.15-r1",
                "severity": severity.upper(), "title": "openssl: %s issue %d" % (severity, index),
                "publishedDate": "2025-03-01T00:00:00Z", "lastModifiedDate": "2025-03-10T00:00:00Z",
                "primaryLink": "https://avd.aquasec.com/nvd/cve-2025-%d%03d" % (SEVERITIES.index(severity) + 1, index),
                "score": 7.5, "target": "quay.example.com/%s:%s (alpine 3.20.3)" % (repository, tag)})
    kind, name = workload.split("-", 1)
    return {
        "apiVersion": TRIVY, "kind": "VulnerabilityReport",
        "metadata": {"name": "%s-%s" % (workload, container), "namespace": APP_NAMESPACE, "labels": {
            "trivy-operator.resource.kind": {"replicaset": "ReplicaSet", "statefulset": "StatefulSet"}[kind],
            "trivy-operator.resource.name": name, "trivy-operator.resource.namespace": APP_NAMESPACE,
            "trivy-operator.container.name": container}},
        "report": {
            "artifact": {"repository": repository, "tag": tag},
            "os": {"family": "alpine", "name": "3.20.3"},
            "registry": {"server": "quay.example.com"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
            "summary": dict(("%sCount" % s, c) for s, c in zip(SEVERITIES, counts)),
            "updateTimestamp": "2026-01-15T10:00:00Z",
            "vulnerabilities": vulnerabilities,
        },
    }


def snapshot(*kubes):
    """resourceVersions of what the report reads that no controller of the lab touches on its own (the
    Argo CD stand-in refreshes Applications' status while it runs)."""
    kinds = [("v1", "secrets", "devsecops-multicluster"), ("operators.coreos.com/v1alpha1", "subscriptions", None),
             ("argoproj.io/v1beta1", "argocds", None), ("platform.stackrox.io/v1alpha1", "securedclusters", None),
             (WGPOLICY, "policyreports", None), (WGPOLICY, "clusterpolicyreports", None),
             (TRIVY, "vulnerabilityreports", None)]
    state = {}
    for kube in kubes:
        for api, plural, namespace in kinds:
            for obj in kube.list(api, plural, namespace=namespace)["items"]:
                meta = obj["metadata"]
                state[(kube.name, plural, meta.get("namespace"), meta["name"])] = meta["resourceVersion"]
    return state


@pytest.fixture(scope="module")
def platform(ansible, prod):
    """The platform converged, and lab-prod holding what Kyverno and Trivy Operator would have written."""
    run = ansible("playbooks/site.yml")
    assert run.rc == 0, run
    prod.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP_NAMESPACE}})
    for name, results in RESULTS.items():
        prod.apply(WGPOLICY, "policyreports", policy_report(name, results), namespace=APP_NAMESPACE)
    prod.apply(WGPOLICY, "clusterpolicyreports", cluster_policy_report())
    for scan in SCANS:
        prod.apply(TRIVY, "vulnerabilityreports", vulnerability_report(*scan), namespace=APP_NAMESPACE)
    yield run
    prod.delete(WGPOLICY, "clusterpolicyreports", "devsecops-report-namespace-shop")
    prod.delete("v1", "namespaces", APP_NAMESPACE)
    # gone before the module ends: the next module on this lab may compare snapshots of it
    prod.wait_for(lambda: prod.get_or_none("v1", "namespaces", APP_NAMESPACE) is None, timeout=60,
                  what="namespace %s gone" % APP_NAMESPACE)


@pytest.fixture(scope="module")
def report(platform, ansible, hub, dev, prod, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    before = snapshot(hub, dev, prod)
    run = ansible("playbooks/report.yml", extra_vars={"report_dir": str(out)},
                  env_extra={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert run.rc == 0, run
    after = snapshot(hub, dev, prod)
    return run, out, before, after


def read(out):
    with open(os.path.join(str(out), "posture.json")) as handle:
        text = handle.read()
    with open(os.path.join(str(out), "posture.html")) as handle:
        page = handle.read()
    return json.loads(text), text, page


class TestReport:
    def test_reads_only_and_says_where_the_report_is(self, report):
        run, out, before, after = report
        assert after == before, "the report changed something on a cluster"
        for cluster in CLUSTERS:
            assert run.recap[cluster]["changed"] == 0 and run.failed(cluster) == 0, run
        assert run.recap["localhost"]["changed"] >= 2, "the two files"
        assert "Posture report (" in run.output and "%s/posture.html" % out in run.output, run
        assert "CUSTOM STATS" in run.output and '"devsecops_posture"' in run.output, "set_stats in the output"
        print("report.yml on the lab: %.1f s" % run.elapsed)

    def test_json_components_healthy_everywhere(self, report):
        data, _text, _page = read(report[1])
        assert data["schema"] == "devsecops.multicluster/posture-report/v1"
        clusters = {c["name"]: c for c in data["clusters"]}
        assert [c["name"] for c in data["clusters"]] == CLUSTERS
        for name, cluster in clusters.items():
            assert cluster["reachable"] and cluster["error"] is None, name
            items = cluster["components"]["items"]
            unhealthy = [(i["kind"], i["name"], i["status"], i["message"]) for i in items if i["state"] != "healthy"]
            assert not unhealthy, (name, unhealthy)
            assert cluster["components"]["errors"] == []

        def kinds(name):
            return {i["kind"] for i in clusters[name]["components"]["items"]}

        assert {"Subscription", "MultiClusterHub", "ArgoCD", "StorageCluster", "QuayRegistry", "Central"} <= kinds("lab-hub")
        assert {"Subscription", "ArgoCD", "SecuredCluster", "TektonConfig"} <= kinds("lab-dev")
        assert {"Subscription", "ArgoCD", "SecuredCluster", "Application"} <= kinds("lab-prod")
        apps = {i["name"]: i for i in clusters["lab-prod"]["components"]["items"] if i["kind"] == "Application"}
        assert set(apps) == {"kyverno", "policy-reporter", "trivy-operator", "tracee"}
        assert all(a["status"] == "Synced / Healthy" for a in apps.values())
        rhacs = [i for i in clusters["lab-prod"]["components"]["items"] if i["name"] == "rhacs-operator"]
        assert rhacs[0]["status"] == "Succeeded" and rhacs[0]["csv"].startswith("rhacs-operator.v")
        # the lab serves every upstream CRD on every cluster: a kind without objects is simply not listed
        assert clusters["lab-prod"]["components"]["not_installed"] == []
        assert "MultiClusterHub" not in kinds("lab-prod")
        for name in ("lab-dev", "lab-prod"):
            acs = clusters[name]["acs"]
            assert (acs["status"], acs["overall"], acs["central"], acs["name"]) == ("collected", "HEALTHY", "lab-hub", name)
        assert clusters["lab-hub"]["acs"]["status"] == "not secured"

    def test_json_policy_and_vulnerability_counts(self, report):
        data, _text, _page = read(report[1])
        prod = {c["name"]: c for c in data["clusters"]}["lab-prod"]
        policies = prod["policies"]
        assert (policies["status"], policies["reports"]) == ("collected", 3)
        assert policies["totals"] == {"pass": 4, "fail": 3, "warn": 1, "error": 1, "skip": 1}
        by = {p["policy"]: p for p in policies["by_policy"]}
        assert by["restrict-seccomp-strict"] == {"policy": "restrict-seccomp-strict", "pass": 0, "fail": 2, "warn": 0,
                                                 "error": 0, "skip": 0}
        assert by["require-run-as-nonroot"]["fail"] == 1 and by["require-run-as-nonroot"]["pass"] == 1
        assert by[HOSTILE_POLICY]["warn"] == 1 and by["require-labels"]["error"] == 1
        vulns = prod["vulnerabilities"]
        assert (vulns["status"], vulns["reports"], vulns["images"]) == ("collected", 4, 3)
        assert vulns["totals"] == {"critical": 5, "high": 6, "medium": 12, "low": 6, "unknown": 1}
        assert vulns["top_images"][0] == {"image": "quay.example.com/shop/web:1.4.2", "critical": 2, "high": 3,
                                          "medium": 5, "low": 1, "unknown": 0, "workloads": 2}
        assert [i["image"] for i in vulns["top_images"]] == ["quay.example.com/shop/web:1.4.2",
                                                             "quay.example.com/shop/api:2.0.1"]
        assert prod["state"] == "critical", "critical vulnerabilities"
        dev = {c["name"]: c for c in data["clusters"]}["lab-dev"]
        assert dev["vulnerabilities"]["status"] == "collected" and dev["vulnerabilities"]["reports"] == 0
        assert data["summary"]["by_cluster"]["lab-prod"]["vulnerabilities"] == {"critical": 5, "high": 6}
        assert data["summary"]["by_cluster"]["lab-prod"]["policies"] == {"fail": 3, "error": 1}

    def test_json_credential_records_with_age_and_no_secret(self, report, hub, secrets):
        data, text, page = read(report[1])
        clusters = {c["name"]: c for c in data["clusters"]}
        records = {r["name"]: r for c in data["clusters"] for r in c["credentials"]["records"]}
        on_hub = {s["metadata"]["name"]: s for s in hub.list(
            "v1", "secrets", namespace="devsecops-multicluster",
            label_selector="app.kubernetes.io/managed-by=devsecops.multicluster")["items"]}
        assert set(records) == set(on_hub), "every record listed, once"
        for name, record in records.items():
            assert record["held_on"] == "lab-hub" and record["age_days"] is not None and record["minted"], record
            assert set(record) == {"name", "namespace", "held_on", "cluster", "purpose", "kind", "created", "minted",
                                   "age_days", "expires", "expires_in_days", "state", "reason"}
        for name in ("lab-dev", "lab-prod"):
            mine = clusters[name]["credentials"]["records"]
            assert "acs-registration" in {r["purpose"] for r in mine}, (name, mine)
            assert all(r["cluster"] == name for r in mine)
        registration = records["lab-prod-acs-registration"]
        assert registration["expires"] and registration["expires_in_days"] > 300 and registration["state"] == "healthy"
        for secret in on_hub.values():
            secrets.add_record(secret)
        secrets.scan(text, "posture.json")
        secrets.scan(page, "posture.html")

    def test_html_has_the_clusters_counts_and_escapes(self, report):
        _data, _text, page = read(report[1])
        assert page.startswith("<!DOCTYPE html>")
        for name in CLUSTERS:
            assert 'class="name">%s</span>' % name in page and 'id="cluster-%d-%s"' % (CLUSTERS.index(name), name) in page
        assert "CVEs 5 critical, 6 high" in page and "policies 3 fail, 4 pass" in page
        assert "quay.example.com/shop/web:1.4.2" in page and "restrict-seccomp-strict" in page
        assert "lab-prod-acs-registration" in page
        assert "<script" not in page.lower(), "the hostile policy name is escaped"
        assert "&lt;script&gt;alert(&#x27;policy&#x27;)&lt;/script&gt;" in page

    def test_check_mode_still_reads_and_renders(self, report, ansible, hub, dev, prod, tmp_path):
        run = ansible("playbooks/report.yml", check=True, extra_vars={"report_dir": str(tmp_path)})
        assert run.rc == 0, run
        assert all(run.recap[c]["changed"] == 0 for c in CLUSTERS), run
        data, _text, _page = read(tmp_path)
        assert {c["name"]: c for c in data["clusters"]}["lab-prod"]["policies"]["totals"]["fail"] == 3
        assert snapshot(hub, dev, prod) == report[3]


def lab_hosts():
    """The running lab's hosts, each with its group and connection, for a one-off inventory."""
    with open(Lab.inventory_file()) as handle:
        inventory = yaml.safe_load(handle)
    children = inventory["all"]["children"]
    groups = {"hub": children["hub"], "development": children["spokes"]["children"]["development"],
              "production": children["spokes"]["children"]["production"]}
    return {name: dict(host_vars or {}, group=group, cluster_kubeconfig=inventory["all"]["vars"]["cluster_kubeconfig"])
            for group, node in groups.items() for name, host_vars in (node.get("hosts") or {}).items()}


def test_an_unreachable_and_a_forbidden_cluster_do_not_stop_the_report(platform, ansible, lab, tmp_path):
    """Two more production hosts: one whose API server is gone, one whose token may read nothing (HTTP 403)."""
    hosts = lab_hosts()
    hosts["lab-gone"] = {"group": "production", "cluster_api_url": "https://127.0.0.1:1",
                         "cluster_api_token": "not-a-token-of-any-cluster", "cluster_ca_cert": lab.ca_file}
    hosts["lab-prod-readonly"] = {"group": "production", "cluster_api_url": lab.clusters["lab-prod"]["server"],
                                  "cluster_api_token": lab.clusters["lab-prod"]["nobody_token"],
                                  "cluster_ca_cert": lab.ca_file}
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    write_inventory(inventory / "hosts.yml", hosts)
    (inventory / "group_vars").symlink_to(os.path.join(REPO, "inventories", "lab", "group_vars"))
    out = tmp_path / "out"
    run = ansible("playbooks/report.yml", inventory=str(inventory), extra_vars={"report_dir": str(out)})
    assert run.rc == 0, run
    assert run.failed() == 0, run
    data, _text, page = read(out)
    clusters = {c["name"]: c for c in data["clusters"]}
    gone = clusters["lab-gone"]
    assert gone["state"] == "unreachable" and not gone["reachable"]
    assert gone["error"].startswith("cluster lab-gone: API server at https://127.0.0.1:1 unreachable"), gone["error"]
    readonly = clusters["lab-prod-readonly"]
    assert readonly["reachable"] and readonly["state"] == "warning"
    assert readonly["policies"]["status"] == "failed"
    assert any("permission denied (HTTP 403) on PolicyReport list" in e for e in readonly["policies"]["errors"])
    assert {i["status"] for i in readonly["components"]["items"]} == {"unreadable"}
    assert clusters["lab-prod"]["state"] == "critical" and clusters["lab-prod"]["policies"]["totals"]["fail"] == 3
    assert data["summary"]["states"]["unreachable"] == 1
    assert "lab-gone" in page and "unreachable" in page and "HTTP 403" in page


def test_verify_names_the_cluster_and_the_component_that_is_not_healthy(platform, ansible, prod):
    """site.yml's last play on its own: a converged platform verifies; a Subscription of the collection that OLM
    cannot resolve fails the run naming the cluster and the Subscription; the other clusters still verify."""
    run = ansible("playbooks/verify.yml")
    assert run.rc == 0 and run.changed() == 0, run
    assert set(run.recap) == {"lab-hub", "lab-dev", "lab-prod"}, run
    broken = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
              "metadata": {"name": "no-such-operator", "namespace": "openshift-operators",
                           "labels": {"app.kubernetes.io/managed-by": "devsecops.multicluster"}},
              "spec": {"name": "no-such-operator", "channel": "stable", "source": "redhat-operators",
                       "sourceNamespace": "openshift-marketplace"}}
    prod.create("operators.coreos.com/v1alpha1", "subscriptions", broken, namespace="openshift-operators")
    try:
        failed = ansible("playbooks/verify.yml")
    finally:
        prod.delete("operators.coreos.com/v1alpha1", "subscriptions", "no-such-operator",
                    namespace="openshift-operators")
    assert failed.rc != 0, failed
    assert failed.failed("lab-prod") == 1 and failed.failed("lab-hub") == 0 and failed.failed("lab-dev") == 0, failed
    assert "cluster lab-prod: not healthy after the converge: Subscription openshift-operators/no-such-operator" \
        in failed.output, failed
