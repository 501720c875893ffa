"""Operators through OLM on the lab: real ansible-playbook runs, assertions on the API objects."""

import secrets as pysecrets
import socket
import time

import pytest

from conftest import write_inventory

OLM = "operators.coreos.com/v1alpha1"
OPERATORS = [
    {"name": "rhacs-operator", "channel": "stable"},
    {"name": "advanced-cluster-management", "namespace": "itest-acm", "install_mode": "OwnNamespace",
     "channel": "release-2.15"},
]
HOSTS = "lab-hub:lab-dev"
FAULTS = ("openshift-marketplace", "devsecops-lab-olm-faults")


def converge(ansible, operators=OPERATORS, hosts=HOSTS, **kw):
    return ansible("playbooks/operators.yml", extra_vars={"cluster_operators": operators, "devsecops_hosts": hosts},
                   **kw)


def scrub(kube, package, namespace):
    """Remove what an earlier session may have left, so the first converge starts clean."""
    sub = kube.get_or_none(OLM, "subscriptions", package, namespace)
    if sub:
        kube.delete(OLM, "subscriptions", package, namespace)
    for csv in kube.list(OLM, "clusterserviceversions", namespace=namespace)["items"]:
        if csv["metadata"]["name"].startswith(package + "."):
            kube.delete(OLM, "clusterserviceversions", csv["metadata"]["name"], namespace)


def snapshot(*kubes):
    """resourceVersions of every OLM object and namespace: equal snapshots = nothing written."""
    state = {}
    for kube in kubes:
        for api, plural in ((OLM, "subscriptions"), (OLM, "installplans"), (OLM, "clusterserviceversions"),
                            ("operators.coreos.com/v1", "operatorgroups"), ("v1", "namespaces")):
            for obj in kube.list(api, plural)["items"]:
                meta = obj["metadata"]
                state[(kube.name, plural, meta.get("namespace"), meta["name"])] = meta["resourceVersion"]
    return state


def scrub_all(*kubes):
    for kube in kubes:
        for package in ("rhacs-operator", "quay-operator", "quay-bridge-operator", "no-such-operator"):
            scrub(kube, package, "openshift-operators")
        scrub(kube, "advanced-cluster-management", "itest-acm")
        for group in kube.list("operators.coreos.com/v1", "operatorgroups", namespace="itest-acm")["items"]:
            kube.delete("operators.coreos.com/v1", "operatorgroups", group["metadata"]["name"], "itest-acm")
        kube.delete("v1", "configmaps", FAULTS[1], FAULTS[0])


@pytest.fixture(scope="module")
def clean(hub, dev):
    """Start from a clean slate and leave one behind."""
    scrub_all(hub, dev)
    yield
    scrub_all(hub, dev)


