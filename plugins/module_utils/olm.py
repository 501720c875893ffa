# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installing and removing an operator through Operator Lifecycle Manager.

The sequence: catalog source present -> namespace -> exactly one OperatorGroup that fits the
install mode -> Subscription -> (Manual approval) approve exactly the expected InstallPlan ->
wait, bounded, for the CSV to be Succeeded and its owned CRDs Established. Failures carry what
OLM said: Subscription conditions, InstallPlan phase, CSV phase/reason/message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    ClusterError,
    is_managed,
    managed_labels,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.waiting import (
    WaitFailed,
    WaitTimeout,
    poll,
)

OLM_V1 = "operators.coreos.com/v1"
OLM_V1ALPHA1 = "operators.coreos.com/v1alpha1"
CRD_API = "apiextensions.k8s.io/v1"

# CSV failure reasons that waiting cannot fix: the OperatorGroup setup is wrong.
PERMANENT_CSV_REASONS = (
    "NoOperatorGroup",
    "TooManyOperatorGroups",
    "UnsupportedOperatorGroup",
    "InterOperatorGroupOwnerConflict",
    "OwnerConflict",
    "InvalidInstallModes",
)
# Resolution messages that mean the package, channel or CSV is not in the catalog at all.
PERMANENT_RESOLUTION_MARKERS = ("no operators found",)

INSTALL_MODES = ("AllNamespaces", "OwnNamespace", "SingleNamespace", "MultiNamespace")


def _conditions_text(conditions):
    parts = []
    for cond in conditions or []:
        if cond.get("status") not in ("True", True):
            continue
        text = "%s" % cond.get("type")
        if cond.get("reason"):
            text += " (%s)" % cond["reason"]
        if cond.get("message"):
            text += ": %s" % cond["message"]
        parts.append(text)
    return "; ".join(parts) if parts else "none"


class OperatorSpec(object):
    """The operator a caller asks for, validated and with defaults resolved."""

    def __init__(self, params):
        self.package = params["name"]
        self.subscription_name = params.get("subscription_name") or self.package
        self.install_mode = params.get("install_mode") or "AllNamespaces"
        self.global_namespace = params.get("global_operators_namespace") or "openshift-operators"
        self.namespace = params.get("namespace") or (
            self.global_namespace if self.install_mode == "AllNamespaces" else None)
        if not self.namespace:
            raise ValueError("namespace is required when install_mode is %s" % self.install_mode)
        self.target_namespaces = list(params.get("target_namespaces") or [])
        if self.install_mode == "SingleNamespace" and len(self.target_namespaces) != 1:
            raise ValueError("install_mode SingleNamespace needs exactly one entry in target_namespaces")
        if self.install_mode == "MultiNamespace" and len(self.target_namespaces) < 2:
            raise ValueError("install_mode MultiNamespace needs two or more target_namespaces")
        if self.install_mode in ("AllNamespaces", "OwnNamespace") and self.target_namespaces:
            raise ValueError("target_namespaces is only used with SingleNamespace or MultiNamespace")
        self.operator_group_name = params.get("operator_group_name") or self.namespace
        self.channel = params.get("channel")
        self.source = params.get("source") or "redhat-operators"
        self.source_namespace = params.get("source_namespace") or "openshift-marketplace"
        self.starting_csv = params.get("starting_csv")
        self.approval = params.get("install_plan_approval") or "Automatic"
        self.config = params.get("config")
        self.namespace_labels = params.get("namespace_labels") or {}

    def targets(self):
        """targetNamespaces the OperatorGroup must carry ([] = all namespaces)."""
        if self.install_mode == "AllNamespaces":
            return []
        if self.install_mode == "OwnNamespace":
            return [self.namespace]
        return sorted(self.target_namespaces)

    def subscription_spec(self):
        spec = {
            "name": self.package,
            "source": self.source,
            "sourceNamespace": self.source_namespace,
            "installPlanApproval": self.approval,
        }
        if self.channel:
            spec["channel"] = self.channel
        if self.starting_csv:
            spec["startingCSV"] = self.starting_csv
        if self.config is not None:
            spec["config"] = self.config
        return spec


def _group_targets(group):
    spec = group.get("spec") or {}
    if spec.get("selector"):
        return None  # label-selected namespaces: not something we can compare
    return sorted(spec.get("targetNamespaces") or [])


