"""The lab's chart repository (tests/lab/chartrepo.py) and Argo CD Application stand-in
(tests/lab/standins/argocd.py): their pure parts.

Index lookups and version resolution follow Argo CD's for a Helm source; the status computation is the
application controller's (sync, health, conditions, resources, operation state), checked here without a
cluster. If a lab helm binary is in the cache, the stand-in charts are also rendered with it.
"""

import copy
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab import chartrepo  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import argocd  # noqa: E402  pylint: disable=wrong-import-position

REPO_URL = "http://127.0.0.1:30000"
NOW = "2026-11-22T23:00:00Z"
LATER = "2026-11-22T23:05:00Z"
INDEX = {"apiVersion": "v1", "entries": {
    "kyverno": [{"name": "kyverno", "version": "3.4.1", "urls": ["kyverno-3.4.1.tgz"]},
                {"name": "kyverno", "version": "3.3.7", "urls": ["kyverno-3.3.7.tgz"]},
                {"name": "kyverno", "version": "3.5.0-rc.1", "urls": ["kyverno-3.5.0-rc.1.tgz"]}],
    "harbor": [{"name": "harbor", "version": "1.16.3", "urls": ["harbor-1.16.3.tgz"]}],
}}
CHARTS = {"kyverno": ("3.4.1", "v1.14.1"), "policy-reporter": ("3.1.4", "3.1.1"),
          "trivy-operator": ("0.28.1", "0.26.1"), "tracee": ("0.23.1", "0.23.1"), "harbor": ("1.16.3", "2.12.3")}


def application(chart="kyverno", version="3.4.1", **spec):
    body = {"project": "default",
            "source": {"repoURL": REPO_URL, "chart": chart, "targetRevision": version,
                       "helm": {"releaseName": chart}},
            "destination": {"server": argocd.IN_CLUSTER, "namespace": chart},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]}}
    body.update(spec)
    return {"apiVersion": argocd.API, "kind": "Application",
            "metadata": {"name": chart, "namespace": "openshift-gitops", "uid": "u1", "resourceVersion": "1"},
            "spec": body}


def sa(name, namespace="kyverno"):
    return ("", "v1", "ServiceAccount", namespace, name)


def succeeded(app, revision="3.4.1"):
    return {"operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": True}},
            "phase": "Succeeded", "message": argocd.SYNC_OK, "startedAt": NOW, "finishedAt": NOW,
            "syncResult": {"revision": revision, "source": copy.deepcopy(app["spec"]["source"]), "resources": []}}


# -- index and versions --------------------------------------------------------------------------------
def test_exact_version_is_pulled_as_given():
    assert chartrepo.resolve(INDEX, "kyverno", "3.4.1") == "3.4.1"
    assert chartrepo.resolve(INDEX, "kyverno", "9.9.9") == "9.9.9"  # helm pull then says it is not there
    assert chartrepo.resolve(INDEX, "nothing", "1.0.0") == "1.0.0"


@pytest.mark.parametrize("constraint,expected", [
    ("3.4.*", "3.4.1"), ("3.x", "3.4.1"), ("*", "3.4.1"), ("^3.3", "3.4.1"), ("~3.3", "3.3.7"),
    (">=3.0, <3.4", "3.3.7"), (">=3.0 <3.4", "3.3.7"), ("3.3.x || 3.4.x", "3.4.1"), ("!=3.4.1", "3.3.7"),
    (">=3.5.0-rc.0", "3.5.0-rc.1"),
])
def test_constraints_resolve_to_the_highest_match(constraint, expected):
    assert chartrepo.resolve(INDEX, "kyverno", constraint) == expected


def test_constraint_errors_are_argo_cds():
    with pytest.raises(chartrepo.ChartError, match=r"^chart 'nothing' not found in index$"):
        chartrepo.resolve(INDEX, "nothing", "1.*")
    with pytest.raises(chartrepo.ChartError,
                       match=r"^invalid revision: version matching constraint not found in 3 tags$"):
        chartrepo.resolve(INDEX, "kyverno", "4.*")


