"""Stand-in for Argo CD's application controller (the Argo CD of OpenShift GitOps), for Applications
with a Helm chart source.

It imitates the observable status the application controller writes, as documented in Argo CD's
Application CRD and user guide ("Sync Options", "Automated Sync Policy", "App Deletion", "Resource
Tracking", "Helm") and, for exact messages, argoproj/argo-cd (controller/state.go, controller/health.go,
controller/appcontroller.go, util/argo/argo.go, reposerver/repository/repository.go, util/helm).

Which Applications: ``argoproj.io/v1alpha1`` Applications in the namespace of an ArgoCD instance whose
phase is Available (the GitOps stand-in in hub.py creates ``openshift-gitops`` once the operator is
installed), or in a namespace an ArgoCD lists in ``spec.sourceNamespaces`` (apps in any namespace).
Once an instance is Available the project ``default`` (every repo, destination and cluster resource)
exists in its namespace, as Argo CD's server creates it.

What the controller does, in its order (InvalidSpecError -> sync Unknown, health Unknown):

* the project must exist: "Application referencing project <p> which does not exist";
* the source repo must be permitted by the project's ``sourceRepos`` (globs): "application repo <url> is
  not permitted in project '<p>'";
* the destination: ``https://kubernetes.default.svc`` / name ``in-cluster`` is the cluster the
  Application lives on; another server or name must match a cluster Secret (label
  ``argocd.argoproj.io/secret-type: cluster``, keys ``name``, ``server``, ``config`` with
  ``bearerToken`` and ``tlsClientConfig``) in the Argo CD namespace, else
  ``error getting cluster by server "<s>": rpc error: code = NotFound desc = cluster "<s>" not found``
  or "there are no clusters with this name: <n>". Such a cluster is reached with that Secret's
  credentials - a lab cluster's server and a token it accepts;
* the destination must be permitted by the project's ``destinations``.

Then the manifests (ComparisonError "Failed to load target state: failed to generate manifest for
source 1 of 1: rpc error: code = Unknown desc = ..." -> sync Unknown, health from what is live):
``targetRevision`` is resolved as Argo CD does (an exact version is pulled as is; a constraint such as
``3.4.*`` is resolved against the repository's index: "chart '<c>' not found in index", "invalid
revision: version matching constraint not found in N tags"); the chart is fetched with the real helm
(``helm pull --version V --repo URL chart``, so an unknown chart or version fails with helm's own
"chart ... version ... not found in ... repository") and rendered with ``helm template`` - release
``spec.source.helm.releaseName`` (default: the Application's name), namespace ``helm.namespace`` or the
destination's, ``valueFiles`` (inside the chart), ``values`` / ``valuesObject`` (the object wins),
``parameters`` (``--set`` / ``--set-string`` with ``forceString``), ``fileParameters``, ``skipCrds``,
``kubeVersion``, ``apiVersions``. **Lab-only**: the lab has no network, so a repository that is not on
127.0.0.1/localhost is not tried: it fails as unreachable ("looks like ... is not a valid chart
repository or cannot be reached ... no such host"). Only single-source Helm Applications are imitated;
a git or multi-source Application gets a ComparisonError that says so.

Sync: with ``syncPolicy.automated`` (or an ``operation.sync`` set on the Application, as ``argocd app
sync`` does) the rendered objects are server-side applied (field manager ``argocd-controller``) to the
destination, each annotated ``argocd.argoproj.io/tracking-id: <app>:<group>/<Kind>:<ns>/<name>`` (Argo
CD 3's default annotation tracking; ``<ns>_<app>`` for an app outside the control-plane namespace).
``CreateNamespace=true`` in ``syncOptions`` creates the destination namespace (with
``managedNamespaceMetadata``); without it a missing namespace fails the sync ("one or more objects
failed to apply, reason: namespaces "<ns>" not found"). ``automated.prune`` (or ``operation.sync.prune``)
deletes tracked objects the chart no longer renders; without it they stay and the app is OutOfSync.
Status: ``sync.status`` Synced (revision = the chart version, ``comparedTo``), ``health.status`` Healthy
(kinds that need a kubelet - Deployment, StatefulSet, DaemonSet, Job, Pod, PVC - stay Progressing;
Missing while nothing is live), ``operationState`` (phase Succeeded, "successfully synced (all tasks
run)", ``syncResult`` with every resource), ``resources``, ``summary``, ``history``, ``reconciledAt``,
``sourceType: Helm``, ``controllerNamespace``. As in Argo CD, an automated sync that failed is not
retried for the same revision and source unless ``syncPolicy.retry`` is set (changing only
``syncOptions`` does not count: Argo CD compares revision and source); ``selfHeal`` re-syncs when
a synced object disappears. **Lab-only simplification**: live objects are compared by presence and the
source they were synced from, not field by field - an object edited by hand is not seen as drift.

Deletion: an Application with the finalizer ``resources-finalizer.argocd.argoproj.io`` (or its
``/foreground`` / ``/background`` forms) has its tracked objects deleted, then the finalizer removed -
Argo CD's cascading delete; a namespace made by CreateNamespace stays. Without the finalizer the
objects stay, as in Argo CD. If the destination cluster is unknown the finalizer is removed and nothing
deleted; if the project is missing, or no Argo CD instance serves the namespace, the Application stays
Terminating (controller/appcontroller.go finalizeApplicationDeletion).

Health for a ComparisonError is Argo CD's: computed from what is live, so an app that never synced shows
Healthy with sync Unknown (controller/health.go: no resources is Healthy) - assert on ``sync.status`` and
``conditions``, not on health alone.
"""

