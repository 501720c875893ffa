"""The lab itself: three separate real clusters that behave as the collection expects."""

import requests

from tests.lab.kube import Kube, KubeError


def test_clusters_are_separate_and_seeded_like_openshift(lab, hub, dev, prod):
    assert set(lab.clusters) >= {"lab-hub", "lab-dev", "lab-prod"}
    hub.ensure("v1", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "only-on-hub", "namespace": "default"}}, namespace="default")
    assert dev.get_or_none("v1", "configmaps", "only-on-hub", "default") is None
    hub.delete("v1", "configmaps", "only-on-hub", "default")
    for name, kube in (("lab-hub", hub), ("lab-dev", dev), ("lab-prod", prod)):
        version = kube.get("config.openshift.io/v1", "clusterversions", "version")
        assert version["status"]["desired"]["version"].startswith("4.")
        ingress = kube.get("config.openshift.io/v1", "ingresses", "cluster")
        assert ingress["spec"]["domain"] == "apps.%s.lab.devsecops.invalid" % name
        source = kube.get("operators.coreos.com/v1alpha1", "catalogsources", "redhat-operators",
                          "openshift-marketplace")
        assert source["status"]["connectionState"]["lastObservedState"] == "READY"
        crds = kube.list("apiextensions.k8s.io/v1", "customresourcedefinitions", label_selector="devsecops.lab/source")
        assert len(crds["items"]) == 55
        server = kube.request("GET", "/version")
        assert server["gitVersion"] == "v1.34.4"


def test_crd_schemas_are_enforced(hub):
    bad = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
           "metadata": {"name": "bad", "namespace": "default"}, "spec": {"name": "x"}}
    try:
        hub.create("operators.coreos.com/v1alpha1", "subscriptions", bad, namespace="default")
        raise AssertionError("a Subscription without source was accepted")
    except KubeError as err:
        assert err.status == 422 and "spec.source" in str(err)


def test_token_request_tokens_work_on_their_own_cluster_only(lab, hub, dev):
    hub.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "itest-lab"}})
    hub.ensure("v1", "serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                         "metadata": {"name": "probe", "namespace": "itest-lab"}}, namespace="itest-lab")
    token = hub.create("v1", "serviceaccounts/probe/token", {"apiVersion": "authentication.k8s.io/v1",
                                                             "kind": "TokenRequest",
                                                             "spec": {"expirationSeconds": 600}},
                       namespace="itest-lab")["status"]["token"]
    as_sa = Kube(lab.clusters["lab-hub"]["server"], lab.ca_file, token, name="lab-hub")
    review = as_sa.create("authentication.k8s.io/v1", "selfsubjectreviews",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert review["status"]["userInfo"]["username"] == "system:serviceaccount:itest-lab:probe"
    elsewhere = requests.get(lab.clusters["lab-dev"]["server"] + "/api/v1/namespaces", verify=lab.ca_file,
                             headers={"Authorization": "Bearer " + token}, timeout=10)
    assert elsewhere.status_code == 401


def test_controller_manager_finishes_namespace_deletion_and_fills_service_accounts(hub):
    hub.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "itest-gone"}})
    hub.wait_for(lambda: hub.get_or_none("v1", "serviceaccounts", "default", "itest-gone"), timeout=30,
                 what="default ServiceAccount from the serviceaccount controller")
    hub.wait_for(lambda: hub.get_or_none("v1", "configmaps", "kube-root-ca.crt", "itest-gone"), timeout=30,
                 what="kube-root-ca.crt from the root CA publisher")
    hub.delete("v1", "namespaces", "itest-gone")
    hub.wait_for(lambda: hub.get_or_none("v1", "namespaces", "itest-gone") is None, timeout=60,
                 what="namespace deletion finished by the namespace controller")
    edit = hub.get("rbac.authorization.k8s.io/v1", "clusterroles", "edit")
    assert edit["rules"], "role aggregation filled in the edit ClusterRole"


def test_unprivileged_token_is_denied(lab):
    nobody = Kube(lab.clusters["lab-prod"]["server"], lab.ca_file, lab.clusters["lab-prod"]["nobody_token"])
    try:
        nobody.list("v1", "secrets", namespace="default")
        raise AssertionError("lab-nobody could list secrets")
    except KubeError as err:
        assert err.status == 403


def test_reset_empties_one_cluster_and_leaves_the_others(lab, hub, prod):
    marker = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before-reset", "namespace": "default"}}
    prod.ensure("v1", "configmaps", marker, namespace="default")
    hub.ensure("v1", "configmaps", marker, namespace="default")
    lab.reset("lab-prod")
    assert prod.get_or_none("v1", "configmaps", "before-reset", "default") is None
    assert hub.get_or_none("v1", "configmaps", "before-reset", "default") is not None
    crds = prod.list("apiextensions.k8s.io/v1", "customresourcedefinitions", label_selector="devsecops.lab/source")
    assert len(crds["items"]) == 55
    assert prod.get("operators.coreos.com/v1", "operatorgroups", "global-operators", "openshift-operators")
    assert lab.running()
    hub.delete("v1", "configmaps", "before-reset", "default")


def test_acm_import_standin_refuses_a_token_the_spoke_rejects(lab, hub, ansible):
    acm_running = any((h.get("status") or {}).get("phase") == "Running"
                      for h in hub.list("operator.open-cluster-management.io/v1", "multiclusterhubs")["items"])
    if not acm_running:
        converge = ansible("playbooks/site.yml", limit="lab-hub")
        assert converge.rc == 0, converge
    mc_api = "cluster.open-cluster-management.io/v1"
    hub.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "itest-bogus"}})
    hub.ensure(mc_api, "managedclusters", {"apiVersion": mc_api, "kind": "ManagedCluster",
                                           "metadata": {"name": "itest-bogus"}, "spec": {"hubAcceptsClient": True}})
    hub.ensure("v1", "secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "auto-import-secret", "namespace": "itest-bogus"}, "stringData": {
        "server": lab.clusters["lab-dev"]["server"], "token": "not-a-token-the-spoke-knows", "autoImportRetry": "1"}},
        namespace="itest-bogus")

    def import_outcome():
        conditions = (hub.get(mc_api, "managedclusters", "itest-bogus").get("status") or {}).get("conditions") or []
        failed = [c for c in conditions if c.get("reason") == "ManagedClusterImportFailed"]
        return failed[0]["message"] if failed else None

    message = hub.wait_for(import_outcome, timeout=60, what="ImportFailed condition")
    assert "Unauthorized" in message
    conditions = hub.get(mc_api, "managedclusters", "itest-bogus")["status"]["conditions"]
    assert not any(c["type"] == "ManagedClusterConditionAvailable" and c["status"] == "True" for c in conditions)
    hub.delete(mc_api, "managedclusters", "itest-bogus")
    hub.delete("v1", "namespaces", "itest-bogus")
