"""The OLM stand-in's package server (tests/lab/standins/olm.py): PackageManifests from the lab's catalog,
kept in step with the CatalogSources, checked without a cluster."""

import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab.kube import KubeError  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import olm  # noqa: E402  pylint: disable=wrong-import-position

with open(os.path.join(REPO, "tests", "lab", "catalog.yaml")) as _handle:
    CATALOG = yaml.safe_load(_handle)
with open(os.path.join(REPO, "tests", "lab", "crds", "packages.operators.coreos.com", "packagemanifests.yaml")) as _h:
    CRD = yaml.safe_load(_h)


def source(name="redhat-operators", namespace="openshift-marketplace"):
    return {"apiVersion": olm.OLM, "kind": "CatalogSource", "metadata": {"name": name, "namespace": namespace},
            "spec": {"sourceType": "grpc", "displayName": "Red Hat Operators", "publisher": "Red Hat"}}


class FakeKube:
    name = "lab-hub"

    def __init__(self, served=True):
        self.served = served
        self.objects = {}
        self.calls = []

    def list(self, api_version, plural, namespace=None, label_selector=None):
        if not self.served:
            raise KubeError(404, "the server could not find the requested resource")
        key, value = label_selector.split("=")
        return {"items": [o for (ns, _n), o in sorted(self.objects.items())
                          if ns == namespace and o["metadata"]["labels"].get(key) == value]}

    def apply(self, api_version, plural, body, namespace=None):
        self.calls.append(("apply", body["metadata"]["name"]))
        self.objects[(namespace, body["metadata"]["name"])] = body

    def delete(self, api_version, plural, name, namespace=None):
        self.calls.append(("delete", name))
        self.objects.pop((namespace, name), None)


def test_one_manifest_per_package_of_the_catalog_shaped_like_the_package_server():
    manifests = olm.package_manifests(CATALOG, source())
    names = [m["metadata"]["name"] for m in manifests]
    assert names == sorted(p for p, d in CATALOG["packages"].items() if d["catalog"] == "redhat-operators")
    gitops = next(m for m in manifests if m["metadata"]["name"] == "openshift-gitops-operator")
    assert gitops["metadata"]["namespace"] == "openshift-marketplace"
    assert gitops["metadata"]["labels"]["catalog"] == "redhat-operators"
    status = gitops["status"]
    assert status["catalogSource"] == "redhat-operators" and status["catalogSourceNamespace"] == "openshift-marketplace"
    assert status["catalogSourceDisplayName"] == "Red Hat Operators" and status["packageName"] == gitops["metadata"]["name"]
    assert status["defaultChannel"] == "latest"
    channels = dict((c["name"], c) for c in status["channels"])
    assert channels["gitops-1.19"]["currentCSV"] == "openshift-gitops-operator.v1.19.0"
    assert channels["gitops-1.19"]["entries"] == [{"name": "openshift-gitops-operator.v1.19.0", "version": "1.19.0"}]
    assert {"type": "AllNamespaces", "supported": True} in channels["latest"]["currentCSVDesc"]["installModes"]
    odf = next(m for m in manifests if m["metadata"]["name"] == "odf-operator")
    assert odf["status"]["channels"][0]["currentCSVDesc"]["version"] == "4.19.6"
    assert olm.package_manifests(CATALOG, source("community-operators")) == []
    assert olm.package_manifests(CATALOG, source("my-mirror")) == []


def test_manifest_fields_are_in_the_crd_schema():
    schema = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    channel = schema["properties"]["channels"]["items"]["properties"]
    for manifest in olm.package_manifests(CATALOG, source()):
        assert set(manifest["status"]) <= set(schema["properties"])
        assert set(schema["required"]) <= set(manifest["status"])
        for entry in manifest["status"]["channels"]:
            assert set(entry) <= set(channel)
        for value in manifest["metadata"]["labels"].values():
            assert " " not in value  # label values of a stored object


def test_handler_creates_updates_and_removes_with_the_catalog():
    kube = FakeKube()
    standin = olm.OLMStandin(kube, CATALOG, scheduler=None)
    assert (olm.OLM, "catalogsources", standin.on_catalogsource) in standin.watches()
    standin.on_catalogsource("SYNC", source())
    count = len(kube.objects)
    assert count == len(olm.package_manifests(CATALOG, source())) and count > 5
    kube.calls.clear()
    standin.on_catalogsource("SYNC", source())
    assert kube.calls == []  # in step: nothing written on a resync
    kube.objects[("openshift-marketplace", "rhacs-operator")]["status"]["defaultChannel"] = "old"
    kube.objects[("openshift-marketplace", "stale-package")] = {"metadata": {"name": "stale-package", "labels": {
        "catalog": "redhat-operators"}}, "status": {}}
    standin.on_catalogsource("MODIFIED", source())
    assert sorted(kube.calls) == [("apply", "rhacs-operator"), ("delete", "stale-package")]
    standin.on_catalogsource("DELETED", source())
    assert kube.objects == {}


def test_handler_without_the_api_only_logs():
    kube = FakeKube(served=False)
    olm.OLMStandin(kube, CATALOG, scheduler=None).on_catalogsource("SYNC", source())
    assert kube.calls == []
