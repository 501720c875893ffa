"""Unit tests for the Quay modules' entry points: results without secrets, failures without tracebacks."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.devsecops.multicluster.plugins.module_utils import product
from ansible_collections.devsecops.multicluster.plugins.modules import (
    quay_bootstrap,
    quay_organization,
    quay_organization_info,
    quay_registry_info,
    quay_robot,
    quay_token,
)
from fakes import Exit, FakeCluster, FakeQuay, Fail, use_fake

QUAY = {"endpoint": "quay.example"}


def run(module, args, expect=Exit):
    with patch_module_args(dict(args, cluster_name="lab-hub")):
        with pytest.raises(expect):
            module.main()


@pytest.fixture
def world(monkeypatch):
    quay, hub = FakeQuay(), FakeCluster("hub")
    use_fake(monkeypatch, product, hub)
    for module in (quay_bootstrap, quay_organization, quay_organization_info, quay_robot, quay_token):
        monkeypatch.setattr(module, "Quay", lambda options, cluster=None: quay)
    return quay, hub


def authenticated(quay):
    """As after quay_bootstrap: the admin exists and the modules authenticate with its token."""
    quay.initialize("quayadmin", "pw", "a@example.com")
    quay.given = [quay.users["quayadmin"]["token"]]


def test_bootstrap_then_token_and_robot_return_no_secret(world, module_io):
    quay, hub = world
    run(quay_bootstrap, {"quay": QUAY})
    admin = quay.users["quayadmin"]
    assert module_io["admin"]["mechanism"] == "initialize" and module_io["changed"] is True
    assert admin["token"] not in json.dumps(module_io) and admin["password"] not in json.dumps(module_io)
    quay.given = [admin["token"]]
    run(quay_organization, {"quay": QUAY, "name": "devel", "repositories": [{"name": "example"}]})
    run(quay_organization, {"quay": QUAY, "name": "devsecops", "applications": [{"name": "quay-bridge"}]})
    run(quay_token, {"quay": QUAY, "organization": "devsecops", "application": "quay-bridge", "consumer": "lab-dev",
                     "purpose": "bridge", "scopes": ["repo:read", "user:read"]})
    token = next(iter(quay.tokens.values()))["token"]
    assert token not in json.dumps(module_io) and module_io["token"]["record"] == "devsecops-multicluster/lab-dev-quay-bridge"
    run(quay_robot, {"quay": QUAY, "organization": "devel", "name": "lab_dev_pull",
                     "permissions": [{"repository": "example", "role": "read"}]})
    robot = quay.robots["devel+lab_dev_pull"]["token"]
    assert robot not in json.dumps(module_io) and module_io["robot"]["name"] == "devel+lab_dev_pull"


def test_organization_info_waits_and_names_the_missing(world, module_io):
    quay, _hub = world
    authenticated(quay)
    quay.create_organization("openshift_ci")
    run(quay_organization_info, {"quay": QUAY, "names": ["openshift_ci", "openshift_dev"]})
    assert module_io["missing"] == ["openshift_dev"] and module_io["organizations"]["openshift_ci"]
    run(quay_organization_info, {"quay": QUAY, "names": ["openshift_dev"], "wait": True, "wait_timeout": 0},
        expect=Fail)
    assert module_io["msg"] == "cluster lab-hub: Quay https://quay.example:443: organizations openshift_dev do not " \
                               "exist after 0s"


def test_failures_name_the_cluster_and_object(world, module_io):
    quay, _hub = world
    quay.initialize_mode = "disabled"
    run(quay_bootstrap, {"quay": QUAY}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Quay https://quay.example:443: first user quayadmin: "
                                       "user initialization is disabled")
    quay.initialize_mode = "ok"
    authenticated(quay)
    run(quay_organization, {"quay": QUAY, "name": "Not Valid"}, expect=Fail)
    assert "organization Not Valid: Quay refused to create it" in module_io["msg"]
    quay.given = ["revoked"]
    run(quay_robot, {"quay": QUAY, "organization": "devel", "name": "x_pull"}, expect=Fail)
    assert module_io["msg"] == "cluster lab-hub: Quay https://quay.example:443: authentication failed: the token " \
                               "given was refused (HTTP 401)"


def registry(available=True, endpoint="https://localhost:8443", ca="CA PEM"):
    hub = FakeCluster("hub")
    hub.add({"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "default-ingress-cert", "namespace": "openshift-config-managed"},
             "data": {"ca-bundle.crt": ca}})
    status = {"currentVersion": "3.18.0", "conditions": [
        {"type": "Available", "status": "True" if available else "False", "reason": "x"},
        {"type": "ComponentsCreationSuccess", "status": "False", "message": "waiting for object storage claim"}]}
    if endpoint:
        status["registryEndpoint"] = endpoint
    hub.add({"apiVersion": "quay.redhat.com/v1", "kind": "QuayRegistry",
             "metadata": {"name": "registry", "namespace": "quay-enterprise"},
             "spec": {"configBundleSecret": "bundle"}, "status": status})
    return hub


def test_registry_info_reads_endpoint_hostname_and_ingress_ca(monkeypatch, module_io):
    use_fake(monkeypatch, product, registry())
    run(quay_registry_info, {})
    assert module_io["available"] and module_io["endpoint"] == "https://localhost:8443"
    assert module_io["hostname"] == "localhost:8443" and module_io["ca"] == "CA PEM"
    assert module_io["config_bundle_secret"] == "bundle" and module_io["version"] == "3.18.0"
    use_fake(monkeypatch, product, registry(endpoint="https://quay.apps.example:443"))
    run(quay_registry_info, {})
    assert module_io["hostname"] == "quay.apps.example"


def test_registry_info_wait_reports_what_the_operator_said(monkeypatch, module_io):
    use_fake(monkeypatch, product, registry(available=False))
    run(quay_registry_info, {"wait": True, "wait_timeout": 0}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-hub: QuayRegistry quay-enterprise/registry is not ready after 0s: "
                                "QuayRegistry quay-enterprise/registry is not available (ComponentsCreationSuccess: "
                                "waiting for object storage claim)")
    use_fake(monkeypatch, product, FakeCluster("hub"))
    run(quay_registry_info, {"wait": True, "wait_timeout": 0}, expect=Fail)
    assert "QuayRegistry quay-enterprise/registry does not exist" in module_io["msg"]
