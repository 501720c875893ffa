"""Unit tests for resource and resource_info: kubernetes.core's resource handling behind the collection's
argument handling and failure messages (named cluster, no traceback)."""

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import runner
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from kubernetes.dynamic.exceptions import api_exception
from kubernetes.client.rest import ApiException
from urllib3.exceptions import MaxRetryError

from ansible_collections.devsecops.multicluster.plugins.modules import resource, resource_info


class Exited(SystemExit):
    """exit_json/fail_json end the module as in a real run: SystemExit, which a module's own
    'except Exception' does not catch."""


@pytest.fixture
def io(monkeypatch):
    results = {}

    def exit_json(self, **kwargs):
        results.update(kwargs, outcome="exit")
        raise Exited(0)

    def fail_json(self, **kwargs):
        results.update(kwargs, outcome="fail")
        raise Exited(1)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    return results


def run(module, args):
    with patch_module_args(args):
        with pytest.raises(Exited):
            module.main()


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "devsecops-ci"}}


def refused(*_args, **_kwargs):
    raise MaxRetryError(None, "/version", reason=OSError("[Errno 111] Connection refused"))


def test_resource_hands_kubernetes_core_the_parsed_arguments(monkeypatch, io):
    seen = {}

    def fake_run_module(module):
        seen.update(module.params)
        module.exit_json(changed=True, result=module.params["resource_definition"])

    monkeypatch.setattr(resource, "run_module", fake_run_module)
    run(resource, {"definition": NAMESPACE, "state": "present", "wait": True, "wait_sleep": 1,
                   "apply": True, "server_side_apply": {"field_manager": "devsecops"}})
    assert io["outcome"] == "exit" and io["changed"] is True
    assert io["result"] == NAMESPACE
    assert seen["resource_definition"] == NAMESPACE
    assert seen["server_side_apply"] == {"field_manager": "devsecops", "force_conflicts": False}
    assert (seen["wait"], seen["wait_sleep"], seen["wait_timeout"], seen["api_version"]) == (True, 1, 120, "v1")


def test_resource_failures_of_kubernetes_core_name_the_cluster_and_carry_no_traceback(monkeypatch, io):
    def failing_run_module(module):
        module.fail_json(msg="Failed to create object: b'namespaces \"x\" is forbidden'", exception="Traceback ...",
                         error=403)

    monkeypatch.setattr(resource, "run_module", failing_run_module)
    run(resource, {"definition": NAMESPACE, "cluster_name": "lab-dev"})
    assert io["outcome"] == "fail"
    assert io["msg"] == "cluster lab-dev: Failed to create object: b'namespaces \"x\" is forbidden'"
    assert "exception" not in io
    assert io["error"] == 403


def test_resource_unreachable_cluster_through_the_real_runner(monkeypatch, io):
    monkeypatch.setattr(runner, "get_api_client", refused)
    run(resource, {"kind": "Namespace", "name": "devsecops-ci", "state": "absent",
                   "host": "https://127.0.0.1:9", "api_key": "not-a-real-token"})
    assert io["outcome"] == "fail"
    assert io["msg"] == ("cluster https://127.0.0.1:9: API server at https://127.0.0.1:9 unreachable while "
                         "accessing Namespace devsecops-ci: connection refused")
    assert "not-a-real-token" not in repr(io)


