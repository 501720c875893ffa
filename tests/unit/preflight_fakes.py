"""In-memory stand-ins for the preflight checks' tests: a cluster that answers reviews, a server probe."""

import json

from kubernetes.client.rest import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ansible_collections.devsecops.multicluster.plugins.module_utils import preflight as pf
from fakes import FakeCluster, crd

OLM = "operators.coreos.com/v1alpha1"


class Client:
    class configuration:  # noqa: N801 - mirrors kubernetes' attribute name
        host = "https://api.hub.example:6443"


class PreflightCluster(FakeCluster):
    """FakeCluster with a client, reviews the API server evaluates (never stored), and failure hooks."""

    def __init__(self, name="lab-hub", served=None, denied=(), user="admin", fail=None, client_error=None):
        super().__init__(name=name, served=served)
        self.denied = dict(denied)  # (verb, resource) -> reason
        self.user = user
        self.fail = dict(fail or {})  # kind -> ClusterError raised on get/list/create
        self.client_error = client_error
        self.reviews = []

    @property
    def client(self):
        if self.client_error:
            raise self.client_error
        return Client()

    def _maybe_fail(self, kind):
        if kind in self.fail:
            raise self.fail[kind]

    def get(self, api_version, kind, name, namespace=None):
        self._maybe_fail(kind)
        return super().get(api_version, kind, name, namespace)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        self._maybe_fail(kind)
        items = super().list(api_version, kind, namespace=namespace)
        if label_selector:
            key, value = label_selector.split("=", 1)
            items = [i for i in items if (i["metadata"].get("labels") or {}).get(key) == value]
        return items

    def create(self, api_version, kind, body, namespace=None):
        self.resource(api_version, kind)
        self._maybe_fail(kind)
        if kind == "SelfSubjectReview":
            return dict(body, status={"userInfo": {"username": self.user, "groups": ["system:authenticated"]}})
        if kind == "SelfSubjectAccessReview":
            attrs = body["spec"]["resourceAttributes"]
            self.reviews.append(attrs)
            reason = self.denied.get((attrs["verb"], attrs["resource"]))
            status = {"allowed": reason is None}
            if reason:
                status["reason"] = reason
            return dict(body, status=status)
        return super().create(api_version, kind, body, namespace)


class Probe:
    def __init__(self, version="v1.34.4", version_error=None, discovery_error=None):
        self.git_version = version
        self.version_error = version_error
        self.discovery_error = discovery_error
        self.calls = []

    def version(self):
        self.calls.append("version")
        if self.version_error:
            raise self.version_error
        return {"gitVersion": self.git_version, "platform": "linux/amd64"}

    def discovery(self):
        self.calls.append("discovery")
        if self.discovery_error:
            raise self.discovery_error
        return ["apps", "operators.coreos.com"]


def api_error(status, message="boom"):
    err = ApiException(status=status, reason="Reason")
    err.body = json.dumps({"kind": "Status", "message": message}).encode()
    return err


def refused():
    return MaxRetryError(None, "/version", reason=NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))


def package_manifest(name, channels, default, source="redhat-operators", namespace="openshift-marketplace",
                     entries=None):
    return {"apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"catalog": source, "catalog-namespace": namespace}},
            "status": {"catalogSource": source, "catalogSourceNamespace": namespace, "packageName": name,
                       "defaultChannel": default,
                       "channels": [{"name": ch, "currentCSV": csv,
                                     "entries": [{"name": e} for e in (entries or {}).get(ch, [csv])]}
                                    for ch, csv in channels.items()]}}


def world(**kwargs):
    """A healthy OpenShift 4.20 cluster with OLM, the redhat-operators catalog, GitOps and ACS packages,
    and a default StorageClass."""
    fake = PreflightCluster(**kwargs)
    for name in pf.OLM_CRDS:
        fake.add(crd(name))
    fake.add({"apiVersion": OLM, "kind": "CatalogSource",
              "metadata": {"name": "redhat-operators", "namespace": "openshift-marketplace"},
              "status": {"connectionState": {"lastObservedState": "READY"}}})
    fake.add({"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion", "metadata": {"name": "version"},
              "status": {"desired": {"version": "4.20.4"},
                         "history": [{"state": "Completed", "version": "4.20.4"}]}})
    fake.add(package_manifest("openshift-gitops-operator", {"latest": "openshift-gitops-operator.v1.19.0",
                                                            "gitops-1.19": "openshift-gitops-operator.v1.19.0"},
                              "latest"))
    fake.add(package_manifest("rhacs-operator", {"stable": "rhacs-operator.v4.9.1"}, "stable",
                              entries={"stable": ["rhacs-operator.v4.9.0", "rhacs-operator.v4.9.1"]}))
    fake.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": {"name": "gp3-csi", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})
    fake.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "slow"}})
    return fake
