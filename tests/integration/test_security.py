"""The production security stack on the lab: Kyverno with the 17 Pod Security Standard policies the role
owns, Policy Reporter, Trivy Operator and Tracee, delivered with helm (lab-prod, reset first so no earlier
Argo CD delivery is there) and through the cluster's Argo CD (lab-dev); Harbor with its scanners on lab-prod.
The charts are the tests' own, served by the lab's chart repository."""

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request

import pytest

POLICY = ("kyverno.io/v1", "clusterpolicies")
APPLICATION = ("argoproj.io/v1alpha1", "applications")
BASELINE = {"disallow-capabilities", "disallow-host-namespaces", "disallow-host-path", "disallow-host-ports",
            "disallow-host-process", "disallow-privileged-containers", "disallow-proc-mount", "disallow-selinux",
            "restrict-apparmor-profiles", "restrict-seccomp", "restrict-sysctls"}
RESTRICTED = {"disallow-capabilities-strict", "disallow-privilege-escalation", "require-run-as-non-root-user",
              "require-run-as-nonroot", "restrict-seccomp-strict", "restrict-volume-types"}


# Every lab-prod run delivers with helm.
HELM = {"security_delivery": "helm"}


def actions(kube):
    return {p["metadata"]["name"]: {r["validate"]["failureAction"] for r in p["spec"]["rules"]}
            for p in kube.list(*POLICY)["items"]}


def assert_restricted_v2_values(kube):
    """The charts' fixed runAsUser values were removed (null), so restricted-v2 assigns the user."""
    for release in ("kyverno", "policy-reporter"):
        values = kube.get("v1", "configmaps", "%s-values" % release, "kyverno")["data"]["values.yaml"]
        assert "runAsUser" not in values, (release, values)


@pytest.fixture(scope="module")
def helm_path(ansible, lab):
    lab.reset("lab-prod")
    run = ansible("security.yml", extra_vars=HELM)
    assert run.rc == 0, run
    return run


class TestSecurityStack:
    def test_seventeen_policies_in_audit_with_exclusions(self, helm_path, prod):
        found = actions(prod)
        assert set(found) == BASELINE | RESTRICTED
        assert all(a == {"Audit"} for a in found.values())
        policy = prod.get(*POLICY, name="disallow-host-path")
        rule = policy["spec"]["rules"][0]
        assert "openshift-*" in rule["exclude"]["any"][0]["resources"]["namespaces"]
        assert policy["spec"]["failurePolicy"] == "Ignore"
        values = prod.get("v1", "configmaps", "kyverno-values", "kyverno")["data"]
        assert "openshift-*" in "".join(values.values()), "the exclusions reached the chart's values"
        assert_restricted_v2_values(prod)
        tracee = prod.get("tracee.aquasec.com/v1beta1", "policies", "devsecops-signatures")
        assert tracee["spec"]["scope"] == ["container"]
        namespace = prod.get("v1", "namespaces", "tracee")["metadata"]["labels"]
        assert namespace["pod-security.kubernetes.io/enforce"] == "privileged"
        binding = prod.get("rbac.authorization.k8s.io/v1", "rolebindings", "tracee-privileged-scc", "tracee")
        assert binding["roleRef"]["name"] == "system:openshift:scc:privileged"

    def test_rerun_changes_nothing_and_enforce_is_one_variable(self, helm_path, ansible, prod):
        again = ansible("security.yml", extra_vars=HELM)
        assert again.rc == 0 and again.changed() == 0, again
        enforce = ansible("security.yml", extra_vars={**HELM, "kyverno_validation_failure_action": "Enforce",
                                                      "kyverno_policy_actions": {"restrict-volume-types": "Audit"},
                                                      "security_roles": ["kyverno"]})
        assert enforce.rc == 0, enforce
        found = actions(prod)
        assert found.pop("restrict-volume-types") == {"Audit"}
        assert all(a == {"Enforce"} for a in found.values())
        check = ansible("security.yml", check=True, extra_vars={**HELM, "security_roles": ["kyverno"]})
        assert check.rc == 0, check
        assert actions(prod)["disallow-host-path"] == {"Enforce"}, "check mode wrote nothing"
        back = ansible("security.yml", extra_vars={**HELM, "security_roles": ["kyverno"]})
        assert back.rc == 0 and all(a == {"Audit"} for a in actions(prod).values())

    def test_bad_input_fails_clearly(self, helm_path, ansible):
        run = ansible("security.yml", extra_vars={**HELM, "kyverno_policy_actions": {"disallow-everything": "Enforce"},
                                                  "security_roles": ["kyverno"]})
        assert run.rc != 0 and "unknown Pod Security Standard policy name(s) disallow-everything" in run.output, run
        run = ansible("security.yml", extra_vars={**HELM, "tracee_chart_version": "9.9.9", "security_roles": ["tracee"]})
        assert run.rc != 0 and "9.9.9" in run.output and "not found" in run.output, run

    def test_argocd_delivery_synced_and_healthy(self, ansible, dev):
        run = ansible("security.yml", extra_vars={"security_target": "lab-dev",
                                                  "security_roles": ["gitops", "kyverno", "trivy_operator", "tracee"]})
        assert run.rc == 0, run
        apps = {a["metadata"]["name"]: a["status"] for a in dev.list(*APPLICATION, namespace="openshift-gitops")["items"]}
        assert set(apps) >= {"kyverno", "policy-reporter", "trivy-operator", "tracee"}
        for name, status in apps.items():
            assert status["sync"]["status"] == "Synced" and status["health"]["status"] == "Healthy", name
        assert set(actions(dev)) == BASELINE | RESTRICTED
        assert_restricted_v2_values(dev)
        noop = ansible("security.yml", extra_vars={"security_target": "lab-dev",
                                                   "security_roles": ["gitops", "kyverno", "trivy_operator", "tracee"]})
        assert noop.rc == 0 and noop.changed() == 0, noop
        wrong = ansible("security.yml", extra_vars={"security_target": "lab-dev", "security_roles": ["tracee"],
                                                    "tracee_chart_version": "9.9.9"})
        assert wrong.rc != 0 and "ComparisonError" in wrong.output and "9.9.9" in wrong.output, wrong
        fixed = ansible("security.yml", extra_vars={"security_target": "lab-dev", "security_roles": ["tracee"]})
        assert fixed.rc == 0, fixed

    def test_teardown_removes_the_stack(self, ansible, dev, prod):
        for target, kube in (("lab-dev", dev), ("lab-prod", prod)):
            delivery = "helm" if target == "lab-prod" else "auto"
            run = ansible("security.yml", extra_vars={"security_target": target, "security_state": "absent",
                                                      "security_delivery": delivery})
            assert run.rc == 0, run
            assert kube.list(*POLICY)["items"] == []
            assert kube.list("tracee.aquasec.com/v1beta1", "policies")["items"] == []
            assert kube.get_or_none("v1", "namespaces", "tracee") is None
            assert kube.get_or_none("v1", "namespaces", "trivy-system") is None
            assert kube.get_or_none("v1", "namespaces", "kyverno") is None
        assert [a["metadata"]["name"] for a in dev.list(*APPLICATION, namespace="openshift-gitops")["items"]] == []