def test_resource_kind_not_served_through_the_real_runner(monkeypatch, io):
    class Client:
        def resource(self, kind, api_version):
            raise CoreException("Failed to find exact match for %s.%s" % (api_version, kind))

    monkeypatch.setattr(runner, "get_api_client", lambda module: Client())
    run(resource, {"definition": {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                   "cluster_name": "lab-prod"})
    assert io["outcome"] == "fail"
    assert io["msg"].startswith("cluster lab-prod: ")
    assert "Widget" in io["msg"]


@pytest.mark.parametrize("args, phrase", [
    ({"definition": NAMESPACE, "state": "gone"}, "value of state must be one of"),
    ({"definition": NAMESPACE, "apply": True, "merge_type": ["merge"]}, "mutually exclusive"),
    ({"definition": NAMESPACE, "server_side_apply": {"force_conflicts": True}}, "field_manager"),
])
def test_resource_bad_arguments_fail_before_any_request(monkeypatch, io, args, phrase):
    monkeypatch.setattr(resource, "run_module", lambda module: pytest.fail("no request for bad arguments"))
    run(resource, args)
    assert io["outcome"] == "fail"
    assert phrase in io["msg"]


def test_resource_what_names_the_object():
    assert resource.what({"kind": "Secret", "name": "s", "namespace": "n"}) == "Secret n/s"
    assert resource.what({"kind": "Namespace", "name": "n"}) == "Namespace n"
    assert resource.what({"kind": "Secret"}) == "Secret"
    assert resource.what({"resource_definition": [NAMESPACE]}) == "the objects of the definition"


class FakeService:
    found = {"api_found": True, "resources": [NAMESPACE]}
    error = None
    calls = []

    def __init__(self, client, module):
        self.client = client

    def find(self, kind, api_version, **kwargs):
        self.calls.append((kind, api_version, kwargs))
        if self.error is not None:
            raise self.error
        return self.found


def test_resource_info_returns_what_kubernetes_core_found(monkeypatch, io):
    monkeypatch.setattr(resource_info, "get_api_client", lambda module: object())
    monkeypatch.setattr(resource_info, "K8sService", FakeService)
    FakeService.calls = []
    run(resource_info, {"kind": "Namespace", "label_selectors": ["app.kubernetes.io/managed-by=devsecops.multicluster"]})
    assert io["outcome"] == "exit" and io["changed"] is False
    assert io["resources"] == [NAMESPACE] and io["api_found"] is True
    kind, api_version, kwargs = FakeService.calls[0]
    assert (kind, api_version) == ("Namespace", "v1")
    assert kwargs["label_selectors"] == ["app.kubernetes.io/managed-by=devsecops.multicluster"]
    assert kwargs["wait"] is False and kwargs["name"] is None


def test_resource_info_kind_not_served_is_not_a_failure(monkeypatch, io):
    monkeypatch.setattr(resource_info, "get_api_client", lambda module: object())
    monkeypatch.setattr(resource_info, "K8sService", FakeService)
    monkeypatch.setattr(FakeService, "found", {"api_found": False, "resources": [], "msg": "Failed to find API"})
    run(resource_info, {"api_version": "platform.stackrox.io/v1alpha1", "kind": "SecuredCluster"})
    assert io["outcome"] == "exit"
    assert io["api_found"] is False and io["resources"] == []


def test_resource_info_unreachable_and_forbidden_name_cluster_and_object(monkeypatch, io):
    monkeypatch.setattr(resource_info, "get_api_client", refused)
    run(resource_info, {"kind": "Secret", "name": "s", "namespace": "n", "cluster_name": "lab-hub",
                        "host": "https://127.0.0.1:9"})
    assert io["msg"] == ("cluster lab-hub: API server at https://127.0.0.1:9 unreachable while accessing "
                         "Secret n/s: connection refused")
    io.clear()
    forbidden = ApiException(status=403, reason="Forbidden")
    forbidden.body = '{"kind": "Status", "message": "secrets \\"s\\" is forbidden"}'
    monkeypatch.setattr(resource_info, "get_api_client", lambda module: object())
    monkeypatch.setattr(resource_info, "K8sService", FakeService)
    try:
        try:
            raise api_exception(forbidden)
        except Exception:  # pylint: disable=broad-except  # kubernetes.core wraps without 'from'
            raise CoreException("Exception raised while trying to get resource")
    except CoreException as wrapped:
        monkeypatch.setattr(FakeService, "error", wrapped)
    run(resource_info, {"kind": "Secret", "name": "s", "namespace": "n", "cluster_name": "lab-hub"})
    assert io["outcome"] == "fail"
    assert io["msg"] == 'cluster lab-hub: permission denied (HTTP 403) on Secret n/s: secrets "s" is forbidden'
