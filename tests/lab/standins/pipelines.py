"""Lab stand-in for the OpenShift Pipelines operator and for the admission/resolution phase of Tekton
Pipelines' PipelineRun controller. Nothing here runs a step: the lab has no kubelet.

Operator (package ``openshift-pipelines-operator-rh``, installed AllNamespaces into
``openshift-operators``; acts only once its CSV has Succeeded), following the OpenShift Pipelines 1.21
documentation ("Installing OpenShift Pipelines", "Customizing configurations in the TektonConfig CR",
"Using Tekton Chains", "Pipelines as Code") and, where it is silent, tektoncd/operator:

* on install it creates namespace ``openshift-pipelines`` and, if absent, the cluster-scoped TektonConfig
  ``config`` with the spec the operator auto-creates on OpenShift (profile ``all``, pipeline
  ``enable-api-fields: beta``, Chains enabled, Pipelines as Code enabled, the pruner every day at 08:00
  keeping 100 PipelineRuns). It is created once per install (operator start); a TektonConfig someone
  else created or edited is never written, only its status and the objects derived from it;
* a TektonConfig not named ``config`` is ignored with Ready False, "Resource ignored, Expected Name:
  config, Got Name: <name>", as the operator does;
* Chains (``spec.chain``; not ``disabled``): the cluster-scoped TektonChain ``chain`` (owned by the
  TektonConfig) with ``targetNamespace`` and the keys of ``spec.chain``, and ConfigMap
  ``<targetNamespace>/chains-config`` holding every dotted key of ``spec.chain`` (``artifacts.*``,
  ``transparency.*``, ``signers.*``, ``storage.*``, ``builder.id``, ...) as strings, as Chains reads it;
  the data follows the spec exactly (a removed key disappears). ``disabled: true`` deletes both.
  ``generateSigningSecret: true`` creates Secret ``<targetNamespace>/signing-secrets`` (cosign.key,
  cosign.pub, cosign.password) unless it exists; otherwise that Secret is left to whoever provides it;
* Pipelines as Code (``spec.platforms.openshift.pipelinesAsCode.enable``, default true): the CRD
  ``repositories.pipelinesascode.tekton.dev`` (written here from the PaC documentation, labelled
  ``devsecops.lab/source: standin``), waited on until Established; disabling PaC keeps the CRD, as the
  operator keeps CRDs;
* status: ComponentsReady, PreReconciler, PostReconciler and Ready True and ``version`` (from the CSV
  name, e.g. 1.21.0); deleting the TektonConfig deletes its TektonChain and chains-config.

Tekton Pipelines controller (tektoncd/pipeline's PipelineRun reconciler up to the first TaskRun; acts on
every cluster where the operator is installed, and on install on the runs created before it). A
PipelineRun without a ``Succeeded`` condition (and not ``PipelineRunPending``) has its
Pipeline resolved (``pipelineRef.name`` in the run's namespace, ``resolver: cluster`` with params
kind/name/namespace, or an embedded ``pipelineSpec``), then every Task of ``spec.tasks`` and
``spec.finally`` (``taskRef.name``, ``resolver: cluster`` with kind ``task``, or ``taskSpec``), and is
checked in the reconciler's order. Failures set ``Succeeded`` False with Tekton's reasons and messages:
``CouldntGetPipeline``, ``PipelineValidationFailed`` (a ``$(params.x)`` naming no Pipeline param or a
pipeline task workspace naming no Pipeline workspace: "it has an invalid spec"), ``ParameterMissing``,
``InvalidWorkspaceBindings``, ``CouldntGetTask``, ``PipelineValidationFailed`` (a Task param without
default not passed by the pipeline task), ``InvalidTaskResultReference`` (``$(tasks.t.results.r)``
naming no pipeline task or no result its Task declares). A run that passes is left Running ("Tasks
Completed: 0 (Failed: 0, Cancelled 0), Incomplete: N, Skipped: 0") with ``startTime`` and
``pipelineSpec``. Lab simplifications: a non-optional Task workspace the pipeline task does not map
fails here with ``PipelineValidationFailed`` (Tekton fails the TaskRun later); a result reference to a
pipeline task that does not exist is ``InvalidTaskResultReference`` (Tekton reports it as an invalid
DAG); remote resolvers (git, hub, bundles, http) never answer, so such runs stay Running
``ResolvingPipelineRef``/``ResolvingTaskRef``, "awaiting remote resource"; a pending run gets no status.

The checks are pure functions of plain dicts: ``admit``/``admission_status`` (a run, its Pipeline, the
Tasks found), ``pipeline_problems`` (a Pipeline alone, for tests that check one statically) with
``resolve_task``, and ``wait_for_condition`` for tests waiting on a run.
"""

