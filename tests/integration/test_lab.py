"""The lab itself: three separate real clusters that behave as the collection expects."""

import base64
import json
import os

import pytest
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
        crds = kube.list("apiextensions.k8s.io/v1", "customresourcedefinitions", label_selector="devsecops.lab/source=shared-crds")
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
                                         "metadata": {"name": "probe", "namespace": "itest-lab"}},
               namespace="itest-lab")
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
    crds = prod.list("apiextensions.k8s.io/v1", "customresourcedefinitions", label_selector="devsecops.lab/source=shared-crds")
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
    hub.wait_for(lambda: hub.get_or_none("v1", "namespaces", "itest-bogus") is None, timeout=60,
                 what="namespace itest-bogus gone")


# -- Quay: the operator, Quay's API and the bridge operator (tests/lab/standins/quay.py) ---------------
OLM = "operators.coreos.com/v1alpha1"
QUAY = ("quay.redhat.com/v1", "quayregistries")
QUAY_INTEGRATION = ("quay.redhat.com/v1", "quayintegrations")
OBC = ("objectbucket.io/v1alpha1", "objectbucketclaims")
NOOBAA_CLASS = "openshift-storage.noobaa.io"
QUAY_NS = "itest-quay"
QBO_NS = "itest-qbo"


def subscribe(kube, package):
    """Install an operator through the OLM stand-in (cluster-wide, default channel) and wait for its CSV."""
    kube.ensure(OLM, "subscriptions", {
        "apiVersion": OLM, "kind": "Subscription", "metadata": {"name": package, "namespace": "openshift-operators"},
        "spec": {"name": package, "source": "redhat-operators", "sourceNamespace": "openshift-marketplace"}},
        namespace="openshift-operators")
    def succeeded():
        csvs = kube.list(OLM, "clusterserviceversions", namespace="openshift-operators")["items"]
        return any(c["metadata"]["name"].startswith(package + ".") and
                   (c.get("status") or {}).get("phase") == "Succeeded" for c in csvs)

    kube.wait_for(succeeded, timeout=15, what="%s CSV Succeeded" % package)


def unsubscribe(kube, package):
    kube.delete(OLM, "subscriptions", package, "openshift-operators")
    for csv in kube.list(OLM, "clusterserviceversions", namespace="openshift-operators")["items"]:
        if csv["metadata"]["name"].startswith(package + "."):
            kube.delete(OLM, "clusterserviceversions", csv["metadata"]["name"], "openshift-operators")


def fresh_namespace(kube, name):
    """The namespace, waiting first for an earlier run's copy to finish terminating."""
    kube.wait_for(lambda: not ((kube.get_or_none("v1", "namespaces", name) or {}).get("metadata") or {}).get(
        "deletionTimestamp"), timeout=30, what="namespace %s from an earlier run gone" % name)
    kube.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def conditions(obj):
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