def test_prereleases_match_only_when_asked():
    assert not chartrepo.satisfies("3.5.0-rc.1", ">=3.0")
    assert chartrepo.satisfies("3.5.0-rc.1", ">=3.5.0-rc.0")
    assert chartrepo.is_version("v1.2.3") and chartrepo.is_version("1.2") and not chartrepo.is_version("1.*")


def test_find_exact_entry():
    assert chartrepo.find(INDEX, "harbor", "1.16.3")["urls"] == ["harbor-1.16.3.tgz"]
    assert chartrepo.find(INDEX, "harbor", "1.16.4") is None
    assert chartrepo.find(INDEX, "kyverno-policies", "3.4.1") is None


def test_pull_error_is_worded_as_argo_cd_reports_helm():
    args = ["helm", "pull", "--destination", "/tmp/x", "--version", "9.9.9", "--repo", REPO_URL, "kyverno"]
    inner = argocd.pull_command_error(args, 'Error: chart "kyverno" version "9.9.9" not found in %s repository\n' % REPO_URL)
    message = argocd.comparison_message(inner)
    assert message.startswith("Failed to load target state: failed to generate manifest for source 1 of 1: "
                              "rpc error: code = Unknown desc = error fetching chart: failed running helm: "
                              "`helm pull --destination /tmp/x --version 9.9.9 --repo %s kyverno` failed exit status 1: "
                              % REPO_URL)
    assert message.endswith('Error: chart "kyverno" version "9.9.9" not found in %s repository' % REPO_URL)
    assert "no such host" in argocd.unreachable_stderr("https://kyverno.github.io/kyverno")
    assert argocd.is_loopback(REPO_URL) and not argocd.is_loopback("https://helm.goharbor.io")


# -- spec pieces -----------------------------------------------------------------------------------------
def test_tracking_ids_and_instance_names():
    app = application()
    assert argocd.instance_name(app, "openshift-gitops") == "kyverno"
    assert argocd.instance_name(app, "argocd") == "openshift-gitops_kyverno"
    assert argocd.tracking_id("kyverno", sa("kyverno-admission-controller")) == \
        "kyverno:/ServiceAccount:kyverno/kyverno-admission-controller"
    assert argocd.tracking_id("tracee", ("tracee.aquasec.com", "v1beta1", "Policy", "", "default-policy")) == \
        "tracee:tracee.aquasec.com/Policy:/default-policy"


def test_helm_template_args_follow_argo_cd():
    source = {"chart": "kyverno", "helm": {
        "values": "a: 1\n", "valuesObject": {"a": 2},
        "parameters": [{"name": "b", "value": "true", "forceString": True}, {"name": "c", "value": "3"}]}}
    release, namespace, args, values = argocd.helm_template_args(source, "app", "kyverno", "/nonexistent")
    assert (release, namespace) == ("app", "kyverno")
    assert yaml.safe_load(values) == {"a": 2}  # valuesObject wins over values
    assert args[:3] == ["--namespace", "kyverno", "--include-crds"]
    assert args[3:] == ["--set-string", "b=true", "--set", "c=3"]
    source = {"chart": "x", "helm": {"releaseName": "r", "namespace": "other", "skipCrds": True, "values": "a: 1"}}
    release, namespace, args, values = argocd.helm_template_args(source, "app", "kyverno", "/nonexistent")
    assert (release, namespace, values) == ("r", "other", "a: 1")
    assert "--include-crds" not in args
    with pytest.raises(chartrepo.ChartError, match="no such file"):
        argocd.helm_template_args({"helm": {"valueFiles": ["missing.yaml"]}}, "a", "n", "/nonexistent")
    assert argocd.helm_template_args({"helm": {"valueFiles": ["missing.yaml"], "ignoreMissingValueFiles": True}},
                                     "a", "n", "/nonexistent")[2] == ["--namespace", "n", "--include-crds"]


