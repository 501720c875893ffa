"""ACM import stand-in: imports a spoke from its auto-import-secret, for real.

Follows stolostron/managedcluster-import-controller's documented auto-import: on the hub, a
ManagedCluster plus a Secret ``auto-import-secret`` in the namespace named after the cluster,
holding either ``kubeconfig`` or ``server`` + ``token`` (and ``autoImportRetry``). The import
controller connects to that server with those credentials and installs the klusterlet
(namespace ``open-cluster-management-agent`` on the spoke). Then the ManagedCluster reports
HubAcceptedManagedCluster, ManagedClusterJoined, ManagedClusterConditionAvailable and
ManagedClusterImportSucceeded, and the auto-import-secret is deleted. A failed attempt sets
``ManagedClusterImportSucceeded=False`` with reason ``ManagedClusterImportFailed`` and the cause.

Here the credentials are really used: the stand-in asks the spoke's apiserver, with the given
token, whether it may create CustomResourceDefinitions (what installing the klusterlet needs).
A bad, expired or revoked token leaves the cluster unavailable. ACM acts only on a hub whose
MultiClusterHub is Running. Deleting the ManagedCluster detaches: the klusterlet namespace is
removed from the spoke. When the klusterlet disappears from a spoke (the spoke was rebuilt), the
cluster's availability turns Unknown (ManagedClusterLeaseUpdateStopped), as when ACM stops
receiving the klusterlet's lease, and a new auto-import-secret imports it again.
"""

import base64

import requests
import yaml

from tests.lab.standins.runtime import LOG, now_iso

MC_API = "cluster.open-cluster-management.io/v1"
AGENT_NAMESPACE = "open-cluster-management-agent"
IMPORTED_TO = "devsecops.lab/imported-to"


