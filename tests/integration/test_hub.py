"""The site playbook's hub and spoke components on the lab: GitOps, ACM, ODF."""

import base64

OLM = "operators.coreos.com/v1alpha1"
MCH = ("operator.open-cluster-management.io/v1", "multiclusterhubs")
ARGOCD = ("argoproj.io/v1beta1", "argocds")
STORAGE = ("ocs.openshift.io/v1", "storageclusters")
OBC = ("objectbucket.io/v1alpha1", "objectbucketclaims")
RECORDS = "devsecops-multicluster"


def platform_snapshot(*kubes):
    """resourceVersions of everything the site playbook writes."""
    kinds = [(OLM, "subscriptions"), ("operators.coreos.com/v1", "operatorgroups"), ("v1", "namespaces"),
             MCH, ARGOCD, STORAGE, OBC, ("cluster.open-cluster-management.io/v1beta2", "managedclustersets"),
             ("cluster.open-cluster-management.io/v1beta2", "managedclustersetbindings")]
    kinds += [("platform.stackrox.io/v1alpha1", "centrals"), ("platform.stackrox.io/v1alpha1", "securedclusters"),
              ("v1", "secrets")]
    state = {}
    for kube in kubes:
        for api, plural in kinds:
            for obj in kube.list(api, plural)["items"]:
                meta = obj["metadata"]
                # Secrets: ACS's (the stackrox namespaces and the hub's ACS records); the spokes' other credentials'
                # token Secrets are filled in by their token controller, not by a run.
                if plural == "secrets" and not (meta.get("namespace") == "stackrox" or (
                        meta.get("namespace") == RECORDS and "-acs-" in meta["name"])):
                    continue
                state[(kube.name, plural, meta.get("namespace"), meta["name"])] = meta["resourceVersion"]
    return state