import json
import re
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.lab.kube import KubeError
from tests.lab.standins.hub import _installed
from tests.lab.standins.runtime import LOG, now_iso

OLM = "operators.coreos.com/v1alpha1"
OPERATOR_API = "operator.tekton.dev/v1alpha1"
TEKTON_API = "tekton.dev/v1"
CRD_API = "apiextensions.k8s.io/v1"
PACKAGE = "openshift-pipelines-operator-rh"
OPERATOR_NAMESPACE = "openshift-operators"
CONFIG_NAME = "config"
CHAIN_NAME = "chain"
DEFAULT_TARGET = "openshift-pipelines"
DEFAULT_VERSION = "1.21.0"
CHAINS_CONFIG = "chains-config"
SIGNING_SECRET = "signing-secrets"
REPOSITORY_CRD = "repositories.pipelinesascode.tekton.dev"
CONFIG_CONDITIONS = ("ComponentsReady", "PreReconciler", "PostReconciler", "Ready")
CHAIN_CONDITIONS = ("DependenciesInstalled", "InstallerSetAvailable", "InstallerSetReady", "PreReconciler",
                    "PostReconciler", "Ready")
USER_ERROR = "[User error] "

PARAM_REF = re.compile(r"\$\(params(?:\.([A-Za-z0-9_-]+)|\[['\"]([^'\"]+)['\"]\])")
RESULT_REF = re.compile(r"\$\(tasks\.([A-Za-z0-9_-]+)\.results(?:\.([^.\[\)\s]+)|\[['\"]([^'\"]+)['\"]\])")


# -- the operator's objects, as pure functions -------------------------------------------------------
def default_tektonconfig():
    """The TektonConfig the operator creates on OpenShift when none exists."""
    return {
        "apiVersion": OPERATOR_API, "kind": "TektonConfig", "metadata": {"name": CONFIG_NAME},
        "spec": {
            "profile": "all",
            "targetNamespace": DEFAULT_TARGET,
            "pipeline": {"enable-api-fields": "beta", "default-service-account": "pipeline"},
            "chain": {"disabled": False},
            "platforms": {"openshift": {"pipelinesAsCode": {"enable": True}}},
            "pruner": {"disabled": False, "keep": 100, "schedule": "0 8 * * *", "resources": ["pipelinerun"]},
        },
    }


def target_namespace(config):
    return (config.get("spec") or {}).get("targetNamespace") or DEFAULT_TARGET


def chain_spec(config):
    return (config.get("spec") or {}).get("chain") or {}


def chains_enabled(config):
    return not chain_spec(config).get("disabled", False)


def pac_enabled(config):
    platform = ((config.get("spec") or {}).get("platforms") or {}).get("openshift") or {}
    return (platform.get("pipelinesAsCode") or {}).get("enable", True) is not False


def tektonchain_spec(config):
    """TektonChain's spec: the TektonConfig's chain options plus the target namespace ("disabled" is
    required by the TektonChain schema; the chain exists only when it is false)."""
    spec = dict(chain_spec(config), targetNamespace=target_namespace(config))
    spec["disabled"] = False
    return spec


def chains_config_data(chain):
    """ConfigMap chains-config as Chains reads it: every dotted option as a string."""
    return {key: _config_string(value) for key, value in chain.items() if "." in key and value is not None}


def _config_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def signing_secret_data():
    """Lab stand-in key material for signing-secrets: a fresh ECDSA P-256 key pair. The real operator
    writes a cosign key pair (cosign's own encrypted-key format); here cosign.key is the same key as PKCS#8
    encrypted with cosign.password - a placeholder only Chains' real signer would tell apart."""
    key = ec.generate_private_key(ec.SECP256R1())
    password = secrets.token_urlsafe(24)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(password.encode()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"cosign.key": private.decode(), "cosign.pub": public.decode(), "cosign.password": password}


