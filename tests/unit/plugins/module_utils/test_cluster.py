"""Unit tests for module_utils/cluster.py: error phrasing and the Cluster wrapper."""

import json

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.config import ConfigException
from kubernetes.dynamic.exceptions import ResourceNotFoundError, api_exception
from urllib3.exceptions import MaxRetryError, NewConnectionError, SSLError

from ansible_collections.devsecops.multicluster.plugins.module_utils import cluster as cluster_mod
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    cluster_label,
    explain,
    is_managed,
    managed_labels,
    object_label,
)


def api_error(status, message="boom", reason="Reason"):
    err = ApiException(status=status, reason=reason)
    err.body = json.dumps({"kind": "Status", "message": message}).encode()
    return api_exception(err)


class FakeModule:
    def __init__(self, **params):
        self.params = dict(cluster_name=None, context=None, host=None)
        self.params.update(params)


def test_cluster_label_prefers_name_then_context_then_host():
    assert cluster_label({"cluster_name": "hub", "context": "c", "host": "h"}) == "hub"
    assert cluster_label({"context": "c", "host": "h"}) == "c"
    assert cluster_label({"host": "https://api:6443"}) == "https://api:6443"
    assert cluster_label({}) == "the cluster of the default kubeconfig"


def test_object_label():
    assert object_label("Namespace", "a") == "Namespace a"
    assert object_label("Subscription", "a", "ns") == "Subscription ns/a"
    assert object_label("Subscription") == "Subscription"


@pytest.mark.parametrize("status,expected", [
    (401, "cluster hub: authentication failed (HTTP 401 Unauthorized) while accessing Subscription x/y: the token"),
    (403, "cluster hub: permission denied (HTTP 403) on Subscription x/y: boom"),
    (404, "cluster hub: Subscription x/y not found (HTTP 404): boom"),
    (409, "cluster hub: conflict (HTTP 409) on Subscription x/y: boom"),
    (422, "cluster hub: Subscription x/y was rejected as invalid (HTTP 422): boom"),
    (503, "cluster hub: API server error (HTTP 503) on Subscription x/y: boom"),
    (429, "cluster hub: request for Subscription x/y failed (HTTP 429): boom"),
])
def test_explain_http_errors(status, expected):
    assert explain(api_error(status), "hub", "Subscription x/y").startswith(expected)


def test_explain_plain_api_exception_without_body_uses_reason():
    err = ApiException(status=500, reason="Internal Server Error")
    assert explain(err, "hub", "x") == "cluster hub: API server error (HTTP 500) on x: Internal Server Error"


def test_explain_connection_refused_names_the_server():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    err = MaxRetryError(None, "/api", reason=reason)
    assert explain(err, "dev", "API discovery", "https://127.0.0.1:1") == \
        "cluster dev: API server at https://127.0.0.1:1 unreachable while accessing API discovery: connection refused"


@pytest.mark.parametrize("text,cause", [
    ("Read timed out.", "connection timed out"),
    ("Temporary failure in name resolution: Name or service not known", "host name does not resolve"),
    ("something else", "something else"),
])
def test_explain_other_network_failures(text, cause):
    err = MaxRetryError(None, "/api", reason=OSError(text))
    assert explain(err, "dev", "x").endswith(cause)