class TestSite:
    def test_site_converges_gitops_acm_and_odf(self, ansible, secrets, hub, dev, prod):
        run = ansible("playbooks/site.yml")
        assert run.rc == 0, run

        mch = hub.get(*MCH, name="multiclusterhub", namespace="open-cluster-management")
        assert mch["status"]["phase"] == "Running"
        assert mch["spec"]["availabilityConfig"] == "High"
        sets = {s["metadata"]["name"] for s in hub.list("cluster.open-cluster-management.io/v1beta2",
                                                        "managedclustersets")["items"]}
        assert {"development", "production"} <= sets
        bindings = hub.list("cluster.open-cluster-management.io/v1beta2", "managedclustersetbindings",
                            namespace="openshift-gitops")["items"]
        assert {b["spec"]["clusterSet"] for b in bindings} == {"development", "production"}

        for kube in (hub, dev, prod):
            argocd = kube.get(*ARGOCD, name="openshift-gitops", namespace="openshift-gitops")
            assert argocd["status"]["phase"] == "Available"
            policy = argocd["spec"]["rbac"]["policy"].splitlines()
            assert "g, system:cluster-admins, role:admin" in policy, "the operator's own line was kept"
            assert "g, cluster-admins, role:admin" in policy
            assert argocd["spec"]["rbac"]["defaultPolicy"] == "role:readonly"
            assert "tekton.dev" in argocd["spec"]["resourceExclusions"]
            sub = kube.get(OLM, "subscriptions", "openshift-gitops-operator", "openshift-operators")
            assert {"name": "ARGOCD_CLUSTER_CONFIG_NAMESPACES", "value": "openshift-gitops"} in \
                sub["spec"]["config"]["env"]

        storage = hub.get(*STORAGE, name="ocs-storagecluster", namespace="openshift-storage")
        assert storage["status"]["phase"] == "Ready"
        assert storage["spec"]["multiCloudGateway"]["reconcileStrategy"] == "standalone"
        assert "storageDeviceSets" not in storage["spec"]
        assert hub.list("odf.openshift.io/v1alpha1", "storagesystems")["items"] == []
        assert hub.get("noobaa.io/v1alpha1", "noobaas", "noobaa", "openshift-storage")["status"]["phase"] == "Ready"
        claim = hub.get(*OBC, name="quay-datastore", namespace="quay-enterprise")
        assert claim["status"]["phase"] == "Bound"
        bucket = hub.get("v1", "configmaps", "quay-datastore", "quay-enterprise")["data"]
        assert bucket["BUCKET_HOST"] and bucket["BUCKET_NAME"].startswith("quay-datastore")
        keys = hub.get("v1", "secrets", "quay-datastore", "quay-enterprise")["data"]
        secrets.add(*[base64.b64decode(v).decode() for v in keys.values()])
        # The development profile wires every input of the pipeline with no value typed by hand
        assert dev.get("tekton.dev/v1", "pipelines", "devsecops", "devsecops-ci")
        for name in ("quay-push-secret", "acs-api-token"):
            assert dev.get("v1", "secrets", name, "devsecops-ci")["data"], name
        assert dev.get("v1", "configmaps", "signing-public-keys", "devsecops-ci")["data"]["lab-dev.pub"] == \
            hub.get("v1", "configmaps", "signing-public-keys", "devsecops-multicluster")["data"]["lab-dev.pub"]
        assert dev.get("v1", "secrets", "signing-secrets", "openshift-pipelines")["data"]["cosign.key"]
        # The production profile's security stack, delivered through production's own Argo CD
        policies = prod.list("kyverno.io/v1", "clusterpolicies")["items"]
        assert len(policies) == 17
        assert {r["validate"]["failureAction"] for p in policies for r in p["spec"]["rules"]} == {"Audit"}
        apps = {a["metadata"]["name"]: a["status"] for a in
                prod.list("argoproj.io/v1alpha1", "applications", namespace="openshift-gitops")["items"]}
        assert set(apps) == {"kyverno", "policy-reporter", "trivy-operator", "tracee"}
        assert all(a["sync"]["status"] == "Synced" and a["health"]["status"] == "Healthy" for a in apps.values()), apps
        assert prod.get("tracee.aquasec.com/v1beta1", "policies", "devsecops-signatures")
        secrets.scan(run.output, "site.yml first converge")

    def test_second_run_changes_nothing_and_verbose_output_holds_no_secret(self, ansible, hub, dev, prod):
        """The no-op run, at -vvv: nothing written (ACS's registrations, tokens and copies included), and no
        minted value in the most talkative output (every run's output is scanned)."""
        before = platform_snapshot(hub, dev, prod)
        run = ansible("playbooks/site.yml", verbosity=3)
        assert run.rc == 0, run
        assert run.changed() == 0, run
        assert platform_snapshot(hub, dev, prod) == before

    def test_check_mode_writes_nothing(self, ansible, hub, dev, prod):
        before = platform_snapshot(hub, dev, prod)
        run = ansible("playbooks/site.yml", check=True, extra_vars={"acm_availability": "Basic"})
        assert run.rc == 0, run
        assert run.changed("lab-hub") >= 1, run
        assert platform_snapshot(hub, dev, prod) == before

    def test_bad_odf_mode_fails_clearly_before_writing(self, ansible, hub):
        before = platform_snapshot(hub)
        run = ansible("playbooks/site.yml", limit="lab-hub", extra_vars={"odf_mode": "ceph-please"})
        assert run.rc != 0
        assert "fatal: [lab-hub]" in run.output and "value of odf_mode must be one of: mcg, full, got: ceph-please" \
            in run.output, run
        assert platform_snapshot(hub) == before


def test_check_mode_on_a_cluster_without_operators_yet(ansible, lab, prod):
    lab.reset("lab-prod")
    namespaces = {n["metadata"]["name"] for n in prod.list("v1", "namespaces")["items"]}
    run = ansible("playbooks/site.yml", check=True, limit="lab-prod")
    assert run.rc == 0, run
    assert run.changed("lab-prod") >= 1, run
    assert {n["metadata"]["name"] for n in prod.list("v1", "namespaces")["items"]} == namespaces
    assert prod.list(OLM, "subscriptions")["items"] == []
    converge = ansible("playbooks/site.yml", limit="lab-prod")
    assert converge.rc == 0, converge