def test_project_permissions():
    default = {"spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]}}
    assert argocd.source_permitted(default, REPO_URL)
    assert argocd.destination_permitted(default, argocd.IN_CLUSTER, "in-cluster", "kyverno")
    narrow = {"spec": {"sourceRepos": ["https://helm.goharbor.io"],
                       "destinations": [{"server": argocd.IN_CLUSTER, "namespace": "harbor"},
                                        {"name": "lab-*", "namespace": "kyverno"}]}}
    assert not argocd.source_permitted(narrow, REPO_URL)
    assert argocd.source_permitted(narrow, "https://helm.goharbor.io/")
    assert argocd.destination_permitted(narrow, argocd.IN_CLUSTER, "in-cluster", "harbor")
    assert not argocd.destination_permitted(narrow, argocd.IN_CLUSTER, "in-cluster", "kyverno")
    assert argocd.destination_permitted(narrow, "https://127.0.0.1:1", "lab-dev", "kyverno")
    denied = {"spec": {"sourceRepos": ["*", "!http://127.0.0.1:*"]}}
    assert not argocd.source_permitted(denied, REPO_URL)


def test_sync_options_and_automation():
    app = application()
    assert argocd.sync_options(app) == {"CreateNamespace": "true"}
    assert argocd.automated(app) == {"prune": True, "selfHeal": True}
    app["spec"]["syncPolicy"]["automated"]["enabled"] = False
    assert argocd.automated(app) is None
    assert argocd._duration("1m30s") == 90 and argocd._duration("500ms") == 0.5  # pylint: disable=protected-access


# -- status ------------------------------------------------------------------------------------------------
def test_synced_and_healthy_after_a_sync():
    app = application()
    keys = [sa("kyverno-admission-controller"), ("", "v1", "ConfigMap", "kyverno", "kyverno-values")]
    live = {k: {"kind": k[2]} for k in keys}
    status = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, revision="3.4.1",
                                   target_keys=keys, live=live, operation_state=succeeded(app))
    assert status["sync"]["status"] == "Synced" and status["sync"]["revision"] == "3.4.1"
    assert status["sync"]["comparedTo"] == {"source": app["spec"]["source"], "destination": app["spec"]["destination"]}
    assert status["health"]["status"] == "Healthy"
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["sourceType"] == "Helm" and status["controllerNamespace"] == "openshift-gitops"
    assert status["reconciledAt"] == NOW and "conditions" not in status
    assert [r["name"] for r in status["resources"]] == ["kyverno-values", "kyverno-admission-controller"]
    assert all(r["status"] == "Synced" and "group" not in r for r in status["resources"])
    assert status["history"][0]["revision"] == "3.4.1" and status["history"][0]["id"] == 0
    # nothing changed: the same status but for timestamps, which are kept
    again = argocd.compute_status(status, app, control_namespace="openshift-gitops", now=LATER, revision="3.4.1",
                                  target_keys=keys, live=live)
    assert argocd.same_status(status, again) and again["reconciledAt"] == NOW
    assert again["health"]["lastTransitionTime"] == NOW


def test_out_of_sync_and_missing_before_the_first_sync():
    app = application()
    keys = [sa("kyverno-admission-controller")]
    status = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, revision="3.4.1",
                                   target_keys=keys, live={})
    assert status["sync"]["status"] == "OutOfSync"
    assert status["health"]["status"] == "Missing"
    assert status["resources"][0]["health"] == {"status": "Missing"}
    assert "operationState" not in status


