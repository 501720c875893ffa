"""Unit tests for the module entry points: argument handling, results, failures, no tracebacks."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

import base64

from ansible_collections.devsecops.multicluster.plugins.modules import olm_operator, resource_ready, secret_sync
from fakes import Exit, Fail, FakeCluster, catalog, crd, use_fake


def run(module, args, expect=Exit):
    with patch_module_args(args):
        with pytest.raises(expect):
            module.main()


def olm_world():
    fake = FakeCluster()
    catalog(fake)
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openshift-operators"}})
    fake.add({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
              "metadata": {"name": "global-operators", "namespace": "openshift-operators"}, "spec": {}})
    return fake


def test_olm_operator_check_mode_with_diff(monkeypatch, module_io):
    fake = olm_world()
    use_fake(monkeypatch, olm_operator, fake)
    run(olm_operator, {"name": "rhacs-operator", "channel": "stable", "_ansible_check_mode": True,
                       "_ansible_diff": True, "cluster_name": "lab-hub"})
    assert module_io["changed"] is True
    assert module_io["actions"] == ["create Subscription openshift-operators/rhacs-operator"]
    assert module_io["diff"]["after"]["subscription"]["channel"] == "stable"
    assert module_io["operator"]["ready"] is False
    assert fake.writes == []


def test_olm_operator_no_wait_reports_ready_when_installed(monkeypatch, module_io):
    fake = olm_world()
    fake.add({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
              "metadata": {"name": "rhacs-operator", "namespace": "openshift-operators"},
              "spec": {"name": "rhacs-operator", "channel": "stable", "source": "redhat-operators",
                       "sourceNamespace": "openshift-marketplace", "installPlanApproval": "Automatic"},
              "status": {"installedCSV": "rhacs-operator.v4.9.1", "state": "AtLatestKnown"}})
    fake.add({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
              "metadata": {"name": "rhacs-operator.v4.9.1", "namespace": "openshift-operators"},
              "spec": {"customresourcedefinitions": {"owned": [{"name": "centrals.platform.stackrox.io"}]}},
              "status": {"phase": "Succeeded"}})
    fake.add(crd("centrals.platform.stackrox.io"))
    use_fake(monkeypatch, olm_operator, fake)
    run(olm_operator, {"name": "rhacs-operator", "channel": "stable", "wait": False})
    assert module_io["changed"] is False
    assert module_io["operator"]["ready"] is True
    assert module_io["operator"]["installed_csv"] == "rhacs-operator.v4.9.1"
    assert fake.writes == []


def test_olm_operator_bad_arguments_fail_clearly(monkeypatch, module_io):
    use_fake(monkeypatch, olm_operator, olm_world())
    run(olm_operator, {"name": "advanced-cluster-management", "install_mode": "OwnNamespace",
                       "cluster_name": "lab-hub"}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-hub: operator advanced-cluster-management: namespace is required when "
                                "install_mode is OwnNamespace")


def test_olm_operator_cluster_errors_become_fail_json(monkeypatch, module_io):
    use_fake(monkeypatch, olm_operator, FakeCluster(served={"Namespace"}))
    run(olm_operator, {"name": "rhacs-operator", "cluster_name": "lab-dev"}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-dev: the API server does not serve CatalogSource")
    assert module_io["actions"] == []


def test_olm_operator_absent(monkeypatch, module_io):
    fake = olm_world()
    fake.add({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
              "metadata": {"name": "rhacs-operator", "namespace": "openshift-operators"},
              "spec": {"name": "rhacs-operator"}, "status": {"installedCSV": "rhacs-operator.v4.9.1"}})
    fake.add({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
              "metadata": {"name": "rhacs-operator.v4.9.1", "namespace": "openshift-operators"},
              "status": {"phase": "Succeeded"}})
    use_fake(monkeypatch, olm_operator, fake)
    run(olm_operator, {"name": "rhacs-operator", "state": "absent"})
    assert module_io["changed"] is True
    assert module_io["operator"]["removed"]["csvs"] == ["rhacs-operator.v4.9.1"]
    assert fake.find("Subscription", "rhacs-operator", "openshift-operators") is None


def test_olm_operator_argument_spec_marks_secrets_no_log():
    spec = olm_operator.argument_spec()
    assert spec["api_key"]["no_log"] is True
    assert spec["kubeconfig"]["no_log"] is True
    assert spec["password"]["no_log"] is True


def test_resource_ready_success_and_check_mode(monkeypatch, module_io):
    fake = FakeCluster()
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}, "status": {"phase": "Active"}})
    use_fake(monkeypatch, resource_ready, fake)
    run(resource_ready, {"kind": "Namespace", "name": "a", "condition": "status.phase == 'Active'"})
    assert module_io["ready"] is True and module_io["changed"] is False
    module_io.clear()
    run(resource_ready, {"kind": "Namespace", "name": "b", "condition": "status", "_ansible_check_mode": True})
    assert module_io["ready"] is False


def test_resource_ready_bad_expression_and_timeout(monkeypatch, module_io):
    fake = FakeCluster()
    use_fake(monkeypatch, resource_ready, fake)
    run(resource_ready, {"kind": "Namespace", "name": "a", "condition": "==", "cluster_name": "lab-hub"}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Namespace a: condition is not a valid JMESPath expression")
    module_io.clear()
    run(resource_ready, {"kind": "Namespace", "name": "a", "condition": "status", "timeout": 0,
                         "cluster_name": "lab-hub"}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-hub: Namespace a did not satisfy 'status' within 0s; the object does "
                                "not exist")
    assert json.dumps(module_io["resource"]) == "null"


def _pull_world():
    fake = FakeCluster()
    fake.add({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
              "metadata": {"name": "dev-quay-pull", "namespace": "records"},
              "data": {".dockerconfigjson": base64.b64encode(b'{"auths": {"q": {"auth": "c2VjcmV0LXZhbHVl"}}}').decode()}})
    return fake


def test_secret_sync_many_namespaces_in_one_call(monkeypatch, module_io):
    fake = _pull_world()
    use_fake(monkeypatch, secret_sync, fake)
    args = {"source_namespace": "records", "source_name": "dev-quay-pull", "name": "quay-pull",
            "namespaces": ["team-a", "team-b"], "cluster_name": "lab-dev", "_ansible_diff": True}
    run(secret_sync, args)
    assert module_io["changed"] is True
    assert module_io["secrets"] == ["team-a/quay-pull", "team-b/quay-pull"]
    assert module_io["secret"] == "team-a/quay-pull"
    assert sorted(module_io["diff"]["after"]) == ["team-a/quay-pull", "team-b/quay-pull"]
    assert "c2VjcmV0LXZhbHVl" not in json.dumps(module_io)
    for namespace in ("team-a", "team-b"):
        assert fake.find("Secret", "quay-pull", namespace)["type"] == "kubernetes.io/dockerconfigjson"
    run(secret_sync, args)
    assert module_io["changed"] is False and module_io["actions"] == []
    fake.objects.pop(("Secret", "team-b", "quay-pull"))
    run(secret_sync, dict(args, _ansible_check_mode=True))
    assert module_io["changed"] is True
    assert module_io["actions"] == ["create Secret team-b/quay-pull on lab-dev"]
    assert fake.find("Secret", "quay-pull", "team-b") is None


def test_secret_sync_namespace_and_namespaces_are_exclusive_and_namespaces_not_empty(monkeypatch, module_io):
    use_fake(monkeypatch, secret_sync, _pull_world())
    base = {"source_namespace": "records", "source_name": "dev-quay-pull", "cluster_name": "lab-dev"}
    run(secret_sync, dict(base, namespace="a", namespaces=["b"]), expect=Fail)
    assert "mutually exclusive" in module_io["msg"]
    run(secret_sync, dict(base, namespaces=[]), expect=Fail)
    assert "namespaces is empty" in module_io["msg"]


def test_secret_sync_missing_source_fails_naming_it(monkeypatch, module_io):
    use_fake(monkeypatch, secret_sync, FakeCluster())
    run(secret_sync, {"source_namespace": "records", "source_name": "nope", "namespaces": ["a", "b"],
                      "cluster_name": "lab-dev"}, expect=Fail)
    assert "records/nope" in module_io["msg"] and "Traceback" not in module_io["msg"]