def _secret_ref():
    return {"type": "object", "properties": {"name": {"type": "string"}, "key": {"type": "string"}}}


def repository_crd():
    """Pipelines as Code's Repository CRD, from the PaC documentation (no upstream copy in the lab)."""
    spec = {
        "type": "object", "required": ["url"],
        "properties": {
            "url": {"type": "string"},
            "git_provider": {"type": "object", "properties": {
                "url": {"type": "string"}, "user": {"type": "string"}, "type": {"type": "string"},
                "secret": _secret_ref(), "webhook_secret": _secret_ref()}},
            "concurrency_limit": {"type": "integer", "minimum": 1},
            "params": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "value": {"type": "string"}, "secret_ref": _secret_ref(),
                "filter": {"type": "string"}}}},
            "settings": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    last_run = '.pipelinerun_status[-1].conditions[?(@.type=="Succeeded")].'
    return {
        "apiVersion": CRD_API, "kind": "CustomResourceDefinition",
        "metadata": {"name": REPOSITORY_CRD, "labels": {"devsecops.lab/source": "standin",
                                                        "app.kubernetes.io/part-of": "pipelines-as-code"}},
        "spec": {
            "group": "pipelinesascode.tekton.dev", "scope": "Namespaced",
            "names": {"kind": "Repository", "listKind": "RepositoryList", "plural": "repositories",
                      "singular": "repository", "shortNames": ["repo"]},
            "versions": [{
                "name": "v1alpha1", "served": True, "storage": True,
                "additionalPrinterColumns": [
                    {"name": "URL", "type": "string", "jsonPath": ".spec.url"},
                    {"name": "Succeeded", "type": "string", "jsonPath": last_run + "status"},
                    {"name": "Reason", "type": "string", "jsonPath": last_run + "reason"}],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                    "spec": spec,
                    # PaC keeps the last runs at the top level, not under .status
                    "pipelinerun_status": {"type": "array", "items": {
                        "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}},
            }],
        },
    }


def conditions(current, types, status="True", reason=None, message=None):
    """Knative-style conditions; lastTransitionTime is kept where a condition's status did not change."""
    previous = {c.get("type"): c for c in current or []}
    result = []
    for ctype in types:
        cond = {"type": ctype, "status": status}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        old = previous.get(ctype) or {}
        same = old.get("status") == status and old.get("lastTransitionTime")
        cond["lastTransitionTime"] = old["lastTransitionTime"] if same else now_iso()
        result.append(cond)
    return result


def status_differs(current, wanted):
    """True if writing `wanted` would change more than timestamps of `current`."""
    def bare(status):
        status = dict(status or {})
        status["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                                for c in status.get("conditions") or []]
        return status
    current = bare(current)
    return any(current.get(key) != value for key, value in bare(wanted).items())


# -- Tekton's PipelineRun admission, as pure functions ----------------------------------------------
# Each check yields (reason, template, detail): Tekton's condition reason, its message around the error
# ({run}, {run_name} and {pipeline} filled in by admit) and the error itself.
INVALID_SPEC = "Pipeline {pipeline} can't be Run; it has an invalid spec: " + USER_ERROR + "{detail}"
MISSING_PARAMS = ("PipelineRun {run} is missing some parameters required by Pipeline {pipeline}: "
                  "PipelineRun missing parameters: {detail}")
BAD_BINDINGS = "PipelineRun {run} doesn't bind Pipeline {pipeline}'s Workspaces correctly: {detail}"
MISSING_TASK = "Pipeline {pipeline} can't be Run; it contains Tasks that don't exist: {detail}"
INVALID_TASK = "Validation failed for pipelinerun {run_name} with error " + USER_ERROR + "{detail}"


class RunFailed(Exception):
    """The run fails before any TaskRun: Succeeded False with this reason and message."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


class AwaitingRemote(Exception):
    """A remote resolver is asked; the lab has none, so the run waits with this reason."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _go_list(names):
    """A []string as Go's %s prints it."""
    return "[%s]" % " ".join(names)


def _q(value):
    """A string as Go's %q prints it (JSON's quoting is the same for what appears here)."""
    return json.dumps(str(value))


def _ref_params(ref):
    return {p.get("name"): p.get("value") for p in ref.get("params") or []}


def ref_location(ref, namespace, kind):
    """(namespace, name) a pipelineRef/taskRef points at. ValueError for a malformed cluster-resolver ref;
    AwaitingRemote for other resolvers."""
    resolver = ref.get("resolver")
    if not resolver:
        if not ref.get("name"):
            raise ValueError("%sRef has neither name nor resolver" % kind)
        return namespace, ref["name"]
    if resolver != "cluster":
        raise AwaitingRemote("ResolvingPipelineRef" if kind == "pipeline" else "ResolvingTaskRef")
    params = _ref_params(ref)
    if (params.get("kind") or "task") != kind:
        raise ValueError("cluster resolver: kind %r given where a %s is expected" % (params.get("kind"), kind))
    if not params.get("name"):
        raise ValueError("cluster resolver: missing required param \"name\"")
    return params.get("namespace") or namespace, params["name"]


def pipeline_location(run):
    """(namespace, name) of the run's Pipeline, or None for an embedded pipelineSpec."""
    spec = run.get("spec") or {}
    if spec.get("pipelineSpec"):
        return None
    return ref_location(spec.get("pipelineRef") or {}, run["metadata"]["namespace"], "pipeline")


def pipeline_tasks(pipeline_spec):
    return list(pipeline_spec.get("tasks") or []) + list(pipeline_spec.get("finally") or [])


def _is_custom(ptask):
    return bool((ptask.get("taskRef") or {}).get("apiVersion"))


def task_location(ptask, namespace):
    """(namespace, name) of a pipeline task's Task; None for an embedded taskSpec or a custom task."""
    if ptask.get("taskSpec") or not ptask.get("taskRef") or _is_custom(ptask):
        return None
    return ref_location(ptask["taskRef"], namespace, "task")


def resolve_task(ref, namespace, tasks):
    """The Task a taskRef names, from tasks {(namespace, name): Task} (or {name: Task} of `namespace`);
    None if it is not there. ValueError/AwaitingRemote as ref_location."""
    location = ref_location(ref, namespace, "task")
    found = tasks.get(location)
    if found is None and location[0] == namespace:
        found = tasks.get(location[1])
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _pipeline_run_strings(ptask):
    """The strings of a pipeline task the PipelineRun's substitutions reach (not its embedded taskSpec)."""
    return _strings({k: v for k, v in ptask.items() if k not in ("taskSpec", "pipelineSpec")})


def _result_refs(ptask):
    for field in ("params", "matrix", "when"):
        for text in _strings(ptask.get(field)):
            for match in RESULT_REF.finditer(text):
                yield match.group(1), match.group(2) or match.group(3)


def _undeclared_param(ptask, declared):
    for text in _pipeline_run_strings(ptask):
        for match in PARAM_REF.finditer(text):
            if (match.group(1) or match.group(2)) not in declared:
                return "non-existent variable in %s (pipeline task %s)" % (_q(text), _q(ptask.get("name")))
    return None


def _undeclared_workspace(ptask, declared):
    for binding in ptask.get("workspaces") or []:
        wanted = binding.get("workspace") or binding.get("name")
        if wanted not in declared:
            return "pipeline task %s expects workspace with name %s but none exists in pipeline spec" % (
                _q(ptask.get("name")), _q(wanted))
    return None


def _spec_problems(spec):
    """What Tekton's PipelineSpec.Validate refuses (the lab has no webhook to refuse it earlier)."""
    params = {p.get("name") for p in spec.get("params") or []}
    workspaces = {w.get("name") for w in spec.get("workspaces") or []}
    for ptask in pipeline_tasks(spec):
        problem = _undeclared_param(ptask, params) or _undeclared_workspace(ptask, workspaces)
        if problem:
            yield "PipelineValidationFailed", INVALID_SPEC, problem


def _run_problems(spec, run):
    """The run against its Pipeline: params without default given, non-optional workspaces bound."""
    given = {p.get("name") for p in (run.get("spec") or {}).get("params") or []}
    missing = [p["name"] for p in spec.get("params") or [] if "default" not in p and p.get("name") not in given]
    if missing:
        yield "ParameterMissing", MISSING_PARAMS, _go_list(missing)
    bound = {w.get("name") for w in (run.get("spec") or {}).get("workspaces") or []}
    for workspace in spec.get("workspaces") or []:
        if not workspace.get("optional") and workspace.get("name") not in bound:
            yield ("InvalidWorkspaceBindings", BAD_BINDINGS, "pipeline requires workspace with name %s be provided "
                   "by pipelinerun" % _q(workspace.get("name")))


def _resolve_tasks(spec, lookup):
    """({pipeline task: (Task name, Task spec or None for a custom task)}, CouldntGetTask problems).
    lookup(taskRef) gives the Task or None; AwaitingRemote passes through."""
    resolved, problems = {}, []
    for ptask in pipeline_tasks(spec):
        ref = ptask.get("taskRef") or {}
        if ptask.get("taskSpec"):
            resolved[ptask["name"]] = ("", ptask["taskSpec"])
            continue
        if _is_custom(ptask):
            resolved[ptask["name"]] = (ref.get("name", ""), None)
            continue
        name = ref.get("name") or _ref_params(ref).get("name") or ""
        try:
            task, error = lookup(ref), "tasks.tekton.dev %s not found" % _q(name)
        except ValueError as err:
            task, error = None, str(err)
        if task is None:
            problems.append(("CouldntGetTask", MISSING_TASK, "Couldn't retrieve Task %s: %s" % (_q(name), error)))
        else:
            resolved[ptask["name"]] = (name, task.get("spec") or {})
    return resolved, problems


def _task_problems(spec, resolved):
    """Each pipeline task against its Task, and the result references between them."""
    for ptask in pipeline_tasks(spec):
        task_name, task_spec = resolved.get(ptask["name"], ("", None))
        if task_spec is None:
            continue
        given = {p.get("name") for p in ptask.get("params") or []}
        given |= {p.get("name") for p in (ptask.get("matrix") or {}).get("params") or []}
        missing = [p["name"] for p in task_spec.get("params") or []
                   if "default" not in p and p.get("name") not in given]
        if missing:
            yield ("PipelineValidationFailed", INVALID_TASK, "invalid input params for task %s: missing values for "
                   "these params which have no default values: %s" % (task_name, _go_list(missing)))
    yield from _result_problems(spec, resolved)
    yield from _task_workspace_problems(spec, resolved)


def _result_problems(spec, resolved):
    names = {ptask.get("name") for ptask in pipeline_tasks(spec)}
    for ptask in pipeline_tasks(spec):
        for producer, result in _result_refs(ptask):
            task_spec = resolved.get(producer, ("", None))[1]
            if producer not in names:
                problem = "referenced pipeline task %s does not exist" % _q(producer)
            elif task_spec is None or result in {r.get("name") for r in task_spec.get("results") or []}:
                continue
            else:
                problem = "%s is not a named result returned by pipeline task %s" % (_q(result), _q(producer))
            yield ("InvalidTaskResultReference", "{detail}",
                   "invalid result reference in pipeline task %s: %s" % (_q(ptask["name"]), problem))


def _task_workspace_problems(spec, resolved):
    for ptask in pipeline_tasks(spec):
        task_name, task_spec = resolved.get(ptask["name"], ("", None))
        mapped = {w.get("name") for w in ptask.get("workspaces") or []}
        for workspace in (task_spec or {}).get("workspaces") or []:
            if not workspace.get("optional") and workspace.get("name") not in mapped:
                yield ("PipelineValidationFailed", INVALID_TASK, "pipeline task %s does not bind workspace %s of "
                       "Task %s: declared workspace %s is required but has not been bound"
                       % (_q(ptask["name"]), _q(workspace["name"]), _q(task_name), _q(workspace["name"])))


def _raise_first(problems, names):
    for reason, template, detail in problems:
        raise RunFailed(reason, template.format(detail=detail, **names))


def admit(run, pipeline, tasks):
    """Tekton's checks of a new PipelineRun before its first TaskRun, in its reconciler's order.

    run: the PipelineRun; pipeline: the Pipeline its pipelineRef points at (None if not found; ignored for
    an embedded pipelineSpec); tasks: {(namespace, name): Task} of the Tasks found. Returns the pipeline
    spec for a run that may start; raises RunFailed or AwaitingRemote.
    """
    meta = run["metadata"]
    names = {"run": "%s/%s" % (meta["namespace"], meta["name"]), "run_name": meta["name"]}
    spec = (run.get("spec") or {}).get("pipelineSpec")
    names["pipeline"] = names["run"]
    if not spec:
        try:
            location = pipeline_location(run)
        except ValueError as err:
            raise RunFailed("CouldntGetPipeline", "Error retrieving pipeline for pipelinerun %s: %s"
                            % (names["run"], err)) from None
        if pipeline is None:
            raise RunFailed("CouldntGetPipeline", "Error retrieving pipeline for pipelinerun %s: "
                            "pipelines.tekton.dev %s not found" % (names["run"], _q(location[1])))
        spec = pipeline.get("spec") or {}
        names["pipeline"] = "%s/%s" % location
    _raise_first(_spec_problems(spec), names)
    _raise_first(_run_problems(spec, run), names)
    resolved, missing = _resolve_tasks(spec, lambda ref: resolve_task(ref, meta["namespace"], tasks))
    _raise_first(missing, names)
    _raise_first(_task_problems(spec, resolved), names)
    return spec


def pipeline_problems(pipeline, resolve):
    """Every problem Tekton would find in a Pipeline before running it, whatever the run: undeclared
    $(params)/workspaces, Tasks that cannot be found (resolve(taskRef) -> Task or None), Task params and
    workspaces not given, result references to nothing. A list of Tekton's error texts; empty if none."""
    spec = pipeline.get("spec") or {}
    resolved, missing = _resolve_tasks(spec, resolve)
    problems = list(_spec_problems(spec)) + missing + list(_task_problems(spec, resolved))
    return [detail for _reason, _template, detail in problems]


def admission_status(run, pipeline, tasks, now):
    """The status Tekton's reconciler writes on a new PipelineRun (see admit)."""
    status = {"startTime": now}
    try:
        spec = admit(run, pipeline, tasks)
    except RunFailed as failure:
        resolved = (run.get("spec") or {}).get("pipelineSpec") or (pipeline or {}).get("spec")
        if resolved:
            status["pipelineSpec"] = resolved
        status["completionTime"] = now
        status["conditions"] = [_succeeded("False", failure.reason, failure.message, now)]
        return status
    except AwaitingRemote as waiting:
        meta = run["metadata"]
        status["conditions"] = [_succeeded("Unknown", waiting.reason, "PipelineRun %s/%s awaiting remote resource"
                                           % (meta["namespace"], meta["name"]), now)]
        return status
    status["pipelineSpec"] = spec
    message = "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: %d, Skipped: 0" % len(pipeline_tasks(spec))
    status["conditions"] = [_succeeded("Unknown", "Running", message, now)]
    return status


def _succeeded(status, reason, message, now):
    return {"type": "Succeeded", "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now}


def succeeded_condition(run):
    for cond in (run.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Succeeded":
            return cond
    return None


def wait_for_condition(kube, namespace, name, timeout=30):
    """For tests: the Succeeded condition of a PipelineRun once this stand-in has set it."""
    def condition():
        run = kube.get_or_none(TEKTON_API, "pipelineruns", name, namespace)
        return run and succeeded_condition(run)
    return kube.wait_for(condition, timeout=timeout, what="PipelineRun %s/%s admitted" % (namespace, name))


# -- the stand-in -------------------------------------------------------------------------------------
class PipelinesStandin:
    def __init__(self, kube):
        self.kube = kube
        self.version = DEFAULT_VERSION
        self.seeded = set()  # uids of the CSVs whose install created the default TektonConfig

    def watches(self):
        return [(OLM, "clusterserviceversions", self.on_csv),
                (OPERATOR_API, "tektonconfigs", self.on_tektonconfig),
                (TEKTON_API, "pipelineruns", self.on_pipelinerun)]

    def _installed(self, namespace=OPERATOR_NAMESPACE):
        return _installed(self.kube, namespace, PACKAGE)

    # -- operator install -------------------------------------------------------------------
    def on_csv(self, event, csv):
        meta = csv["metadata"]
        if event == "DELETED" or not meta["name"].startswith(PACKAGE + ".") or \
                (csv.get("status") or {}).get("phase") != "Succeeded":
            return
        version = meta["name"].split(".v", 1)[1].split("-")[0] if ".v" in meta["name"] else DEFAULT_VERSION
        changed, self.version = version != self.version, version
        if meta["uid"] not in self.seeded:
            self.seeded.add(meta["uid"])
            self._namespace(DEFAULT_TARGET)
            try:
                self.kube.create(OPERATOR_API, "tektonconfigs", default_tektonconfig())
                LOG.info("%s: TektonConfig %s created by the Pipelines operator %s", self.kube.name, CONFIG_NAME,
                         version)
            except KubeError as err:
                if err.status != 409:
                    raise
            changed = True
        if changed:
            for config in self.kube.list(OPERATOR_API, "tektonconfigs")["items"]:
                self.on_tektonconfig("SYNC", config)
            for run in self.kube.list(TEKTON_API, "pipelineruns")["items"]:
                self.on_pipelinerun("SYNC", run)

    def _namespace(self, name):
        self.kube.ensure("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # -- TektonConfig ---------------------------------------------------------------------------
    def on_tektonconfig(self, event, config):
        meta = config["metadata"]
        if not self._installed():
            return
        if event == "DELETED" or meta.get("deletionTimestamp"):
            if meta["name"] == CONFIG_NAME:
                self._remove_chains(config)
            return
        if meta["name"] != CONFIG_NAME:
            message = "Resource ignored, Expected Name: %s, Got Name: %s" % (CONFIG_NAME, meta["name"])
            self._status(OPERATOR_API, "tektonconfigs", config, {"conditions": conditions(
                (config.get("status") or {}).get("conditions"), ("Ready",), "False", "Error", message)})
            return
        self._namespace(target_namespace(config))
        if chains_enabled(config):
            self._ensure_chains(config)
        else:
            self._remove_chains(config)
        if pac_enabled(config):
            self._ensure_repository_crd()
        self._status(OPERATOR_API, "tektonconfigs", config, {
            "version": self.version, "observedGeneration": meta.get("generation"),
            "conditions": conditions((config.get("status") or {}).get("conditions"), CONFIG_CONDITIONS)})

    def _status(self, api, plural, obj, wanted):
        if status_differs(obj.get("status"), wanted):
            self.kube.merge_patch(api, plural, obj["metadata"]["name"], {"status": wanted},
                                  namespace=obj["metadata"].get("namespace"), subresource="status")

    def _replace(self, api, plural, name, field, value, namespace=None):
        """Replace one top-level field whole (a merge patch would keep removed keys)."""
        return self.kube.request("PATCH", self.kube.path(api, plural, namespace, name),
                                 [{"op": "add", "path": "/" + field, "value": value}],
                                 content_type="application/json-patch+json")

    def _ensure_chains(self, config):
        namespace = target_namespace(config)
        spec = tektonchain_spec(config)
        owner = {"apiVersion": OPERATOR_API, "kind": "TektonConfig", "name": config["metadata"]["name"],
                 "uid": config["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
        chain = self.kube.get_or_none(OPERATOR_API, "tektonchains", CHAIN_NAME)
        if chain is None:
            chain = self.kube.create(OPERATOR_API, "tektonchains", {
                "apiVersion": OPERATOR_API, "kind": "TektonChain",
                "metadata": {"name": CHAIN_NAME, "ownerReferences": [owner]}, "spec": spec})
            LOG.info("%s: TektonChain %s created", self.kube.name, CHAIN_NAME)
        elif chain.get("spec") != spec:
            chain = self._replace(OPERATOR_API, "tektonchains", CHAIN_NAME, "spec", spec)
        self._status(OPERATOR_API, "tektonchains", chain, {
            "version": self.version, "observedGeneration": chain["metadata"].get("generation"),
            "conditions": conditions((chain.get("status") or {}).get("conditions"), CHAIN_CONDITIONS)})
        self._chains_config(namespace, chains_config_data(chain_spec(config)))
        if chain_spec(config).get("generateSigningSecret"):
            self._signing_secret(namespace)

    def _chains_config(self, namespace, data):
        current = self.kube.get_or_none("v1", "configmaps", CHAINS_CONFIG, namespace)
        if current is None:
            self.kube.create("v1", "configmaps", {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": CHAINS_CONFIG, "namespace": namespace,
                             "labels": {"app.kubernetes.io/part-of": "tekton-chains"}},
                "data": data}, namespace=namespace)
        elif (current.get("data") or {}) != data:
            self._replace("v1", "configmaps", CHAINS_CONFIG, "data", data, namespace=namespace)
        else:
            return
        LOG.info("%s: %s/%s has %d keys", self.kube.name, namespace, CHAINS_CONFIG, len(data))

    def _signing_secret(self, namespace):
        if self.kube.get_or_none("v1", "secrets", SIGNING_SECRET, namespace) is not None:
            return
        self.kube.ensure("v1", "secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": SIGNING_SECRET, "namespace": namespace},
            "stringData": signing_secret_data()}, namespace=namespace)
        LOG.info("%s: %s/%s generated (generateSigningSecret)", self.kube.name, namespace, SIGNING_SECRET)

    def _remove_chains(self, config):
        if self.kube.delete(OPERATOR_API, "tektonchains", CHAIN_NAME) is not None:
            LOG.info("%s: TektonChain %s deleted", self.kube.name, CHAIN_NAME)
        self.kube.delete("v1", "configmaps", CHAINS_CONFIG, target_namespace(config))

    def _ensure_repository_crd(self):
        crd = self.kube.get_or_none(CRD_API, "customresourcedefinitions", REPOSITORY_CRD)
        if crd is None:
            self.kube.ensure(CRD_API, "customresourcedefinitions", repository_crd())
            LOG.info("%s: CRD %s created (Pipelines as Code)", self.kube.name, REPOSITORY_CRD)
        elif _established(crd):
            return
        self.kube.wait_for(lambda: _established(self.kube.get_or_none(
            CRD_API, "customresourcedefinitions", REPOSITORY_CRD)), timeout=60, what=REPOSITORY_CRD + " Established")

    # -- PipelineRuns ---------------------------------------------------------------------------
    def on_pipelinerun(self, event, run):
        meta = run["metadata"]
        if event == "DELETED" or meta.get("deletionTimestamp") or succeeded_condition(run) is not None:
            return
        if not self._installed(meta["namespace"]):
            return
        if (run.get("spec") or {}).get("status") == "PipelineRunPending":
            return  # Tekton waits for the pending status to be cleared
        run = self.kube.get_or_none(TEKTON_API, "pipelineruns", meta["name"], meta["namespace"])
        if run is None or succeeded_condition(run) is not None:
            return  # a stale event: the run is gone or already admitted
        pipeline = self._fetch_pipeline(run)
        spec = (run.get("spec") or {}).get("pipelineSpec") or (pipeline or {}).get("spec") or {}
        status = admission_status(run, pipeline, self._fetch_tasks(spec, meta["namespace"]), now_iso())
        self.kube.merge_patch(TEKTON_API, "pipelineruns", meta["name"], {"status": status},
                              namespace=meta["namespace"], subresource="status")
        cond = status["conditions"][0]
        LOG.info("%s: PipelineRun %s/%s %s %s: %s", self.kube.name, meta["namespace"], meta["name"],
                 cond["status"], cond["reason"], cond["message"])

    def _fetch_pipeline(self, run):
        try:
            location = pipeline_location(run)
        except (ValueError, AwaitingRemote):
            return None
        if location is None:
            return None
        return self.kube.get_or_none(TEKTON_API, "pipelines", location[1], location[0])

    def _fetch_tasks(self, spec, namespace):
        found = {}
        for ptask in pipeline_tasks(spec):
            try:
                location = task_location(ptask, namespace)
            except (ValueError, AwaitingRemote):
                continue
            if location is not None and location not in found:
                task = self.kube.get_or_none(TEKTON_API, "tasks", location[1], location[0])
                if task is not None:
                    found[location] = task
        return found


def _established(crd):
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in ((crd or {}).get("status") or {}).get("conditions") or [])
