"""The lab's OpenShift Pipelines stand-in (tests/lab/standins/pipelines.py): its pure functions.

The PipelineRun admission checks take plain dicts - a run, the Pipeline it refers to, the Tasks found -
so every reason Tekton fails a run with before its first TaskRun is covered here without a cluster.
"""

import copy
import os
import sys

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab.lab import shared_crds_dir  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import pipelines as pl  # noqa: E402  pylint: disable=wrong-import-position

NS = "apps"
SHARED_CRDS = os.path.join(shared_crds_dir(), "operator.tekton.dev")
STEP = {"name": "s", "image": "registry.lab/busybox", "script": "true"}


def task(name, namespace=NS, **spec):
    spec.setdefault("steps", [STEP])
    return {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def build_ptask(**over):
    ptask = {"name": "build", "taskRef": {"name": "build"}, "params": [{"name": "url", "value": "$(params.url)"}],
             "workspaces": [{"name": "source", "workspace": "shared"}]}
    ptask.update(over)
    return ptask


def cluster_ref(kind, name, namespace):
    return {"resolver": "cluster", "params": [{"name": "kind", "value": kind}, {"name": "name", "value": name},
                                              {"name": "namespace", "value": namespace}]}


SCAN = {"name": "scan", "taskRef": cluster_ref("task", "report", "shared"),
        "params": [{"name": "digest", "value": "$(tasks.build.results.digest)"}],
        "when": [{"input": "$(params.branch)", "operator": "in", "values": ["main"]}]}
NOTIFY = {"name": "notify", "taskSpec": {"steps": [STEP]}}


def pipeline_spec(ptasks=None, params=None, workspaces=None):
    return {"params": params if params is not None else [{"name": "url"}, {"name": "branch", "default": "main"}],
            "workspaces": workspaces if workspaces is not None else [{"name": "shared"},
                                                                     {"name": "extra", "optional": True}],
            "tasks": ptasks if ptasks is not None else [build_ptask(), copy.deepcopy(SCAN)],
            "finally": [copy.deepcopy(NOTIFY)]}


def pipeline(spec=None, name="ci"):
    return {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": name, "namespace": NS},
            "spec": spec or pipeline_spec()}


def run(params=True, workspaces=True, **spec):
    spec.setdefault("pipelineRef", {"name": "ci"})
    if params:
        spec["params"] = [{"name": "url", "value": "https://git.lab/app"}]
    if workspaces:
        spec["workspaces"] = [{"name": "shared", "emptyDir": {}}]
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "ci-1", "namespace": NS},
            "spec": spec}


def tasks():
    build = task("build", params=[{"name": "url"}, {"name": "rev", "default": "main"}],
                 workspaces=[{"name": "source"}, {"name": "cache", "optional": True}], results=[{"name": "digest"}])
    report = task("report", "shared", params=[{"name": "digest"}])
    return {(NS, "build"): build, ("shared", "report"): report}


def status(the_run=None, the_pipeline="default", the_tasks=None):
    the_pipeline = pipeline() if the_pipeline == "default" else the_pipeline
    return pl.admission_status(the_run or run(), the_pipeline, tasks() if the_tasks is None else the_tasks,
                               "2026-01-01T00:00:00Z")


def failure(the_status):
    cond = the_status["conditions"][0]
    assert cond["type"] == "Succeeded" and cond["status"] == "False", cond
    assert the_status["completionTime"] == the_status["startTime"]
    return cond["reason"], cond["message"]


