"""Stand-ins for the hub products' operators: ACM's MultiClusterHub, the OpenShift GitOps
operator's Argo CD, and ODF's StorageCluster, NooBaa and ObjectBucketClaim provisioning.

Each acts only where the real operator would run: an operand is reconciled only when the
operator's CSV has Succeeded in the namespace OLM installed it into (so a CR created before the
operator, or in the wrong namespace, stays without status, as on a real cluster).

* MultiClusterHub (ACM docs, "Installing while connected online"): status.phase Installing ->
  Running, currentVersion, the Complete condition; the hub manages itself as ManagedCluster
  ``local-cluster`` unless ``spec.disableHubSelfManagement``.
* OpenShift GitOps: on install the operator creates namespace ``openshift-gitops`` and the
  ArgoCD ``openshift-gitops`` unless the Subscription's config sets
  ``DISABLE_DEFAULT_ARGOCD_INSTANCE``; every ArgoCD gets phase Available, component statuses and
  a server Route ``<name>-server``.
* ODF: a StorageCluster becomes Ready with the NooBaa system ``noobaa`` and the StorageClass
  ``openshift-storage.noobaa.io``; a full (non-standalone MCG) cluster also gets the Ceph RBD and
  CephFS StorageClasses. An ObjectBucketClaim on the NooBaa class is Bound with an ObjectBucket,
  and a ConfigMap and Secret named after the claim holding BUCKET_HOST / BUCKET_NAME / BUCKET_PORT
  and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as lib-bucket-provisioner documents.
"""

import random
import secrets
import string

from tests.lab.kube import KubeError
from tests.lab.standins.runtime import LOG, now_iso

OLM = "operators.coreos.com/v1alpha1"
STEP = 0.5
NOOBAA_CLASS = "openshift-storage.noobaa.io"


def _installed(kube, namespace, package_prefix):
    """True if a CSV of the package has Succeeded in this namespace (or cluster-wide install)."""
    for ns in (namespace, "openshift-operators"):
        try:
            csvs = kube.list(OLM, "clusterserviceversions", namespace=ns)["items"]
        except KubeError:
            continue
        if any(c["metadata"]["name"].startswith(package_prefix + ".") and
               c.get("status", {}).get("phase") == "Succeeded" for c in csvs):
            return True
    return False


def _condition(ctype, status, reason, message=""):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now_iso(), "lastUpdateTime": now_iso()}


