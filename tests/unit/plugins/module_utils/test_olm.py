"""Unit tests for module_utils/olm.py: the OLM install sequence, its checks and its reports."""

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError, managed_labels
from ansible_collections.devsecops.multicluster.plugins.module_utils.olm import (
    OperatorInstaller,
    OperatorSpec,
    describe,
)
from fakes import FakeClock, FakeCluster, catalog, crd

OLM = "operators.coreos.com/v1alpha1"


def params(**kw):
    base = dict(name="rhacs-operator", subscription_name=None, namespace=None, install_mode="AllNamespaces",
                target_namespaces=None, operator_group_name=None, channel="stable", source="redhat-operators",
                source_namespace="openshift-marketplace", starting_csv=None, install_plan_approval="Automatic",
                config=None, namespace_labels=None, global_operators_namespace="openshift-operators")
    base.update(kw)
    return base


def installer(cluster, check_mode=False, **kw):
    clock = FakeClock()
    return OperatorInstaller(cluster, OperatorSpec(params(**kw)), check_mode=check_mode,
                             clock=clock, sleep=clock.sleep)


class FakeOLM:
    """Moves a Subscription forward one OLM step each time the Subscription is read."""

    def __init__(self, cluster, csv="rhacs-operator.v4.9.1", owned=("centrals.platform.stackrox.io",),
                 csv_phase="Succeeded", csv_reason="InstallSucceeded", csv_message="done", resolution=None):
        self.cluster, self.csv, self.owned = cluster, csv, owned
        self.csv_phase, self.csv_reason, self.csv_message = csv_phase, csv_reason, csv_message
        self.resolution = resolution
        self.step = 0
        for name in owned:
            cluster.add(crd(name))
        cluster.on_get.append(self.hook)

    def hook(self, cluster, kind, name, namespace):
        if kind != "Subscription":
            return
        sub = cluster.find("Subscription", name, namespace)
        if sub is None:
            return
        status = sub.setdefault("status", {})
        if self.resolution:
            status["conditions"] = [{"type": "ResolutionFailed", "status": "True", "message": self.resolution}]
            return
        if not status.get("installPlanRef"):
            manual = sub["spec"].get("installPlanApproval") == "Manual"
            cluster.add({"apiVersion": OLM, "kind": "InstallPlan",
                         "metadata": {"name": "install-abcde", "namespace": namespace},
                         "spec": {"approval": "Manual" if manual else "Automatic", "approved": not manual,
                                  "clusterServiceVersionNames": [self.csv]},
                         "status": {"phase": "RequiresApproval" if manual else "Installing"}})
            status.update(installPlanRef={"name": "install-abcde"}, currentCSV=self.csv, state="UpgradePending")
            return
        plan = cluster.find("InstallPlan", "install-abcde", namespace)
        if not plan["spec"]["approved"]:
            return
        status.update(installedCSV=self.csv, state="AtLatestKnown")
        if cluster.find("ClusterServiceVersion", self.csv, namespace) is None:
            cluster.add({"apiVersion": OLM, "kind": "ClusterServiceVersion",
                         "metadata": {"name": self.csv, "namespace": namespace,
                                      "labels": {"operators.coreos.com/%s.%s" % (sub["spec"]["name"], namespace): ""}},
                         "spec": {"customresourcedefinitions": {"owned": [{"name": n} for n in self.owned]}},
                         "status": {"phase": self.csv_phase, "reason": self.csv_reason,
                                    "message": self.csv_message}})


@pytest.fixture
def cluster():
    c = FakeCluster()
    catalog(c)
    c.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openshift-operators"}})
    c.add({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
           "metadata": {"name": "global-operators", "namespace": "openshift-operators"}, "spec": {}})
    return c


# -- OperatorSpec ---------------------------------------------------------------
def test_spec_defaults_all_namespaces_to_global_namespace():
    spec = OperatorSpec(params())
    assert spec.namespace == "openshift-operators"
    assert spec.targets() == []
    assert spec.subscription_spec() == {"name": "rhacs-operator", "source": "redhat-operators",
                                        "sourceNamespace": "openshift-marketplace",
                                        "installPlanApproval": "Automatic", "channel": "stable"}


