"""OLM stand-in: turns Subscriptions into InstallPlans and ClusterServiceVersions.

Imitates what Operator Lifecycle Manager does when a catalog resolves and an install
succeeds, as documented by OLM (operator-framework docs: "Subscription", "InstallPlan",
"OperatorGroup", "ClusterServiceVersion phases"):

* A Subscription whose CatalogSource is missing gets the ``CatalogSourcesUnhealthy``
  condition; one whose package, channel or startingCSV is not in the catalog gets
  ``ResolutionFailed`` with OLM's "constraints not satisfiable" message.
* Otherwise an InstallPlan is created (owned by the Subscription) listing the channel head
  and its dependencies. ``installPlanApproval: Manual`` leaves it ``RequiresApproval`` with
  ``spec.approved: false`` and the Subscription ``UpgradePending``; approval starts the install.
* The install checks the namespace's OperatorGroups as OLM does (none:
  ``NoOperatorGroup``; more than one: ``TooManyOperatorGroups``; a target-namespace shape the
  CSV's installModes do not support: ``UnsupportedOperatorGroup``), then walks each CSV
  Pending -> InstallReady -> Installing -> Succeeded and records ``installedCSV`` with
  ``state: AtLatestKnown`` on the Subscription.
* A channel change on an installed Subscription produces a new InstallPlan for the new head
  (an upgrade); the replaced CSV is removed once the new one succeeds.
* OLM's package server: every CatalogSource gets one PackageManifest
  (``packages.operators.coreos.com/v1``, in the catalog's namespace, name = package) per package
  the catalog holds - ``status.catalogSource``/``catalogSourceNamespace``/``catalogSourceDisplayName``/
  ``catalogSourcePublisher``, ``packageName``, ``defaultChannel``, ``channels[{name, currentCSV,
  currentCSVDesc, entries}]`` and the labels ``catalog``/``catalog-namespace`` - kept in step with the
  catalog and removed with it. On a real cluster this is an aggregated API computed from the catalog's
  registry; the lab serves it through a CRD of its own (``tests/lab/crds``), see the note there.

Failure injection for tests: a ConfigMap ``devsecops-lab-olm-faults`` in
``openshift-marketplace`` whose keys are package names and whose values are YAML
``{phase: Failed, reason: ..., message: ...}`` makes that package's CSV fail that way.
"""

import random
import string

import yaml

from tests.lab.kube import KubeError
from tests.lab.standins.runtime import LOG, now_iso

OLM = "operators.coreos.com/v1alpha1"
PACKAGES = "packages.operators.coreos.com/v1"
FAULTS = ("openshift-marketplace", "devsecops-lab-olm-faults")
STEP = 0.3  # seconds between CSV phases
RETRY = 2.0  # seconds between looks at a failed CSV