class QuayClient:
    """Quay's API as a client outside the cluster sees it: TLS verified with the cluster's published router CA."""

    def __init__(self, endpoint, ca_file):
        self.endpoint = endpoint
        self.ca_file = ca_file

    def call(self, method, path, token=None, auth=None, body=None):
        headers = {"Authorization": "Bearer " + token} if token else {}
        resp = requests.request(method, self.endpoint + path, headers=headers, auth=auth, json=body,
                                verify=self.ca_file, timeout=10)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, resp.text


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def quay(lab, prod, tmp_path_factory):
    """A QuayRegistry on lab-prod, Available once ODF binds its claim; deleted (and checked gone) at the end."""
    ca_file = tmp_path_factory.mktemp("quay") / "ingress-ca.pem"
    ca_file.write_text(prod.get("v1", "configmaps", "default-ingress-cert", "openshift-config-managed")["data"]
                       ["ca-bundle.crt"])
    fresh_namespace(prod, QUAY_NS)
    prod.ensure("v1", "secrets", {"apiVersion": "v1", "kind": "Secret",
                                  "metadata": {"name": "quay-config", "namespace": QUAY_NS},
                                  "stringData": {"config.yaml": "FEATURE_USER_INITIALIZE: true\n"
                                                                "SUPER_USERS: [itestadmin]\n"}}, namespace=QUAY_NS)
    subscribe(prod, "quay-operator")
    had_class = prod.get_or_none("storage.k8s.io/v1", "storageclasses", NOOBAA_CLASS) is not None
    prod.ensure(*QUAY, body={"apiVersion": QUAY[0], "kind": "QuayRegistry",
                             "metadata": {"name": "registry", "namespace": QUAY_NS},
                             "spec": {"configBundleSecret": "quay-config",
                                      "components": [{"kind": "clair", "managed": False},
                                                     {"kind": "horizontalpodautoscaler", "managed": False}]}},
                namespace=QUAY_NS)
    info = {"kube": prod, "endpoint": "https://localhost:%d" % lab.clusters["lab-prod"]["quay_port"],
            "ca_file": str(ca_file), "had_class": had_class}
    if not had_class:
        blocked = prod.wait_for(lambda: conditions(prod.get(*QUAY, name="registry", namespace=QUAY_NS)).get(
            "RolloutBlocked"), timeout=10, what="QuayRegistry waiting for its bucket claim")
        info["waiting"] = dict(blocked)
        prod.ensure("storage.k8s.io/v1", "storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": NOOBAA_CLASS},
            "provisioner": NOOBAA_CLASS + "/obc", "reclaimPolicy": "Delete"})
        # the ODF stand-in looks at claims on their events (a real provisioner retries): nudge the claim
        prod.merge_patch(*OBC, name="registry-quay-datastore", namespace=QUAY_NS,
                         patch={"metadata": {"annotations": {"itest/nudge": "1"}}})
    info["registry"] = prod.wait_for(
        lambda: (lambda r: r if conditions(r).get("Available", {}).get("status") == "True" else None)(
            prod.get(*QUAY, name="registry", namespace=QUAY_NS)), timeout=15, what="QuayRegistry Available")
    info["api"] = QuayClient(info["endpoint"], info["ca_file"])
    yield info
    prod.delete(*QUAY, name="registry", namespace=QUAY_NS)
    prod.wait_for(lambda: not os.path.exists(lab.quay_state_file("lab-prod")), timeout=15,
                  what="Quay state forgotten with its registry")
    prod.wait_for(lambda: prod.get_or_none(*OBC, name="registry-quay-datastore", namespace=QUAY_NS) is None,
                  timeout=15, what="bucket claim gone with its registry")
    with pytest.raises(requests.ConnectionError):
        requests.get(info["endpoint"] + "/health/instance", verify=info["ca_file"], timeout=5)
    prod.delete("v1", "namespaces", QUAY_NS)
    unsubscribe(prod, "quay-operator")
    if not had_class:
        prod.delete("storage.k8s.io/v1", "storageclasses", NOOBAA_CLASS)
    # gone before the module ends: the next module on this lab may compare snapshots of it
    prod.wait_for(lambda: prod.get_or_none("v1", "namespaces", QUAY_NS) is None, timeout=60,
                  what="namespace %s gone" % QUAY_NS)


def quay_admin(quay):
    """The first user's token, from /api/v1/user/initialize (once per registry)."""
    if "token" not in quay:
        status, body = quay["api"].call("POST", "/api/v1/user/initialize", body={
            "username": "itestadmin", "password": "itest-password", "email": "itestadmin@example.com",
            "access_token": True})
        assert status == 200, body
        quay["token"] = body["access_token"]
    return quay["token"]