import base64
import copy
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse

import requests
import yaml

from tests.lab import chartrepo
from tests.lab.kube import Kube, KubeError
from tests.lab.standins.runtime import LOG, now_iso

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"
FINALIZERS = ("resources-finalizer.argocd.argoproj.io", "resources-finalizer.argocd.argoproj.io/foreground",
              "resources-finalizer.argocd.argoproj.io/background")
TRACKING = "argocd.argoproj.io/tracking-id"
MANAGER = "argocd-controller"
LOAD_TARGET = "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
SYNC_OK = "successfully synced (all tasks run)"
HISTORY_LIMIT = 10
KUBELET_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "PersistentVolumeClaim"}
ERROR_TTL = 15  # seconds a failed pull or render is remembered (Argo CD's repo error grace is similar)
TIMESTAMP_KEYS = ("reconciledAt", "observedAt", "lastTransitionTime", "startedAt", "finishedAt", "deployedAt",
                  "deployStartedAt")


# -- pure helpers ------------------------------------------------------------------------------------
def app_source(app):
    """The single source of an Application (spec.source, or the only entry of spec.sources), or None."""
    spec = app.get("spec") or {}
    if spec.get("source"):
        return spec["source"]
    sources = spec.get("sources") or []
    return sources[0] if len(sources) == 1 else None


def instance_name(app, control_namespace):
    """Argo CD's application instance name, used in tracking ids."""
    meta = app["metadata"]
    if meta.get("namespace") in (None, "", control_namespace):
        return meta["name"]
    return "%s_%s" % (meta["namespace"], meta["name"])