class OperatorInstaller(object):
    """Drives one operator to the requested state on one cluster."""

    def __init__(self, cluster, spec, check_mode=False, clock=None, sleep=None):
        self.cluster = cluster
        self.spec = spec
        self.check_mode = check_mode
        self.changed = False
        self.actions = []
        self.before = {}
        self.after = {}
        self._poll_kwargs = {}
        if clock is not None:
            self._poll_kwargs["clock"] = clock
        if sleep is not None:
            self._poll_kwargs["sleep"] = sleep

    # -- helpers -------------------------------------------------------------
    def _where(self):
        return "cluster %s: operator %s in namespace %s" % (self.cluster.name, self.spec.package, self.spec.namespace)

    def _record(self, action):
        self.changed = True
        self.actions.append(action)

    # -- present -------------------------------------------------------------
    def present(self, wait=True, timeout=600, max_interval=5):
        self._check_catalog()
        self._ensure_namespace()
        group = self._ensure_operator_group()
        self._ensure_subscription()
        result = {"subscription": self.spec.subscription_name, "namespace": self.spec.namespace,
                  "package": self.spec.package, "operator_group": group, "install_mode": self.spec.install_mode,
                  "installed_csv": None, "csv_phase": None, "approved_install_plan": None, "owned_crds": []}
        if self.check_mode and self.changed:
            result["ready"] = False
            return result
        if not wait:
            return self._look_once(result)
        return self._wait(result, timeout, max_interval)

    def _look_once(self, result):
        """Without waiting: one look, so callers can skip waiting for operators already installed."""
        result["ready"] = False
        if self.check_mode and self.changed:
            return result
        self.approved_plan = None
        try:
            ready, seen = self._observe()
        except WaitFailed as err:
            raise _failure(err)
        result["ready"] = ready
        result["approved_install_plan"] = self.approved_plan
        if seen.get("csv"):
            result["installed_csv"] = seen["csv"]["name"]
            result["csv_phase"] = seen["csv"]["phase"]
        result["owned_crds"] = seen.get("owned_crds", [])
        return result

    def _check_catalog(self):
        source = self.cluster.get(OLM_V1ALPHA1, "CatalogSource", self.spec.source, self.spec.source_namespace)
        if source is None:
            raise ClusterError(
                "%s: CatalogSource %s/%s does not exist; set source/source_namespace to a catalog the "
                "cluster has" % (self._where(), self.spec.source_namespace, self.spec.source))

    def _ensure_namespace(self):
        name = self.spec.namespace
        ns = self.cluster.get("v1", "Namespace", name)
        if ns is None:
            self.before["namespace"] = None
            self.after["namespace"] = {"name": name, "labels": managed_labels(self.spec.namespace_labels)}
            self._record("create Namespace %s" % name)
            if not self.check_mode:
                self.cluster.create("v1", "Namespace", {
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": managed_labels(self.spec.namespace_labels)}})
            return
        if ns.get("status", {}).get("phase") == "Terminating":
            raise ClusterError("%s: namespace %s is being deleted (Terminating); wait for the deletion to finish "
                               "and run again" % (self._where(), name))
        labels = ns.get("metadata", {}).get("labels") or {}
        missing = dict((k, v) for k, v in self.spec.namespace_labels.items() if labels.get(k) != v)
        if missing:
            self.before["namespace"] = {"name": name, "labels": dict((k, labels.get(k)) for k in missing)}
            self.after["namespace"] = {"name": name, "labels": missing}
            self._record("label Namespace %s" % name)
            if not self.check_mode:
                self.cluster.patch("v1", "Namespace", name, {"metadata": {"labels": missing}})

    def _ensure_operator_group(self):
        namespace = self.spec.namespace
        groups = self.cluster.list(OLM_V1, "OperatorGroup", namespace=namespace)
        wanted = self.spec.targets()
        if len(groups) > 1:
            raise ClusterError(
                "%s: namespace %s has %d OperatorGroups (%s); OLM needs exactly one per namespace, remove "
                "the extra ones" % (self._where(), namespace, len(groups),
                                    ", ".join(sorted(g["metadata"]["name"] for g in groups))))
        if groups:
            group = groups[0]
            name = group["metadata"]["name"]
            actual = _group_targets(group)
            if actual == wanted:
                return name
            if not is_managed(group):
                raise ClusterError(
                    "%s: OperatorGroup %s/%s targets %s but install_mode %s needs %s; it was not created by "
                    "this collection, so it is left alone: change install_mode or the OperatorGroup"
                    % (self._where(), namespace, name, actual if actual is not None else "a label selector",
                       self.spec.install_mode, wanted or "all namespaces"))
            self.before["operator_group"] = {"name": name, "targetNamespaces": actual}
            self.after["operator_group"] = {"name": name, "targetNamespaces": wanted}
            self._record("retarget OperatorGroup %s/%s" % (namespace, name))
            if not self.check_mode:
                self.cluster.patch(OLM_V1, "OperatorGroup", name,
                                   {"spec": {"targetNamespaces": wanted or None}}, namespace=namespace)
            return name
        name = self.spec.operator_group_name
        body = {"apiVersion": OLM_V1, "kind": "OperatorGroup",
                "metadata": {"name": name, "namespace": namespace, "labels": managed_labels()},
                "spec": {}}
        if wanted:
            body["spec"]["targetNamespaces"] = wanted
        self.before["operator_group"] = None
        self.after["operator_group"] = {"name": name, "targetNamespaces": wanted}
        self._record("create OperatorGroup %s/%s" % (namespace, name))
        if not self.check_mode:
            self.cluster.create(OLM_V1, "OperatorGroup", body, namespace=namespace)
        return name

    def _subscription(self):
        return self.cluster.get(OLM_V1ALPHA1, "Subscription", self.spec.subscription_name, self.spec.namespace)

    def _ensure_subscription(self):
        namespace = self.spec.namespace
        desired = self.spec.subscription_spec()
        for other in self.cluster.list(OLM_V1ALPHA1, "Subscription", namespace=namespace):
            if other["metadata"]["name"] != self.spec.subscription_name and \
                    (other.get("spec") or {}).get("name") == self.spec.package:
                raise ClusterError(
                    "%s: package %s is already subscribed by Subscription %s/%s; OLM allows one Subscription "
                    "per package and namespace (set subscription_name: %s)"
                    % (self._where(), self.spec.package, namespace, other["metadata"]["name"],
                       other["metadata"]["name"]))
        sub = self._subscription()
        if sub is None:
            self.before["subscription"] = None
            self.after["subscription"] = desired
            self._record("create Subscription %s/%s" % (namespace, self.spec.subscription_name))
            if not self.check_mode:
                self.cluster.create(OLM_V1ALPHA1, "Subscription", {
                    "apiVersion": OLM_V1ALPHA1, "kind": "Subscription",
                    "metadata": {"name": self.spec.subscription_name, "namespace": namespace,
                                 "labels": managed_labels()},
                    "spec": desired}, namespace=namespace)
            return
        current = sub.get("spec") or {}
        delta = dict((k, v) for k, v in desired.items() if current.get(k) != v)
        if delta:
            self.before["subscription"] = dict((k, current.get(k)) for k in delta)
            self.after["subscription"] = delta
            self._record("update Subscription %s/%s (%s)" % (namespace, self.spec.subscription_name,
                                                             ", ".join(sorted(delta))))
            if not self.check_mode:
                self.cluster.patch(OLM_V1ALPHA1, "Subscription", self.spec.subscription_name,
                                   {"spec": delta}, namespace=namespace)

    # -- approval --------------------------------------------------------------
    def _approve_if_expected(self, sub):
        """Approve the Subscription's pending InstallPlan only if it installs the expected CSV.

        Expected: starting_csv when given; otherwise, on a first install, the CSV the
        Subscription resolved to. Upgrades of an installed operator under Manual approval are
        left to people unless starting_csv names the new version.
        """
        status = (sub or {}).get("status") or {}
        ref = status.get("installPlanRef") or {}
        if not ref.get("name"):
            return None
        expected = self.spec.starting_csv or (None if status.get("installedCSV") else status.get("currentCSV"))
        if not expected:
            return None
        plan = self.cluster.get(OLM_V1ALPHA1, "InstallPlan", ref["name"], self.spec.namespace)
        if plan is None or (plan.get("spec") or {}).get("approved"):
            return None
        names = (plan.get("spec") or {}).get("clusterServiceVersionNames") or []
        if expected not in names:
            return None
        self._record("approve InstallPlan %s/%s for %s" % (self.spec.namespace, ref["name"], expected))
        if not self.check_mode:
            self.cluster.patch(OLM_V1ALPHA1, "InstallPlan", ref["name"], {"spec": {"approved": True}},
                               namespace=self.spec.namespace)
        return ref["name"]

    # -- waiting ---------------------------------------------------------------
    def _observe(self):
        """One look at Subscription, InstallPlan, CSV and owned CRDs."""
        seen = {"subscription": None, "install_plan": None, "csv": None, "crds_pending": []}
        sub = self._subscription()
        if sub is None:
            raise WaitFailed("%s: Subscription %s disappeared while waiting" % (self._where(), self.spec.subscription_name))
        status = sub.get("status") or {}
        seen["subscription"] = {"state": status.get("state"), "installedCSV": status.get("installedCSV"),
                                "currentCSV": status.get("currentCSV"),
                                "conditions": _conditions_text(status.get("conditions"))}
        for cond in status.get("conditions") or []:
            if cond.get("type") == "ResolutionFailed" and cond.get("status") in ("True", True) and \
                    any(m in (cond.get("message") or "") for m in PERMANENT_RESOLUTION_MARKERS):
                raise WaitFailed("%s: OLM cannot resolve the Subscription: %s" % (self._where(), cond.get("message")),
                                 seen)
        approved = None
        if self.spec.approval == "Manual":
            approved = self._approve_if_expected(sub)
            if approved:
                self.approved_plan = approved
        ref = status.get("installPlanRef") or {}
        if ref.get("name"):
            plan = self.cluster.get(OLM_V1ALPHA1, "InstallPlan", ref["name"], self.spec.namespace)
            if plan:
                pstatus = plan.get("status") or {}
                seen["install_plan"] = {"name": ref["name"], "phase": pstatus.get("phase"),
                                        "approved": (plan.get("spec") or {}).get("approved")}
                if pstatus.get("phase") == "Failed":
                    raise WaitFailed("%s: InstallPlan %s failed: %s" % (
                        self._where(), ref["name"], _conditions_text(pstatus.get("conditions"))
                        if pstatus.get("conditions") else pstatus.get("message", "no message")), seen)
        installed = status.get("installedCSV")
        if not installed:
            return False, seen
        csv = self.cluster.get(OLM_V1ALPHA1, "ClusterServiceVersion", installed, self.spec.namespace)
        if csv is None:
            return False, seen
        cstatus = csv.get("status") or {}
        seen["csv"] = {"name": installed, "phase": cstatus.get("phase"), "reason": cstatus.get("reason"),
                       "message": cstatus.get("message")}
        if cstatus.get("phase") == "Failed" and cstatus.get("reason") in PERMANENT_CSV_REASONS:
            raise WaitFailed("%s: ClusterServiceVersion %s failed: %s: %s" % (
                self._where(), installed, cstatus.get("reason"), cstatus.get("message")), seen)
        if cstatus.get("phase") != "Succeeded":
            return False, seen
        if self.spec.approval == "Automatic" and status.get("state") not in ("AtLatestKnown", None):
            return False, seen
        if self.spec.starting_csv and self.spec.approval == "Manual" and installed != self.spec.starting_csv:
            return False, seen
        owned = [c.get("name") for c in ((csv.get("spec") or {}).get("customresourcedefinitions") or {}).get("owned") or []
                 if c.get("name")]
        seen["owned_crds"] = owned
        for crd_name in owned:
            crd = self.cluster.get(CRD_API, "CustomResourceDefinition", crd_name)
            established = crd and any(c.get("type") == "Established" and c.get("status") == "True"
                                      for c in (crd.get("status") or {}).get("conditions") or [])
            if not established:
                seen["crds_pending"].append(crd_name)
        return not seen["crds_pending"], seen

    def _wait(self, result, timeout, max_interval):
        self.approved_plan = None
        try:
            seen, elapsed = poll(self._observe, timeout, max_interval, **self._poll_kwargs)
        except WaitTimeout as err:
            message = "%s: not installed after %ds. %s" % (self._where(), int(err.elapsed), describe(err.last))
            raise ClusterError(message, details=err.last or {})
        except WaitFailed as err:
            raise _failure(err)
        result["installed_csv"] = seen["csv"]["name"]
        result["csv_phase"] = seen["csv"]["phase"]
        result["owned_crds"] = seen.get("owned_crds", [])
        result["approved_install_plan"] = self.approved_plan
        result["elapsed"] = round(elapsed, 1)
        result["ready"] = True
        return result

    # -- absent ----------------------------------------------------------------
    def absent(self):
        namespace = self.spec.namespace
        removed = {"subscription": None, "csvs": [], "operator_group": None}
        sub = self._subscription()
        csv_names = []
        if sub is not None:
            status = sub.get("status") or {}
            for key in ("installedCSV", "currentCSV"):
                if status.get(key) and status[key] not in csv_names:
                    csv_names.append(status[key])
            self.before["subscription"] = sub.get("spec")
            self.after["subscription"] = None
            self._record("delete Subscription %s/%s" % (namespace, self.spec.subscription_name))
            removed["subscription"] = self.spec.subscription_name
            if not self.check_mode:
                self.cluster.delete(OLM_V1ALPHA1, "Subscription", self.spec.subscription_name, namespace)
        label = "operators.coreos.com/%s.%s" % (self.spec.package, namespace)
        try:
            for csv in self.cluster.list(OLM_V1ALPHA1, "ClusterServiceVersion", namespace=namespace,
                                         label_selector=label):
                if csv["metadata"]["name"] not in csv_names:
                    csv_names.append(csv["metadata"]["name"])
        except ClusterError:
            pass
        for name in csv_names:
            csv = self.cluster.get(OLM_V1ALPHA1, "ClusterServiceVersion", name, namespace)
            if csv is None or (csv.get("status") or {}).get("reason") == "Copied":
                continue
            self._record("delete ClusterServiceVersion %s/%s" % (namespace, name))
            removed["csvs"].append(name)
            if not self.check_mode:
                self.cluster.delete(OLM_V1ALPHA1, "ClusterServiceVersion", name, namespace)
        groups = self.cluster.list(OLM_V1, "OperatorGroup", namespace=namespace) if \
            self.cluster.get("v1", "Namespace", namespace) else []
        remaining = [s for s in self.cluster.list(OLM_V1ALPHA1, "Subscription", namespace=namespace)
                     if s["metadata"]["name"] != self.spec.subscription_name] if groups else []
        for group in groups:
            if is_managed(group) and not remaining:
                self._record("delete OperatorGroup %s/%s" % (namespace, group["metadata"]["name"]))
                removed["operator_group"] = group["metadata"]["name"]
                if not self.check_mode:
                    self.cluster.delete(OLM_V1, "OperatorGroup", group["metadata"]["name"], namespace)
        return {"subscription": self.spec.subscription_name, "namespace": namespace,
                "package": self.spec.package, "removed": removed}


def _failure(err):
    """A WaitFailed as the ClusterError the module reports, with what was last seen."""
    seen = " (last seen: %s)" % describe(err.last) if err.last else ""
    return ClusterError(err.message + seen, details=err.last or {})


def describe(seen):
    """A one-line account of what OLM reported, for timeout and failure messages."""
    if not seen:
        return "Nothing was observed."
    parts = []
    sub = seen.get("subscription")
    if sub:
        parts.append("Subscription: state=%s, installedCSV=%s, currentCSV=%s, conditions: %s" % (
            sub.get("state"), sub.get("installedCSV"), sub.get("currentCSV"), sub.get("conditions")))
    plan = seen.get("install_plan")
    if plan:
        parts.append("InstallPlan %s: phase=%s, approved=%s" % (plan["name"], plan.get("phase"), plan.get("approved")))
    csv = seen.get("csv")
    if csv:
        parts.append("CSV %s: phase=%s, reason=%s, message=%s" % (
            csv["name"], csv.get("phase"), csv.get("reason"), csv.get("message")))
    if seen.get("crds_pending"):
        parts.append("CRDs not Established: %s" % ", ".join(seen["crds_pending"]))
    return ". ".join(parts) + "."