class OLMStandin:
    def __init__(self, kube, catalog, scheduler):
        self.kube = kube
        self.catalog = catalog
        self.scheduler = scheduler
        self.csv_to_package = {}
        for package, data in catalog["packages"].items():
            for csv in data["channels"].values():
                self.csv_to_package[csv] = package

    def watches(self):
        return [(OLM, "subscriptions", self.on_subscription),
                (OLM, "installplans", self.on_installplan),
                (OLM, "catalogsources", self.on_catalogsource)]

    # -- the package server ------------------------------------------------------
    def on_catalogsource(self, event, source):
        """Keep the catalog's PackageManifests in step with what it holds (none once it is gone)."""
        meta = source["metadata"]
        gone = event == "DELETED" or bool(meta.get("deletionTimestamp"))
        desired = {} if gone else dict((m["metadata"]["name"], m) for m in package_manifests(self.catalog, source))
        try:
            existing = self.kube.list(PACKAGES, "packagemanifests", namespace=meta["namespace"],
                                      label_selector="catalog=%s" % meta["name"])["items"]
        except KubeError as err:
            if err.status != 404:
                raise
            LOG.warning("%s: no %s API (the lab's CRD from tests/lab/crds is missing): no PackageManifests for "
                        "CatalogSource %s/%s", self.kube.name, PACKAGES, meta["namespace"], meta["name"])
            return
        current = dict((m["metadata"]["name"], m) for m in existing)
        for name, manifest in desired.items():
            have = current.get(name)
            if have is None or have.get("status") != manifest["status"] or \
                    have["metadata"].get("labels") != manifest["metadata"]["labels"]:
                self.kube.apply(PACKAGES, "packagemanifests", manifest, namespace=meta["namespace"])
        for name in set(current) - set(desired):
            self.kube.delete(PACKAGES, "packagemanifests", name, meta["namespace"])
        if set(desired) != set(current):
            LOG.info("%s: CatalogSource %s/%s serves %d package(s)", self.kube.name, meta["namespace"], meta["name"],
                     len(desired))

    # -- Subscriptions -------------------------------------------------------
    def _condition(self, sub, ctype, reason, message):
        return {"type": ctype, "status": "True", "reason": reason, "message": message,
                "lastTransitionTime": now_iso()}

    def _set_sub_status(self, sub, status):
        status.setdefault("lastUpdated", now_iso())
        self.kube.merge_patch(OLM, "subscriptions", sub["metadata"]["name"], {"status": status},
                              namespace=sub["metadata"]["namespace"], subresource="status")

    def _fail_resolution(self, sub, message, ctype="ResolutionFailed", reason="ConstraintsNotSatisfiable"):
        current = [c for c in sub.get("status", {}).get("conditions", []) if c.get("type") == ctype]
        if current and current[0].get("message") == message:
            return
        self._set_sub_status(sub, {"conditions": [self._condition(sub, ctype, reason, message)],
                                   "catalogHealth": [], "lastUpdated": now_iso()})

    def on_subscription(self, event, sub):
        if event == "DELETED" or sub["metadata"].get("deletionTimestamp"):
            return
        meta, spec = sub["metadata"], sub.get("spec", {})
        status = sub.get("status", {})
        source = self.kube.get_or_none(OLM, "catalogsources", spec["source"], spec["sourceNamespace"])
        if source is None:
            self._fail_resolution(
                sub, "targeted catalogsource %s/%s missing" % (spec["sourceNamespace"], spec["source"]),
                ctype="CatalogSourcesUnhealthy", reason="UnhealthyCatalogSourceFound")
            return
        package = self.catalog["packages"].get(spec["name"])
        if package is None or package["catalog"] != spec["source"]:
            self._fail_resolution(sub, (
                "constraints not satisfiable: no operators found in package %s in the catalog "
                "referenced by subscription %s" % (spec["name"], meta["name"])))
            return
        channel = spec.get("channel") or package["default_channel"]
        head = package["channels"].get(channel)
        if head is None:
            self._fail_resolution(sub, (
                "constraints not satisfiable: no operators found in channel %s of package %s in the "
                "catalog referenced by subscription %s" % (channel, spec["name"], meta["name"])))
            return
        if not status.get("installPlanRef"):
            starting = spec.get("startingCSV")
            if starting and starting not in package["channels"].values():
                self._fail_resolution(sub, (
                    "constraints not satisfiable: no operators found with name %s in channel %s of "
                    "package %s in the catalog referenced by subscription %s"
                    % (starting, channel, spec["name"], meta["name"])))
                return
            self._plan(sub, starting or head, package, generation=1)
            return
        installed = status.get("installedCSV")
        if installed and status.get("state") == "AtLatestKnown" and installed != head \
                and status.get("currentCSV") != head:
            self._plan(sub, head, package, generation=status.get("installPlanGeneration", 1) + 1,
                       replaces=installed)

    def _plan(self, sub, csv, package, generation, replaces=None):
        meta, spec = sub["metadata"], sub["spec"]
        approval = spec.get("installPlanApproval") or "Automatic"
        names = [csv]
        if replaces is None:
            for dep in package.get("dependencies", []):
                dep_pkg = self.catalog["packages"][dep]
                names.append(dep_pkg["channels"][dep_pkg["default_channel"]])
        suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        plan = self.kube.create(OLM, "installplans", {
            "apiVersion": OLM, "kind": "InstallPlan",
            "metadata": {
                "name": "install-" + suffix, "namespace": meta["namespace"],
                "labels": {"operators.coreos.com/%s.%s" % (spec["name"], meta["namespace"]): ""},
                "ownerReferences": [{"apiVersion": OLM, "kind": "Subscription", "name": meta["name"],
                                     "uid": meta["uid"], "blockOwnerDeletion": False,
                                     "controller": False}],
                "annotations": {"devsecops.lab/replaces": replaces or ""},
            },
            "spec": {"approval": approval, "approved": approval == "Automatic",
                     "clusterServiceVersionNames": names, "generation": generation},
        }, namespace=meta["namespace"])
        phase = "Installing" if approval == "Automatic" else "RequiresApproval"
        self.kube.merge_patch(OLM, "installplans", plan["metadata"]["name"], {"status": {
            "phase": phase, "catalogSources": [spec["source"]],
            "conditions": [{"type": "Installed", "status": "False" if phase == "RequiresApproval" else "Unknown",
                            "reason": "RequiresApproval" if phase == "RequiresApproval" else "Installing",
                            "lastTransitionTime": now_iso()}],
        }}, namespace=meta["namespace"], subresource="status")
        ref = {"apiVersion": OLM, "kind": "InstallPlan", "name": plan["metadata"]["name"],
               "namespace": meta["namespace"], "uid": plan["metadata"]["uid"],
               "resourceVersion": plan["metadata"]["resourceVersion"]}
        self._set_sub_status(sub, {
            "installPlanRef": ref,
            "installplan": {"apiVersion": OLM, "kind": "InstallPlan", "name": ref["name"], "uuid": ref["uid"]},
            "installPlanGeneration": generation,
            "currentCSV": csv,
            "state": "UpgradePending",
            "catalogHealth": [{"catalogSourceRef": {"apiVersion": OLM, "kind": "CatalogSource",
                                                    "name": spec["source"], "namespace": spec["sourceNamespace"]},
                               "healthy": True, "lastUpdated": now_iso()}],
            "conditions": [self._condition(sub, "InstallPlanPending", "RequiresApproval"
                                           if phase == "RequiresApproval" else "Installing",
                                           "")],
        })
        if phase == "Installing":
            self.scheduler.call_later(STEP, self._install, meta["namespace"], plan["metadata"]["name"])

    # -- InstallPlans ------------------------------------------------------
    def on_installplan(self, event, plan):
        if event == "DELETED":
            return
        if plan["spec"].get("approved") and plan.get("status", {}).get("phase") == "RequiresApproval":
            self.kube.merge_patch(OLM, "installplans", plan["metadata"]["name"],
                                  {"status": {"phase": "Installing"}},
                                  namespace=plan["metadata"]["namespace"], subresource="status")
            self.scheduler.call_later(STEP, self._install, plan["metadata"]["namespace"], plan["metadata"]["name"])

    def _operator_group_problem(self, namespace, package):
        groups = self.kube.list("operators.coreos.com/v1", "operatorgroups", namespace=namespace)["items"]
        if not groups:
            return "NoOperatorGroup", "csv in namespace with no operatorgroups"
        if len(groups) > 1:
            return ("TooManyOperatorGroups",
                    "csv created in namespace with multiple operatorgroups, can't pick one automatically")
        group = groups[0]
        targets = group.get("spec", {}).get("targetNamespaces") or []
        if group.get("spec", {}).get("selector"):
            targets = ["<selector>", "<selector>"]
        if not targets:
            mode = "AllNamespaces"
        elif targets == [namespace]:
            mode = "OwnNamespace"
        elif len(targets) == 1:
            mode = "SingleNamespace"
        else:
            mode = "MultiNamespace"
        if mode not in package["install_modes"]:
            return ("UnsupportedOperatorGroup",
                    "OperatorGroup '%s' in namespace %s: InstallModeType %s not supported by this operator "
                    "(supports %s)" % (group["metadata"]["name"], namespace, mode,
                                       ", ".join(package["install_modes"])))
        return None

    def _faults(self):
        cm = self.kube.get_or_none("v1", "configmaps", FAULTS[1], FAULTS[0])
        return {k: yaml.safe_load(v) for k, v in ((cm or {}).get("data") or {}).items()}

    def _install(self, namespace, plan_name):
        plan = self.kube.get_or_none(OLM, "installplans", plan_name, namespace)
        if plan is None:
            return
        faults = self._faults()
        replaces = plan["metadata"].get("annotations", {}).get("devsecops.lab/replaces") or None
        for csv_name in plan["spec"]["clusterServiceVersionNames"]:
            package_name = self.csv_to_package[csv_name]
            package = self.catalog["packages"][package_name]
            self._create_csv(namespace, csv_name, package_name, package, replaces)
            problem = self._operator_group_problem(namespace, package)
            fault = faults.get(package_name)
            self._csv_phase(namespace, csv_name, "Pending", "RequirementsUnknown",
                            "requirements not yet checked")
            if problem:
                self.scheduler.call_later(STEP, self._csv_phase, namespace, csv_name, "Failed", *problem)
                self.scheduler.call_later(RETRY, self._retry_failed, namespace, csv_name, package_name)
            elif fault:
                self.scheduler.call_later(STEP, self._csv_phase, namespace, csv_name,
                                          fault.get("phase", "Failed"), fault.get("reason", "InstallComponentFailed"),
                                          fault.get("message", "install failed"))
                self.scheduler.call_later(RETRY, self._retry_failed, namespace, csv_name, package_name)
            else:
                self._succeed(namespace, csv_name)
                if replaces and csv_name not in (replaces,):
                    self.scheduler.call_later(4 * STEP, self.kube.delete, OLM, "clusterserviceversions",
                                              replaces, namespace)
        self.kube.merge_patch(OLM, "installplans", plan_name, {"status": {
            "phase": "Complete",
            "conditions": [{"type": "Installed", "status": "True", "reason": "InstallSucceeded",
                            "lastTransitionTime": now_iso()}]}},
            namespace=namespace, subresource="status")
        head = plan["spec"]["clusterServiceVersionNames"][0]
        for owner in plan["metadata"].get("ownerReferences", []):
            sub = self.kube.get_or_none(OLM, "subscriptions", owner["name"], namespace)
            if sub is None:
                continue
            self._set_sub_status(sub, {"installedCSV": head, "currentCSV": head, "state": "AtLatestKnown",
                                       "conditions": [], "lastUpdated": now_iso()})

    def _succeed(self, namespace, csv_name):
        self.scheduler.call_later(STEP, self._csv_phase, namespace, csv_name, "InstallReady",
                                  "AllRequirementsMet", "all requirements found, attempting install")
        self.scheduler.call_later(2 * STEP, self._csv_phase, namespace, csv_name, "Installing",
                                  "InstallWaiting", "installing: waiting for deployment to become ready")
        self.scheduler.call_later(3 * STEP, self._csv_phase, namespace, csv_name, "Succeeded",
                                  "InstallSucceeded", "install strategy completed with no errors")

    def _retry_failed(self, namespace, csv_name, package_name):
        """OLM requeues a failed CSV: once the cause is gone (fault removed, OperatorGroup
        fixed) it installs; while it persists, look again later (as long as the CSV exists)."""
        csv = self.kube.get_or_none(OLM, "clusterserviceversions", csv_name, namespace)
        if csv is None or csv.get("status", {}).get("phase") != "Failed":
            return
        package = self.catalog["packages"][package_name]
        if self._operator_group_problem(namespace, package) or self._faults().get(package_name):
            self.scheduler.call_later(RETRY, self._retry_failed, namespace, csv_name, package_name)
            return
        self._csv_phase(namespace, csv_name, "Pending", "NeedsReinstall", "retrying after failure", force=True)
        self._succeed(namespace, csv_name)

    def _create_csv(self, namespace, name, package_name, package, replaces):
        version = name.split(".v", 1)[1] if ".v" in name else "0.0.0"
        modes = [{"type": mode, "supported": mode in package["install_modes"]}
                 for mode in ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")]
        owned = [{"name": crd, "kind": crd.split(".")[0].rstrip("s").capitalize(),
                  "version": "v1", "displayName": crd.split(".")[0]} for crd in package["owned_crds"]]
        body = {
            "apiVersion": OLM, "kind": "ClusterServiceVersion",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"operators.coreos.com/%s.%s" % (package_name, namespace): ""}},
            "spec": {
                "displayName": package_name, "version": version.split("-")[0],
                "provider": {"name": "lab"},
                "installModes": modes,
                "customresourcedefinitions": {"owned": owned},
                "install": {"strategy": "deployment", "spec": {"deployments": [{
                    "name": package_name,
                    "spec": {"selector": {"matchLabels": {"name": package_name}},
                             "template": {"metadata": {"labels": {"name": package_name}},
                                          "spec": {"containers": [{"name": "manager",
                                                                   "image": "lab.invalid/%s:%s" % (package_name, version)}]}}},
                }]}},
            },
        }
        if replaces:
            body["spec"]["replaces"] = replaces
        try:
            self.kube.create(OLM, "clusterserviceversions", body, namespace=namespace)
        except KubeError as err:
            if err.status != 409:
                raise

    def _csv_phase(self, namespace, name, phase, reason, message, force=False):
        csv = self.kube.get_or_none(OLM, "clusterserviceversions", name, namespace)
        if csv is None:
            return
        if csv.get("status", {}).get("phase") == "Failed" and phase != "Failed" and not force:
            return
        conditions = list(csv.get("status", {}).get("conditions", []))
        stamp = now_iso()
        conditions.append({"phase": phase, "reason": reason, "message": message,
                           "lastTransitionTime": stamp, "lastUpdateTime": stamp})
        self.kube.merge_patch(OLM, "clusterserviceversions", name, {"status": {
            "phase": phase, "reason": reason, "message": message, "conditions": conditions[-10:],
            "lastTransitionTime": stamp, "lastUpdateTime": stamp,
            "requirementStatus": [{"group": "apiextensions.k8s.io", "version": "v1",
                                   "kind": "CustomResourceDefinition", "name": crd,
                                   "status": "Present", "message": "CRD is present and Established condition is true"}
                                  for crd in [o["name"] for o in csv["spec"]["customresourcedefinitions"].get("owned", [])]],
        }}, namespace=namespace, subresource="status")
        LOG.info("%s: CSV %s/%s -> %s", self.kube.name, namespace, name, phase)