class HubStandin:
    def __init__(self, kube, scheduler, domain):
        self.kube = kube
        self.scheduler = scheduler
        self.domain = domain

    def watches(self):
        return [
            ("operator.open-cluster-management.io/v1", "multiclusterhubs", self.on_mch),
            (OLM, "clusterserviceversions", self.on_csv),
            ("argoproj.io/v1beta1", "argocds", self.on_argocd),
            ("ocs.openshift.io/v1", "storageclusters", self.on_storagecluster),
            ("objectbucket.io/v1alpha1", "objectbucketclaims", self.on_obc),
        ]

    # -- ACM ---------------------------------------------------------------
    def on_mch(self, event, mch):
        if event == "DELETED" or mch["metadata"].get("deletionTimestamp"):
            return
        meta = mch["metadata"]
        if mch.get("status", {}).get("phase") == "Running":
            return
        if not _installed(self.kube, meta["namespace"], "advanced-cluster-management"):
            return
        self.kube.merge_patch("operator.open-cluster-management.io/v1", "multiclusterhubs", meta["name"], {
            "status": {"phase": "Installing", "desiredVersion": "2.15.0",
                       "conditions": [_condition("Progressing", "True", "Installing")]}},
            namespace=meta["namespace"], subresource="status")
        self.scheduler.call_later(STEP, self._mch_running, meta["namespace"], meta["name"])

    def _mch_running(self, namespace, name):
        mch = self.kube.get_or_none("operator.open-cluster-management.io/v1", "multiclusterhubs", name, namespace)
        if mch is None:
            return
        self.kube.merge_patch("operator.open-cluster-management.io/v1", "multiclusterhubs", name, {
            "status": {"phase": "Running", "currentVersion": "2.15.0", "desiredVersion": "2.15.0",
                       "conditions": [_condition("Complete", "True", "ComponentsAvailable",
                                                 "All hub components ready.")]}},
            namespace=namespace, subresource="status")
        if not mch.get("spec", {}).get("disableHubSelfManagement"):
            self.kube.ensure("cluster.open-cluster-management.io/v1", "managedclusters", {
                "apiVersion": "cluster.open-cluster-management.io/v1", "kind": "ManagedCluster",
                "metadata": {"name": "local-cluster", "labels": {
                    "local-cluster": "true", "name": "local-cluster", "vendor": "OpenShift", "cloud": "Other",
                    "cluster.open-cluster-management.io/clusterset": "default"}},
                "spec": {"hubAcceptsClient": True, "leaseDurationSeconds": 60}})
            self.kube.merge_patch("cluster.open-cluster-management.io/v1", "managedclusters", "local-cluster", {
                "status": {"conditions": [
                    _condition("HubAcceptedManagedCluster", "True", "HubClusterAdminAccepted"),
                    _condition("ManagedClusterJoined", "True", "ManagedClusterJoined"),
                    _condition("ManagedClusterConditionAvailable", "True", "ManagedClusterAvailable")],
                    "version": {"kubernetes": "v1.34.4"}}}, subresource="status")
        LOG.info("%s: MultiClusterHub %s/%s Running", self.kube.name, namespace, name)

    # -- OpenShift GitOps --------------------------------------------------
    def on_csv(self, event, csv):
        if event == "DELETED" or csv.get("status", {}).get("phase") != "Succeeded":
            return
        if not csv["metadata"]["name"].startswith("openshift-gitops-operator."):
            return
        namespace = csv["metadata"]["namespace"]
        for sub in self.kube.list(OLM, "subscriptions", namespace=namespace)["items"]:
            if sub["spec"].get("name") == "openshift-gitops-operator":
                env = (sub["spec"].get("config") or {}).get("env") or []
                if any(e.get("name") == "DISABLE_DEFAULT_ARGOCD_INSTANCE" and e.get("value") == "true" for e in env):
                    return
        self.kube.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": "openshift-gitops"}})
        self.kube.ensure("argoproj.io/v1beta1", "argocds", {
            "apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD",
            "metadata": {"name": "openshift-gitops", "namespace": "openshift-gitops"},
            "spec": {"server": {"route": {"enabled": True}},
                     "rbac": {"defaultPolicy": "", "policy": "g, system:cluster-admins, role:admin\n",
                              "scopes": "[groups]"},
                     "sso": {"provider": "dex", "dex": {"openShiftOAuth": True}}},
        }, namespace="openshift-gitops")

    def on_argocd(self, event, argocd):
        if event == "DELETED" or argocd["metadata"].get("deletionTimestamp"):
            return
        meta = argocd["metadata"]
        if argocd.get("status", {}).get("phase") == "Available":
            return
        if not _installed(self.kube, meta["namespace"], "openshift-gitops-operator"):
            return
        host = "%s-server-%s.%s" % (meta["name"], meta["namespace"], self.domain)
        self.kube.ensure("route.openshift.io/v1", "routes", {
            "apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": meta["name"] + "-server", "namespace": meta["namespace"],
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD",
                                              "name": meta["name"], "uid": meta["uid"]}]},
            "spec": {"host": host, "to": {"kind": "Service", "name": meta["name"] + "-server", "weight": 100},
                     "port": {"targetPort": "https"}, "tls": {"termination": "passthrough"}},
        }, namespace=meta["namespace"])
        self.kube.merge_patch("argoproj.io/v1beta1", "argocds", meta["name"], {"status": {
            "phase": "Available", "server": "Running", "repo": "Running", "redis": "Running",
            "applicationController": "Running", "applicationSetController": "Running", "sso": "Running",
            "host": host}}, namespace=meta["namespace"], subresource="status")

    # -- ODF ------------------------------------------------------------------
    def on_storagecluster(self, event, sc):
        if event == "DELETED" or sc["metadata"].get("deletionTimestamp"):
            return
        meta = sc["metadata"]
        if sc.get("status", {}).get("phase") == "Ready":
            return
        if not _installed(self.kube, meta["namespace"], "ocs-operator"):
            return
        standalone = (sc.get("spec", {}).get("multiCloudGateway") or {}).get("reconcileStrategy") == "standalone"
        self.kube.ensure("noobaa.io/v1alpha1", "noobaas", {
            "apiVersion": "noobaa.io/v1alpha1", "kind": "NooBaa",
            "metadata": {"name": "noobaa", "namespace": meta["namespace"],
                         "ownerReferences": [{"apiVersion": "ocs.openshift.io/v1", "kind": "StorageCluster",
                                              "name": meta["name"], "uid": meta["uid"]}]},
            "spec": {}}, namespace=meta["namespace"])
        self.kube.merge_patch("noobaa.io/v1alpha1", "noobaas", "noobaa", {"status": {
            "phase": "Ready", "services": {
                "serviceMgmt": {"internalDNS": ["https://noobaa-mgmt.%s.svc:443" % meta["namespace"]]},
                "serviceS3": {"internalDNS": ["https://s3.%s.svc:443" % meta["namespace"]]}}}},
            namespace=meta["namespace"], subresource="status")
        classes = [(NOOBAA_CLASS, NOOBAA_CLASS + "/obc")]
        if not standalone:
            classes += [("ocs-storagecluster-ceph-rbd", "openshift-storage.rbd.csi.ceph.com"),
                        ("ocs-storagecluster-cephfs", "openshift-storage.cephfs.csi.ceph.com")]
        for name, provisioner in classes:
            self.kube.ensure("storage.k8s.io/v1", "storageclasses", {
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                "provisioner": provisioner, "reclaimPolicy": "Delete"})
        self.kube.merge_patch("ocs.openshift.io/v1", "storageclusters", meta["name"], {"status": {
            "phase": "Ready",
            "conditions": [_condition("Available", "True", "ReconcileCompleted"),
                           _condition("ReconcileComplete", "True", "ReconcileCompleted"),
                           _condition("Progressing", "False", "ReconcileCompleted"),
                           _condition("Degraded", "False", "ReconcileCompleted")]}},
            namespace=meta["namespace"], subresource="status")
        LOG.info("%s: StorageCluster %s/%s Ready (standalone MCG: %s)", self.kube.name, meta["namespace"],
                 meta["name"], standalone)

    def on_obc(self, event, obc):
        if event == "DELETED" or obc["metadata"].get("deletionTimestamp"):
            return
        meta, spec = obc["metadata"], obc.get("spec", {})
        if obc.get("status", {}).get("phase") == "Bound" or spec.get("storageClassName") != NOOBAA_CLASS:
            return
        if not self.kube.get_or_none("storage.k8s.io/v1", "storageclasses", NOOBAA_CLASS):
            return
        suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
        bucket = spec.get("bucketName") or "%s-%s" % (spec.get("generateBucketName") or meta["name"], suffix)
        owner = [{"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim", "name": meta["name"],
                  "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]
        ob_name = "obc-%s-%s" % (meta["namespace"], meta["name"])
        self.kube.ensure("objectbucket.io/v1alpha1", "objectbuckets", {
            "apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucket", "metadata": {"name": ob_name},
            "spec": {"storageClassName": NOOBAA_CLASS, "reclaimPolicy": "Delete",
                     "claimRef": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
                     "endpoint": {"bucketHost": "s3.openshift-storage.svc", "bucketPort": 443,
                                  "bucketName": bucket}}})
        self.kube.ensure("v1", "configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "ownerReferences": owner},
            "data": {"BUCKET_HOST": "s3.openshift-storage.svc", "BUCKET_NAME": bucket, "BUCKET_PORT": "443",
                     "BUCKET_REGION": "", "BUCKET_SUBREGION": ""}}, namespace=meta["namespace"])
        self.kube.ensure("v1", "secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "ownerReferences": owner},
            "stringData": {"AWS_ACCESS_KEY_ID": secrets.token_hex(10).upper(),
                           "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30)}}, namespace=meta["namespace"])
        self.kube.merge_patch("objectbucket.io/v1alpha1", "objectbucketclaims", meta["name"], {
            "spec": {"bucketName": bucket, "objectBucketName": ob_name}}, namespace=meta["namespace"])
        self.kube.merge_patch("objectbucket.io/v1alpha1", "objectbucketclaims", meta["name"], {
            "status": {"phase": "Bound"}}, namespace=meta["namespace"], subresource="status")
        self.kube.merge_patch("objectbucket.io/v1alpha1", "objectbuckets", ob_name, {"status": {"phase": "Bound"}},
                              subresource="status")