def test_quay_operator_serves_quay_api_with_tokens_robots_and_registry_auth(lab, quay):
    prod, api = quay["kube"], quay["api"]
    if "waiting" in quay:
        assert quay["waiting"]["status"] == "True"
        assert quay["waiting"]["reason"] == "ObjectStorageComponentDependencyError"
    registry = quay["registry"]
    state = conditions(registry)
    assert state["Available"]["reason"] == "HealthChecksPassing"
    assert state["ComponentsCreated"]["status"] == "True" and state["RolloutBlocked"]["status"] == "False"
    assert state["ComponentClairReady"]["reason"] == "ComponentNotManaged"
    assert registry["status"]["currentVersion"] == "3.18.0"
    assert registry["status"]["registryEndpoint"] == quay["endpoint"]
    claim = prod.get(*OBC, name="registry-quay-datastore", namespace=QUAY_NS)
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"] == NOOBAA_CLASS
    assert claim["metadata"]["ownerReferences"][0]["uid"] == registry["metadata"]["uid"]
    with pytest.raises(requests.exceptions.SSLError):  # the lab's own CA does not sign the router's certificate
        requests.get(quay["endpoint"] + "/health/instance", verify=lab.ca_file, timeout=5)
    assert api.call("GET", "/health/instance")[1]["data"]["services"]["database"] is True

    admin = quay_admin(quay)
    again = api.call("POST", "/api/v1/user/initialize", body={"username": "second", "password": "second-pass"})
    assert again == (400, {"message": "Cannot initialize user in a non-empty database"})
    status, me = api.call("GET", "/api/v1/user/", token=admin)
    assert status == 200 and me["username"] == "itestadmin" and me["super_user"] is True
    status, denied = api.call("GET", "/api/v1/user/", auth=("itestadmin", "itest-password"))  # no passwords on /api
    assert status == 401 and denied["error_type"] == "invalid_token"

    assert api.call("POST", "/api/v1/organization/", token=admin, body={"name": "Bad Name"})[0] == 400
    assert api.call("POST", "/api/v1/organization/", token=admin, body={"name": "itest", "email": "i@example.com"}) \
        == (201, "Created")
    status, app = api.call("POST", "/api/v1/organization/itest/applications", token=admin, body={"name": "ci"})
    assert status == 200 and app["client_secret"]
    tokens = "/api/v1/organization/itest/applications/%s/tokens" % app["client_id"]
    status, minted = api.call("POST", tokens, token=admin, body={"name": "ci", "scope": "org:admin repo:read"})
    assert status == 200 and minted["scope"] == "org:admin repo:read" and minted["created_by"] == "itestadmin"
    assert api.call("GET", "/api/v1/organization/itest/applications", token=minted["token"])[0] == 200
    assert api.call("POST", "/api/v1/organization/", token=minted["token"], body={"name": "nope"})[0] == 403
    assert api.call("POST", tokens, token=minted["token"], body={"name": "wider", "scope": "super:user"})[0] == 403
    assert "token" not in api.call("GET", tokens, token=admin)[1]["tokens"][0]
    assert api.call("DELETE", tokens + "/" + minted["uuid"], token=admin)[0] == 204
    assert api.call("GET", "/api/v1/organization/itest/applications", token=minted["token"])[0] == 401
    assert api.call("DELETE", tokens + "/" + minted["uuid"], token=admin)[0] == 404

    assert api.call("POST", "/api/v1/repository", token=admin, body={
        "namespace": "itest", "repository": "app", "visibility": "private", "description": "", "repo_kind": "image"}) \
        == (201, {"namespace": "itest", "name": "app", "kind": "image"})
    status, robot = api.call("PUT", "/api/v1/organization/itest/robots/puller", token=admin, body={"description": "x"})
    assert status == 201 and robot["name"] == "itest+puller" and len(robot["token"]) == 64
    assert api.call("PUT", "/api/v1/repository/itest/app/permissions/user/itest+puller", token=admin,
                    body={"role": "read"})[1]["role"] == "read"
    scope = "/v2/auth?service=localhost&scope=repository:itest/app:pull,push"
    status, grant = api.call("GET", scope, auth=("itest+puller", robot["token"]))
    assert status == 200 and jwt_claims(grant["token"])["access"] == [
        {"type": "repository", "name": "itest/app", "actions": ["pull"]}]  # push needs write: left out
    assert api.call("GET", "/v2/", token=grant["token"]) == (200, True)
    assert api.call("GET", scope, auth=("itest+puller", "wrong"))[0] == 401
    fresh = api.call("POST", "/api/v1/organization/itest/robots/puller/regenerate", token=admin)[1]["token"]
    assert api.call("GET", scope, auth=("itest+puller", robot["token"]))[0] == 401
    assert api.call("GET", scope, auth=("itest+puller", fresh))[0] == 200

    prod.ensure("v1", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "devsecops-lab-quay-faults", "namespace": QUAY_NS}, "data": {"status": "503", "count": "1"}},
        namespace=QUAY_NS)
    try:
        assert api.call("GET", "/api/v1/user/", token=admin)[0] == 503
        assert api.call("GET", "/api/v1/user/", token=admin)[0] == 200
    finally:
        prod.delete("v1", "configmaps", "devsecops-lab-quay-faults", QUAY_NS)
    assert api.call("DELETE", "/api/v1/organization/itest", token=admin)[0] == 204
    assert api.call("GET", "/api/v1/organization/itest", token=admin)[0] == 404