def test_explain_tls_failure_says_verification_stays_on():
    err = MaxRetryError(None, "/api", reason=SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    text = explain(err, "prod", "API discovery", "https://api:6443")
    assert text.startswith("cluster prod: TLS verification of the API server at https://api:6443 failed")
    assert "validate_certs stays on by default" in text


def test_explain_config_and_unknown_errors():
    assert explain(ConfigException("Invalid kube-config file"), "hub", "x") == \
        "cluster hub: cannot load connection settings: Invalid kube-config file"
    assert explain(RuntimeError("odd"), "hub", "x") == "cluster hub: unexpected error while accessing x: odd"
    assert explain(ClusterError("already phrased"), "hub", "x") == "already phrased"


def test_explain_unwraps_kubernetes_core_errors():
    """kubernetes.core's CoreException wraps the API's or the connection's error: that error is explained."""
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    refused = MaxRetryError(None, "/api", reason=OSError("[Errno 111] Connection refused"))
    try:
        try:
            raise refused
        except MaxRetryError as inner:
            raise CoreException("Failed to retrieve requested object: %s" % inner) from inner
    except CoreException as wrapped:
        assert explain(wrapped, "lab-dev", "Namespace stackrox", "https://127.0.0.1:1") == (
            "cluster lab-dev: API server at https://127.0.0.1:1 unreachable while accessing Namespace stackrox: "
            "connection refused")
    try:
        try:
            raise ConfigException("Invalid kube-config file. No configuration found.")
        except ConfigException as inner:
            raise CoreException("Could not create API client: %s" % inner) from inner
    except CoreException as wrapped:
        assert explain(wrapped, "hub", "x") == \
            "cluster hub: cannot load connection settings: Invalid kube-config file. No configuration found."
    plain = CoreException("Failed to find exact match for example.com/v1.Widget by [kind, name, singularName, shortNames]")
    assert explain(plain, "prod", "Widget w") == (
        "cluster prod: Widget w: Failed to find exact match for example.com/v1.Widget by [kind, name, singularName, "
        "shortNames]")


class FakeResource:
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.calls = []

    def _do(self, verb, **kwargs):
        self.calls.append((verb, kwargs))
        outcome = self.behaviour.get(verb)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def get(self, **kwargs):
        return self._do("get", **kwargs)

    def create(self, **kwargs):
        return self._do("create", **kwargs)

    def patch(self, **kwargs):
        return self._do("patch", **kwargs)

    def delete(self, **kwargs):
        return self._do("delete", **kwargs)


class FakeClient:
    def __init__(self, resources):
        self.resources_by_kind = resources
        self.configuration = type("C", (), {"host": "https://127.0.0.1:6443"})()
        self.lookups = 0

    def resource(self, kind, api_version):
        self.lookups += 1
        if kind not in self.resources_by_kind:
            raise ResourceNotFoundError("no %s" % kind)
        return self.resources_by_kind[kind]


def test_cluster_get_returns_none_on_404_and_caches_discovery():
    res = FakeResource({"get": api_error(404)})
    client = FakeClient({"Secret": res})
    c = Cluster(FakeModule(cluster_name="hub"), client=client)
    assert c.get("v1", "Secret", "a", "ns") is None
    assert c.get("v1", "Secret", "a", "ns") is None
    assert client.lookups == 1
    assert res.calls[0][1]["_request_timeout"] == cluster_mod.REQUEST_TIMEOUT


def test_cluster_get_list_create_patch_delete_paths():
    res = FakeResource({"get": {"items": [{"a": 1}]}, "create": {"metadata": {"name": "x"}},
                        "patch": {"patched": True}, "delete": None})
    c = Cluster(FakeModule(cluster_name="hub"), client=FakeClient({"ConfigMap": res}))
    assert c.list("v1", "ConfigMap", namespace="ns", label_selector="a=b") == [{"a": 1}]
    assert c.create("v1", "ConfigMap", {"metadata": {"name": "x"}}, "ns") == {"metadata": {"name": "x"}}
    assert c.patch("v1", "ConfigMap", "x", {"data": {}}, "ns") == {"patched": True}
    assert res.calls[-1][1]["content_type"] == "application/merge-patch+json"
    assert c.delete("v1", "ConfigMap", "x", "ns") is True


def test_cluster_delete_of_missing_object_is_false_and_errors_are_phrased():
    res = FakeResource({"delete": api_error(404), "get": api_error(403, "no list for you"),
                        "create": api_error(422, "spec.x: Invalid value")})
    c = Cluster(FakeModule(cluster_name="hub"), client=FakeClient({"ConfigMap": res}))
    assert c.delete("v1", "ConfigMap", "x", "ns") is False
    with pytest.raises(ClusterError, match="cluster hub: permission denied \\(HTTP 403\\) on ConfigMap list in "
                                           "namespace ns: no list for you"):
        c.list("v1", "ConfigMap", namespace="ns")
    with pytest.raises(ClusterError, match="ConfigMap ns/x was rejected as invalid \\(HTTP 422\\): spec.x"):
        c.create("v1", "ConfigMap", {"metadata": {"name": "x"}}, "ns")
    res.behaviour["get"] = api_error(500, "etcd down")
    with pytest.raises(ClusterError, match="API server error \\(HTTP 500\\) on ConfigMap ns/x: etcd down"):
        c.get("v1", "ConfigMap", "x", "ns")
    res.behaviour["delete"] = api_error(403, "nope")
    with pytest.raises(ClusterError, match="permission denied"):
        c.delete("v1", "ConfigMap", "x", "ns")


def test_cluster_unknown_kind_is_a_missing_crd():
    c = Cluster(FakeModule(cluster_name="hub"), client=FakeClient({}))
    with pytest.raises(ClusterError, match="cluster hub: the API server does not serve Widget \\(x.io/v1\\): the "
                                           "CustomResourceDefinition is missing"):
        c.resource("x.io/v1", "Widget")


def test_cluster_discovery_failure_is_phrased():
    class Broken(FakeClient):
        def resource(self, kind, api_version):
            raise api_error(401)

    c = Cluster(FakeModule(cluster_name="hub"), client=Broken({}))
    with pytest.raises(ClusterError, match="authentication failed"):
        c.resource("v1", "Secret")


def test_client_creation_failures(monkeypatch):
    def refuse(module):
        raise MaxRetryError(None, "/version", reason=NewConnectionError(None, "Connection refused"))

    monkeypatch.setattr(cluster_mod, "get_api_client", refuse)
    c = Cluster(FakeModule(cluster_name="hub", host="https://127.0.0.1:1"))
    with pytest.raises(ClusterError, match="cluster hub: API server at https://127.0.0.1:1 unreachable while "
                                           "accessing API discovery: connection refused"):
        c.client  # pylint: disable=pointless-statement

    def bad_config(module):
        raise ConfigException("Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(cluster_mod, "get_api_client", bad_config)
    with pytest.raises(ClusterError, match="cluster hub: cannot load connection settings: Invalid kube-config"):
        Cluster(FakeModule(cluster_name="hub")).client  # pylint: disable=expression-not-assigned
    assert Cluster(FakeModule(cluster_name="hub"), client=FakeClient({})).server == "https://127.0.0.1:6443"


def test_managed_labels():
    labels = managed_labels({"a": "b"})
    assert labels == {"app.kubernetes.io/managed-by": "devsecops.multicluster", "a": "b"}
    assert is_managed({"metadata": {"labels": labels}})
    assert not is_managed({"metadata": {}})
    assert not is_managed(None)