@pytest.mark.parametrize("kw,message", [
    (dict(install_mode="OwnNamespace"), "namespace is required"),
    (dict(install_mode="SingleNamespace", namespace="x"), "exactly one"),
    (dict(install_mode="MultiNamespace", namespace="x", target_namespaces=["a"]), "two or more"),
    (dict(install_mode="OwnNamespace", namespace="x", target_namespaces=["a"]), "only used with"),
])
def test_spec_rejects_inconsistent_install_modes(kw, message):
    with pytest.raises(ValueError, match=message):
        OperatorSpec(params(**kw))


def test_spec_targets_for_own_single_and_multi():
    assert OperatorSpec(params(install_mode="OwnNamespace", namespace="acm")).targets() == ["acm"]
    assert OperatorSpec(params(install_mode="SingleNamespace", namespace="a", target_namespaces=["b"])).targets() == ["b"]
    assert OperatorSpec(params(install_mode="MultiNamespace", namespace="a",
                               target_namespaces=["c", "b"])).targets() == ["b", "c"]


# -- present ----------------------------------------------------------------------
def test_all_namespaces_install_reuses_global_group_and_waits(cluster):
    FakeOLM(cluster)
    inst = installer(cluster)
    result = inst.present(wait=True, timeout=60, max_interval=5)
    assert result["installed_csv"] == "rhacs-operator.v4.9.1"
    assert result["csv_phase"] == "Succeeded"
    assert result["operator_group"] == "global-operators"
    assert result["owned_crds"] == ["centrals.platform.stackrox.io"]
    assert inst.actions == ["create Subscription openshift-operators/rhacs-operator"]
    sub = cluster.find("Subscription", "rhacs-operator", "openshift-operators")
    assert sub["spec"]["channel"] == "stable"
    assert sub["metadata"]["labels"] == managed_labels()
    # a second run changes nothing
    again = installer(cluster)
    again.present(wait=True, timeout=60, max_interval=5)
    assert not again.changed and again.actions == []


def test_own_namespace_install_creates_namespace_and_group(cluster):
    FakeOLM(cluster, csv="advanced-cluster-management.v2.15.0",
            owned=("multiclusterhubs.operator.open-cluster-management.io",))
    inst = installer(cluster, name="advanced-cluster-management", namespace="open-cluster-management",
                     install_mode="OwnNamespace", channel="release-2.15",
                     namespace_labels={"openshift.io/cluster-monitoring": "true"})
    inst.present(wait=True, timeout=60, max_interval=5)
    ns = cluster.find("Namespace", "open-cluster-management")
    assert ns["metadata"]["labels"]["openshift.io/cluster-monitoring"] == "true"
    group = cluster.find("OperatorGroup", "open-cluster-management", "open-cluster-management")
    assert group["spec"]["targetNamespaces"] == ["open-cluster-management"]
    assert inst.before["operator_group"] is None
    assert inst.after["operator_group"]["targetNamespaces"] == ["open-cluster-management"]


def test_check_mode_writes_nothing_and_reports_actions(cluster):
    inst = installer(cluster, check_mode=True, name="advanced-cluster-management",
                     namespace="open-cluster-management", install_mode="OwnNamespace")
    result = inst.present(wait=True, timeout=60, max_interval=5)
    assert cluster.writes == []
    assert inst.changed
    assert inst.actions == ["create Namespace open-cluster-management",
                            "create OperatorGroup open-cluster-management/open-cluster-management",
                            "create Subscription open-cluster-management/advanced-cluster-management"]
    assert result["installed_csv"] is None


def test_changed_channel_patches_only_the_difference(cluster):
    FakeOLM(cluster)
    installer(cluster).present(wait=True, timeout=60, max_interval=5)
    cluster.writes.clear()
    inst = installer(cluster, channel="rhacs-4.9")
    inst.present(wait=False)
    assert inst.before["subscription"] == {"channel": "stable"}
    assert inst.after["subscription"] == {"channel": "rhacs-4.9"}
    assert cluster.writes == [("patch", "Subscription", "openshift-operators", "rhacs-operator")]


