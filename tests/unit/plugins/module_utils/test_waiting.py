"""Unit tests for module_utils/waiting.py and readiness.py."""

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.readiness import wait_ready
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import (
    WaitFailed,
    WaitTimeout,
    compile_expression,
    evaluate,
    poll,
    truthy,
)
from fakes import FakeClock, FakeCluster


def test_poll_backs_off_to_the_cap_and_returns_value():
    clock = FakeClock()
    answers = iter([(False, 1), (False, 2), (False, 3), (False, 4), (True, 5)])
    value, elapsed = poll(lambda: next(answers), timeout=60, max_interval=2, clock=clock, sleep=clock.sleep)
    assert value == 5
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0]
    assert elapsed == 5.5


def test_poll_times_out_with_last_value_and_never_sleeps_past_the_deadline():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        poll(lambda: (False, "still pending"), timeout=3, max_interval=5, clock=clock, sleep=clock.sleep)
    assert err.value.last == "still pending"
    assert err.value.elapsed == 3.0
    assert sum(clock.sleeps) == 3.0


def test_poll_propagates_failure():
    def probe():
        raise WaitFailed("broken", last={"x": 1})
    with pytest.raises(WaitFailed, match="broken"):
        poll(probe, timeout=3, max_interval=1)


@pytest.mark.parametrize("value,expected", [
    (None, False), (False, False), ("", False), ([], False), ({}, False),
    (0, True), ("x", True), ([1], True), ({"a": 1}, True), (True, True),
])
def test_truthy_follows_jmespath(value, expected):
    assert truthy(value) is expected


def test_compile_expression_rejects_bad_syntax_naming_the_option():
    with pytest.raises(ValueError, match="failure_condition is not a valid JMESPath expression"):
        compile_expression("status.phase ==", "failure_condition")
    expr = compile_expression("status.conditions[?type=='Available'].status | [0] == 'True'")
    assert evaluate(expr, {"status": {"conditions": [{"type": "Available", "status": "True"}]}}) is True


def mch(phase):
    return {"apiVersion": "operator.open-cluster-management.io/v1", "kind": "MultiClusterHub",
            "metadata": {"name": "multiclusterhub", "namespace": "ocm"}, "status": {"phase": phase}}


def params(**kw):
    base = dict(api_version="operator.open-cluster-management.io/v1", kind="MultiClusterHub",
                name="multiclusterhub", namespace="ocm", condition="status.phase == 'Running'",
                failure_condition=None, report=None, timeout=30, sleep=5)
    base.update(kw)
    return base


def test_wait_ready_sees_the_object_become_ready():
    cluster = FakeCluster()
    cluster.add(mch("Installing"))
    reads = []

    def progress(c, kind, name, namespace):
        reads.append(1)
        if len(reads) == 3:
            c.add(mch("Running"))

    cluster.on_get.append(progress)
    clock = FakeClock()
    result = wait_ready(cluster, params(), clock=clock, sleep=clock.sleep)
    assert result["ready"] is True and result["value"] is True
    assert result["resource"]["status"]["phase"] == "Running"
    assert result["elapsed"] == 1.5


def test_wait_ready_timeout_quotes_status_or_message():
    cluster = FakeCluster()
    cluster.add(mch("Installing"))
    clock = FakeClock()
    with pytest.raises(ClusterError) as err:
        wait_ready(cluster, params(timeout=4), clock=clock, sleep=clock.sleep)
    assert err.value.message == ("cluster hub: MultiClusterHub ocm/multiclusterhub did not satisfy "
                                 "\"status.phase == 'Running'\" within 4s; last status: {\"phase\": \"Installing\"}")
    with pytest.raises(ClusterError, match='last status: "Installing"'):
        wait_ready(cluster, params(timeout=1, report="status.phase"), clock=clock, sleep=clock.sleep)


def test_wait_ready_missing_object_and_failure_condition():
    cluster = FakeCluster()
    clock = FakeClock()
    with pytest.raises(ClusterError, match="the object does not exist"):
        wait_ready(cluster, params(timeout=1), clock=clock, sleep=clock.sleep)
    cluster.add(mch("Failed"))
    with pytest.raises(ClusterError, match="reached its failure condition \"status.phase == 'Failed'\""):
        wait_ready(cluster, params(failure_condition="status.phase == 'Failed'"), clock=clock, sleep=clock.sleep)


def test_wait_ready_once_reports_without_failing():
    cluster = FakeCluster()
    result = wait_ready(cluster, params(), once=True)
    assert result == {"ready": False, "value": None, "elapsed": 0.0, "resource": None}


def test_wait_ready_huge_status_is_truncated_in_messages():
    cluster = FakeCluster()
    obj = mch("Installing")
    obj["status"]["blob"] = "x" * 5000
    cluster.add(obj)
    clock = FakeClock()
    with pytest.raises(ClusterError) as err:
        wait_ready(cluster, params(timeout=1), clock=clock, sleep=clock.sleep)
    assert err.value.message.endswith("...(truncated)")
    assert len(err.value.message) < 2000


def test_wait_ready_unserved_kind_fails_before_waiting():
    cluster = FakeCluster(served={"Namespace"})
    with pytest.raises(ClusterError, match="does not serve MultiClusterHub"):
        wait_ready(cluster, params())
