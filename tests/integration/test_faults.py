"""Faults on a converged platform, each ending in a clear failure and a self-healing re-run, with nothing
minted lost: a spoke's apiserver killed in the middle of site.yml, Quay answering 5xx, a spoke left out of
the inventory. "Nothing lost" is read on the hub: every credential record there before the fault is there
after the re-run, the same object (uid) with the same data, so nothing had to be minted again."""

import os
import threading
import time

import yaml

RECORDS = "devsecops-multicluster"
GROUP_VARS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "inventories", "lab", "group_vars")


def records(hub):
    return {s["metadata"]["name"]: (s["metadata"]["uid"], s.get("data"))
            for s in hub.list("v1", "secrets", namespace=RECORDS)["items"]}


def assert_nothing_lost(before, after):
    lost = sorted(name for name in before if name not in after)
    assert not lost, "records gone: %s" % lost
    replaced = sorted(name for name in before if after[name] != before[name])
    assert not replaced, "records minted again or changed: %s" % replaced


def test_new_spoke_converges_without_touching_the_others(ansible, lab, hub):
    """A spoke new to the platform (lab-prod emptied: a fresh cluster with the same name) is converged and
    registered by a plain re-run of the whole site; the development spoke is not changed at all and its
    records stay. Runs first: it leaves the whole platform converged for the faults below."""
    first = ansible("playbooks/site.yml")
    assert first.rc == 0, first
    dev_records = {name: value for name, value in records(hub).items() if name.startswith("lab-dev-")}
    assert dev_records, "the development spoke has records on the hub"
    lab.reset("lab-prod")
    run = ansible("playbooks/site.yml")
    assert run.rc == 0, run
    assert run.changed("lab-dev") == 0, run
    assert run.changed("lab-prod") > 0, run
    after = records(hub)
    assert {name: after.get(name) for name in dev_records} == dev_records
    managed = hub.get("cluster.open-cluster-management.io/v1", "managedclusters", "lab-prod")
    assert {c["type"]: c["status"] for c in managed["status"]["conditions"]}.get("ManagedClusterConditionAvailable") \
        == "True"
    assert len(lab.kube("lab-prod").list("kyverno.io/v1", "clusterpolicies")["items"]) == 17


def test_spoke_apiserver_killed_mid_run(ansible, lab, hub, tmp_path):
    """Both spokes converge their profiles; production's apiserver dies on the way: production fails with
    the cause, development completes, and a re-run limited to production heals it with nothing re-minted."""
    before = records(hub)
    log = tmp_path / "site.log"
    result = {}
    runner = threading.Thread(target=lambda: result.update(run=ansible(
        "playbooks/site.yml", limit="lab-dev,lab-prod", tags="development,production",
        env_extra={"ANSIBLE_LOG_PATH": str(log)})))
    runner.start()
    deadline = time.monotonic() + 600
    while runner.is_alive() and time.monotonic() < deadline and "Converge the production profile" not in (
            log.read_text() if log.exists() else ""):
        time.sleep(0.5)
    assert runner.is_alive(), "the run ended before the production profile started: %r" % result.get("run")
    time.sleep(3)  # into the production components
    lab.kill_apiserver("lab-prod")
    try:
        runner.join(900)
        run = result["run"]
        assert run.rc != 0, run
        assert run.failed("lab-prod") >= 1 and run.failed("lab-dev") == 0, run
        assert "lab-prod" in run.output and ("unreachable" in run.output or "refused" in run.output), run
    finally:
        lab.start_apiserver("lab-prod")
    again = ansible("playbooks/site.yml", limit="lab-prod")
    assert again.rc == 0, again
    assert_nothing_lost(before, records(hub))


def test_quay_5xx_fails_clearly_and_the_rerun_heals(ansible, hub):
    before = records(hub)
    faults = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "devsecops-lab-quay-faults", "namespace": "quay-enterprise"},
              "data": {"status": "503", "count": "-1"}}
    hub.create("v1", "configmaps", faults, namespace="quay-enterprise")
    try:
        run = ansible("playbooks/site.yml", limit="lab-hub", tags="quay")
        assert run.rc != 0, run
        assert "HTTP 503" in run.output and "Quay" in run.output, run
        assert "fatal: [lab-hub]" in run.output or "failed: [lab-hub]" in run.output, run
    finally:
        hub.delete("v1", "configmaps", "devsecops-lab-quay-faults", namespace="quay-enterprise")
    again = ansible("playbooks/site.yml", limit="lab-hub", tags="quay")
    assert again.rc == 0 and again.changed() == 0, again
    assert_nothing_lost(before, records(hub))


def test_spoke_left_out_of_the_inventory_is_left_alone(ansible, lab, hub, tmp_path):
    """Registration with production missing from the inventory neither detaches it from ACM nor drops a
    record; with production back, registration has nothing to do."""
    with open(lab.inventory_file()) as handle:
        inventory = yaml.safe_load(handle)
    production = inventory["all"]["children"]["spokes"]["children"]["production"]
    production["hosts"] = {}
    path = tmp_path / "inventory"
    path.mkdir()
    (path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (path / "group_vars").symlink_to(GROUP_VARS)
    before = records(hub)
    managed = hub.get("cluster.open-cluster-management.io/v1", "managedclusters", "lab-prod")
    run = ansible("playbooks/site.yml", inventory=str(path), tags="registration")
    assert run.rc == 0, run
    assert "lab-prod" not in run.recap and "lab-dev" in run.recap, run
    assert_nothing_lost(before, records(hub))
    assert hub.get("cluster.open-cluster-management.io/v1", "managedclusters", "lab-prod")["metadata"]["uid"] == \
        managed["metadata"]["uid"], "a spoke missing from the inventory is not detached"
    back = ansible("playbooks/site.yml", tags="registration")
    assert back.rc == 0 and back.changed() == 0, back