def test_missing_catalog_source_fails_before_writing(cluster):
    inst = installer(cluster, source="my-mirror")
    with pytest.raises(ClusterError, match="CatalogSource openshift-marketplace/my-mirror does not exist"):
        inst.present()
    assert cluster.writes == []


def test_missing_olm_names_the_cluster_and_kind():
    c = FakeCluster(served={"Namespace"})
    with pytest.raises(ClusterError, match="cluster hub: the API server does not serve CatalogSource"):
        installer(c).present()


def test_foreign_operator_group_that_does_not_fit_is_left_alone(cluster):
    cluster.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acm"}})
    cluster.add({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                 "metadata": {"name": "theirs", "namespace": "acm"}, "spec": {}})
    inst = installer(cluster, namespace="acm", install_mode="OwnNamespace")
    with pytest.raises(ClusterError, match="not created by this collection"):
        inst.present()
    assert cluster.writes == []


def test_own_operator_group_is_retargeted(cluster):
    cluster.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acm"}})
    cluster.add({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                 "metadata": {"name": "acm", "namespace": "acm", "labels": managed_labels()}, "spec": {}})
    inst = installer(cluster, namespace="acm", install_mode="OwnNamespace")
    inst.present(wait=False)
    assert cluster.find("OperatorGroup", "acm", "acm")["spec"]["targetNamespaces"] == ["acm"]
    assert "retarget OperatorGroup acm/acm" in inst.actions


def test_two_operator_groups_fail_with_their_names(cluster):
    for name in ("a", "b"):
        cluster.add({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                     "metadata": {"name": name, "namespace": "openshift-operators"}, "spec": {}})
    with pytest.raises(ClusterError, match=r"has 3 OperatorGroups \(a, b, global-operators\)"):
        installer(cluster).present()


def test_second_subscription_for_the_same_package_is_refused(cluster):
    cluster.add({"apiVersion": OLM, "kind": "Subscription",
                 "metadata": {"name": "acs", "namespace": "openshift-operators"},
                 "spec": {"name": "rhacs-operator"}})
    with pytest.raises(ClusterError, match="already subscribed by Subscription openshift-operators/acs"):
        installer(cluster).present()


def test_terminating_namespace_is_reported(cluster):
    cluster.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acm"},
                 "status": {"phase": "Terminating"}})
    with pytest.raises(ClusterError, match="being deleted"):
        installer(cluster, namespace="acm", install_mode="OwnNamespace").present()


# -- failures while waiting ----------------------------------------------------------
def test_failed_csv_reports_phase_reason_and_message(cluster):
    FakeOLM(cluster, csv_phase="Failed", csv_reason="UnsupportedOperatorGroup",
            csv_message="OperatorGroup 'x': InstallModeType OwnNamespace not supported")
    with pytest.raises(ClusterError) as err:
        installer(cluster).present(wait=True, timeout=60, max_interval=5)
    assert "ClusterServiceVersion rhacs-operator.v4.9.1 failed: UnsupportedOperatorGroup" in err.value.message
    assert "InstallModeType OwnNamespace not supported" in err.value.message
    assert err.value.details["csv"]["phase"] == "Failed"


def test_transient_csv_failure_is_waited_out_then_reported_at_the_deadline(cluster):
    FakeOLM(cluster, csv_phase="Failed", csv_reason="InstallComponentFailed", csv_message="deployment not ready")
    with pytest.raises(ClusterError) as err:
        installer(cluster).present(wait=True, timeout=30, max_interval=5)
    assert "not installed after 30s" in err.value.message
    assert "CSV rhacs-operator.v4.9.1: phase=Failed, reason=InstallComponentFailed, message=deployment not ready" \
        in err.value.message


def test_missing_package_fails_fast_with_olm_message(cluster):
    msg = ("constraints not satisfiable: no operators found in package nope in the catalog referenced by "
           "subscription nope")
    FakeOLM(cluster, resolution=msg)
    inst = installer(cluster, name="nope")
    with pytest.raises(ClusterError, match="OLM cannot resolve the Subscription: constraints not satisfiable"):
        inst.present(wait=True, timeout=600, max_interval=5)


