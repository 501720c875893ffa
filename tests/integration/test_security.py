"""The production security stack on the lab: Kyverno with the 17 Pod Security Standard policies the role
owns, Policy Reporter, Trivy Operator and Tracee, delivered with helm (lab-prod) and through the cluster's
Argo CD (lab-dev); the charts are the tests' own, served by the lab's chart repository."""

import pytest

POLICY = ("kyverno.io/v1", "clusterpolicies")
APPLICATION = ("argoproj.io/v1alpha1", "applications")
BASELINE = {"disallow-capabilities", "disallow-host-namespaces", "disallow-host-path", "disallow-host-ports",
            "disallow-host-process", "disallow-privileged-containers", "disallow-proc-mount", "disallow-selinux",
            "restrict-apparmor-profiles", "restrict-seccomp", "restrict-sysctls"}
RESTRICTED = {"disallow-capabilities-strict", "disallow-privilege-escalation", "require-run-as-non-root-user",
              "require-run-as-nonroot", "restrict-seccomp-strict", "restrict-volume-types"}


def actions(kube):
    return {p["metadata"]["name"]: {r["validate"]["failureAction"] for r in p["spec"]["rules"]}
            for p in kube.list(*POLICY)["items"]}


@pytest.fixture(scope="module")
def helm_path(ansible):
    run = ansible("security.yml")
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
        tracee = prod.get("tracee.aquasec.com/v1beta1", "policies", "devsecops-signatures")
        assert tracee["spec"]["scope"] == ["container"]
        namespace = prod.get("v1", "namespaces", "tracee")["metadata"]["labels"]
        assert namespace["pod-security.kubernetes.io/enforce"] == "privileged"
        binding = prod.get("rbac.authorization.k8s.io/v1", "rolebindings", "tracee-privileged-scc", "tracee")
        assert binding["roleRef"]["name"] == "system:openshift:scc:privileged"

    def test_rerun_changes_nothing_and_enforce_is_one_variable(self, helm_path, ansible, prod):
        again = ansible("security.yml")
        assert again.rc == 0 and again.changed() == 0, again
        enforce = ansible("security.yml", extra_vars={"kyverno_validation_failure_action": "Enforce",
                                                      "kyverno_policy_actions": {"restrict-volume-types": "Audit"},
                                                      "security_roles": ["kyverno"]})
        assert enforce.rc == 0, enforce
        found = actions(prod)
        assert found.pop("restrict-volume-types") == {"Audit"}
        assert all(a == {"Enforce"} for a in found.values())
        check = ansible("security.yml", check=True, extra_vars={"security_roles": ["kyverno"]})
        assert check.rc == 0, check
        assert actions(prod)["disallow-host-path"] == {"Enforce"}, "check mode wrote nothing"
        back = ansible("security.yml", extra_vars={"security_roles": ["kyverno"]})
        assert back.rc == 0 and all(a == {"Audit"} for a in actions(prod).values())

    def test_bad_input_fails_clearly(self, helm_path, ansible):
        run = ansible("security.yml", extra_vars={"kyverno_policy_actions": {"disallow-everything": "Enforce"},
                                                  "security_roles": ["kyverno"]})
        assert run.rc != 0 and "unknown Pod Security Standard policy name(s) disallow-everything" in run.output, run
        run = ansible("security.yml", extra_vars={"tracee_chart_version": "9.9.9", "security_roles": ["tracee"]})
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
        wrong = ansible("security.yml", extra_vars={"security_target": "lab-dev", "security_roles": ["tracee"],
                                                    "tracee_chart_version": "9.9.9"})
        assert wrong.rc != 0 and "ComparisonError" in wrong.output and "9.9.9" in wrong.output, wrong
        again = ansible("security.yml", extra_vars={"security_target": "lab-dev",
                                                    "security_roles": ["gitops", "kyverno", "trivy_operator", "tracee"]})
        assert again.rc == 0, again
        noop = ansible("security.yml", extra_vars={"security_target": "lab-dev",
                                                   "security_roles": ["gitops", "kyverno", "trivy_operator", "tracee"]})
        assert noop.rc == 0 and noop.changed() == 0, noop

    def test_teardown_removes_the_stack(self, ansible, dev, prod):
        for target, kube in (("lab-dev", dev), ("lab-prod", prod)):
            run = ansible("security.yml", extra_vars={"security_target": target, "security_state": "absent"})
            assert run.rc == 0, run
            assert kube.list(*POLICY)["items"] == []
            assert kube.list("tracee.aquasec.com/v1beta1", "policies")["items"] == []
            assert kube.get_or_none("v1", "namespaces", "tracee") is None
        assert [a["metadata"]["name"] for a in dev.list(*APPLICATION, namespace="openshift-gitops")["items"]] == []