def test_quay_bridge_operator_trusts_what_its_pod_mounts_and_follows_namespaces(lab, quay):
    prod, api, admin = quay["kube"], quay["api"], quay_admin(quay)
    log = lab.log("standins")
    seen = os.path.getsize(log)
    prod.ensure("v1", "secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "itest-quay-integration", "namespace": "openshift-operators"}, "stringData": {"token": admin}},
        namespace="openshift-operators")
    subscribe(prod, "quay-bridge-operator")
    fresh_namespace(prod, QBO_NS)
    prod.ensure(*QUAY_INTEGRATION, body={"apiVersion": QUAY_INTEGRATION[0], "kind": "QuayIntegration",
                                         "metadata": {"name": "itest"},
                                         "spec": {"clusterID": "itest", "quayHostname": quay["endpoint"],
                                                  "allowlistNamespaces": [QBO_NS],
                                                  "credentialsSecret": {"name": "itest-quay-integration",
                                                                        "namespace": "openshift-operators"}}})
    org = "itest_" + QBO_NS
    try:
        def refused():
            with open(log) as handle:
                handle.seek(seen)
                return "TLS verification of %s failed" % quay["endpoint"] in handle.read()

        prod.wait_for(refused, timeout=10, what="the bridge operator refusing the router's certificate")
        assert api.call("GET", "/api/v1/organization/" + org, token=admin)[0] == 404
        assert "quay.redhat.com/quayintegrations" in prod.get("v1", "namespaces", QBO_NS)["metadata"]["finalizers"]

        ca = prod.get("v1", "configmaps", "default-ingress-cert", "openshift-config-managed")["data"]["ca-bundle.crt"]
        prod.ensure("v1", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "itest-router-ca", "namespace": "openshift-operators"}, "data": {"router-ca.crt": ca}},
            namespace="openshift-operators")
        prod.merge_patch(OLM, "subscriptions", "quay-bridge-operator", {"spec": {"config": {
            "env": [{"name": "SSL_CERT_DIR", "value": "/etc/pki/tls/certs:/etc/router-ca"}],
            "volumeMounts": [{"name": "router-ca", "mountPath": "/etc/router-ca"}],
            "volumes": [{"name": "router-ca", "configMap": {"name": "itest-router-ca"}}]}}},
            namespace="openshift-operators")
        def prototypes():
            status, listing = api.call("GET", "/api/v1/organization/%s/prototypes" % org, token=admin)
            return sorted((p["delegate"]["name"], p["role"]) for p in listing["prototypes"]) if status == 200 else []

        wanted = [(org + "+builder", "write"), (org + "+default", "read"), (org + "+deployer", "read")]
        prod.wait_for(lambda: prototypes() == wanted, timeout=15, what="robots and default permissions in Quay")
        account = prod.wait_for(lambda: (lambda sa: sa if sa and sa.get("imagePullSecrets") else None)(
            prod.get_or_none("v1", "serviceaccounts", "default", QBO_NS)), timeout=15, what="default SA linked")
        assert account["imagePullSecrets"] == [{"name": "default-quay-itest"}]
        assert prod.get(*QUAY_INTEGRATION, name="itest")["status"].keys() == {"lastUpdate"}

        secret = prod.get("v1", "secrets", "default-quay-itest", QBO_NS)
        assert secret["type"] == "kubernetes.io/dockerconfigjson"
        auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
        user, _, password = base64.b64decode(auths[quay["endpoint"][len("https://"):]]["auth"]).decode().partition(":")
        assert user == org + "+default"
        assert api.call("POST", "/api/v1/repository", token=admin, body={
            "namespace": org, "repository": "app", "visibility": "private", "description": ""})[0] == 201
        status, grant = api.call("GET", "/v2/auth?service=localhost&scope=repository:%s/app:pull" % org,
                                 auth=(user, password))
        assert status == 200 and jwt_claims(grant["token"])["access"][0]["actions"] == ["pull"]

        prod.delete("v1", "namespaces", QBO_NS)
        prod.wait_for(lambda: prod.get_or_none("v1", "namespaces", QBO_NS) is None, timeout=20,
                      what="namespace deleted once the bridge operator removed its organization")
        assert api.call("GET", "/api/v1/organization/" + org, token=admin)[0] == 404
    finally:
        prod.delete(*QUAY_INTEGRATION, name="itest")
        namespace = prod.get_or_none("v1", "namespaces", QBO_NS)
        if namespace and namespace["metadata"].get("finalizers"):  # a failed run must not leave it Terminating
            prod.merge_patch("v1", "namespaces", QBO_NS, {"metadata": {"finalizers": None}})
        prod.delete("v1", "namespaces", QBO_NS)
        unsubscribe(prod, "quay-bridge-operator")
        prod.delete("v1", "configmaps", "itest-router-ca", "openshift-operators")
        prod.delete("v1", "secrets", "itest-quay-integration", "openshift-operators")