def test_a_changed_source_is_out_of_sync_until_synced_again():
    app = application()
    keys = [sa("kyverno-admission-controller")]
    live = {keys[0]: {"kind": "ServiceAccount"}}
    synced = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, revision="3.4.1",
                                   target_keys=keys, live=live, operation_state=succeeded(app))
    app["spec"]["source"]["helm"]["valuesObject"] = {"customLabels": {"a": "b"}}
    status = argocd.compute_status(synced, app, control_namespace="openshift-gitops", now=LATER, revision="3.4.1",
                                   target_keys=keys, live=live)
    assert status["sync"]["status"] == "OutOfSync"


def test_objects_no_longer_rendered_require_pruning():
    app = application()
    keys = [sa("kyverno-admission-controller")]
    extra = sa("kyverno-reports-controller")
    live = {keys[0]: {"kind": "ServiceAccount"}, extra: {"kind": "ServiceAccount"}}
    status = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, revision="3.4.1",
                                   target_keys=keys, live=live, operation_state=succeeded(app))
    assert status["sync"]["status"] == "OutOfSync"
    pruning = [r for r in status["resources"] if r.get("requiresPruning")]
    assert [r["name"] for r in pruning] == ["kyverno-reports-controller"]


def test_comparison_error_for_an_unknown_version():
    app = application(version="9.9.9")
    message = argocd.comparison_message('... Error: chart "kyverno" version "9.9.9" not found in %s repository' % REPO_URL)
    status = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, comparison_error=message)
    assert status["sync"]["status"] == "Unknown"
    assert status["conditions"] == [{"type": "ComparisonError", "message": message, "lastTransitionTime": NOW}]
    # controller/health.go: no resources at all is Healthy - the sync status and the condition tell
    assert status["health"]["status"] == "Healthy"
    assert "resources" not in status


def test_invalid_spec_is_unknown_and_unknown():
    app = application(destination={"server": "https://elsewhere:6443", "namespace": "kyverno"})
    message = ('error getting cluster by server "https://elsewhere:6443": rpc error: code = NotFound desc = '
               'cluster "https://elsewhere:6443" not found')
    status = argocd.compute_status({}, app, control_namespace="openshift-gitops", now=NOW, invalid=[message])
    assert status["sync"]["status"] == "Unknown" and status["health"]["status"] == "Unknown"
    assert status["conditions"][0]["type"] == "InvalidSpecError"
    later = argocd.compute_status(status, app, control_namespace="openshift-gitops", now=LATER, invalid=[message])
    assert later["conditions"][0]["lastTransitionTime"] == NOW


def test_kubelet_kinds_stay_progressing():
    keys = [("apps", "v1", "Deployment", "kyverno", "kyverno-admission-controller"), sa("x")]
    live = {keys[0]: {"kind": "Deployment"}, keys[1]: {"kind": "ServiceAccount"}}
    assert argocd.app_health(keys, live) == "Progressing"
    assert argocd.app_health(keys, {}) == "Missing"
    assert argocd.app_health([], {}) == "Healthy"


def test_history_is_capped():
    app = application()
    status = {}
    for i in range(12):
        status = argocd.compute_status(status, app, control_namespace="openshift-gitops", now="t%d" % i,
                                       revision="3.4.1", target_keys=[], live={}, operation_state=succeeded(app))
    assert len(status["history"]) == argocd.HISTORY_LIMIT and status["history"][-1]["id"] == 11


# -- the charts --------------------------------------------------------------------------------------------
def test_charts_carry_the_real_names_and_versions():
    for name, (version, app_version) in CHARTS.items():
        with open(os.path.join(chartrepo.CHARTS_DIR, name, "Chart.yaml")) as handle:
            chart = yaml.safe_load(handle)
        assert (chart["name"], str(chart["version"]), str(chart["appVersion"])) == (name, version, app_version)
        assert "stand-in" in chart["description"]


