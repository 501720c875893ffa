"""The far side of a cross-cluster module is built from its own options only."""

import base64
import os

import kubernetes
import pytest
import yaml
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_client

from ansible_collections.devsecops.multicluster.plugins.module_utils import cluster as cluster_mod
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    Cluster,
    ClusterError,
    _OptionsView,
    far_side_option,
    isolated_client_environment,
)

PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


class FakeModule:
    def __init__(self, **params):
        self.params = params

    def requires(self, *args, **kwargs):
        return None


def hub_kubeconfig(tmp_path):
    path = tmp_path / "hub.kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "hub",
        "clusters": [{"name": "hub", "cluster": {"server": "https://hub.example:6443",
                                                 "certificate-authority-data": PEM}}],
        "users": [{"name": "hub-admin", "user": {"client-certificate-data": PEM, "client-key-data": PEM}}],
        "contexts": [{"name": "hub", "context": {"cluster": "hub", "user": "hub-admin"}}],
    }))
    return str(path)


@pytest.fixture
def leaky_environment(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://leak.example:6443")
    monkeypatch.setenv("K8S_AUTH_API_KEY", "leaked-token-value")
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "leaked-context")
    yield
    kubernetes.client.Configuration.set_default(kubernetes.client.Configuration())


def test_far_side_ignores_k8s_auth_environment_and_restores_it(leaky_environment):
    view = _OptionsView(FakeModule(), {"host": "https://target.example:6443", "api_key": "target-token",
                                       "validate_certs": True})
    with isolated_client_environment(mask_environment=True):
        auth = k8s_client._create_auth_spec(view)
    auth.pop("proxy_headers", None)  # always present, empty without K8S_AUTH_PROXY_HEADERS_*
    assert auth == {"host": "https://target.example:6443", "api_key": "target-token", "verify_ssl": True}
    assert os.environ["K8S_AUTH_API_KEY"] == "leaked-token-value"


def test_own_side_keeps_kubernetes_core_environment_fallbacks(leaky_environment):
    module = FakeModule(**dict((k, None) for k in cluster_mod.AUTH_ARG_SPEC))
    with isolated_client_environment(mask_environment=False):
        auth = k8s_client._create_auth_spec(module)
    assert auth["host"] == "https://leak.example:6443"


def test_a_kubeconfig_loaded_for_one_cluster_does_not_leak_into_the_next(tmp_path):
    # The hazard: loading the hub's kubeconfig changes the process-wide default configuration,
    # and a host+token client for another cluster starts as a copy of it.
    kubernetes.config.load_kube_config(config_file=hub_kubeconfig(tmp_path), context="hub")
    leaked = k8s_client._create_configuration({"host": "https://target.example:6443", "api_key": "t"})
    assert leaked.cert_file, "control: without isolation the hub's client certificate is inherited"

    kubernetes.config.load_kube_config(config_file=hub_kubeconfig(tmp_path), context="hub")
    with isolated_client_environment(mask_environment=True):
        clean = k8s_client._create_configuration({"host": "https://target.example:6443", "api_key": "t"})
    assert clean.cert_file is None and clean.key_file is None and clean.ssl_ca_cert is None
    assert clean.host == "https://target.example:6443"
    assert kubernetes.client.Configuration.get_default_copy().host != "https://hub.example:6443"


def test_far_side_needs_an_explicit_connection():
    with pytest.raises(ClusterError, match="target: give kubeconfig .* never taken from the environment"):
        Cluster(FakeModule(), options={"context": "dev", "validate_certs": True}, role="target")


def test_far_side_client_is_built_from_its_options(monkeypatch, leaky_environment):
    seen = {}

    def fake_get_api_client(module=None, **kwargs):
        seen["params"] = dict(module.params)
        seen["env"] = dict((k, v) for k, v in os.environ.items() if k.startswith("K8S_AUTH_"))
        return "client"

    monkeypatch.setattr(cluster_mod, "get_api_client", fake_get_api_client)
    far = Cluster(FakeModule(), options={"host": "https://t:6443", "api_key": "tok", "cluster_name": "lab-dev",
                                         "validate_certs": True}, role="target")
    assert far.client == "client"
    assert far.name == "lab-dev"
    assert seen["env"] == {}
    assert seen["params"]["host"] == "https://t:6443" and seen["params"]["context"] is None


def test_far_side_option_spec_marks_secrets_no_log():
    spec = far_side_option()
    assert spec["options"]["api_key"]["no_log"] is True
    assert spec["options"]["kubeconfig"]["no_log"] is True
    assert spec["options"]["validate_certs"]["default"] is True
