"""teardown.yml on the lab: everything registration and the components created is gone, credentials
are revoked at their issuer, and a second teardown changes nothing. Runs last."""

OLM = "operators.coreos.com/v1alpha1"


def test_teardown_removes_what_the_collection_created(ansible, lab, hub, dev, prod):
    converge = ansible("playbooks/site.yml")
    assert converge.rc == 0, converge
    tokens = {}
    for spoke in ("lab-dev", "lab-prod"):
        record = hub.get("v1", "secrets", "%s-argocd" % spoke, "devsecops-multicluster")
        tokens[spoke] = record["data"]["token"]

    run = ansible("playbooks/teardown.yml")
    assert run.rc == 0, run
    for spoke, kube in (("lab-dev", dev), ("lab-prod", prod)):
        assert hub.get_or_none("cluster.open-cluster-management.io/v1", "managedclusters", spoke) is None
        assert hub.get_or_none("v1", "secrets", "%s-cluster" % spoke, "openshift-gitops") is None
        assert hub.get_or_none("v1", "secrets", "%s-argocd" % spoke, "devsecops-multicluster") is None
        assert kube.get_or_none("v1", "serviceaccounts", "devsecops-multicluster-argocd",
                                "devsecops-multicluster") is None
        assert kube.get_or_none("rbac.authorization.k8s.io/v1", "clusterrolebindings",
                                "devsecops-multicluster-argocd") is None
        assert kube.get_or_none("v1", "namespaces", "open-cluster-management-agent") is None, "ACM detached"
    for kube in (hub, dev, prod):
        assert kube.get_or_none(OLM, "subscriptions", "openshift-gitops-operator", "openshift-operators") is None
        assert kube.get_or_none("argoproj.io/v1beta1", "argocds", "openshift-gitops", "openshift-gitops") is None
    assert hub.list("operator.open-cluster-management.io/v1", "multiclusterhubs")["items"] == []
    assert hub.list("ocs.openshift.io/v1", "storageclusters")["items"] == []
    assert hub.list("objectbucket.io/v1alpha1", "objectbucketclaims")["items"] == []
    assert hub.get_or_none(OLM, "subscriptions", "advanced-cluster-management", "open-cluster-management") is None
    assert hub.get_or_none(OLM, "subscriptions", "odf-operator", "openshift-storage") is None
    assert hub.get_or_none("operators.coreos.com/v1", "operatorgroups", "global-operators", "openshift-operators")
    # ACS: Central and the secured clusters gone, every minted ACS credential's record deleted (the
    # revocation at Central itself is proven in test_acs.py, before Central is removed)
    assert hub.list("platform.stackrox.io/v1alpha1", "centrals")["items"] == []
    for kube in (dev, prod):
        assert kube.list("platform.stackrox.io/v1alpha1", "securedclusters")["items"] == []
        assert kube.get_or_none("v1", "namespaces", "stackrox") is None
    assert [s["metadata"]["name"] for s in hub.list("v1", "secrets", namespace="devsecops-multicluster")["items"]
            if "-acs-" in s["metadata"]["name"]] == []
    assert hub.get_or_none(OLM, "subscriptions", "rhacs-operator", "openshift-operators") is None
    # Quay: the registry, its config bundle, the bridge and every Quay record gone (revocation at Quay itself is
    # proven in test_quay.py, before Quay is removed)
    assert hub.list("quay.redhat.com/v1", "quayregistries")["items"] == []
    assert dev.list("quay.redhat.com/v1", "quayintegrations")["items"] == []
    assert dev.get_or_none("v1", "secrets", "quay-integration", "openshift-operators") is None
    for kube, namespaces in ((dev, ("devsecops-ci", "devsecops-dev")), (prod, ("devsecops-prod",))):
        for namespace in namespaces:
            assert kube.get_or_none("v1", "secrets", "quay-pull-secret", namespace) is None
    assert [s["metadata"]["name"] for s in hub.list("v1", "secrets", namespace="devsecops-multicluster")["items"]
            if "quay" in s["metadata"]["name"]] == []
    for kube in (hub, dev):
        for package in ("quay-operator", "quay-bridge-operator"):
            assert kube.get_or_none(OLM, "subscriptions", package, "openshift-operators") is None
    # The pipeline: OpenShift Pipelines (TektonConfig first), Chains' key and its published public key, the
    # Pipeline and its Tasks, the copied credentials, the push robot's record
    assert dev.list("operator.tekton.dev/v1alpha1", "tektonconfigs")["items"] == []
    assert dev.get_or_none(OLM, "subscriptions", "openshift-pipelines-operator-rh", "openshift-operators") is None
    assert dev.get_or_none("v1", "secrets", "signing-secrets", "openshift-pipelines") is None
    assert dev.list("tekton.dev/v1", "pipelines", namespace="devsecops-ci")["items"] == []
    assert dev.list("tekton.dev/v1", "tasks", namespace="devsecops-ci")["items"] == []
    for name in ("quay-push-secret", "acs-api-token", "git-credentials"):
        assert dev.get_or_none("v1", "secrets", name, "devsecops-ci") is None, name
    assert hub.get_or_none("v1", "configmaps", "signing-public-keys", "devsecops-multicluster") is None
    assert [s["metadata"]["name"] for s in hub.list("v1", "secrets", namespace="devsecops-multicluster")["items"]
            if s["metadata"]["name"].endswith(("-chains-signing", "-quay-push"))] == []
    # The production security stack: policies, Tracee Policies, the components' namespaces
    assert prod.list("kyverno.io/v1", "clusterpolicies")["items"] == []
    assert prod.list("tracee.aquasec.com/v1beta1", "policies")["items"] == []
    for namespace in ("kyverno", "trivy-system", "tracee"):
        assert prod.get_or_none("v1", "namespaces", namespace) is None, namespace

    again = ansible("playbooks/teardown.yml")
    assert again.rc == 0 and again.changed() == 0, again