def test_timeout_reports_what_olm_said(cluster):
    # nothing progresses: no OLM at all
    with pytest.raises(ClusterError) as err:
        installer(cluster).present(wait=True, timeout=10, max_interval=5)
    assert "cluster hub: operator rhacs-operator in namespace openshift-operators: not installed after 10s" \
        in err.value.message
    assert "Subscription: state=None" in err.value.message


def test_pending_crd_is_waited_for(cluster):
    FakeOLM(cluster)
    cluster.add(crd("centrals.platform.stackrox.io", established=False))
    with pytest.raises(ClusterError, match="CRDs not Established: centrals.platform.stackrox.io"):
        installer(cluster).present(wait=True, timeout=10, max_interval=5)


# -- Manual approval -------------------------------------------------------------------
def test_manual_approval_approves_exactly_the_expected_plan(cluster):
    FakeOLM(cluster)
    inst = installer(cluster, install_plan_approval="Manual", starting_csv="rhacs-operator.v4.9.1")
    result = inst.present(wait=True, timeout=60, max_interval=5)
    assert result["approved_install_plan"] == "install-abcde"
    assert cluster.find("InstallPlan", "install-abcde", "openshift-operators")["spec"]["approved"] is True
    assert "approve InstallPlan openshift-operators/install-abcde for rhacs-operator.v4.9.1" in inst.actions


def test_manual_approval_leaves_an_unexpected_plan_alone(cluster):
    FakeOLM(cluster, csv="rhacs-operator.v4.9.2")
    inst = installer(cluster, install_plan_approval="Manual", starting_csv="rhacs-operator.v4.9.1")
    with pytest.raises(ClusterError, match="InstallPlan install-abcde: phase=RequiresApproval, approved=False"):
        inst.present(wait=True, timeout=10, max_interval=5)
    assert cluster.find("InstallPlan", "install-abcde", "openshift-operators")["spec"]["approved"] is False


# -- absent -----------------------------------------------------------------------------
def test_absent_removes_subscription_csv_and_own_group_only(cluster):
    FakeOLM(cluster, csv="advanced-cluster-management.v2.15.0", owned=())
    kw = dict(name="advanced-cluster-management", namespace="acm", install_mode="OwnNamespace")
    installer(cluster, **kw).present(wait=True, timeout=60, max_interval=5)
    check = installer(cluster, check_mode=True, **kw)
    check.absent()
    assert check.changed and cluster.find("Subscription", "advanced-cluster-management", "acm") is not None
    inst = installer(cluster, **kw)
    result = inst.absent()
    assert result["removed"] == {"subscription": "advanced-cluster-management",
                                 "csvs": ["advanced-cluster-management.v2.15.0"], "operator_group": "acm"}
    assert cluster.find("Subscription", "advanced-cluster-management", "acm") is None
    assert cluster.find("OperatorGroup", "acm", "acm") is None
    assert cluster.find("Namespace", "acm") is not None
    again = installer(cluster, **kw)
    again.absent()
    assert not again.changed


def test_absent_keeps_foreign_group_and_group_still_in_use(cluster):
    FakeOLM(cluster)
    installer(cluster).present(wait=True, timeout=60, max_interval=5)
    cluster.add({"apiVersion": OLM, "kind": "Subscription",
                 "metadata": {"name": "other", "namespace": "openshift-operators"}, "spec": {"name": "other"}})
    inst = installer(cluster)
    inst.absent()
    assert cluster.find("OperatorGroup", "global-operators", "openshift-operators") is not None
    assert inst.actions == ["delete Subscription openshift-operators/rhacs-operator",
                            "delete ClusterServiceVersion openshift-operators/rhacs-operator.v4.9.1"]


def test_describe_without_observation():
    assert describe(None) == "Nothing was observed."
    assert describe({"crds_pending": ["a", "b"]}) == "CRDs not Established: a, b."
