"""Unit tests for cluster_posture's entry point and the report filters: results, failures without
tracebacks, no secret data, nothing written."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.testing import patch_module_args

from ansible_collections.devsecops.multicluster.plugins.filter import posture as posture_filter
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.modules import cluster_posture
from fakes import Exit, Fail, FakeCluster, use_fake

MANAGED = {"app.kubernetes.io/managed-by": "devsecops.multicluster"}


def run(args, expect=Exit):
    with patch_module_args(args):
        with pytest.raises(expect):
            cluster_posture.main()


def world():
    fake = FakeCluster("lab-hub")
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    fake.add({"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD",
              "metadata": {"name": "openshift-gitops", "namespace": "openshift-gitops"}, "status": {"phase": "Available"}})
    fake.add({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
              "metadata": {"name": "r", "namespace": "app"},
              "results": [{"policy": "<script>", "result": "fail"}, {"policy": "restrict-seccomp", "result": "pass"}]})
    fake.add({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "lab-dev-argocd", "namespace": "devsecops-multicluster",
                           "creationTimestamp": "2026-01-01T00:00:00Z",
                           "labels": dict(MANAGED, **{"devsecops.multicluster/purpose": "argocd",
                                                      "devsecops.multicluster/cluster": "lab-dev"}),
                           "annotations": {"devsecops.multicluster/minted": "2099-01-01T00:00:00Z"}},
              "data": {"token": "dG9wLXNlY3JldC10b2tlbg=="}})
    return fake


def test_posture_module_reads_and_changes_nothing(monkeypatch, module_io):
    fake = world()
    use_fake(monkeypatch, cluster_posture, fake)
    run({"cluster_name": "lab-hub", "sections": ["components", "policies", "vulnerabilities", "credentials"],
         "_ansible_check_mode": True})
    assert module_io["changed"] is False
    posture = module_io["posture"]
    assert posture["cluster"] == "lab-hub"
    assert posture["components"]["items"][0]["kind"] == "ArgoCD"
    assert posture["policies"]["totals"]["fail"] == 1
    assert posture["vulnerabilities"]["reports"] == 0 and posture["vulnerabilities"]["state"] == "healthy"
    assert posture["credentials"]["records"][0]["cluster"] == "lab-dev"
    text = json.dumps(module_io)
    assert "dG9wLXNlY3JldC10b2tlbg==" not in text and "top-secret-token" not in text
    assert fake.writes == []


def test_posture_module_default_sections_leave_credentials_out(monkeypatch, module_io):
    fake = world()
    use_fake(monkeypatch, cluster_posture, fake)
    run({"cluster_name": "lab-prod"})
    assert "credentials" not in module_io["posture"]
    assert not [entry for entry in fake.listed if entry[0] == "Secret"]


def test_posture_module_unreachable_cluster_fails_with_the_cause(monkeypatch, module_io):
    class Down(FakeCluster):
        def iterate(self, *args, **kwargs):
            raise ClusterError("cluster lab-prod: API server at https://127.0.0.1:1 unreachable while accessing "
                               "Namespace list: connection refused")

    use_fake(monkeypatch, cluster_posture, Down("lab-prod"))
    run({"cluster_name": "lab-prod"}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-prod: API server at https://127.0.0.1:1 unreachable while accessing "
                                "Namespace list: connection refused")


def test_posture_module_rejects_an_unknown_section(monkeypatch, module_io):
    use_fake(monkeypatch, cluster_posture, world())
    run({"sections": ["secrets"]}, expect=Fail)
    assert "sections" in module_io["msg"] and "secrets" in module_io["msg"]


# -- the filters -----------------------------------------------------------------------------------------------

class HostVars(dict):
    """hostvars as the filter sees them: host -> that host's variables."""


def gathered(name, groups, posture=None, error=None, acs=None):
    return {"name": name, "groups": groups, "posture": posture, "error": error, "acs": acs}


def test_posture_report_filter_reports_hosts_that_gathered_nothing_as_unreachable(monkeypatch, module_io):
    fake = world()
    use_fake(monkeypatch, cluster_posture, fake)
    run({"cluster_name": "lab-hub", "sections": ["components", "policies", "credentials"]})
    hostvars = HostVars({
        "lab-hub": {"group_names": ["hub"], "__report_gathered": gathered("lab-hub", ["hub"], module_io["posture"])},
        "lab-dev": {"group_names": ["development"]},
        "lab-prod": {"group_names": ["production"], "__report_gathered": gathered(
            "lab-prod", ["production"], error="cluster lab-prod: authentication failed (HTTP 401 Unauthorized)")},
    })
    report = posture_filter.posture_report(["lab-hub", "lab-dev", "lab-prod"], hostvars,
                                           thresholds={"credential_max_age_days": 90})
    clusters = {c["name"]: c for c in report["clusters"]}
    assert clusters["lab-dev"]["state"] == "unreachable" and clusters["lab-dev"]["groups"] == ["development"]
    assert "failed before its posture could be read" in clusters["lab-dev"]["error"]
    assert clusters["lab-prod"]["error"].endswith("(HTTP 401 Unauthorized)")
    assert [r["name"] for r in clusters["lab-dev"]["credentials"]["records"]] == ["lab-dev-argocd"]
    assert report["thresholds"] == {"credential_max_age_days": 90}
    page = posture_filter.posture_html(report, title="Lab")
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "lab-dev-argocd" in page


def test_filters_fail_clearly_on_wrong_input():
    with pytest.raises(AnsibleFilterError, match="the input must be the list of cluster hosts"):
        posture_filter.posture_report("lab-hub", {})
    with pytest.raises(AnsibleFilterError, match="not what cluster_posture returns"):
        posture_filter.posture_report(["a"], {"a": {"__report_gathered": {"name": "a", "posture": {"components": 3}}}})
    with pytest.raises(AnsibleFilterError, match="not a posture report"):
        posture_filter.posture_html({"clusters": []})