HARBOR = {**HELM, "security_target": "lab-prod", "security_roles": ["harbor"],
          "harbor_scanners": [{"name": "Clair", "url": "{{ harbor_scanner_adapter_url }}",
                               "description": "Clair adapter run outside Harbor"}],
          "harbor_projects": [{"name": "apps", "auto_scan": True, "prevent_vulnerable": True, "severity": "high"}],
          "harbor_scan_all_schedule": "Daily"}
# rotate_credentials.yml on lab-prod with Harbor among its components, delivered as by security.yml.
HARBOR_ROTATION = {**HARBOR, "harbor_delivery": "helm", "production_components": ["harbor"]}
HARBOR_RECORD = ("v1", "secrets", "lab-prod-harbor-admin", "devsecops-multicluster")


def recorded_password(hub):
    return base64.b64decode(hub.get(*HARBOR_RECORD)["data"]["password"]).decode()


@pytest.fixture(scope="module")
def harbor_api(lab, hub, prod):
    """GET a path of lab-prod's Harbor API as admin (with the password recorded on the hub, or the one given), TLS
    verified with the cluster's ingress CA; (status, body)."""
    def get(path, password=None):
        password = password or recorded_password(hub)
        ca = prod.get("v1", "configmaps", "default-ingress-cert", "openshift-config-managed")["data"]["ca-bundle.crt"]
        context = ssl.create_default_context(cadata=ca)
        request = urllib.request.Request("https://localhost:%s/api/v2.0%s" % (lab.clusters["lab-prod"]["harbor_port"], path))
        request.add_header("Authorization", "Basic " + base64.b64encode(("admin:" + password).encode()).decode())
        request.add_header("X-Is-Resource-Name", "true")
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as answer:  # noqa: S310 - loopback lab
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, None
    return get