def split_api_version(api_version):
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def resource_key(obj):
    """(group, version, kind, namespace, name) of a manifest or live object."""
    group, version = split_api_version(obj.get("apiVersion", ""))
    meta = obj.get("metadata") or {}
    return (group, version, obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


def tracking_id(instance, key):
    group, _version, kind, namespace, name = key
    return "%s:%s/%s:%s/%s" % (instance, group, kind, namespace, name)


def sync_options(app):
    options = {}
    for item in ((app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions") or []:
        name, _, value = str(item).partition("=")
        options[name.strip()] = value.strip()
    return options


def automated(app):
    policy = (app.get("spec") or {}).get("syncPolicy") or {}
    auto = policy.get("automated")
    if auto is None or auto.get("enabled") is False:
        return None
    return auto


def glob_match(pattern, value):
    """Argo CD's glob.Match for project fields: '*' anything; a leading '!' negates."""
    pattern = str(pattern)
    if pattern.startswith("!"):
        return not fnmatch.fnmatchcase(value or "", pattern[1:])
    return fnmatch.fnmatchcase(value or "", pattern)


def source_permitted(project, repo_url):
    repos = (project.get("spec") or {}).get("sourceRepos") or []
    allowed = [r for r in repos if not str(r).startswith("!")]
    denied = [r[1:] for r in repos if str(r).startswith("!")]
    if any(glob_match(d, repo_url.rstrip("/")) or glob_match(d, repo_url) for d in denied):
        return False
    return any(r == "*" or glob_match(r, repo_url) or glob_match(r, repo_url.rstrip("/")) for r in allowed)


def destination_permitted(project, server, name, namespace):
    for dest in (project.get("spec") or {}).get("destinations") or []:
        if dest.get("server") and not glob_match(dest["server"], server):
            continue
        if dest.get("name") and not glob_match(dest["name"], name):
            continue
        if not dest.get("server") and not dest.get("name"):
            continue
        if glob_match(dest.get("namespace") or "", namespace or ""):
            return True
    return False


def helm_template_args(source, app_name, destination_namespace, chart_dir):
    """(release, namespace, args after `helm template <release> <chart>`, values YAML or None) for a source,
    as Argo CD's helm template command line is built (reposerver/repository/repository.go)."""
    helm = source.get("helm") or {}
    release = helm.get("releaseName") or app_name
    namespace = helm.get("namespace") or destination_namespace or ""
    args = []
    if namespace:
        args += ["--namespace", namespace]
    if helm.get("kubeVersion"):
        args += ["--kube-version", helm["kubeVersion"]]
    for api_version in helm.get("apiVersions") or []:
        args += ["--api-versions", api_version]
    if not helm.get("skipCrds"):
        args.append("--include-crds")
    if helm.get("skipSchemaValidation"):
        args.append("--skip-schema-validation")
    missing_ok = helm.get("ignoreMissingValueFiles")
    for value_file in helm.get("valueFiles") or []:
        path = os.path.normpath(os.path.join(chart_dir, value_file))
        if not path.startswith(chart_dir + os.sep) or not os.path.exists(path):
            if missing_ok:
                continue
            raise chartrepo.ChartError("Error: open %s: no such file or directory" % value_file)
        args += ["--values", path]
    values = None
    if helm.get("valuesObject") is not None:
        values = yaml.safe_dump(helm["valuesObject"], default_flow_style=False)
    elif helm.get("values"):
        values = helm["values"] if isinstance(helm["values"], str) else yaml.safe_dump(helm["values"])
    for param in helm.get("parameters") or []:
        flag = "--set-string" if param.get("forceString") else "--set"
        args += [flag, "%s=%s" % (param.get("name", ""), param.get("value", ""))]
    for param in helm.get("fileParameters") or []:
        args += ["--set-file", "%s=%s" % (param.get("name", ""), os.path.join(chart_dir, param.get("path", "")))]
    return release, namespace, args, values


def resource_health(obj):
    """Argo CD's health of one live object, for the kinds the lab can judge; None: no health check."""
    kind = obj.get("kind")
    if kind in KUBELET_KINDS:
        return {"status": "Progressing", "message": "Waiting for rollout to finish (the lab has no kubelet)"}
    return None


def app_health(target_keys, live):
    """controller/health.go: the worst health of live resources; Missing if resources are expected and none
    is live; Healthy with no resources at all."""
    order = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]
    status = "Healthy"
    contains_live = False
    for key in target_keys:
        obj = live.get(key)
        if obj is None:
            continue
        contains_live = True
        health = resource_health(obj)
        if health and order.index(health["status"]) > order.index(status):
            status = health["status"]
    for key, obj in live.items():
        if key not in target_keys:
            contains_live = True
            health = resource_health(obj)
            if health and order.index(health["status"]) > order.index(status):
                status = health["status"]
    if target_keys and not contains_live and order.index("Missing") > order.index(status):
        status = "Missing"
    return status


def _strip_times(value):
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if k not in TIMESTAMP_KEYS}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def same_status(old, new):
    """True if two statuses differ in timestamps only (so the stand-in does not write, and its own write
    does not make it write again)."""
    return _strip_times(old or {}) == _strip_times(new or {})


def resource_entries(target_keys, live, extras, synced):
    entries = []
    for key in sorted(set(target_keys) | set(extras)):
        group, version, kind, namespace, name = key
        entry = {"version": version, "kind": kind, "name": name}
        if group:
            entry["group"] = group
        if namespace:
            entry["namespace"] = namespace
        in_target = key in target_keys
        entry["status"] = "Synced" if in_target and key in live and synced else "OutOfSync"
        obj = live.get(key)
        health = resource_health(obj) if obj else ({"status": "Missing"} if in_target else None)
        if health:
            entry["health"] = {"status": health["status"]}
            if health.get("message"):
                entry["health"]["message"] = health["message"]
        if not in_target:
            entry["requiresPruning"] = True
        entries.append(entry)
    return entries


def compute_status(old, app, *, control_namespace, now, invalid=(), comparison_error=None, revision=None,
                   target_keys=(), live=None, operation_state=None, sync_error=None):
    """The status the application controller would write now.

    old: the current status; invalid: InvalidSpecError messages; comparison_error: a ComparisonError message;
    revision: the resolved chart version; target_keys: resource keys the chart renders; live: key -> live
    object for objects tracked by this app (target or not); operation_state: the sync just run, or None;
    sync_error: the SyncError condition auto-sync sets when it will not retry a failed sync.
    Timestamps of unchanged parts are kept from old."""
    old = old or {}
    live = live or {}
    spec = app.get("spec") or {}
    source = app_source(app) or spec.get("source") or {}
    status = {"controllerNamespace": control_namespace, "sourceType": "Helm" if source.get("chart") else "Directory",
              "summary": {}}
    compared = {"destination": spec.get("destination") or {}}
    if spec.get("sources"):
        compared["sources"] = spec["sources"]
    else:
        compared["source"] = source
    if spec.get("ignoreDifferences"):
        compared["ignoreDifferences"] = spec["ignoreDifferences"]
    conditions = [{"type": "InvalidSpecError", "message": m} for m in invalid]
    if comparison_error:
        conditions.append({"type": "ComparisonError", "message": comparison_error})
    if sync_error:
        conditions.append({"type": "SyncError", "message": sync_error})
    target_keys = list(target_keys)
    extras = [k for k in live if k not in target_keys]
    op = operation_state if operation_state is not None else old.get("operationState")
    if invalid:
        status["sync"] = {"status": "Unknown", "comparedTo": compared}
        if revision:
            status["sync"]["revision"] = revision
        status["health"] = {"status": "Unknown"}
    else:
        last = (op or {}).get("syncResult") or {}
        synced_from_here = bool(op) and op.get("phase") == "Succeeded" and last.get("revision") == revision \
            and last.get("source") == source
        if comparison_error:
            sync = "Unknown"
        elif target_keys and all(k in live for k in target_keys) and not extras and synced_from_here:
            sync = "Synced"
        elif not target_keys and not extras and synced_from_here:
            sync = "Synced"
        else:
            sync = "OutOfSync"
        status["sync"] = {"status": sync, "comparedTo": compared}
        if revision:
            status["sync"]["revision"] = revision
        status["health"] = {"status": app_health([] if comparison_error else target_keys, live)}
        status["resources"] = resource_entries([] if comparison_error else target_keys, live, extras,
                                               sync == "Synced")
        if not status["resources"]:
            del status["resources"]
    if conditions:
        status["conditions"] = conditions
    if op:
        status["operationState"] = op
    history = list(old.get("history") or [])
    if operation_state and operation_state.get("phase") == "Succeeded":
        history.append({"id": (history[-1]["id"] + 1) if history else 0, "revision": revision,
                        "source": source, "deployedAt": operation_state.get("finishedAt", now),
                        "deployStartedAt": operation_state.get("startedAt", now),
                        "initiatedBy": (operation_state.get("operation") or {}).get("initiatedBy") or {}})
        history = history[-HISTORY_LIMIT:]
    if history:
        status["history"] = history
    # timestamps: kept where nothing else changed
    old_health = old.get("health") or {}
    if old_health.get("status") == status["health"]["status"] and old_health.get("lastTransitionTime"):
        status["health"]["lastTransitionTime"] = old_health["lastTransitionTime"]
    else:
        status["health"]["lastTransitionTime"] = now
    old_conditions = {(c.get("type"), c.get("message")): c.get("lastTransitionTime") for c in old.get("conditions") or []}
    for condition in status.get("conditions", []):
        condition["lastTransitionTime"] = old_conditions.get((condition["type"], condition["message"])) or now
    status["reconciledAt"] = now
    if same_status(old, status) and old.get("reconciledAt"):
        status["reconciledAt"] = old["reconciledAt"]
    return status


def comparison_message(inner):
    return LOAD_TARGET + inner


def pull_command_error(args, stderr):
    """Argo CD's error for a failed helm pull (util/helm/client.go, util/exec CmdError)."""
    return "error fetching chart: failed running helm: `%s` failed exit status 1: %s" % (" ".join(args), stderr.strip())


def unreachable_stderr(repo_url):
    host = urllib.parse.urlparse(repo_url).hostname or repo_url
    return ('Error: looks like "%s" is not a valid chart repository or cannot be reached: Get "%s/index.yaml": '
            'dial tcp: lookup %s: no such host' % (repo_url, repo_url.rstrip("/"), host))


def is_loopback(repo_url):
    return (urllib.parse.urlparse(repo_url).hostname or "") in ("127.0.0.1", "localhost", "::1")


# -- the stand-in ---------------------------------------------------------------------------------------
class Discovery:
    """Plural and scope of a kind, from the apiserver's discovery documents (cached per group version)."""

    def __init__(self, kube):
        self.kube = kube
        self.cache = {}

    def lookup(self, api_version, kind, refresh=False):
        resources = self.cache.get(api_version)
        if resources is None or (refresh and kind not in resources):
            path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            try:
                body = self.kube.request("GET", path)
            except KubeError:
                body = {}
            resources = {r["kind"]: (r["name"], r.get("namespaced", False))
                         for r in body.get("resources", []) if "/" not in r["name"]}
            self.cache[api_version] = resources
        if kind not in resources and not refresh:
            return self.lookup(api_version, kind, refresh=True)
        return resources.get(kind)


class ArgoCDStandin:
    def __init__(self, kube, lab, cluster, scheduler, lock=None):
        self.kube = kube
        self.lock = lock or threading.RLock()  # the cluster's watcher lock: retries run on the scheduler thread
        self.lab = lab
        self.cluster = cluster
        self.scheduler = scheduler
        self.helm = lab.state.get("helm")
        self.work = os.path.join(lab.dir, "argocd", cluster)
        self.home = os.path.join(self.work, "helm-home")
        self.pulls = {}     # (repo, chart, version) -> (chart dir or None, error or None, when)
        self.renders = {}   # digest of inputs -> (objects or None, error or None, when)
        self.indexes = {}   # repo url -> (index, error, when)
        self.discovery = {}
        self.remote = {}    # server -> (secret resourceVersion, Kube)
        self.retries = {}   # app uid -> count

    def watches(self):
        return [(API, "applications", self.on_application),
                ("argoproj.io/v1beta1", "argocds", self.on_argocd)]

    # -- where Argo CD runs ---------------------------------------------------------------------
    def _instances(self):
        try:
            return [a for a in self.kube.list("argoproj.io/v1beta1", "argocds")["items"]
                    if (a.get("status") or {}).get("phase") == "Available" and not a["metadata"].get("deletionTimestamp")]
        except KubeError:
            return []

    def _control_namespace(self, namespace):
        instances = self._instances()
        for argocd in instances:
            if argocd["metadata"]["namespace"] == namespace:
                return namespace
        for argocd in instances:
            if any(glob_match(p, namespace) for p in (argocd.get("spec") or {}).get("sourceNamespaces") or []):
                return argocd["metadata"]["namespace"]
        return None

    def on_argocd(self, event, argocd):
        if event == "DELETED" or (argocd.get("status") or {}).get("phase") != "Available":
            return
        namespace = argocd["metadata"]["namespace"]
        self.kube.ensure(API, "appprojects", {
            "apiVersion": API, "kind": "AppProject", "metadata": {"name": "default", "namespace": namespace},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                     "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}}, namespace=namespace)
        namespaces = [namespace] + list((argocd.get("spec") or {}).get("sourceNamespaces") or [])
        for app in self.kube.list(API, "applications")["items"]:
            if any(glob_match(p, app["metadata"]["namespace"]) for p in namespaces):
                self.on_application("SYNC", app)

    # -- destination clusters ----------------------------------------------------------------------
    def _destination(self, app, control_namespace):
        """(Kube of the destination, server, name) or raises ValueError with Argo CD's message."""
        dest = (app.get("spec") or {}).get("destination") or {}
        server, name = (dest.get("server") or "").rstrip("/"), dest.get("name") or ""
        if server and name:
            raise ValueError("application destination can't have both name and server defined: %s %s" % (name, server))
        if not server and not name:
            raise ValueError("Destination server missing from app spec")
        if server == IN_CLUSTER or (not server and name == IN_CLUSTER_NAME):
            return self.kube, IN_CLUSTER, IN_CLUSTER_NAME
        secrets = self.kube.list("v1", "secrets", namespace=control_namespace,
                                 label_selector="argocd.argoproj.io/secret-type=cluster")["items"]
        found = []
        for secret in secrets:
            data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
            if (server and data.get("server", "").rstrip("/") == server) or (name and data.get("name") == name):
                found.append((secret, data))
        if not found:
            if server:
                raise ValueError('error getting cluster by server "%s": rpc error: code = NotFound desc = '
                                 'cluster "%s" not found' % (dest.get("server"), server))
            raise ValueError("there are no clusters with this name: %s" % name)
        if len(found) > 1 and name:
            raise ValueError("there are %d clusters with the same name: [%s]"
                             % (len(found), " ".join(d.get("server", "") for _s, d in found)))
        secret, data = found[0]
        return self._remote_kube(secret, data), data.get("server", "").rstrip("/"), data.get("name", "")

    def _remote_kube(self, secret, data):
        server = data.get("server", "").rstrip("/")
        cached = self.remote.get(server)
        if cached and cached[0] == secret["metadata"]["resourceVersion"]:
            return cached[1]
        config = json.loads(data.get("config") or "{}")
        tls = config.get("tlsClientConfig") or {}
        kube = Kube(server, None, config.get("bearerToken") or "", name="%s->%s" % (self.cluster, server))
        if tls.get("insecure"):
            kube.ca_file = False
        elif tls.get("caData"):
            os.makedirs(self.work, exist_ok=True)
            path = os.path.join(self.work, "cluster-%s.crt" % hashlib.sha256(server.encode()).hexdigest()[:12])
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(tls["caData"]))
            kube.ca_file = path
        else:
            kube.ca_file = True  # the system store, as Argo CD without caData
        self.remote[server] = (secret["metadata"]["resourceVersion"], kube)
        return kube

    def _discovery(self, kube):
        found = self.discovery.get(kube.server)
        if found is None or found.kube is not kube:
            found = self.discovery[kube.server] = Discovery(kube)
        return found

    # -- the chart: index, pull, template ----------------------------------------------------------
    def _index(self, repo_url):
        cached = self.indexes.get(repo_url)
        if cached and time.monotonic() - cached[2] < ERROR_TTL:
            if cached[1]:
                raise chartrepo.ChartError(cached[1])
            return cached[0]
        try:
            if not is_loopback(repo_url):
                raise chartrepo.ChartError('error making HTTP request: Get "%s/index.yaml": dial tcp: lookup %s: no such host'
                                           % (repo_url.rstrip("/"), urllib.parse.urlparse(repo_url).hostname))
            session = requests.Session()
            session.trust_env = False  # no proxy for loopback
            resp = session.get(repo_url.rstrip("/") + "/index.yaml", timeout=10)
            if resp.status_code != 200:
                raise chartrepo.ChartError("failed to get index: %s %s" % (resp.status_code, resp.reason))
            index = chartrepo.load_index(resp.text)
        except requests.RequestException as err:
            self.indexes[repo_url] = (None, "error making HTTP request: %s" % err, time.monotonic())
            raise chartrepo.ChartError("error making HTTP request: %s" % err) from err
        except chartrepo.ChartError as err:
            self.indexes[repo_url] = (None, str(err), time.monotonic())
            raise
        self.indexes[repo_url] = (index, None, time.monotonic())
        return index

    def _pull(self, repo_url, chart, version):
        """The chart's unpacked directory, as Argo CD's repo-server fetches it with helm pull."""
        key = (repo_url, chart, version)
        cached = self.pulls.get(key)
        if cached and (cached[0] or time.monotonic() - cached[2] < ERROR_TTL):
            if cached[1]:
                raise chartrepo.ChartError(cached[1])
            return cached[0]
        if not self.helm:
            raise chartrepo.ChartError("lab: no helm binary in this lab (start it with a tests/lab that builds helm)")
        os.makedirs(self.work, exist_ok=True)
        dest = tempfile.mkdtemp(prefix="helm-pull-", dir=self.work)
        args = ["helm", "pull", "--destination", dest, "--version", version, "--repo", repo_url, chart]
        try:
            if not is_loopback(repo_url):
                raise chartrepo.ChartError(pull_command_error(args, unreachable_stderr(repo_url)))
            proc = subprocess.run([self.helm] + args[1:], capture_output=True, text=True, timeout=60,
                                  env=chartrepo.helm_env(self.home), check=False)
            if proc.returncode != 0:
                raise chartrepo.ChartError(pull_command_error(args, proc.stderr))
            tgz = [f for f in os.listdir(dest) if f.endswith(".tgz")]
            if len(tgz) != 1:
                raise chartrepo.ChartError("expected 1 file, found %d" % len(tgz))
            unpacked = os.path.join(self.work, "charts", "%s-%s-%s" % (
                chart, version, hashlib.sha256(repo_url.encode()).hexdigest()[:8]))
            shutil.rmtree(unpacked, ignore_errors=True)
            os.makedirs(unpacked)
            with tarfile.open(os.path.join(dest, tgz[0])) as archive:
                archive.extractall(unpacked, filter="data")
            chart_dir = os.path.join(unpacked, chart)
            if not os.path.isdir(chart_dir):
                chart_dir = os.path.join(unpacked, sorted(os.listdir(unpacked))[0])
        except chartrepo.ChartError as err:
            self.pulls[key] = (None, str(err), time.monotonic())
            raise
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        self.pulls[key] = (chart_dir, None, time.monotonic())
        return chart_dir

    def _render(self, app, source, revision):
        """The objects `helm template` renders for this source (namespace not yet defaulted)."""
        chart_dir = self._pull(source["repoURL"], source["chart"], revision)
        dest_ns = ((app.get("spec") or {}).get("destination") or {}).get("namespace") or ""
        release, _namespace, args, values = helm_template_args(source, app["metadata"]["name"], dest_ns, chart_dir)
        digest = hashlib.sha256(json.dumps([chart_dir, release, args, values]).encode()).hexdigest()
        cached = self.renders.get(digest)
        if cached and (cached[0] is not None or time.monotonic() - cached[2] < ERROR_TTL):
            if cached[1]:
                raise chartrepo.ChartError(cached[1])
            return copy.deepcopy(cached[0])
        cmd = [self.helm, "template", release, chart_dir] + args
        values_file = None
        try:
            if values is not None:
                fd, values_file = tempfile.mkstemp(prefix="values-", suffix=".yaml", dir=self.work)
                with os.fdopen(fd, "w") as handle:
                    handle.write(values)
                cmd[4:4] = ["--values", values_file]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                  env=chartrepo.helm_env(self.home), check=False)
            if proc.returncode != 0:
                shown = ["helm", "template", ".", "--name-template", release] + args
                error = "`%s` failed exit status 1: %s" % (" ".join(shown), proc.stderr.strip())
                self.renders[digest] = (None, error, time.monotonic())
                raise chartrepo.ChartError(error)
            objects = [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict) and d.get("kind")]
        finally:
            if values_file:
                os.remove(values_file)
        objects = [o for o in objects if not ((o.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook")]
        self.renders[digest] = (objects, None, time.monotonic())
        return copy.deepcopy(objects)

    # -- live state --------------------------------------------------------------------------------
    def _place(self, kube, objects, dest_ns):
        """Give namespaced objects the destination namespace, drop it from cluster-scoped ones; returns
        [(key, plural, namespaced, object)] or raises ValueError for a kind the cluster does not know."""
        placed = []
        discovery = self._discovery(kube)
        for obj in objects:
            found = discovery.lookup(obj["apiVersion"], obj["kind"])
            meta = obj.setdefault("metadata", {})
            if found is None:
                group, _v = split_api_version(obj["apiVersion"])
                raise ValueError('The Kubernetes API could not find %s/%s for requested resource %s/%s. Make sure the '
                                 '"%s" CRD is installed on the destination cluster.'
                                 % (group, obj["kind"], meta.get("namespace") or dest_ns, meta.get("name"), obj["kind"]))
            plural, namespaced = found
            if namespaced:
                meta["namespace"] = meta.get("namespace") or dest_ns
            else:
                meta.pop("namespace", None)
            placed.append((resource_key(obj), plural, namespaced, obj))
        return placed

    def _live(self, kube, instance, keys_with_plurals):
        """key -> live object for those of the keys that exist and are tracked by this app."""
        live = {}
        for key, plural in keys_with_plurals:
            group, version, _kind, namespace, name = key
            api_version = "%s/%s" % (group, version) if group else version
            obj = kube.get_or_none(api_version, plural, name, namespace or None)
            if obj and ((obj["metadata"].get("annotations") or {}).get(TRACKING) == tracking_id(instance, key)):
                live[key] = obj
        return live

    def _previous_keys(self, app, kube):
        """Resources the app tracked at its last reconcile (status.resources), with their plurals."""
        keys = []
        for res in (app.get("status") or {}).get("resources") or []:
            api_version = "%s/%s" % (res["group"], res["version"]) if res.get("group") else res.get("version", "v1")
            found = self._discovery(kube).lookup(api_version, res.get("kind", ""))
            if found:
                keys.append(((res.get("group", ""), res.get("version", ""), res.get("kind", ""),
                              res.get("namespace", ""), res.get("name", "")), found[0]))
        return keys

    # -- sync --------------------------------------------------------------------------------------
    def _sync(self, app, kube, instance, placed, live, revision, source, prune, initiated_by):
        started = now_iso()
        dest_ns = ((app.get("spec") or {}).get("destination") or {}).get("namespace") or ""
        options = sync_options(app)
        results = []
        failure = None
        if options.get("CreateNamespace") == "true" and dest_ns:
            managed = ((app.get("spec") or {}).get("syncPolicy") or {}).get("managedNamespaceMetadata") or {}
            meta = {"name": dest_ns}
            if managed.get("labels"):
                meta["labels"] = managed["labels"]
            if managed.get("annotations"):
                meta["annotations"] = managed["annotations"]
            existing = kube.get_or_none("v1", "namespaces", dest_ns)
            if existing is None:
                kube.create("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
            elif managed:
                kube.merge_patch("v1", "namespaces", dest_ns, {"metadata": {k: v for k, v in meta.items() if k != "name"}})
        for key, plural, namespaced, obj in placed:
            group, version, kind, namespace, name = key
            obj["metadata"].setdefault("annotations", {})[TRACKING] = tracking_id(instance, key)
            entry = {"group": group, "version": version, "kind": kind, "namespace": namespace, "name": name,
                     "syncPhase": "Sync", "hookPhase": "Running"}
            api_version = obj["apiVersion"]
            try:
                existed = kube.get_or_none(api_version, plural, name, namespace if namespaced else None) is not None
                kube.apply(api_version, plural, obj, namespace=namespace if namespaced else None, manager=MANAGER)
                entry.update(status="Synced", message="%s/%s %s" % (kind.lower(), name, "configured" if existed else "created"))
            except KubeError as err:
                message = err.body.get("message") or str(err)
                if err.status == 404 and namespaced:
                    message = 'namespaces "%s" not found' % namespace
                entry.update(status="SyncFailed", message=message, hookPhase="Failed")
                failure = failure or message
            results.append(entry)
        target = {k for k, _p, _n, _o in placed}
        for key, obj in live.items():
            if key in target:
                continue
            group, version, kind, namespace, name = key
            entry = {"group": group, "version": version, "kind": kind, "namespace": namespace, "name": name,
                     "syncPhase": "Sync", "hookPhase": "Running"}
            if prune:
                plural = self._discovery(kube).lookup(obj["apiVersion"], kind)[0]
                kube.delete(obj["apiVersion"], plural, name, namespace or None)
                entry.update(status="Pruned", message="pruned")
            else:
                entry.update(status="PruneSkipped", message="ignored (requires pruning)")
            results.append(entry)
        # ResourceResult: group, kind, name, namespace and version are required ("" for core / cluster-scoped)
        operation = {"sync": {"revision": revision, "syncStrategy": {"hook": {}}}, "initiatedBy": initiated_by,
                     "retry": {}}
        if prune:
            operation["sync"]["prune"] = True
        state = {"operation": operation, "startedAt": started, "finishedAt": now_iso(),
                 "syncResult": {"revision": revision, "source": source, "resources": results}}
        if failure:
            state.update(phase="Failed", message="one or more objects failed to apply, reason: %s" % failure)
        else:
            state.update(phase="Succeeded", message=SYNC_OK)
        return state

    # -- the reconcile loop --------------------------------------------------------------------------
    def on_application(self, event, app):
        if event == "DELETED":
            self.retries.pop(app["metadata"].get("uid"), None)
            return
        meta = app["metadata"]
        control_namespace = self._control_namespace(meta["namespace"])
        if control_namespace is None:
            return  # no Argo CD watches this namespace
        if meta.get("deletionTimestamp"):
            self._delete(app, control_namespace)
            return
        self._reconcile(app, control_namespace)

    def _project(self, app, control_namespace):
        return self.kube.get_or_none(API, "appprojects", (app.get("spec") or {}).get("project") or "", control_namespace)

    def _reconcile(self, app, control_namespace):
        spec = app.get("spec") or {}
        now = now_iso()
        old = app.get("status") or {}
        instance = instance_name(app, control_namespace)
        source = app_source(app)
        invalid = []
        project = self._project(app, control_namespace)
        if project is None:
            invalid.append("Application referencing project %s which does not exist" % spec.get("project"))
        kube = None
        if not invalid and source is not None and not source_permitted(project, source.get("repoURL", "")):
            invalid.append("application repo %s is not permitted in project '%s'" % (source.get("repoURL"), spec["project"]))
        if not invalid:
            try:
                kube, server, name = self._destination(app, control_namespace)
                dest_ns = (spec.get("destination") or {}).get("namespace") or ""
                if not destination_permitted(project, server, name, dest_ns):
                    shown = name if (spec.get("destination") or {}).get("name") else server
                    invalid.append("application destination server '%s' and namespace '%s' do not match any of the "
                                   "allowed destinations in project '%s'" % (shown, dest_ns, spec["project"]))
            except ValueError as err:
                invalid.append(str(err))
        if invalid:
            self._write(app, compute_status(old, app, control_namespace=control_namespace, now=now, invalid=invalid))
            return
        dest_ns = (spec.get("destination") or {}).get("namespace") or ""
        previous = []
        try:
            previous = self._previous_keys(app, kube)
            live_before = self._live(kube, instance, previous)
        except (KubeError, requests.RequestException) as err:
            self._write(app, compute_status(old, app, control_namespace=control_namespace, now=now,
                                            comparison_error=self._live_error(kube, err)))
            return
        revision = None
        try:
            if source is None or not source.get("chart"):
                raise chartrepo.ChartError("lab: only single-source Helm chart Applications (repoURL + chart) are "
                                           "imitated by the lab's Argo CD stand-in")
            revision = str(source.get("targetRevision") or "*")
            if not chartrepo.is_version(revision):
                revision = chartrepo.resolve(self._index(source["repoURL"]), source["chart"], revision)
            objects = self._render(app, source, revision)
            placed = self._place(kube, objects, dest_ns)
        except (chartrepo.ChartError, ValueError) as err:
            message = str(err) if str(err).startswith("The Kubernetes API") else comparison_message(str(err))
            if str(err).startswith("lab:"):
                message = str(err)
            self._write(app, compute_status(old, app, control_namespace=control_namespace, now=now,
                                            comparison_error=message, revision=revision, live=live_before))
            return
        target_keys = [k for k, _p, _n, _o in placed]
        plurals = {k: p for k, p, _n, _o in placed}
        plurals.update(dict(previous))
        try:
            live = self._live(kube, instance, list(plurals.items()))
        except (KubeError, requests.RequestException) as err:
            self._write(app, compute_status(old, app, control_namespace=control_namespace, now=now,
                                            comparison_error=self._live_error(kube, err), revision=revision))
            return
        status = compute_status(old, app, control_namespace=control_namespace, now=now, revision=revision,
                                target_keys=target_keys, live=live)
        operation_state = None
        requested = (app.get("operation") or {}).get("sync")
        auto = automated(app)
        initiated_by = None
        prune = False
        if requested is not None:
            initiated_by = (app.get("operation") or {}).get("initiatedBy") or {"username": "admin"}
            prune = bool(requested.get("prune"))
        elif auto is not None and status["sync"]["status"] == "OutOfSync":
            op = old.get("operationState") or {}
            last = op.get("syncResult") or {}
            same = last.get("revision") == revision and last.get("source") == source
            retry = ((spec.get("syncPolicy") or {}).get("retry") or {})
            if not same:
                initiated_by = {"automated": True}
            elif op.get("phase") == "Succeeded" and auto.get("selfHeal"):
                initiated_by = {"automated": True}
            elif op.get("phase") in ("Failed", "Error") and retry and (
                    int(retry.get("limit", 0) or 0) < 0
                    or self.retries.get(app["metadata"]["uid"], 0) < int(retry.get("limit", 0) or 0)):
                self.retries[app["metadata"]["uid"]] = self.retries.get(app["metadata"]["uid"], 0) + 1
                initiated_by = {"automated": True}
            elif op.get("phase") in ("Failed", "Error"):
                # controller/appcontroller.go autoSync: no retry of a failed sync to the same revision
                status = compute_status(old, app, control_namespace=control_namespace, now=now, revision=revision,
                                        target_keys=target_keys, live=live,
                                        sync_error="Failed last sync attempt to [%s]: %s" % (revision, op.get("message", "")))
            prune = bool(auto.get("prune"))
        if initiated_by is not None:
            try:
                operation_state = self._sync(app, kube, instance, placed, live, revision, source, prune, initiated_by)
                live = self._live(kube, instance, list(plurals.items()))
            except (KubeError, requests.RequestException) as err:
                operation_state = {"operation": {"sync": {"revision": revision}, "initiatedBy": initiated_by, "retry": {}},
                                   "phase": "Error", "message": str(err), "startedAt": now, "finishedAt": now_iso(),
                                   "syncResult": {"revision": revision, "source": source}}
            if operation_state.get("phase") == "Succeeded":
                self.retries.pop(app["metadata"]["uid"], None)
            elif (spec.get("syncPolicy") or {}).get("retry"):
                delay = _duration((((spec["syncPolicy"]["retry"]).get("backoff") or {}).get("duration")) or "5s")
                self.scheduler.call_later(delay, self._again, app["metadata"]["namespace"], app["metadata"]["name"])
            status = compute_status(old, app, control_namespace=control_namespace, now=now, revision=revision,
                                    target_keys=target_keys, live=live, operation_state=operation_state)
            LOG.info("%s: Application %s/%s sync %s (%s %s)", self.kube.name, app["metadata"]["namespace"],
                     app["metadata"]["name"], operation_state.get("phase"), source.get("chart"), revision)
        self._write(app, status, clear_operation=requested is not None)

    def _again(self, namespace, name):
        with self.lock:
            app = self.kube.get_or_none(API, "applications", name, namespace)
            if app is not None:
                self.on_application("SYNC", app)

    @staticmethod
    def _live_error(kube, err):
        return ('Failed to load live state: failed to get cluster info for "%s": error synchronizing cache state : '
                'failed to sync cluster %s: failed to load initial state of resource: %s' % (kube.server, kube.server, err))

    def _write(self, app, status, clear_operation=False):
        if same_status(app.get("status"), status) and not clear_operation:
            return
        body = copy.deepcopy(app)
        body["status"] = status
        if clear_operation:
            body.pop("operation", None)
        meta = app["metadata"]
        try:
            self.kube.request("PUT", Kube.path(API, "applications", meta["namespace"], meta["name"]), body)
        except KubeError as err:
            if err.status not in (404, 409):
                raise

    def _delete(self, app, control_namespace):
        meta = app["metadata"]
        ours = [f for f in meta.get("finalizers") or [] if f in FINALIZERS]
        if not ours:
            return
        instance = instance_name(app, control_namespace)
        if self._project(app, control_namespace) is None:
            return  # finalizeApplicationDeletion: the project is needed; the app stays Terminating
        remaining = [f for f in meta.get("finalizers") or [] if f not in FINALIZERS]
        try:
            kube, _server, _name = self._destination(app, control_namespace)
        except ValueError as err:
            # as Argo CD: "Unable to get destination cluster" - the finalizer goes, nothing is deleted
            LOG.info("%s: Application %s/%s: %s; finalizer removed", self.kube.name, meta["namespace"], meta["name"], err)
            self.kube.merge_patch(API, "applications", meta["name"], {"metadata": {
                "finalizers": remaining or None, "resourceVersion": meta["resourceVersion"]}}, namespace=meta["namespace"])
            return
        keys = self._previous_keys(app, kube)
        source = app_source(app)
        op = (app.get("status") or {}).get("operationState") or {}
        revision = ((op.get("syncResult") or {}).get("revision")) or (source or {}).get("targetRevision")
        if source and source.get("chart") and revision:
            try:
                dest_ns = ((app.get("spec") or {}).get("destination") or {}).get("namespace") or ""
                for key, plural, _n, _o in self._place(kube, self._render(app, source, revision), dest_ns):
                    if (key, plural) not in keys:
                        keys.append((key, plural))
            except (chartrepo.ChartError, ValueError):
                pass  # what status.resources lists is what Argo CD knows of
        for key, obj in self._live(kube, instance, keys).items():
            plural = dict(keys)[key]
            kube.delete(obj["apiVersion"], plural, key[4], key[3] or None)
        self.kube.merge_patch(API, "applications", meta["name"], {"metadata": {
            "finalizers": remaining or None, "resourceVersion": meta["resourceVersion"]}}, namespace=meta["namespace"])
        LOG.info("%s: Application %s/%s deleted with its %d resource(s)", self.kube.name, meta["namespace"],
                 meta["name"], len(keys))


def _duration(text):
    """A Go duration ("5s", "2m", "1m30s") in seconds."""
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    text = str(text)
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit() or char == ".":
            number += char
        elif text[i:i + 2] == "ms":
            total += float(number or 0) / 1000
            number = ""
            i += 1
        elif char in units:
            total += float(number or 0) * units[char]
            number = ""
        i += 1
    return total or 5.0