def test_digest_follows_the_chart_content(tmp_path):
    src = tmp_path / "charts"
    (src / "a").mkdir(parents=True)
    (src / "a" / "Chart.yaml").write_text("name: a\n")
    first = chartrepo.charts_digest(str(src), "/x/helm-1/helm")
    assert first == chartrepo.charts_digest(str(src), "/x/helm-1/helm")
    assert first != chartrepo.charts_digest(str(src), "/x/helm-2/helm")
    (src / "a" / "values.yaml").write_text("a: 1\n")
    assert first != chartrepo.charts_digest(str(src), "/x/helm-1/helm")


@pytest.fixture(scope="module")
def helm():
    """The lab's pinned helm, as the lab gets it: tests/lab/build-helm.sh prints the cached binary (and builds it
    from the pinned Go module the first time)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab", "build-helm.sh")
    proc = subprocess.run([script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 0, "tests/lab/build-helm.sh failed: %s" % proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("chart,values,expected", [
    ("kyverno", {}, {"ServiceAccount": {"kyverno-admission-controller", "kyverno-background-controller",
                                        "kyverno-cleanup-controller", "kyverno-reports-controller"},
                     "ConfigMap": {"rel-values"}}),
    ("kyverno", {"backgroundController": {"enabled": False}},
     {"ServiceAccount": {"kyverno-admission-controller", "kyverno-cleanup-controller", "kyverno-reports-controller"},
      "ConfigMap": {"rel-values"}}),
    ("policy-reporter", {"ui": {"enabled": True}, "plugin": {"kyverno": {"enabled": True}}},
     {"ServiceAccount": {"rel-policy-reporter", "rel-policy-reporter-ui", "rel-policy-reporter-kyverno-plugin"},
      "ConfigMap": {"rel-values"}}),
    ("trivy-operator", {}, {"ServiceAccount": {"rel-trivy-operator"}, "ConfigMap": {"rel-values"}}),
    ("tracee", {}, {"ServiceAccount": {"rel-tracee", "tracee-operator"}, "ConfigMap": {"rel-values"},
                    "Policy": {"default-policy"}}),
    ("harbor", {"externalURL": "https://harbor.apps.lab"},
     {"ConfigMap": {"rel-harbor-core", "rel-values"}, "Secret": {"rel-harbor-core"}}),
    ("harbor", {"existingSecretAdminPassword": "harbor-admin"}, {"ConfigMap": {"rel-harbor-core", "rel-values"}}),
])
def test_charts_render_with_helm(helm, tmp_path, chart, values, expected):
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    out = subprocess.run([helm, "template", "rel", os.path.join(chartrepo.CHARTS_DIR, chart), "--namespace", "ns",
                          "--values", str(values_file)], check=True, capture_output=True, text=True,
                         env=chartrepo.helm_env(str(tmp_path / "home"))).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    found = {}
    for doc in docs:
        found.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
    assert found == expected
    rendered = [d for d in docs if d["metadata"]["name"] == "rel-values"][0]
    seen = yaml.safe_load(rendered["data"]["values.yaml"])
    for key, value in values.items():
        if key != "harborAdminPassword":
            assert seen[key] == value if not isinstance(value, dict) else all(
                seen[key][k] == v for k, v in value.items() if not isinstance(v, dict))
    assert "harborAdminPassword" not in seen or chart != "harbor"
    if chart == "harbor" and "externalURL" in values:
        core = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "rel-harbor-core"][0]
        assert core["data"]["EXT_ENDPOINT"] == "https://harbor.apps.lab"


def test_package_once_per_content(helm, tmp_path):
    out, cached = chartrepo.package(helm, str(tmp_path))
    assert not cached
    with open(os.path.join(out, "index.yaml")) as handle:
        index = chartrepo.load_index(handle.read())
    assert {name: (str(e[0]["version"]), str(e[0]["appVersion"])) for name, e in index["entries"].items()} == CHARTS
    assert all(e[0]["urls"] == ["%s-%s.tgz" % (name, e[0]["version"])] for name, e in index["entries"].items())
    assert chartrepo.package(helm, str(tmp_path)) == (out, True)