@pytest.mark.usefixtures("clean")
class TestOperatorLifecycle:
    def test_first_converge_installs_all_and_own_namespace_operators_on_hub_and_dev(self, ansible, hub, dev, prod):
        run = converge(ansible)
        assert run.rc == 0, run
        assert run.changed("lab-hub") >= 1 and run.changed("lab-dev") >= 1, run
        assert "lab-prod" not in run.recap
        for kube in (hub, dev):
            sub = kube.get(OLM, "subscriptions", "rhacs-operator", "openshift-operators")
            assert sub["spec"] == {"name": "rhacs-operator", "channel": "stable", "source": "redhat-operators",
                                   "sourceNamespace": "openshift-marketplace", "installPlanApproval": "Automatic"}
            assert sub["status"]["installedCSV"] == "rhacs-operator.v4.9.1"
            assert sub["status"]["state"] == "AtLatestKnown"
            csv = kube.get(OLM, "clusterserviceversions", "rhacs-operator.v4.9.1", "openshift-operators")
            assert csv["status"]["phase"] == "Succeeded"
            groups = kube.list("operators.coreos.com/v1", "operatorgroups", namespace="openshift-operators")["items"]
            assert [g["metadata"]["name"] for g in groups] == ["global-operators"]
            assert not groups[0]["spec"].get("targetNamespaces")

            ns = kube.get("v1", "namespaces", "itest-acm")
            assert ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "devsecops.multicluster"
            groups = kube.list("operators.coreos.com/v1", "operatorgroups", namespace="itest-acm")["items"]
            assert len(groups) == 1 and groups[0]["spec"]["targetNamespaces"] == ["itest-acm"]
            acm = kube.get(OLM, "subscriptions", "advanced-cluster-management", "itest-acm")
            assert acm["status"]["installedCSV"] == "advanced-cluster-management.v2.15.0"
            csvs = {c["metadata"]["name"]: c["status"]["phase"]
                    for c in kube.list(OLM, "clusterserviceversions", namespace="itest-acm")["items"]}
            assert csvs == {"advanced-cluster-management.v2.15.0": "Succeeded",
                            "multicluster-engine.v2.10.0": "Succeeded"}
        assert prod.get_or_none(OLM, "subscriptions", "advanced-cluster-management", "itest-acm") is None

    def test_second_converge_changes_nothing(self, ansible, hub, dev):
        before = snapshot(hub, dev)
        run = converge(ansible)
        assert run.rc == 0, run
        assert run.changed() == 0, run
        assert snapshot(hub, dev) == before

    def test_check_mode_writes_nothing_and_shows_the_change(self, ansible, hub, dev):
        before = snapshot(hub, dev)
        wanted = [dict(OPERATORS[0], channel="rhacs-4.9"), OPERATORS[1], {"name": "quay-operator"}]
        run = converge(ansible, operators=wanted, check=True, diff=True)
        assert run.rc == 0, run
        assert run.changed("lab-hub") == 1 and run.changed("lab-dev") == 1, run
        assert '"channel": "rhacs-4.9"' in run.output or "channel: rhacs-4.9" in run.output, run
        assert snapshot(hub, dev) == before
        assert hub.get_or_none(OLM, "subscriptions", "quay-operator", "openshift-operators") is None

    def test_manual_approval_approves_exactly_the_pinned_install_plan(self, ansible, hub):
        operator = {"name": "quay-operator", "channel": "stable-3.16", "install_plan_approval": "Manual",
                    "starting_csv": "quay-operator.v3.16.0"}
        run = converge(ansible, operators=[operator], hosts="lab-hub")
        assert run.rc == 0, run
        sub = hub.get(OLM, "subscriptions", "quay-operator", "openshift-operators")
        plans = [p for p in hub.list(OLM, "installplans", namespace="openshift-operators")["items"]
                 if any(o["name"] == "quay-operator" for o in p["metadata"].get("ownerReferences", []))]
        assert len(plans) == 1
        assert plans[0]["metadata"]["name"] == sub["status"]["installPlanRef"]["name"]
        assert plans[0]["spec"]["approved"] is True
        assert plans[0]["spec"]["clusterServiceVersionNames"] == ["quay-operator.v3.16.0"]
        assert sub["status"]["installedCSV"] == "quay-operator.v3.16.0"
        again = converge(ansible, operators=[operator], hosts="lab-hub")
        assert again.rc == 0 and again.changed() == 0, again

    def test_failing_csv_is_reported_with_olm_reason_then_heals_on_rerun(self, ansible, dev):
        dev.ensure("v1", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                        "metadata": {"name": FAULTS[1], "namespace": FAULTS[0]},
                                        "data": {"quay-bridge-operator": "{phase: Failed, reason: InstallComponentFailed, "
                                                                         "message: 'deployment quay-bridge-operator: ImagePullBackOff'}"}},
                   namespace=FAULTS[0])
        operator = {"name": "quay-bridge-operator", "channel": "stable-3.16", "wait_timeout": 8}
        run = converge(ansible, operators=[operator], hosts="lab-dev")
        assert run.rc != 0
        assert "cluster lab-dev: operator quay-bridge-operator in namespace openshift-operators: " \
               "not installed after" in run.output, run
        assert "phase=Failed, reason=InstallComponentFailed, message=deployment quay-bridge-operator: " \
               "ImagePullBackOff" in run.output, run
        dev.delete("v1", "configmaps", FAULTS[1], FAULTS[0])
        healed = converge(ansible, operators=[dict(operator, wait_timeout=60)], hosts="lab-dev")
        assert healed.rc == 0, healed
        csv = dev.get(OLM, "clusterserviceversions", "quay-bridge-operator.v3.16.0", "openshift-operators")
        assert csv["status"]["phase"] == "Succeeded"

    def test_package_missing_from_catalog_fails_fast_with_olm_message(self, ansible, dev):
        started = time.monotonic()
        run = converge(ansible, operators=[{"name": "no-such-operator", "channel": "stable"}], hosts="lab-dev")
        assert run.rc != 0
        assert time.monotonic() - started < 60
        assert "cluster lab-dev: operator no-such-operator in namespace openshift-operators: OLM cannot resolve " \
               "the Subscription: constraints not satisfiable: no operators found in package no-such-operator" \
               in run.output, run
        dev.delete(OLM, "subscriptions", "no-such-operator", "openshift-operators")

    def test_unknown_catalog_source_fails_before_writing(self, ansible, dev):
        before = snapshot(dev)
        run = converge(ansible, operators=[{"name": "rhacs-operator", "source": "my-mirror"}], hosts="lab-dev")
        assert run.rc != 0
        assert "cluster lab-dev: operator rhacs-operator in namespace openshift-operators: CatalogSource " \
               "openshift-marketplace/my-mirror does not exist" in run.output, run
        assert snapshot(dev) == before

    def test_state_absent_removes_subscription_csv_and_own_operator_group(self, ansible, hub, dev):
        gone = [dict(op, state="absent") for op in OPERATORS]
        run = converge(ansible, operators=gone)
        assert run.rc == 0, run
        assert run.changed("lab-hub") == 1 and run.changed("lab-dev") == 1, run
        for kube in (hub, dev):
            assert kube.get_or_none(OLM, "subscriptions", "rhacs-operator", "openshift-operators") is None
            assert kube.get_or_none(OLM, "clusterserviceversions", "rhacs-operator.v4.9.1", "openshift-operators") is None
            assert kube.get_or_none(OLM, "subscriptions", "advanced-cluster-management", "itest-acm") is None
            assert kube.get_or_none(OLM, "clusterserviceversions", "advanced-cluster-management.v2.15.0",
                                    "itest-acm") is None
            assert kube.list("operators.coreos.com/v1", "operatorgroups", namespace="itest-acm")["items"] == []
            assert kube.get_or_none("operators.coreos.com/v1", "operatorgroups", "global-operators",
                                    "openshift-operators") is not None
            assert kube.get_or_none("v1", "namespaces", "itest-acm") is not None
        again = converge(ansible, operators=gone)
        assert again.rc == 0 and again.changed() == 0, again


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_wrong_token_fails_naming_the_cluster_without_leaking_it(ansible, lab, secrets, tmp_path):
    bogus = pysecrets.token_hex(24)
    secrets.add(bogus)
    inventory = write_inventory(tmp_path / "hosts.yml", {"lab-hub": {
        "group": "hub", "cluster_api_url": lab.clusters["lab-hub"]["server"], "cluster_api_token": bogus,
        "cluster_ca_cert": lab.ca_file}})
    run = ansible("playbooks/operators.yml", inventory=inventory, verbosity=3,
                  extra_vars={"cluster_operators": OPERATORS[:1]})
    assert run.rc != 0
    assert "cluster lab-hub: authentication failed (HTTP 401 Unauthorized)" in run.output, run