def _cond(ctype, status, reason, message):
    return {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": now_iso()}


class ImportStandin:
    def __init__(self, kube, lab):
        self.kube = kube
        self.lab = lab
        self.attempted = {}  # cluster name -> resourceVersion of the auto-import-secret last tried

    def watches(self):
        return [(MC_API, "managedclusters", self.on_managedcluster), ("v1", "secrets", self.on_secret)]

    def _acm_running(self):
        hubs = self.kube.list("operator.open-cluster-management.io/v1", "multiclusterhubs")["items"]
        return any(h.get("status", {}).get("phase") == "Running" for h in hubs)

    def on_secret(self, event, secret):
        if event != "DELETED" and secret["metadata"]["name"] == "auto-import-secret":
            self._import(secret["metadata"]["namespace"])

    def on_managedcluster(self, event, mc):
        name = mc["metadata"]["name"]
        if name == "local-cluster":
            return
        target = (mc["metadata"].get("annotations") or {}).get(IMPORTED_TO)
        if event == "DELETED" or mc["metadata"].get("deletionTimestamp"):
            if target in self.lab.clusters:
                self.lab.kube(target).delete("v1", "namespaces", AGENT_NAMESPACE)
                LOG.info("%s: detached %s from %s", self.kube.name, name, target)
            return
        if target in self.lab.clusters and self._available(mc) and \
                self.lab.kube(target).get_or_none("v1", "namespaces", AGENT_NAMESPACE) is None:
            self._lease_lost(mc)
            return
        self._import(name)

    @staticmethod
    def _available(mc):
        return any(c.get("type") == "ManagedClusterConditionAvailable" and c.get("status") == "True"
                   for c in ((mc.get("status") or {}).get("conditions") or []))

    def _lease_lost(self, mc):
        """The klusterlet is gone from the spoke: ACM stops seeing its lease and reports Unknown."""
        conditions = [c for c in ((mc.get("status") or {}).get("conditions") or [])
                      if c.get("type") != "ManagedClusterConditionAvailable"]
        conditions.append(_cond("ManagedClusterConditionAvailable", "Unknown", "ManagedClusterLeaseUpdateStopped",
                                "Registration agent stopped updating its lease."))
        self.kube.merge_patch(MC_API, "managedclusters", mc["metadata"]["name"],
                              {"status": {"conditions": conditions}}, subresource="status")
        LOG.info("%s: %s lost its klusterlet, availability Unknown", self.kube.name, mc["metadata"]["name"])

    def _set_import_condition(self, name, reason, message):
        mc = self.kube.get(MC_API, "managedclusters", name)
        conditions = [c for c in ((mc.get("status") or {}).get("conditions") or [])
                      if c["type"] != "ManagedClusterImportSucceeded"]
        conditions.append(_cond("ManagedClusterImportSucceeded", "False", reason, message))
        self.kube.merge_patch(MC_API, "managedclusters", name, {"status": {"conditions": conditions}},
                              subresource="status")

    def _fail(self, name, message):
        self._set_import_condition(name, "ManagedClusterImportFailed",
                                   "Try to import managed cluster, retry times: 1/5, error: " + message)
        LOG.info("%s: import of %s failed: %s", self.kube.name, name, message)

    def _import(self, name):
        mc = self.kube.get_or_none(MC_API, "managedclusters", name)
        if mc is None or not self._acm_running():
            return
        if self._available(mc):
            return
        secret = self.kube.get_or_none("v1", "secrets", "auto-import-secret", name)
        if secret is None or self.attempted.get(name) == secret["metadata"]["resourceVersion"]:
            return
        self.attempted[name] = secret["metadata"]["resourceVersion"]
        self._set_import_condition(name, "ManagedClusterImporting", "Importing the managed cluster")
        if not mc.get("spec", {}).get("hubAcceptsClient"):
            self._fail(name, "the hub does not accept the cluster (spec.hubAcceptsClient is false)")
            return
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        server, token = data.get("server"), data.get("token")
        if data.get("kubeconfig"):
            config = yaml.safe_load(data["kubeconfig"])
            server = config["clusters"][0]["cluster"]["server"]
            token = config["users"][0]["user"].get("token")
        if not server or not token:
            self._fail(name, "auto-import-secret has neither kubeconfig nor server and token")
            return
        target = next((c for c, info in self.lab.clusters.items()
                       if info["server"].rstrip("/") == server.rstrip("/")), None)
        if target is None:
            self._fail(name, "Get \"%s/version\": dial tcp: connection refused" % server.rstrip("/"))
            return
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": {"verb": "create", "group": "apiextensions.k8s.io",
                                                  "resource": "customresourcedefinitions"}}}
        resp = requests.post(server.rstrip("/") + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                             json=review, headers={"Authorization": "Bearer " + token},
                             verify=self.lab.ca_file, timeout=10)
        if resp.status_code == 401:
            self._fail(name, "Unauthorized")
            return
        if resp.status_code >= 400 or not resp.json().get("status", {}).get("allowed"):
            self._fail(name, "the token may not install the klusterlet on %s (cluster-admin needed)" % server)
            return
        spoke = self.lab.kube(target)
        spoke.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": AGENT_NAMESPACE, "labels": {"devsecops.lab/klusterlet-of": self.kube.name}}})
        cluster_id = spoke.get("config.openshift.io/v1", "clusterversions", "version")["spec"]["clusterID"]
        labels = {"vendor": "OpenShift", "cloud": "Other", "name": name, "clusterID": cluster_id,
                  "openshiftVersion": "4.20.4"}
        labels.update(mc["metadata"].get("labels") or {})
        labels.setdefault("cluster.open-cluster-management.io/clusterset", "default")
        self.kube.merge_patch(MC_API, "managedclusters", name, {"metadata": {
            "labels": labels, "annotations": {IMPORTED_TO: target}}})
        self.kube.merge_patch(MC_API, "managedclusters", name, {"status": {
            "conditions": [
                _cond("HubAcceptedManagedCluster", "True", "HubClusterAdminAccepted", "Accepted by hub cluster admin"),
                _cond("ManagedClusterImportSucceeded", "True", "ManagedClusterImported", "Import succeeded"),
                _cond("ManagedClusterJoined", "True", "ManagedClusterJoined", "Managed cluster joined"),
                _cond("ManagedClusterConditionAvailable", "True", "ManagedClusterAvailable",
                      "Managed cluster is available")],
            "version": {"kubernetes": "v1.34.4"},
            "clusterClaims": [{"name": "id.k8s.io", "value": cluster_id}]}}, subresource="status")
        self.kube.delete("v1", "secrets", "auto-import-secret", name)
        LOG.info("%s: imported %s (lab cluster %s)", self.kube.name, name, target)