# -- PipelineRun admission: the success path ----------------------------------------------------------
def test_a_complete_run_starts_running_with_the_pipeline_spec():
    result = status()
    assert result["startTime"] == "2026-01-01T00:00:00Z"
    assert result["conditions"] == [{
        "type": "Succeeded", "status": "Unknown", "reason": "Running",
        "message": "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 3, Skipped: 0",
        "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    assert result["pipelineSpec"] == pipeline_spec()
    assert "completionTime" not in result


def test_embedded_pipeline_spec_and_cluster_resolved_pipeline_are_admitted():
    embedded = run(pipelineSpec=pipeline_spec())
    del embedded["spec"]["pipelineRef"]
    assert status(embedded, None)["conditions"][0]["reason"] == "Running"
    by_cluster = run(pipelineRef=cluster_ref("pipeline", "ci", NS))
    assert pl.pipeline_location(by_cluster) == (NS, "ci")
    assert status(by_cluster)["conditions"][0]["reason"] == "Running"


def test_locations_the_controller_fetches():
    assert pl.pipeline_location(run()) == (NS, "ci")
    assert [pl.task_location(t, NS) for t in pl.pipeline_tasks(pipeline_spec())] == [
        (NS, "build"), ("shared", "report"), None]
    assert pl.task_location({"name": "c", "taskRef": {"apiVersion": "example.dev/v1", "kind": "Wait"}}, NS) is None


def test_remote_resolvers_leave_the_run_waiting():
    git = run(pipelineRef={"resolver": "git", "params": [{"name": "url", "value": "https://git.lab/p"}]})
    cond = status(git, None)["conditions"][0]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "Unknown", "ResolvingPipelineRef", "PipelineRun apps/ci-1 awaiting remote resource")
    hub = build_ptask(taskRef={"resolver": "hub", "params": [{"name": "name", "value": "git-clone"}]})
    cond = status(the_pipeline=pipeline(pipeline_spec([hub])))["conditions"][0]
    assert (cond["status"], cond["reason"]) == ("Unknown", "ResolvingTaskRef")


# -- PipelineRun admission: every failure reason ------------------------------------------------------
def test_couldnt_get_pipeline():
    assert failure(status(the_pipeline=None)) == (
        "CouldntGetPipeline",
        'Error retrieving pipeline for pipelinerun apps/ci-1: pipelines.tekton.dev "ci" not found')
    reason, message = failure(status(run(pipelineRef=cluster_ref("task", "ci", NS)), None))
    assert reason == "CouldntGetPipeline" and "kind 'task' given where a pipeline is expected" in message


def test_parameter_missing_names_the_param():
    assert failure(status(run(params=False))) == (
        "ParameterMissing", "PipelineRun apps/ci-1 is missing some parameters required by Pipeline apps/ci: "
        "PipelineRun missing parameters: [url]")


def test_invalid_workspace_bindings_names_the_workspace():
    assert failure(status(run(workspaces=False))) == (
        "InvalidWorkspaceBindings", "PipelineRun apps/ci-1 doesn't bind Pipeline apps/ci's Workspaces correctly: "
        'pipeline requires workspace with name "shared" be provided by pipelinerun')


def test_couldnt_get_task_names_the_task():
    missing = tasks()
    del missing[("shared", "report")]
    assert failure(status(the_tasks=missing)) == (
        "CouldntGetTask", "Pipeline apps/ci can't be Run; it contains Tasks that don't exist: "
        'Couldn\'t retrieve Task "report": tasks.tekton.dev "report" not found')
    wrong_kind = dict(SCAN, taskRef=cluster_ref("pipeline", "report", "shared"))
    reason, message = failure(status(the_pipeline=pipeline(pipeline_spec([build_ptask(), wrong_kind]))))
    assert reason == "CouldntGetTask" and "where a task is expected" in message


def test_task_param_without_default_must_be_passed():
    spec = pipeline_spec([build_ptask(params=[{"name": "rev", "value": "v1"}]), SCAN])
    assert failure(status(the_pipeline=pipeline(spec))) == (
        "PipelineValidationFailed", "Validation failed for pipelinerun ci-1 with error [User error] invalid input "
        "params for task build: missing values for these params which have no default values: [url]")


def test_task_workspace_must_be_mapped_unless_optional():
    spec = pipeline_spec([build_ptask(workspaces=[]), SCAN])
    reason, message = failure(status(the_pipeline=pipeline(spec)))
    assert reason == "PipelineValidationFailed"
    assert 'pipeline task "build" does not bind workspace "source" of Task "build"' in message
    assert "cache" not in message


def test_result_reference_needs_the_task_and_its_result():
    unknown_result = dict(SCAN, params=[{"name": "digest", "value": "$(tasks.build.results.sha)"}])
    assert failure(status(the_pipeline=pipeline(pipeline_spec([build_ptask(), unknown_result])))) == (
        "InvalidTaskResultReference",
        'invalid result reference in pipeline task "scan": "sha" is not a named result returned by pipeline task '
        '"build"')
    unknown_task = dict(SCAN, params=[{"name": "digest", "value": "$(tasks.compile.results.digest)"}])
    assert failure(status(the_pipeline=pipeline(pipeline_spec([build_ptask(), unknown_task])))) == (
        "InvalidTaskResultReference",
        'invalid result reference in pipeline task "scan": referenced pipeline task "compile" does not exist')
    in_when = dict(SCAN, when=[{"input": "$(tasks.build.results['sha'])", "operator": "in", "values": ["x"]}])
    reason, _message = failure(status(the_pipeline=pipeline(pipeline_spec([build_ptask(), in_when]))))
    assert reason == "InvalidTaskResultReference"


def test_param_references_must_name_pipeline_params():
    spec = pipeline_spec([build_ptask(params=[{"name": "url", "value": "$(params.repo)"}]), SCAN])
    assert failure(status(the_pipeline=pipeline(spec))) == (
        "PipelineValidationFailed", "Pipeline apps/ci can't be Run; it has an invalid spec: [User error] "
        'non-existent variable in "$(params.repo)" (pipeline task "build")')
    # a Task's own $(params.x) inside an embedded taskSpec is the Task's business
    inline = {"name": "inline", "taskSpec": {"params": [{"name": "x", "default": "1"}],
                                             "steps": [dict(STEP, script="echo $(params.x)")]}}
    assert status(the_pipeline=pipeline(pipeline_spec([build_ptask(), SCAN, inline])))["conditions"][0][
        "reason"] == "Running"


def test_pipeline_task_workspace_must_be_declared_by_the_pipeline():
    spec = pipeline_spec([build_ptask(workspaces=[{"name": "source", "workspace": "src"}]), SCAN])
    reason, message = failure(status(the_pipeline=pipeline(spec)))
    assert reason == "PipelineValidationFailed"
    assert 'pipeline task "build" expects workspace with name "src" but none exists in pipeline spec' in message


def test_checks_follow_tektons_order():
    """Missing params are reported before workspaces, workspaces before missing Tasks."""
    reason, _message = failure(status(run(params=False, workspaces=False), the_tasks={}))
    assert reason == "ParameterMissing"
    reason, _message = failure(status(run(workspaces=False), the_tasks={}))
    assert reason == "InvalidWorkspaceBindings"


def test_only_runs_without_a_succeeded_condition_are_new():
    assert pl.succeeded_condition(run()) is None
    done = run()
    done["status"] = status()
    assert pl.succeeded_condition(done)["reason"] == "Running"


def test_pipeline_problems_lists_everything_a_run_would_trip_over():
    by_name = {"build": tasks()[(NS, "build")], "report": tasks()[("shared", "report")]}

    def resolve(ref):
        return pl.resolve_task(ref, NS, by_name)
    ok = pipeline(pipeline_spec([build_ptask(), dict(SCAN, taskRef={"name": "report"})]))
    assert pl.pipeline_problems(ok, resolve) == []
    bad = pipeline(pipeline_spec([
        build_ptask(params=[{"name": "url", "value": "$(params.repo)"}], workspaces=[]),
        dict(SCAN, taskRef={"name": "report"}, params=[{"name": "digest", "value": "$(tasks.build.results.sha)"}]),
        {"name": "lint", "taskRef": {"name": "lint"}}]))
    assert pl.pipeline_problems(bad, resolve) == [
        'non-existent variable in "$(params.repo)" (pipeline task "build")',
        'Couldn\'t retrieve Task "lint": tasks.tekton.dev "lint" not found',
        'invalid result reference in pipeline task "scan": "sha" is not a named result returned by pipeline '
        'task "build"',
        'pipeline task "build" does not bind workspace "source" of Task "build": declared workspace "source" is '
        'required but has not been bound']


def test_resolve_task_takes_names_or_locations():
    build = tasks()[(NS, "build")]
    assert pl.resolve_task({"name": "build"}, NS, {"build": build}) is build
    assert pl.resolve_task(cluster_ref("task", "build", NS), "other", {(NS, "build"): build}) is build
    assert pl.resolve_task(cluster_ref("task", "build", "other"), NS, {"build": build}) is None
    with pytest.raises(ValueError):
        pl.resolve_task(cluster_ref("stepaction", "build", NS), NS, {})


def test_wait_for_condition_returns_the_succeeded_condition():
    class Kube:  # the two calls of tests/lab/kube.py's client it makes
        @staticmethod
        def get_or_none(api_version, plural, name, namespace):
            assert (api_version, plural, name, namespace) == ("tekton.dev/v1", "pipelineruns", "ci-1", NS)
            return dict(run(), status=status())

        @staticmethod
        def wait_for(predicate, **_options):
            return predicate()
    assert pl.wait_for_condition(Kube(), NS, "ci-1")["reason"] == "Running"


# -- the operator's objects ---------------------------------------------------------------------------
def _check_schema(value, schema, path="spec"):
    """Types, properties and required fields, as the apiserver's structural schema checks them."""
    kind = schema.get("type")
    expected = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}.get(kind)
    if expected:
        assert isinstance(value, expected) and not (kind == "integer" and isinstance(value, bool)), path
    if isinstance(value, dict) and "properties" in schema:
        for key in schema.get("required") or []:
            assert key in value, "%s.%s is required" % (path, key)
        for key, item in value.items():
            if not schema.get("x-kubernetes-preserve-unknown-fields"):
                assert key in schema["properties"], "%s.%s is not in the schema" % (path, key)
            if key in schema["properties"]:
                _check_schema(item, schema["properties"][key], "%s.%s" % (path, key))
    if isinstance(value, list) and "items" in schema:
        for item in value:
            _check_schema(item, schema["items"], path + "[]")


