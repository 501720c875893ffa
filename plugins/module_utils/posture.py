# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster's posture, read only, and the report that puts the clusters side by side.

`collect()` reads one cluster: the operators the collection subscribed (their CSV phase), the product
resources it manages (found by the resources that exist; a kind the cluster does not serve is "not
installed", never an error), Kyverno's policy reports (wgpolicyk8s.io/v1alpha2) counted by policy,
Trivy Operator's VulnerabilityReports (aquasecurity.github.io/v1alpha1) counted by severity, and, on the
hub, the metadata of the credential records (never their data: the API server is asked for metadata only).
A kind that cannot be read (HTTP 403, a server error) is reported in its section and the rest is still
read; only a cluster that cannot be reached at all fails.

`build_report()` merges what each cluster gave (plus ACS Central's view of the secured clusters and
the hub's credential records) into the report that docs/operations.md describes; posture_html.py
renders it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from email.utils import parsedate_to_datetime

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    ClusterError,
)

SCHEMA = "devsecops.multicluster/posture-report/v1"
STATES = ("healthy", "warning", "critical", "unreachable")
RANK = dict((state, index) for index, state in enumerate(STATES))
SECTIONS = ("components", "policies", "vulnerabilities", "credentials")
DEFAULT_SECTIONS = ("components", "policies", "vulnerabilities")
RESULTS = ("pass", "fail", "warn", "error", "skip")
SEVERITIES = ("critical", "high", "medium", "low", "unknown")

OLM = "operators.coreos.com/v1alpha1"
WGPOLICY = "wgpolicyk8s.io/v1alpha2"
TRIVY = "aquasecurity.github.io/v1alpha1"
MANAGED_SELECTOR = "%s=%s" % (MANAGED_BY_LABEL, MANAGED_BY)
RECORD_PURPOSE = "devsecops.multicluster/purpose"
RECORD_CLUSTER = "devsecops.multicluster/cluster"
RECORD_KIND = "devsecops.multicluster/credential"
RECORD_ANNOTATION = "devsecops.multicluster/"
# The record's own time stamps, most specific first (minted: tokens and registrations; rotated and
# created: signing keys); the Secret's creationTimestamp when none is set.
AGE_ANNOTATIONS = ("minted", "rotated", "created")
PAGE_SIZE = 100


# -- small helpers ---------------------------------------------------------------------------------

def worst(states):
    """The worst of these states (None entries ignored); healthy when there is nothing to judge."""
    known = [state for state in states if state in RANK]
    return max(known, key=RANK.get) if known else "healthy"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(stamp):
    return stamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else None


_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$")


def parse_time(text):
    """An RFC 3339 (fractions and offsets allowed) or RFC 2822 time stamp -> aware datetime, or None."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    match = _RFC3339.match(text)
    if match:
        parts = [int(p) for p in match.groups()[:6]]
        offset = datetime.timedelta(0)
        if match.group(8):
            offset = datetime.timedelta(hours=int(match.group(9)), minutes=int(match.group(10)))
            if match.group(8) == "-":
                offset = -offset
        try:
            return datetime.datetime(*parts, tzinfo=datetime.timezone(offset)).astimezone(datetime.timezone.utc)
        except ValueError:
            return None
    try:
        stamp = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if stamp is None:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.astimezone(datetime.timezone.utc)


def _conditions(obj):
    return dict((c.get("type"), c) for c in ((obj or {}).get("status") or {}).get("conditions") or []
                if isinstance(c, dict))


def _said(condition):
    """What a condition says, in one line."""
    if not condition:
        return ""
    text = condition.get("message") or condition.get("reason") or ""
    return "%s: %s" % (condition.get("type"), text) if text else "%s=%s" % (condition.get("type"), condition.get("status"))


def _true(conditions, ctype):
    return (conditions.get(ctype) or {}).get("status") == "True"


def _false(conditions, ctype):
    return (conditions.get(ctype) or {}).get("status") == "False"


def _not_served(err):
    return isinstance(err, ClusterError) and (err.details or {}).get("served") is False


def _answered(err):
    """The API server answered (HTTP 403: these credentials may not read that), so it is reachable."""
    return isinstance(err, ClusterError) and ((err.details or {}).get("status") == 403 or _not_served(err))


def _meta(obj):
    return (obj or {}).get("metadata") or {}


# -- how each product says it is healthy -----------------------------------------------------------
# Each returns (status text, state, message).

NO_STATUS = ("no status yet", "warning", "the operator has not reported on it (is the operator running?)")


def _phase(obj, healthy, failed):
    status = (obj or {}).get("status") or {}
    phase = status.get("phase")
    if not phase:
        return NO_STATUS
    troubled = [c for c in _conditions(obj).values()
                if (c.get("type") in ("Degraded", "Failed", "Error") and c.get("status") == "True")
                or (c.get("type") in ("Available", "Complete", "Ready") and c.get("status") == "False")]
    message = "; ".join(_said(c) for c in troubled)
    if phase in healthy:
        return phase, "warning" if troubled else "healthy", message
    return phase, "critical" if phase in failed else "warning", message


def _multiclusterhub(obj):
    return _phase(obj, ("Running",), ("Error", "UpdatingBlocked"))


def _argocd(obj):
    return _phase(obj, ("Available",), ("Failed",))


def _storagecluster(obj):
    return _phase(obj, ("Ready",), ("Error", "Failed"))


def _quayregistry(obj):
    conditions = _conditions(obj)
    if not conditions:
        return NO_STATUS
    if _true(conditions, "RolloutBlocked"):
        return "RolloutBlocked", "critical", _said(conditions["RolloutBlocked"])
    if _true(conditions, "Available"):
        return "Available", "healthy", ""
    available = conditions.get("Available") or {}
    not_ready = [c for c in conditions.values() if c.get("type", "").startswith("Component") and c.get("status") == "False"]
    return (available.get("reason") or "not available", "warning",
            "; ".join(_said(c) for c in ([available] if available else []) + not_ready))


def _stackrox(obj):
    """Central and SecuredCluster: the operator's Deployed, ReleaseFailed, Irreconcilable (and Available)."""
    conditions = _conditions(obj)
    if not conditions:
        return NO_STATUS
    failed = [conditions[t] for t in ("Irreconcilable", "ReleaseFailed") if _true(conditions, t)]
    if failed:
        return failed[0]["type"], "critical", "; ".join(_said(c) for c in failed)
    version = ((obj.get("status") or {}).get("productVersion") or "")
    if _true(conditions, "Deployed"):
        if _false(conditions, "Available"):
            return "Deployed, not available", "warning", _said(conditions["Available"])
        return ("Deployed %s" % version).strip(), "healthy", ""
    return "not deployed yet", "warning", _said(conditions.get("Deployed") or conditions.get("Initialized"))


def _tektonconfig(obj):
    conditions = _conditions(obj)
    ready = conditions.get("Ready")
    if not ready:
        return NO_STATUS
    version = (obj.get("status") or {}).get("version") or ""
    if ready.get("status") == "True":
        return ("Ready %s" % version).strip(), "healthy", ""
    if ready.get("status") == "False":
        return "not ready", "critical", _said(ready)
    return "reconciling", "warning", _said(ready)


def _application(obj):
    status = (obj or {}).get("status") or {}
    sync = (status.get("sync") or {}).get("status") or "Unknown"
    health = (status.get("health") or {}).get("status") or "Unknown"
    errors = [c for c in status.get("conditions") or [] if isinstance(c, dict) and str(c.get("type", "")).endswith("Error")]
    text = "%s / %s" % (sync, health)
    message = "; ".join(_said(c) for c in errors)
    operation = status.get("operationState") or {}
    if operation.get("phase") in ("Failed", "Error") and operation.get("message"):
        message = "; ".join(m for m in (message, "last sync: %s" % operation["message"]) if m)
    if errors or health in ("Degraded", "Missing"):
        return text, "critical", message
    if sync == "Synced" and health == "Healthy":
        return text, "healthy", message
    return text, "warning", message


# (what it is, apiVersion, kind, label selector, assessment)
PRODUCTS = (
    ("ACM", "operator.open-cluster-management.io/v1", "MultiClusterHub", None, _multiclusterhub),
    ("OpenShift GitOps", "argoproj.io/v1beta1", "ArgoCD", None, _argocd),
    ("ODF", "ocs.openshift.io/v1", "StorageCluster", None, _storagecluster),
    ("Quay", "quay.redhat.com/v1", "QuayRegistry", None, _quayregistry),
    ("ACS Central", "platform.stackrox.io/v1alpha1", "Central", None, _stackrox),
    ("ACS secured cluster", "platform.stackrox.io/v1alpha1", "SecuredCluster", None, _stackrox),
    ("OpenShift Pipelines", "operator.tekton.dev/v1alpha1", "TektonConfig", None, _tektonconfig),
    ("Argo CD Application", "argoproj.io/v1alpha1", "Application", MANAGED_SELECTOR, _application),
)


def _item(component, kind, obj, status, state, message, **extra):
    meta = _meta(obj)
    item = {"component": component, "kind": kind, "namespace": meta.get("namespace"), "name": meta.get("name"),
            "status": status, "state": state, "message": message or ""}
    item.update(extra)
    return item


class PostureReader(object):
    """Reads one cluster's posture; every read goes through the cluster's iterate()/get()."""

    def __init__(self, cluster, now=None, page_size=PAGE_SIZE):
        self.cluster = cluster
        self.now = now or utcnow()
        self.page_size = page_size

    def _each(self, api_version, kind, namespace=None, label_selector=None, metadata_only=False):
        return self.cluster.iterate(api_version, kind, namespace=namespace, label_selector=label_selector,
                                    page_size=self.page_size, metadata_only=metadata_only)

    def probe(self):
        """Fail (ClusterError) when the cluster cannot be reached or refuses the credentials; a 403 on
        namespaces still proves it answers."""
        try:
            next(iter(self._each("v1", "Namespace", metadata_only=True)), None)
        except ClusterError as err:
            if not _answered(err):
                raise

    # -- components ------------------------------------------------------------------------------
    def _subscriptions(self, section):
        try:
            subscriptions = list(self._each(OLM, "Subscription", label_selector=MANAGED_SELECTOR))
        except ClusterError as err:
            if _not_served(err):
                section["not_installed"].append("Subscription")
            else:
                section["errors"].append(err.message)
                section["items"].append({"component": "operators", "kind": "Subscription", "namespace": None,
                                         "name": None, "status": "unreadable", "state": "warning",
                                         "message": err.message})
            return
        for sub in sorted(subscriptions, key=lambda s: (_meta(s).get("namespace") or "", _meta(s).get("name") or "")):
            section["items"].append(self._subscription(sub))

    def _subscription(self, sub):
        meta = _meta(sub)
        package = (sub.get("spec") or {}).get("name") or meta.get("name")
        status = sub.get("status") or {}
        conditions = _conditions(sub)
        csv_name = status.get("installedCSV")
        if not csv_name:
            failing = [conditions[t] for t in ("ResolutionFailed", "CatalogSourcesUnhealthy", "InstallPlanFailed")
                       if _true(conditions, t)]
            if failing:
                return _item(package, "Subscription", sub, failing[0]["type"], "critical",
                             "; ".join(_said(c) for c in failing))
            return _item(package, "Subscription", sub, "not installed yet", "warning",
                         "OLM state %s" % (status.get("state") or "not reported"))
        try:
            csv = self.cluster.get(OLM, "ClusterServiceVersion", csv_name, meta.get("namespace"))
        except ClusterError as err:
            return _item(package, "Subscription", sub, "unreadable", "warning", err.message, csv=csv_name)
        if csv is None:
            return _item(package, "Subscription", sub, "CSV missing", "critical",
                         "the Subscription names %s, which does not exist" % csv_name, csv=csv_name)
        csv_status = csv.get("status") or {}
        phase = csv_status.get("phase") or "no phase"
        message = "" if phase == "Succeeded" else ": ".join(
            p for p in (csv_status.get("reason"), csv_status.get("message")) if p)
        state = "healthy" if phase == "Succeeded" else ("critical" if phase == "Failed" else "warning")
        return _item(package, "Subscription", sub, phase, state, message, csv=csv_name)

    def components(self):
        section = {"status": "collected", "items": [], "not_installed": [], "errors": []}
        self._subscriptions(section)
        for component, api_version, kind, selector, assess in PRODUCTS:
            try:
                found = list(self._each(api_version, kind, label_selector=selector))
            except ClusterError as err:
                if _not_served(err):
                    section["not_installed"].append(kind)
                else:
                    section["errors"].append(err.message)
                    section["items"].append({"component": component, "kind": kind, "namespace": None, "name": None,
                                             "status": "unreadable", "state": "warning", "message": err.message})
                continue
            for obj in sorted(found, key=lambda o: (_meta(o).get("namespace") or "", _meta(o).get("name") or "")):
                status, state, message = assess(obj)
                title, extra = component, {}
                if kind == "SecuredCluster":
                    extra["cluster_name"] = (obj.get("spec") or {}).get("clusterName") or _meta(obj).get("name")
                if kind == "Application":
                    title = _meta(obj).get("name")
                    extra["revision"] = ((obj.get("status") or {}).get("sync") or {}).get("revision")
                section["items"].append(_item(title, kind, obj, status, state, message, **extra))
        section["state"] = worst(i["state"] for i in section["items"]) if section["items"] else None
        if section["errors"]:
            section["status"] = "partial"
        return section

    # -- Kyverno policy reports ------------------------------------------------------------------
    def policies(self):
        section = {"status": "collected", "reports": 0, "totals": dict((r, 0) for r in RESULTS), "by_policy": [],
                   "not_installed": [], "errors": []}
        by_policy = {}
        served = 0
        for kind in ("PolicyReport", "ClusterPolicyReport"):
            try:
                for report in self._each(WGPOLICY, kind):
                    section["reports"] += 1
                    for result in report.get("results") or []:
                        outcome = result.get("result")
                        if outcome not in RESULTS:
                            continue
                        name = result.get("policy") or "(unnamed)"
                        counts = by_policy.setdefault(name, dict((r, 0) for r in RESULTS))
                        counts[outcome] += 1
                        section["totals"][outcome] += 1
                served += 1
            except ClusterError as err:
                if _not_served(err):
                    section["not_installed"].append(kind)
                else:
                    served += 1
                    section["errors"].append(err.message)
        section["by_policy"] = [dict(policy=name, **counts) for name, counts in sorted(by_policy.items())]
        return _finish(section, served, lambda s: "warning" if s["totals"]["fail"] or s["totals"]["error"] else "healthy")

    # -- Trivy vulnerability reports -------------------------------------------------------------
    def vulnerabilities(self, top=10):
        section = {"status": "collected", "reports": 0, "images": 0, "totals": dict((s, 0) for s in SEVERITIES),
                   "top_images": [], "not_installed": [], "errors": []}
        images = {}
        served = 0
        try:
            for report in self._each(TRIVY, "VulnerabilityReport"):
                body = report.get("report") or {}
                summary = body.get("summary") or {}
                counts = dict((s, _count(summary.get("%sCount" % s))) for s in SEVERITIES)
                section["reports"] += 1
                for severity in SEVERITIES:
                    section["totals"][severity] += counts[severity]
                image = image_reference(body)
                updated = body.get("updateTimestamp") or ""
                seen = images.get(image)
                if seen is None:
                    images[image] = dict(counts, image=image, workloads=1, updated=updated)
                else:
                    seen["workloads"] += 1
                    if updated >= seen["updated"]:
                        seen.update(counts, updated=updated)
            served = 1
        except ClusterError as err:
            if _not_served(err):
                section["not_installed"].append("VulnerabilityReport")
            else:
                served = 1
                section["errors"].append(err.message)
        section["images"] = len(images)
        ranked = sorted(images.values(), key=lambda i: tuple(-i[s] for s in SEVERITIES) + (i["image"],))
        section["top_images"] = [dict((k, v) for k, v in i.items() if k != "updated")
                                 for i in ranked[:max(top, 0)] if any(i[s] for s in SEVERITIES)]
        return _finish(section, served, lambda s: "critical" if s["totals"]["critical"] else (
            "warning" if s["totals"]["high"] else "healthy"))

    # -- credential records (hub) ----------------------------------------------------------------
    def credentials(self, namespace, max_age_days=90, expiry_warning_days=30):
        section = {"status": "collected", "namespace": namespace, "records": [], "errors": []}
        try:
            listed = self._each("v1", "Secret", namespace=namespace, label_selector=MANAGED_SELECTOR, metadata_only=True)
            metas = [_meta(obj) for obj in listed]
        except ClusterError as err:
            section.update(status="failed", state="warning", errors=[err.message])
            return section
        for meta in sorted(metas, key=lambda m: m.get("name") or ""):
            section["records"].append(credential_record(meta, self.now, max_age_days, expiry_warning_days))
        section["state"] = worst(r["state"] for r in section["records"])
        return section


def _count(value):
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def _finish(section, served, judge):
    """status/state of a report section: not installed when no kind is served, partial/failed on errors."""
    if not served:
        section.update(status="not installed", state=None)
        return section
    collected = served - len(section["errors"])
    if section["errors"]:
        section["status"] = "partial" if collected > 0 else "failed"
    section["state"] = worst([judge(section), "warning" if section["errors"] else None])
    return section


def image_reference(report):
    """registry/repository:tag (or @digest) of a VulnerabilityReport's artifact."""
    artifact = report.get("artifact") or {}
    server = (report.get("registry") or {}).get("server") or ""
    repository = artifact.get("repository") or "(unknown image)"
    name = "%s/%s" % (server, repository) if server else repository
    if artifact.get("tag"):
        return "%s:%s" % (name, artifact["tag"])
    if artifact.get("digest"):
        return "%s@%s" % (name, artifact["digest"])
    return name


def credential_record(meta, now, max_age_days, expiry_warning_days):
    """One credential record, from its metadata only: whose, what, how old, when it expires."""
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    created = parse_time(meta.get("creationTimestamp"))
    minted = None
    for key in AGE_ANNOTATIONS:
        minted = parse_time(annotations.get(RECORD_ANNOTATION + key))
        if minted:
            break
    since = minted or created
    age_days = round((now - since).total_seconds() / 86400.0, 1) if since else None
    expires_text = annotations.get(RECORD_ANNOTATION + "expires") or None
    expires = parse_time(expires_text)
    expires_in_days = round((expires - now).total_seconds() / 86400.0, 1) if expires else None
    if expires is not None and expires <= now:
        state, reason = "critical", "expired"
    elif expires is not None and expires_in_days <= expiry_warning_days:
        state, reason = "warning", "expires within %d days" % expiry_warning_days
    elif age_days is not None and age_days > max_age_days:
        state, reason = "warning", "older than %d days" % max_age_days
    elif expires_text and expires is None:
        state, reason = "warning", "expiry not understood"
    else:
        state, reason = "healthy", ""
    return {"name": meta.get("name"), "namespace": meta.get("namespace"),
            "cluster": labels.get(RECORD_CLUSTER), "purpose": labels.get(RECORD_PURPOSE),
            "kind": labels.get(RECORD_KIND), "created": iso(created), "minted": iso(minted) if minted else iso(created),
            "age_days": age_days, "expires": iso(expires) if expires else expires_text,
            "expires_in_days": expires_in_days, "state": state, "reason": reason}


def collect(cluster, sections=DEFAULT_SECTIONS, record_namespace="devsecops-multicluster", top_images=10,
            max_age_days=90, expiry_warning_days=30, now=None):
    """The posture of one cluster (the module's result). Raises ClusterError only when the cluster
    cannot be reached at all."""
    reader = PostureReader(cluster, now=now)
    reader.probe()
    posture = {"cluster": cluster.name, "collected_at": iso(reader.now)}
    if "components" in sections:
        posture["components"] = reader.components()
    if "policies" in sections:
        posture["policies"] = reader.policies()
    if "vulnerabilities" in sections:
        posture["vulnerabilities"] = reader.vulnerabilities(top=top_images)
    if "credentials" in sections:
        posture["credentials"] = reader.credentials(record_namespace, max_age_days, expiry_warning_days)
    posture["state"] = worst((posture.get(s) or {}).get("state") for s in SECTIONS)
    return posture


# -- the report ------------------------------------------------------------------------------------

def _not_collected(kind, why):
    base = {"status": "not collected", "state": None, "message": why}
    if kind == "components":
        base.update(items=[], not_installed=[], errors=[])
    elif kind == "policies":
        base.update(reports=0, totals=dict((r, 0) for r in RESULTS), by_policy=[], not_installed=[], errors=[])
    elif kind == "vulnerabilities":
        base.update(reports=0, images=0, totals=dict((s, 0) for s in SEVERITIES), top_images=[], not_installed=[],
                    errors=[])
    elif kind == "credentials":
        base.update(held_on=[], records=[], errors=[])
    return base


ACS_STATES = {"HEALTHY": "healthy", "DEGRADED": "warning", "UNHEALTHY": "critical", "UNINITIALIZED": "warning"}


def _acs_entry(name, secured_names, centrals, reachable=True):
    """What the hubs' Centrals say about this cluster (found by its SecuredCluster's clusterName; a
    cluster that could not be read is looked for by its inventory name)."""
    looked_for = secured_names[0] if secured_names else name
    unavailable = []
    for hub, acs in centrals:
        if acs.get("status") != "collected":
            unavailable.append((hub, acs))
            continue
        for health in acs.get("clusters") or []:
            if health.get("name") in (secured_names or [name]) and (secured_names or not reachable):
                overall = health.get("overall") or "UNKNOWN"
                return {"status": "collected", "state": ACS_STATES.get(overall, "warning"), "central": hub,
                        "name": health.get("name"), "overall": overall, "sensor": health.get("sensor"),
                        "collector": health.get("collector"), "admission_control": health.get("admission_control"),
                        "last_contact": health.get("last_contact"), "message": ""}
    base = {"central": None, "name": looked_for, "overall": None, "sensor": None, "collector": None,
            "admission_control": None, "last_contact": None}
    if not reachable:
        return dict(base, status="not collected", state=None, message="cluster not reachable")
    if not secured_names:
        return dict(base, status="not secured", state=None, message="no SecuredCluster on this cluster")
    if unavailable:
        hub, acs = unavailable[0]
        return dict(base, status="unavailable", state="warning", central=hub,
                    message=acs.get("message") or "Central on %s could not be asked" % hub)
    if not centrals:
        return dict(base, status="not collected", state=None,
                    message="no hub with ACS Central in this run, so no Central was asked")
    return dict(base, status="not listed", state="warning", central=centrals[0][0],
                message="Central on %s does not list secured cluster %s (its sensor never connected)"
                % (centrals[0][0], looked_for))


def build_report(entries, generated_at=None, thresholds=None):
    """The report: one entry per cluster, in the order given.

    entries: dicts with name, groups, posture (the cluster_posture result, or None when the cluster
    could not be read), error (why not), and on hubs acs (Central's view: status, message, clusters).
    """
    generated_at = generated_at or iso(utcnow())
    names = [e["name"] for e in entries]
    centrals = [(e["name"], e["acs"]) for e in entries if e.get("acs")]
    holders = [e for e in entries if (e.get("posture") or {}).get("credentials")]
    records_for = dict((name, []) for name in names)
    for holder in holders:
        for record in holder["posture"]["credentials"].get("records") or []:
            record = dict(record, held_on=holder["name"])
            owner = record.get("cluster") if record.get("cluster") in records_for else holder["name"]
            records_for[owner].append(record)

    clusters = []
    for entry in entries:
        name = entry["name"]
        posture = entry.get("posture")
        cluster = {"name": name, "groups": list(entry.get("groups") or []), "reachable": posture is not None,
                   "error": entry.get("error") if posture is None else None,
                   "collected_at": (posture or {}).get("collected_at")}
        why = "cluster not reachable" if posture is None else "not asked for on this cluster"
        for kind in ("components", "policies", "vulnerabilities"):
            cluster[kind] = (posture or {}).get(kind) or _not_collected(kind, why)
        secured = [i.get("cluster_name") for i in cluster["components"]["items"] if i.get("kind") == "SecuredCluster"]
        cluster["acs"] = _acs_entry(name, secured, centrals, reachable=posture is not None)
        cluster["credentials"] = _credentials_entry(name, entry, holders, records_for[name])
        cluster["state"] = "unreachable" if posture is None else worst(
            [cluster[k].get("state") for k in ("components", "acs", "policies", "vulnerabilities", "credentials")])
        clusters.append(cluster)

    report = {"schema": SCHEMA, "generated_at": generated_at, "thresholds": dict(thresholds or {}),
              "state": worst(c["state"] for c in clusters) if clusters else "healthy", "clusters": clusters}
    report["summary"] = summarize(report)
    return report


def _credentials_entry(name, entry, holders, records):
    own = (entry.get("posture") or {}).get("credentials")
    held_on = sorted(set(r["held_on"] for r in records))
    section = {"status": "collected", "held_on": held_on, "records": records, "errors": [], "message": ""}
    if own is not None and own.get("status") != "collected":
        section.update(status=own.get("status"), errors=list(own.get("errors") or []),
                       message="the credential records on this hub could not be read")
    elif not holders:
        return dict(_not_collected("credentials", "no hub's credential records were read in this run"),
                    records=records)
    section["state"] = worst([r["state"] for r in records] + ["warning" if section["errors"] else None]) \
        if records or section["errors"] else None
    return section


def summarize(report):
    """The compact view for AAP workflows (set_stats) and the page's header."""
    states = dict((state, 0) for state in STATES)
    by_cluster = {}
    for cluster in report["clusters"]:
        states[cluster["state"]] += 1
        items = cluster["components"]["items"]
        records = cluster["credentials"]["records"]
        by_cluster[cluster["name"]] = {
            "state": cluster["state"],
            "components": {"total": len(items), "unhealthy": sum(1 for i in items if i["state"] != "healthy")},
            "acs": cluster["acs"].get("overall"),
            "policies": {"fail": cluster["policies"]["totals"]["fail"], "error": cluster["policies"]["totals"]["error"]},
            "vulnerabilities": {"critical": cluster["vulnerabilities"]["totals"]["critical"],
                                "high": cluster["vulnerabilities"]["totals"]["high"]},
            "credentials": {"total": len(records), "attention": sum(1 for r in records if r["state"] != "healthy")},
        }
    return {"state": report["state"], "generated_at": report["generated_at"], "clusters": len(report["clusters"]),
            "states": states, "by_cluster": by_cluster}