def test_unreachable_cluster_fails_naming_the_cluster(ansible, lab, tmp_path):
    url = "https://127.0.0.1:%d" % free_port()
    inventory = write_inventory(tmp_path / "hosts.yml", {"lab-dev": {
        "group": "development", "cluster_api_url": url, "cluster_api_token": "x" * 32,
        "cluster_ca_cert": lab.ca_file}})
    run = ansible("playbooks/operators.yml", inventory=inventory, extra_vars={"cluster_operators": OPERATORS[:1]})
    assert run.rc != 0
    assert "cluster lab-dev: API server at %s unreachable" % url in run.output, run
    assert "connection refused" in run.output, run


def test_tls_verification_is_on_by_default(ansible, lab, tmp_path):
    inventory = write_inventory(tmp_path / "hosts.yml", {"lab-prod": {
        "group": "production", "cluster_api_url": lab.clusters["lab-prod"]["server"],
        "cluster_api_token": lab.clusters["lab-prod"]["admin_token"]}})
    run = ansible("playbooks/operators.yml", inventory=inventory, extra_vars={"cluster_operators": OPERATORS[:1]},
                  env_extra={"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": ""})
    assert run.rc != 0
    assert "cluster lab-prod: TLS verification of the API server at %s failed" % lab.clusters["lab-prod"]["server"] \
        in run.output, run


def test_malformed_operator_entry_is_rejected_by_the_role_argument_spec(ansible):
    run = converge(ansible, operators=[{"channel": "stable"}], hosts="lab-dev")
    assert run.rc != 0
    assert "missing required arguments: name" in run.output and "operator_list" in run.output, run
