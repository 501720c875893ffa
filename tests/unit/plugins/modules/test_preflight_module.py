"""Unit tests for the cluster_preflight module: findings are results, only bad input fails, nothing is written."""

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.devsecops.multicluster.plugins.module_utils import preflight as pf
from ansible_collections.devsecops.multicluster.plugins.modules import cluster_preflight
from fakes import Exit, Fail, use_fake
from preflight_fakes import Probe, refused, world

ARGS = {"cluster_name": "lab-dev", "kubernetes_version": {"min": "1.29", "max": "1.34"},
        "openshift_version": {"min": "4.16", "max": "4.20"},
        "packages": [{"name": "openshift-gitops-operator", "channel": "gitops-1.19", "needed_by": "gitops"}],
        "storage_classes": [""]}


def run(args, expect=Exit):
    with patch_module_args(args):
        with pytest.raises(expect):
            cluster_preflight.main()


@pytest.fixture
def probe(monkeypatch):
    probe = Probe()
    monkeypatch.setattr(pf, "ServerProbe", lambda cluster: probe)
    return probe


def test_ready_cluster_in_check_mode(monkeypatch, module_io, probe):
    fake = world(name="lab-dev")
    use_fake(monkeypatch, cluster_preflight, fake)
    run(dict(ARGS, _ansible_check_mode=True))
    assert module_io["changed"] is False
    assert module_io["problems"] == []
    assert module_io["facts"]["cluster"] == "lab-dev"
    assert module_io["facts"]["kubernetes_version"] == "v1.34.4"
    assert fake.writes == []
    assert probe.calls == ["version", "discovery"]


def test_findings_are_returned_not_failed(monkeypatch, module_io, probe):
    fake = world(name="lab-dev", denied={("create", "secrets"): ""})
    use_fake(monkeypatch, cluster_preflight, fake)
    run(dict(ARGS, packages=[{"name": "openshift-gitops-operator", "channel": "gitops-0.1"}],
             storage_classes=["", "missing-class"]))
    assert module_io["changed"] is False
    assert [(p["check"], p["object"]) for p in module_io["problems"]] == [
        ("rights", "create secrets in all namespaces"),
        ("packages", "package openshift-gitops-operator in openshift-marketplace/redhat-operators"),
        ("storage_classes", "StorageClass missing-class")]
    assert all(p["hint"] for p in module_io["problems"])


def test_unreachable_cluster_is_a_finding(monkeypatch, module_io, probe):
    probe.version_error = refused()
    use_fake(monkeypatch, cluster_preflight, world(name="lab-dev"))
    run(ARGS)
    assert [(p["check"], p["cause"]) for p in module_io["problems"]] == [
        ("reachable", "unreachable: connection refused")]


@pytest.mark.parametrize("args,message", [
    ({"skip": ["reachable"]}, "cluster lab-dev: preflight: skip: reachable cannot be skipped"),
    ({"skip": ["nope"]}, "cluster lab-dev: preflight: skip: unknown check(s) nope"),
    ({"kubernetes_version": {"min": "x"}}, "cluster lab-dev: preflight: kubernetes_version.min 'x' is not a version"),
    ({"endpoints": [{"name": "Quay", "url": "quay.example"}]},
     "cluster lab-dev: preflight: endpoint URL 'quay.example': give an https:// URL"),
    ({"storage_classes": [{"class": "x"}]}, "cluster lab-dev: preflight: storage_classes entry"),
])
def test_bad_input_fails_naming_the_cluster(monkeypatch, module_io, probe, args, message):
    use_fake(monkeypatch, cluster_preflight, world(name="lab-dev"))
    run(dict(ARGS, **args), expect=Fail)
    assert module_io["msg"].startswith(message), module_io["msg"]


def test_argument_spec_marks_secrets_no_log_and_documents_every_check():
    spec = cluster_preflight.argument_spec()
    assert spec["api_key"]["no_log"] is True and spec["kubeconfig"]["no_log"] is True
    assert spec["packages"]["options"]["source"]["default"] == "redhat-operators"
    for check in pf.CHECKS:
        assert "C(%s)" % check in cluster_preflight.DOCUMENTATION
