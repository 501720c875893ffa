"""Unit tests for the ACS modules' entry points: results without secrets, failures without tracebacks."""

import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.devsecops.multicluster.plugins.module_utils import acs_module, product
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
from ansible_collections.devsecops.multicluster.plugins.modules import (
    acs_api_token,
    acs_central_info,
    acs_cluster_info,
    acs_registration,
)
from fakes import Exit, FakeCentral, FakeCluster, Fail, use_fake

CENTRAL = {"endpoint": "central.example:443", "token": "given-token-value"}


def run(module, args, expect=Exit):
    with patch_module_args(args):
        with pytest.raises(expect):
            module.main()


def use_central(monkeypatch, central, refuse=False):
    def factory(options, cluster=None):
        central.options = options
        central.secret_values = [options.get("token")] if options.get("token") else []

        def authenticate():
            if refuse:
                raise RestError("Central https://central.example:443: authentication failed: the token given was "
                                "refused (HTTP 401)", 401)
            return {}
        central.authenticate = authenticate
        return central
    monkeypatch.setattr(acs_module, "Central", factory)


def test_api_token_result_has_no_token_value(monkeypatch, module_io):
    central, hub = FakeCentral(), FakeCluster("hub")
    use_fake(monkeypatch, product, hub)
    use_central(monkeypatch, central)
    run(acs_api_token, {"central": CENTRAL, "consumer": "dev", "purpose": "ci",
                        "roles": ["Continuous Integration"], "cluster_name": "hub"})
    token = next(iter(central.tokens.values()))["value"]
    assert module_io["changed"] is True and module_io["token"]["reused"] is False
    assert token not in json.dumps(module_io)
    assert module_io["token"]["record"] == "devsecops-multicluster/dev-acs-ci"


def test_wrong_credentials_fail_naming_cluster_and_endpoint(monkeypatch, module_io):
    use_fake(monkeypatch, product, FakeCluster("hub"))
    use_central(monkeypatch, FakeCentral(), refuse=True)
    run(acs_api_token, {"central": CENTRAL, "consumer": "dev", "purpose": "ci", "roles": ["Admin"],
                        "cluster_name": "lab-hub"}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Central https://central.example:443: authentication failed")
    assert "given-token-value" not in module_io["msg"]


def test_registration_module_mints_and_delivers(monkeypatch, module_io):
    central, hub, spoke = FakeCentral(), FakeCluster("hub"), FakeCluster("dev")
    use_fake(monkeypatch, product, hub)
    use_central(monkeypatch, central)
    monkeypatch.setattr(acs_registration, "Cluster", lambda module, options=None, role=None: spoke)
    run(acs_registration, {"central": CENTRAL, "secured_cluster": "dev", "cluster_name": "hub",
                           "target": {"host": "https://dev:6443", "api_key": "x" * 20, "cluster_name": "dev"}})
    assert module_io["registration"]["mechanism"] == "crs"
    assert spoke.find("Secret", "cluster-registration-secret", "stackrox")
    assert "K-id-1" not in json.dumps(module_io)


def test_registration_module_refuses_lost_record(monkeypatch, module_io):
    central, hub, spoke = FakeCentral(), FakeCluster("hub"), FakeCluster("dev")
    central.generate_crs("dev")
    use_fake(monkeypatch, product, hub)
    use_central(monkeypatch, central)
    monkeypatch.setattr(acs_registration, "Cluster", lambda module, options=None, role=None: spoke)
    run(acs_registration, {"central": CENTRAL, "secured_cluster": "dev", "cluster_name": "hub",
                           "target": {"host": "https://dev:6443", "cluster_name": "dev"}}, expect=Fail)
    assert "Central already has crs dev" in module_io["msg"] and module_io["msg"].startswith("cluster dev:")


def test_cluster_info_wait_timeout_says_what_central_reported(monkeypatch, module_io):
    central = FakeCentral()
    status = {"overallHealthStatus": "UNHEALTHY", "sensorHealthStatus": "UNHEALTHY"}
    central.clusters_list = [{"id": "1", "name": "dev", "healthStatus": status}]
    central.clusters = lambda: central.clusters_list
    central.endpoint = "https://central.example:443"
    use_fake(monkeypatch, product, FakeCluster("hub"))
    use_central(monkeypatch, central)
    run(acs_cluster_info, {"central": CENTRAL, "secured_cluster": "dev", "wait": True, "wait_timeout": 0,
                           "cluster_name": "hub"}, expect=Fail)
    assert "did not report healthy" in module_io["msg"] and "Central reports UNHEALTHY (sensor UNHEALTHY" \
        in module_io["msg"]
    run(acs_cluster_info, {"central": CENTRAL, "cluster_name": "hub"})
    assert module_io["clusters"][0]["overall"] == "UNHEALTHY"
    run(acs_cluster_info, {"central": CENTRAL, "wait": True, "cluster_name": "hub"}, expect=Fail)
    assert "wait needs secured_cluster" in module_io["msg"]


def _central_world(deployed=True, route=True):
    hub = FakeCluster("hub")
    hub.add({"apiVersion": "platform.stackrox.io/v1alpha1", "kind": "Central",
             "metadata": {"name": "stackrox-central-services", "namespace": "stackrox"},
             "spec": {"central": {"adminPasswordSecret": {"name": "my-admin"}}},
             "status": {"conditions": [{"type": "Deployed", "status": "True" if deployed else "False",
                                        "reason": "InstallSuccessful" if deployed else "Installing"}]}})
    if route:
        hub.add({"apiVersion": "route.openshift.io/v1", "kind": "Route",
                 "metadata": {"name": "central", "namespace": "stackrox"}, "spec": {"host": "central-stackrox.apps"}})
    hub.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "central-tls", "namespace": "stackrox"},
             "data": {"ca.pem": base64.b64encode(b"CA PEM").decode(), "ca-key.pem": base64.b64encode(b"KEY").decode()}})
    return hub


def test_central_info_discovers_endpoint_ca_and_password_secret(monkeypatch, module_io):
    use_fake(monkeypatch, product, _central_world())
    run(acs_central_info, {"cluster_name": "hub"})
    assert module_io["endpoint"] == "central-stackrox.apps:443" and module_io["ca"] == "CA PEM"
    assert module_io["password_secret"] == {"namespace": "stackrox", "name": "my-admin", "key": "password"}
    assert "KEY" not in json.dumps(module_io) and module_io["deployed"] is True


def test_central_info_wait_reports_why_central_is_not_ready(monkeypatch, module_io):
    use_fake(monkeypatch, product, _central_world(deployed=False))
    run(acs_central_info, {"cluster_name": "hub", "wait": True, "wait_timeout": 0}, expect=Fail)
    assert "is not ready after 0s" in module_io["msg"] and "not deployed yet (Deployed: Installing)" in module_io["msg"]
    use_fake(monkeypatch, product, _central_world(route=False))
    run(acs_central_info, {"cluster_name": "hub", "wait": True, "wait_timeout": 0}, expect=Fail)
    assert "no Route 'central'" in module_io["msg"]
    use_fake(monkeypatch, product, _central_world())
    run(acs_central_info, {"cluster_name": "hub", "wait": True, "wait_timeout": 0, "endpoint": "localhost:1"},
        expect=Fail)
    assert module_io["msg"].startswith("cluster hub: the CA given is not a valid PEM certificate")
