"""Quay on the lab: the registry on the hub bootstrapped through its API, the Quay Bridge on development
connected with a token minted by the collection, pull secrets from a robot per spoke, rotation, bad input
and the spokes' teardown.

Quay, its operator and the Quay Bridge operator are the lab's stand-ins (tests/lab/standins/quay.py): Quay's
API over HTTPS with a certificate of the hub's ingress CA, and a bridge that reaches Quay with the token it
finds and creates the organizations of the namespaces it manages."""

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest

RECORDS = "devsecops-multicluster"
REGISTRY = ("quay.redhat.com/v1", "quayregistries")
INTEGRATION = ("quay.redhat.com/v1", "quayintegrations")
PULL_NAMESPACES = {"lab-dev": ["devsecops-ci", "devsecops-dev"], "lab-prod": ["devsecops-prod"]}


def decode(secret):
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


class QuayAPI:
    """The test's own view of the lab's Quay: TLS verified with the hub's ingress CA, the recorded admin token."""

    def __init__(self, hub):
        registry = hub.get(*REGISTRY, name="registry", namespace="quay-enterprise")
        self.endpoint = registry["status"]["registryEndpoint"]
        self.host = self.endpoint.split("://", 1)[1]
        ca = hub.get("v1", "configmaps", "default-ingress-cert", "openshift-config-managed")["data"]["ca-bundle.crt"]
        self.context = ssl.create_default_context(cadata=ca)
        self.token = decode(hub.get("v1", "secrets", "quay-automation", RECORDS))["token"]

    def call(self, method, path, body=None, auth=None):
        request = urllib.request.Request(self.endpoint + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": auth or "Bearer " + self.token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, {}

    def exists(self, path):
        return self.call("GET", path)[0] == 200

    def app_tokens(self):
        _status, apps = self.call("GET", "/api/v1/organization/devsecops/applications")
        client = next(a["client_id"] for a in apps["applications"] if a["name"] == "quay-bridge")
        return {t["uuid"]: t for t in self.call("GET", "/api/v1/organization/devsecops/applications/%s/tokens"
                                                % client)[1]["tokens"]}

    def pull(self, dockerconfig, repository="devel/example", action="pull"):
        """Whether Quay's registry lets these docker credentials pull (or push): 401 for unknown credentials,
        else 200 when the registry token it hands out grants the action on the repository, 403 when not."""
        auth = json.loads(dockerconfig)["auths"][self.host]["auth"]
        status, answer = self.call("GET", "/v2/auth?service=%s&scope=repository:%s:%s" % (self.host, repository, action),
                                   auth="Basic " + auth)
        if status != 200:
            return status
        payload = answer["token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        granted = [a for a in claims.get("access", []) if a.get("name") == repository and action in a.get("actions", [])]
        return 200 if granted else 403


def remember(hub, dev, prod, secrets):
    """Every Quay credential minted so far: the admin's password and token, bridge tokens, robot tokens."""
    for record in hub.list("v1", "secrets", namespace=RECORDS)["items"]:
        name = record["metadata"]["name"]
        if name == "quay-admin" or "-quay-" in name:
            for key, value in decode(record).items():
                if key in ("token", "password"):
                    secrets.add(value)
                elif key == ".dockerconfigjson":
                    for entry in json.loads(value)["auths"].values():
                        secrets.add(entry["auth"], entry["password"])


def quay_snapshot(hub, dev, prod):
    state = {}
    for kube in (hub, dev, prod):
        for api, plural in (("v1", "secrets"), ("v1", "serviceaccounts"), REGISTRY, INTEGRATION,
                            ("v1", "configmaps")):
            for obj in kube.list(api, plural)["items"]:
                meta = obj["metadata"]
                if meta.get("namespace") in ("quay-enterprise", "openshift-operators", "devsecops-ci", "devsecops-dev",
                                             "devsecops-prod", None) or "quay" in meta["name"]:
                    state[(kube.name, plural, meta.get("namespace"), meta["name"])] = meta["resourceVersion"]
    return state


@pytest.fixture(scope="module")
def converged(ansible, hub, dev, prod, secrets):
    run = ansible("quay.yml")
    assert run.rc == 0, run
    remember(hub, dev, prod, secrets)
    secrets.scan(run.output, "quay.yml first converge")
    return run


@pytest.fixture(scope="module")
def quay(converged, hub):
    return QuayAPI(hub)


class TestQuay:
    def test_quay_bridge_and_pull_secrets_converge(self, converged, quay, hub, dev, prod):
        registry = hub.get(*REGISTRY, name="registry", namespace="quay-enterprise")
        conditions = {c["type"]: c["status"] for c in registry["status"]["conditions"]}
        assert conditions["Available"] == "True"
        assert registry["spec"]["configBundleSecret"] == "quay-config-bundle"
        assert {"kind": "objectstorage", "managed": True} in registry["spec"]["components"]
        claim = hub.get("objectbucket.io/v1alpha1", "objectbucketclaims", "registry-quay-datastore", "quay-enterprise")
        assert claim["status"]["phase"] == "Bound", "the Quay operator's own claim, bound by ODF"

        admin = hub.get("v1", "secrets", "quay-admin", RECORDS)
        assert admin["metadata"]["annotations"]["devsecops.multicluster/mechanism"] == "initialize"
        automation = hub.get("v1", "secrets", "quay-automation", RECORDS)["metadata"]["annotations"]
        assert automation["devsecops.multicluster/id"] and automation["devsecops.multicluster/expires"] > "2027"
        assert quay.call("GET", "/api/v1/user/")[1]["username"] == "quayadmin"
        assert quay.exists("/api/v1/repository/devel/example")

        bridge = decode(hub.get("v1", "secrets", "lab-dev-quay-bridge", RECORDS))
        assert decode(dev.get("v1", "secrets", "quay-integration", "openshift-operators"))["token"] == bridge["token"]
        integration = dev.get(*INTEGRATION, name="quay")
        assert integration["spec"]["quayHostname"] == quay.endpoint
        assert integration["spec"]["insecureRegistry"] is False, "TLS verified with the hub's CA"
        assert quay.exists("/api/v1/organization/lab-dev_devsecops-ci"), "the bridge reached Quay with its token"
        assert dev.list(*INTEGRATION)["items"] and not prod.list(*INTEGRATION)["items"]

        for spoke, kube in (("lab-dev", dev), ("lab-prod", prod)):
            record = hub.get("v1", "secrets", "%s-quay-pull" % spoke, RECORDS)
            assert record["type"] == "kubernetes.io/dockerconfigjson"
            for namespace in PULL_NAMESPACES[spoke]:
                copy = kube.get("v1", "secrets", "quay-pull-secret", namespace)
                assert copy["type"] == "kubernetes.io/dockerconfigjson" and copy["data"] == record["data"]
                account = kube.get("v1", "serviceaccounts", "default", namespace)
                assert {"name": "quay-pull-secret"} in account.get("imagePullSecrets", [])
            config = decode(record)[".dockerconfigjson"]
            assert quay.pull(config) == 200, "the robot may pull"
            assert quay.pull(config, "devsecops/other") == 403
        assert decode(hub.get("v1", "secrets", "lab-dev-quay-pull", RECORDS)) != \
            decode(hub.get("v1", "secrets", "lab-prod-quay-pull", RECORDS)), "one robot per spoke"

    def test_check_mode_rotation_writes_nothing(self, converged, ansible, hub, dev, prod):
        # (the no-op re-run of the whole site, Quay included, is test_hub.py's test_second_run_changes_nothing)
        before = quay_snapshot(hub, dev, prod)
        run = ansible("quay.yml", check=True, extra_vars={"quay_bridge_rotate": True, "quay_pull_secrets_rotate": True})
        assert run.rc == 0 and run.changed("lab-dev") >= 2 and run.changed("lab-prod") >= 1, run
        assert quay_snapshot(hub, dev, prod) == before

    def test_rotation_replaces_the_bridge_token_and_robot_credentials(self, converged, quay, ansible, hub, dev, prod,
                                                                      secrets):
        old_bridge = hub.get("v1", "secrets", "lab-dev-quay-bridge", RECORDS)
        old_id = old_bridge["metadata"]["annotations"]["devsecops.multicluster/id"]
        old_pull = {s: decode(hub.get("v1", "secrets", "%s-quay-pull" % s, RECORDS))[".dockerconfigjson"]
                    for s in PULL_NAMESPACES}
        run = ansible("quay.yml", extra_vars={"quay_bridge_rotate": True, "quay_pull_secrets_rotate": True})
        assert run.rc == 0, run
        remember(hub, dev, prod, secrets)
        secrets.scan(run.output, "quay.yml rotation")
        new_bridge = hub.get("v1", "secrets", "lab-dev-quay-bridge", RECORDS)
        new_id = new_bridge["metadata"]["annotations"]["devsecops.multicluster/id"]
        tokens = quay.app_tokens()
        assert new_id != old_id and new_id in tokens and old_id not in tokens, "old token revoked at Quay"
        assert decode(dev.get("v1", "secrets", "quay-integration", "openshift-operators"))["token"] == \
            decode(new_bridge)["token"]
        for spoke, kube in (("lab-dev", dev), ("lab-prod", prod)):
            config = decode(hub.get("v1", "secrets", "%s-quay-pull" % spoke, RECORDS))[".dockerconfigjson"]
            assert config != old_pull[spoke]
            assert quay.pull(old_pull[spoke]) == 401 and quay.pull(config) == 200
            for namespace in PULL_NAMESPACES[spoke]:
                assert decode(kube.get("v1", "secrets", "quay-pull-secret", namespace))[".dockerconfigjson"] == config

    def test_bad_input_fails_clearly(self, converged, quay, ansible, hub):
        hub_only = {"quay_hub_roles": ["quay"]}
        run = ansible("quay.yml", limit="lab-hub", extra_vars=dict(hub_only, quay_endpoint="https://localhost:1",
                                                                   quay_wait_timeout=5))
        assert run.rc != 0
        assert "cluster lab-hub: QuayRegistry quay-enterprise/registry is not ready after 5s: Quay " \
               "https://localhost:1: GET /health/instance" in run.output, run

        run = ansible("quay.yml", limit="lab-hub", extra_vars=dict(
            hub_only, quay_organizations=[{"name": "Bad Org!", "repositories": [{"name": "x"}]}]))
        assert run.rc != 0
        assert "organization Bad Org!: Quay refused to create it" in run.output, run
        assert not quay.exists("/api/v1/organization/" + urllib.parse.quote("Bad Org!"))

        # Initialization turned off and the records lost, no credentials given: refused, nothing minted.
        kept = {name: hub.get("v1", "secrets", name, RECORDS) for name in ("quay-admin", "quay-automation")}
        for name in kept:
            hub.delete("v1", "secrets", name, RECORDS)
        try:
            run = ansible("quay.yml", limit="lab-hub",
                          extra_vars=dict(hub_only, quay_config={"FEATURE_USER_INITIALIZE": False},
                                          quay_secure_logging=False))
            assert run.rc != 0
            assert "user initialization is disabled (FEATURE_USER_INITIALIZE is not true" in run.output, run
        finally:
            for name, secret in kept.items():
                if hub.get_or_none("v1", "secrets", name, RECORDS) is not None:
                    hub.delete("v1", "secrets", name, RECORDS)
                secret["metadata"] = {k: secret["metadata"][k] for k in ("name", "namespace", "labels", "annotations")}
                hub.create("v1", "secrets", secret, RECORDS)
        run = ansible("quay.yml", limit="lab-hub", extra_vars=hub_only)
        assert run.rc == 0, run

    def test_spoke_teardown_revokes_at_quay_and_removes_the_copies(self, converged, quay, ansible, hub, dev, prod):
        bridge_id = hub.get("v1", "secrets", "lab-dev-quay-bridge", RECORDS)["metadata"]["annotations"][
            "devsecops.multicluster/id"]
        config = decode(hub.get("v1", "secrets", "lab-prod-quay-pull", RECORDS))[".dockerconfigjson"]
        run = ansible("quay.yml", limit="lab-dev,lab-prod", extra_vars={"quay_part_state": "absent"})
        assert run.rc == 0, run
        assert bridge_id not in quay.app_tokens()
        assert quay.pull(config) == 401, "the robot is gone"
        assert not quay.exists("/api/v1/organization/lab-dev_devsecops-ci")
        assert not dev.list(*INTEGRATION)["items"]
        managed = dev.get("v1", "namespaces", "devsecops-ci")
        assert "quay.redhat.com/quayintegrations" not in managed["metadata"].get("finalizers", []), \
            "a namespace the bridge managed can still be deleted"
        assert dev.get_or_none("v1", "secrets", "quay-integration", "openshift-operators") is None
        for spoke, kube in (("lab-dev", dev), ("lab-prod", prod)):
            assert hub.get_or_none("v1", "secrets", "%s-quay-pull" % spoke, RECORDS) is None
            for namespace in PULL_NAMESPACES[spoke]:
                assert kube.get_or_none("v1", "secrets", "quay-pull-secret", namespace) is None
                account = kube.get("v1", "serviceaccounts", "default", namespace)
                assert {"name": "quay-pull-secret"} not in account.get("imagePullSecrets", [])
        assert hub.get_or_none("v1", "secrets", "lab-dev-quay-bridge", RECORDS) is None
        assert quay.exists("/api/v1/organization/devel"), "the hub's Quay itself stays"