def _csv_version(csv):
    return (csv.split(".v", 1)[1] if ".v" in csv else "0.0.0").split("-")[0]


def package_manifests(catalog, source):
    """The PackageManifests OLM's package server shows for a CatalogSource: one per package of the catalog of
    that name in tests/lab/catalog.yaml (none for a catalog the lab does not know)."""
    meta, spec = source["metadata"], source.get("spec") or {}
    info = catalog["catalogs"].get(meta["name"]) or {}
    display = spec.get("displayName") or info.get("display_name") or meta["name"]
    publisher = spec.get("publisher") or info.get("publisher") or ""
    manifests = []
    for name, package in sorted(catalog["packages"].items()):
        if package["catalog"] != meta["name"]:
            continue
        modes = [{"type": mode, "supported": mode in package["install_modes"]}
                 for mode in ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")]
        channels = [{
            "name": channel, "currentCSV": csv,
            "currentCSVDesc": {"displayName": name, "version": _csv_version(csv), "provider": {"name": publisher},
                               "installModes": modes,
                               "customresourcedefinitions": {"owned": [{"name": crd, "version": "v1"}
                                                                       for crd in package["owned_crds"]]}},
            "entries": [{"name": csv, "version": _csv_version(csv)}],
        } for channel, csv in package["channels"].items()]
        manifests.append({
            "apiVersion": PACKAGES, "kind": "PackageManifest",
            "metadata": {"name": name, "namespace": meta["namespace"],
                         # the package server also shows "provider: Red Hat", which no stored object may carry
                         "labels": {"catalog": meta["name"], "catalog-namespace": meta["namespace"],
                                    "operatorframework.io/arch.amd64": "supported",
                                    "operatorframework.io/os.linux": "supported"}},
            "spec": {},
            "status": {"catalogSource": meta["name"], "catalogSourceDisplayName": display,
                       "catalogSourcePublisher": publisher, "catalogSourceNamespace": meta["namespace"],
                       "provider": {"name": publisher}, "packageName": name, "channels": channels,
                       "defaultChannel": package["default_channel"]},
        })
    return manifests