class TestHarbor:
    def test_scanners_projects_and_schedule_converge_idempotently(self, ansible, harbor_api, lab):
        run = ansible("security.yml", extra_vars=HARBOR)
        assert run.rc == 0, run
        status, scanners = harbor_api("/scanners")
        assert status == 200
        by_name = {s["name"]: s for s in scanners}
        assert set(by_name) == {"Trivy", "Clair"}
        assert by_name["Trivy"]["is_default"] and not by_name["Clair"]["is_default"]
        assert by_name["Clair"]["url"] == "http://127.0.0.1:%d" % lab.clusters["lab-prod"]["harbor_adapter_port"]
        status, project = harbor_api("/projects/apps")
        assert status == 200
        assert project["metadata"]["auto_scan"] == "true", "scan on push"
        assert project["metadata"]["prevent_vul"] == "true" and project["metadata"]["severity"] == "high"
        status, schedule = harbor_api("/system/scanAll/schedule")
        assert status == 200 and schedule["schedule"]["type"] == "Daily"
        again = ansible("security.yml", extra_vars=HARBOR)
        assert again.rc == 0 and again.changed() == 0, again

        clair_default = dict(HARBOR, harbor_default_scanner="Clair")
        check = ansible("security.yml", check=True, extra_vars=clair_default)
        assert check.rc == 0, check
        assert {s["name"] for s in harbor_api("/scanners")[1] if s["is_default"]} == {"Trivy"}, "check mode wrote nothing"
        switch = ansible("security.yml", extra_vars=clair_default)
        assert switch.rc == 0 and switch.changed() == 1, switch
        assert {s["name"] for s in harbor_api("/scanners")[1] if s["is_default"]} == {"Clair"}
        assert ansible("security.yml", extra_vars=clair_default).changed() == 0
        back = ansible("security.yml", extra_vars=HARBOR)
        assert back.rc == 0 and {s["name"] for s in harbor_api("/scanners")[1] if s["is_default"]} == {"Trivy"}

    def test_unknown_scanner_url_fails_clearly_and_registers_nothing(self, ansible, harbor_api):
        wrong = dict(HARBOR, harbor_scanners=[{"name": "Nowhere", "url": "http://scanner.invalid:8080"}])
        run = ansible("security.yml", extra_vars=wrong)
        assert run.rc != 0, run
        assert "cluster lab-prod" in run.output and "scanner registration Nowhere" in run.output
        assert "http://scanner.invalid:8080/api/v1/metadata" in run.output, run
        assert "Nowhere" not in {s["name"] for s in harbor_api("/scanners")[1]}
        gone = dict(HARBOR, harbor_scanners=[{"name": "Clair", "url": "{{ harbor_scanner_adapter_url }}",
                                              "state": "absent"}])
        run = ansible("security.yml", extra_vars=gone)
        assert run.rc == 0, run
        assert {s["name"] for s in harbor_api("/scanners")[1]} == {"Trivy"}

    def test_rotation_changes_the_admin_password_in_harbor_the_record_and_the_chart_secret(
            self, ansible, harbor_api, hub, prod, secrets):
        converge = ansible("security.yml", extra_vars=HARBOR)
        assert converge.rc == 0, converge
        old = recorded_password(hub)
        secrets.add(old)
        check = ansible("playbooks/rotate_credentials.yml", check=True, tags="harbor", limit="lab-prod",
                        extra_vars=HARBOR_ROTATION)
        assert check.rc == 0, check
        assert recorded_password(hub) == old and harbor_api("/users/current", old)[0] == 200, "check mode wrote nothing"

        rotate = ansible("playbooks/rotate_credentials.yml", tags="harbor", limit="lab-prod", extra_vars=HARBOR_ROTATION)
        assert rotate.rc == 0, rotate
        record = hub.get(*HARBOR_RECORD)
        new = recorded_password(hub)
        secrets.add(new)
        assert new != old and len(new) == 32 and "pending" not in record["data"]
        assert any(c.isupper() for c in new) and any(c.islower() for c in new) and any(c.isdigit() for c in new)
        annotations, labels = record["metadata"]["annotations"], record["metadata"]["labels"]
        assert annotations["devsecops.multicluster/rotated"] == annotations["devsecops.multicluster/minted"]
        assert annotations["devsecops.multicluster/fingerprint"] == hashlib.sha256(new.encode()).hexdigest()[:12]
        assert labels["devsecops.multicluster/credential"] == "harbor-admin-password"
        assert labels["devsecops.multicluster/cluster"] == "lab-prod"
        status, user = harbor_api("/users/current", new)
        assert status == 200 and user["user_id"] == 1, "Harbor accepts the new password"
        assert harbor_api("/users/current", old)[0] == 401, "Harbor refuses the old password"
        chart_secret = prod.get("v1", "secrets", "harbor-admin", "harbor")
        assert base64.b64decode(chart_secret["data"]["HARBOR_ADMIN_PASSWORD"]).decode() == new
        assert {s["name"] for s in harbor_api("/scanners")[1]} == {"Trivy", "Clair"}, "converged with the new one"

        again = ansible("security.yml", extra_vars=HARBOR)
        assert again.rc == 0 and again.changed() == 0, again
        assert recorded_password(hub) == new
        for run in (check, rotate, again):
            secrets.scan(run.output, "a run of the Harbor rotation test")  # neither password, nor any other secret

    def test_teardown_removes_harbor_and_its_record(self, ansible, hub, prod):
        run = ansible("security.yml", extra_vars=dict(HARBOR, security_state="absent"))
        assert run.rc == 0, run
        assert prod.get_or_none("v1", "namespaces", "harbor") is None
        assert hub.get_or_none("v1", "secrets", "lab-prod-harbor-admin", "devsecops-multicluster") is None
        again = ansible("security.yml", extra_vars=dict(HARBOR, security_state="absent"))
        assert again.rc == 0 and again.changed() == 0, again
        fresh = ansible("security.yml", check=True, extra_vars=HARBOR)
        assert fresh.rc == 0, fresh
        assert hub.get_or_none(*HARBOR_RECORD) is None and prod.get_or_none("v1", "namespaces", "harbor") is None, \
            "check mode on a cluster without Harbor wrote nothing"
