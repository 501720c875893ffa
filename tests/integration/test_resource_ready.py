"""resource_ready on the lab: JMESPath conditions over real objects, failures and timeouts."""

import threading
import time

OLM = "operators.coreos.com/v1alpha1"


def wait(ansible, check=False, **ready):
    return ansible("ready.yml", extra_vars={"devsecops_hosts": "lab-hub", "ready": ready}, check=check)


def catalog_source(name, state=None):
    body = {"apiVersion": OLM, "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": "openshift-marketplace"},
            "spec": {"sourceType": "grpc", "image": "lab.invalid/catalog:1"}}
    return body


def test_waits_for_a_condition_without_type_set_later(ansible, hub):
    hub.delete(OLM, "catalogsources", "itest-ready", "openshift-marketplace")
    hub.create(OLM, "catalogsources", catalog_source("itest-ready"), namespace="openshift-marketplace")

    def become_ready():
        time.sleep(6)
        hub.merge_patch(OLM, "catalogsources", "itest-ready",
                        {"status": {"connectionState": {"lastObservedState": "READY"}}},
                        namespace="openshift-marketplace", subresource="status")

    thread = threading.Thread(target=become_ready)
    thread.start()
    run = wait(ansible, api_version=OLM, kind="CatalogSource", name="itest-ready", namespace="openshift-marketplace",
               condition="status.connectionState.lastObservedState == 'READY'")
    thread.join()
    assert run.rc == 0, run
    assert "ready=True value=true" in run.output, run
    elapsed = float(run.output.split("elapsed=")[1].split('"')[0])
    assert 0.5 <= elapsed < 30, run  # it saw the object not ready, then ready


def test_timeout_reports_the_last_status(ansible, hub):
    hub.delete(OLM, "catalogsources", "itest-slow", "openshift-marketplace")
    hub.create(OLM, "catalogsources", catalog_source("itest-slow"), namespace="openshift-marketplace")
    hub.merge_patch(OLM, "catalogsources", "itest-slow",
                    {"status": {"connectionState": {"lastObservedState": "TRANSIENT_FAILURE"}}},
                    namespace="openshift-marketplace", subresource="status")
    run = wait(ansible, api_version=OLM, kind="CatalogSource", name="itest-slow", namespace="openshift-marketplace",
               condition="status.connectionState.lastObservedState == 'READY'", timeout=3)
    assert run.rc != 0
    assert ("cluster lab-hub: CatalogSource openshift-marketplace/itest-slow did not satisfy "
            "\"status.connectionState.lastObservedState == 'READY'\" within 3s; last status: "
            "{\"connectionState\": {\"lastObservedState\": \"TRANSIENT_FAILURE\"}}") in run.output.replace("\\\"", "\""), run


def test_failure_condition_fails_at_once(ansible, hub):
    started = time.monotonic()
    run = wait(ansible, api_version=OLM, kind="CatalogSource", name="itest-slow", namespace="openshift-marketplace",
               condition="status.connectionState.lastObservedState == 'READY'",
               failure_condition="status.connectionState.lastObservedState == 'TRANSIENT_FAILURE'",
               report="status.connectionState.lastObservedState", timeout=120)
    assert run.rc != 0
    assert time.monotonic() - started < 60
    assert "reached its failure condition" in run.output and "TRANSIENT_FAILURE" in run.output, run


def test_missing_object_is_waited_for_and_reported(ansible):
    run = wait(ansible, kind="ConfigMap", name="never-there", namespace="default", condition="data", timeout=2)
    assert run.rc != 0
    assert "cluster lab-hub: ConfigMap default/never-there did not satisfy 'data' within 2s; the object does not " \
           "exist" in run.output, run


def test_kind_the_cluster_does_not_serve_fails_at_once(ansible):
    run = wait(ansible, api_version="example.invalid/v1", kind="Widget", name="w", condition="status", timeout=120)
    assert run.rc != 0
    assert "cluster lab-hub: the API server does not serve Widget (example.invalid/v1): the CustomResourceDefinition " \
           "is missing" in run.output, run


def test_bad_expression_is_a_clear_error(ansible):
    run = wait(ansible, kind="Namespace", name="default", condition="status.phase ==")
    assert run.rc != 0
    assert "cluster lab-hub: Namespace default: condition is not a valid JMESPath expression" in run.output, run


def test_check_mode_reads_once_and_does_not_fail(ansible):
    run = wait(ansible, check=True, kind="ConfigMap", name="never-there", namespace="default", condition="data",
               timeout=120)
    assert run.rc == 0, run
    assert "ready=False" in run.output, run