def _crd_spec_schema(plural):
    path = os.path.join(SHARED_CRDS, plural + ".yaml")
    assert os.path.exists(path), "%s missing: the upstream CRDs are read from ../shared/crds (DEVSECOPS_SHARED_CRDS)" % path
    with open(path) as handle:
        crd = yaml.safe_load(handle)
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_default_tektonconfig_fits_the_upstream_schema():
    config = pl.default_tektonconfig()
    assert config["metadata"]["name"] == "config" and config["spec"]["targetNamespace"] == "openshift-pipelines"
    _check_schema(config["spec"], _crd_spec_schema("tektonconfigs"))
    assert pl.chains_enabled(config) and pl.pac_enabled(config)


def test_tektonchain_spec_fits_the_upstream_schema():
    config = {"spec": {"targetNamespace": "tekton", "chain": {
        "disabled": False, "artifacts.oci.storage": "oci", "storage.oci.repository.insecure": True,
        "generateSigningSecret": True}}}
    spec = pl.tektonchain_spec(config)
    assert spec == {"targetNamespace": "tekton", "disabled": False, "artifacts.oci.storage": "oci",
                    "storage.oci.repository.insecure": True, "generateSigningSecret": True}
    _check_schema(spec, _crd_spec_schema("tektonchains"))


def test_chains_config_holds_the_dotted_keys_as_strings():
    chain = {"disabled": False, "generateSigningSecret": True, "controllerEnvs": [{"name": "A", "value": "b"}],
             "options": {"disabled": False}, "artifacts.oci.storage": "oci", "transparency.enabled": "false",
             "signers.x509.fulcio.enabled": True, "storage.oci.repository.insecure": False,
             "builder.id": "https://lab/builder"}
    assert pl.chains_config_data(chain) == {
        "artifacts.oci.storage": "oci", "transparency.enabled": "false", "signers.x509.fulcio.enabled": "true",
        "storage.oci.repository.insecure": "false", "builder.id": "https://lab/builder"}


def test_switches_default_as_the_operator_does():
    assert pl.pac_enabled({"spec": {}}) and pl.chains_enabled({"spec": {}})
    assert not pl.pac_enabled({"spec": {"platforms": {"openshift": {"pipelinesAsCode": {"enable": False}}}}})
    assert not pl.chains_enabled({"spec": {"chain": {"disabled": True}}})
    assert pl.target_namespace({"spec": {}}) == "openshift-pipelines"


def test_repository_crd_is_marked_and_requires_a_url():
    crd = pl.repository_crd()
    assert crd["metadata"]["name"] == "repositories.pipelinesascode.tekton.dev"
    assert crd["metadata"]["labels"]["devsecops.lab/source"] == "standin"
    assert crd["spec"]["names"]["shortNames"] == ["repo"] and crd["spec"]["scope"] == "Namespaced"
    version = crd["spec"]["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["url"] and spec["properties"]["concurrency_limit"]["minimum"] == 1
    assert version["additionalPrinterColumns"][0] == {"name": "URL", "type": "string", "jsonPath": ".spec.url"}


def test_signing_secret_is_a_usable_key_pair():
    data = pl.signing_secret_data()
    assert sorted(data) == ["cosign.key", "cosign.password", "cosign.pub"]
    private = serialization.load_pem_private_key(data["cosign.key"].encode(), data["cosign.password"].encode())
    public = serialization.load_pem_public_key(data["cosign.pub"].encode())
    assert private.public_key().public_numbers() == public.public_numbers()
    assert private.curve.name == "secp256r1"


def test_conditions_keep_their_transition_time_and_unchanged_status_is_not_rewritten():
    first = pl.conditions(None, pl.CONFIG_CONDITIONS)
    assert [c["type"] for c in first] == ["ComponentsReady", "PreReconciler", "PostReconciler", "Ready"]
    old = [dict(c, lastTransitionTime="2020-01-01T00:00:00Z") for c in first]
    again = pl.conditions(old, pl.CONFIG_CONDITIONS)
    assert all(c["lastTransitionTime"] == "2020-01-01T00:00:00Z" for c in again)
    assert not pl.status_differs({"conditions": old, "version": "1.21.0"}, {"conditions": again, "version": "1.21.0"})
    assert pl.status_differs({"conditions": old, "version": "1.20.2"}, {"conditions": again, "version": "1.21.0"})
    failed = pl.conditions(old, ("Ready",), "False", "Error", "Resource ignored")
    assert failed[0]["lastTransitionTime"] != "2020-01-01T00:00:00Z"
