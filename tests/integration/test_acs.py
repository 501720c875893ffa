"""ACS on the lab: Central on the hub, one registration per secured cluster, API tokens, rotation,
revocation behind the collection's back, bad input, and the secured-cluster teardown.

Central and the secured clusters are the lab's stand-ins (tests/lab/standins/acs.py): Central's REST API
over HTTPS with its own CA, and a sensor that connects with the material it finds on its cluster."""

import base64
import json
import ssl
import urllib.request

import pytest

RECORDS = "devsecops-multicluster"
CENTRAL = ("platform.stackrox.io/v1alpha1", "centrals")
SECURED = ("platform.stackrox.io/v1alpha1", "securedclusters")
SPOKES = ("lab-dev", "lab-prod")


def decode(secret):
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


class CentralAPI:
    """The test's own view of the lab's Central: TLS verified with the CA from the hub, admin password."""

    def __init__(self, lab, hub):
        self.endpoint = "localhost:%s" % lab.clusters["lab-hub"]["central_port"]
        self.ca = decode(hub.get("v1", "secrets", "central-tls", "stackrox"))["ca.pem"]
        self.password = decode(hub.get("v1", "secrets", "central-htpasswd", "stackrox"))["password"]
        self.context = ssl.create_default_context(cadata=self.ca)

    def call(self, method, path, body=None):
        auth = base64.b64encode(("admin:" + self.password).encode()).decode()
        request = urllib.request.Request("https://%s%s" % (self.endpoint, path), method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": "Basic " + auth,
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self.context, timeout=10) as answer:
            return json.loads(answer.read() or b"{}")

    def clusters(self):
        return {c["name"]: c for c in self.call("GET", "/v1/clusters")["clusters"]}

    def crs(self):
        return {m["id"]: m for m in self.call("GET", "/v1/cluster-init/crs")["items"]}

    def tokens(self):
        return {t["id"]: t for t in self.call("GET", "/v1/apitokens?revoked=false")["tokens"]}


def _lines(value):
    return [line.strip() for line in value.splitlines() if len(line.strip()) >= 16 and "-----" not in line]


def remember(hub, secrets):
    """Every value minted so far: tokens, the material's keys and certificates (not Central's public CA), the
    admin password."""
    for record in hub.list("v1", "secrets", namespace=RECORDS)["items"]:
        for key, value in decode(record).items():
            if key == "token":
                secrets.add(value)
            elif key == "material.yaml":
                for minted in _material_values(value):
                    # whole certificates, but lines only of keys: a certificate's issuer line equals the CA's
                    secrets.add(minted, *(_lines(minted) if "PRIVATE KEY" in minted else []))
    secrets.add(decode(hub.get("v1", "secrets", "central-htpasswd", "stackrox"))["password"])


def _material_values(text):
    """The private keys and client certificates in init bundle or CRS Secrets (CA certificates are public)."""
    import yaml
    values = []
    for doc in yaml.safe_load_all(text):
        data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
        data.update(doc.get("stringData") or {})
        for key, plain in data.items():
            if key == "crs":
                inner = json.loads(base64.b64decode(plain).decode())
                values += [plain, inner["cert"], inner["key"]]
            elif key.endswith(("-key.pem", "-cert.pem")):
                values.append(plain)
    return values


def registration_id(hub, spoke):
    record = hub.get("v1", "secrets", "%s-acs-registration" % spoke, RECORDS)
    return record["metadata"]["annotations"]["devsecops.multicluster/id"]


def token_id(hub, name):
    return hub.get("v1", "secrets", name, RECORDS)["metadata"]["annotations"]["devsecops.multicluster/id"]


def acs_snapshot(hub, *spokes):
    state = {}
    for kube in (hub,) + spokes:
        for api, plural in (("v1", "secrets"), CENTRAL, SECURED):
            for obj in kube.list(api, plural)["items"]:
                meta = obj["metadata"]
                # ACS's objects: the stackrox namespaces and the hub's ACS records (the spokes' other
                # credentials' token Secrets are filled in by their token controller, not by a run)
                if meta.get("namespace") == "stackrox" or (meta.get("namespace") == RECORDS and "-acs-" in meta["name"]):
                    state[(kube.name, plural, meta["namespace"], meta["name"])] = meta["resourceVersion"]
    return state


@pytest.fixture(scope="module")
def converged(ansible, lab, hub, secrets):
    run = ansible("playbooks/site.yml")
    assert run.rc == 0, run
    remember(hub, secrets)
    secrets.scan(run.output, "site.yml with ACS")
    return run


@pytest.fixture(scope="module")
def central(converged, lab, hub):
    return CentralAPI(lab, hub)


class TestAcs:
    def test_central_and_one_registration_per_secured_cluster(self, converged, central, hub, dev, prod):
        status = {c["type"]: c["status"] for c in hub.get(*CENTRAL, name="stackrox-central-services",
                                                          namespace="stackrox")["status"]["conditions"]}
        assert status["Deployed"] == "True"
        automation = hub.get("v1", "secrets", "lab-hub-acs-automation", RECORDS)
        assert central.tokens()[token_id(hub, "lab-hub-acs-automation")]["roles"] == ["Admin"]
        assert automation["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "devsecops.multicluster"

        clusters = central.clusters()
        ids = set()
        for spoke, kube in (("lab-dev", dev), ("lab-prod", prod)):
            material = registration_id(hub, spoke)
            ids.add(material)
            name = central.crs()[material]["name"]
            assert name == spoke or name.startswith(spoke + "-"), "material named after its cluster"
            copy = kube.get("v1", "secrets", "cluster-registration-secret", "stackrox")
            assert copy["metadata"]["annotations"]["devsecops.multicluster/id"] == material
            assert clusters[spoke]["healthStatus"]["overallHealthStatus"] == "HEALTHY"
            assert clusters[spoke]["initBundleId"] == material
            secured = kube.get(*SECURED, name="stackrox-secured-cluster-services", namespace="stackrox")
            assert secured["spec"]["clusterName"] == spoke
            assert secured["spec"]["centralEndpoint"] == central.endpoint
        assert len(ids) == 2, "every spoke has its own material"

        ci = decode(dev.get("v1", "secrets", "acs-api-token", "stackrox"))
        assert ci["endpoint"] == central.endpoint and "BEGIN CERTIFICATE" in ci["ca.pem"]
        assert central.tokens()[token_id(hub, "lab-dev-acs-ci")]["roles"] == ["Continuous Integration"]
        assert prod.get_or_none("v1", "secrets", "acs-api-token", "stackrox") is None

    def test_check_mode_rotation_writes_nothing(self, converged, ansible, hub, dev, prod, central):
        before, crs, tokens = acs_snapshot(hub, dev, prod), central.crs(), central.tokens()
        run = ansible("playbooks/rotate_credentials.yml", check=True)
        assert run.rc == 0, run
        assert run.changed() >= 3, run
        assert acs_snapshot(hub, dev, prod) == before
        assert central.crs() == crs and set(central.tokens()) == set(tokens)

    def test_rotation_replaces_every_acs_credential_and_revokes_the_old(self, converged, ansible, hub, dev, central,
                                                                        secrets):
        old = {spoke: registration_id(hub, spoke) for spoke in SPOKES}
        old_names = {spoke: central.crs()[old[spoke]]["name"] for spoke in SPOKES}
        old_tokens = {name: token_id(hub, name) for name in ("lab-hub-acs-automation", "lab-dev-acs-ci")}
        run = ansible("playbooks/rotate_credentials.yml")
        assert run.rc == 0, run
        remember(hub, secrets)
        secrets.scan(run.output, "rotate_credentials.yml")
        crs, clusters, tokens = central.crs(), central.clusters(), central.tokens()
        for spoke in SPOKES:
            new = registration_id(hub, spoke)
            assert new != old[spoke] and new in crs and old[spoke] not in crs
            # the old name is still taken while the new material is applied: rotation alternates names
            assert crs[new]["name"] != old_names[spoke]
            assert crs[new]["name"] in (spoke, ) or crs[new]["name"].startswith(spoke + "-")
            assert clusters[spoke]["healthStatus"]["overallHealthStatus"] == "HEALTHY"
            assert clusters[spoke]["initBundleId"] == new
        for name, previous in old_tokens.items():
            assert token_id(hub, name) != previous and previous not in tokens
        ci = decode(dev.get("v1", "secrets", "acs-api-token", "stackrox"))["token"]
        assert ci == decode(hub.get("v1", "secrets", "lab-dev-acs-ci", RECORDS))["token"]

    def test_material_revoked_behind_the_collections_back_is_replaced(self, converged, ansible, hub, central):
        victim = registration_id(hub, "lab-prod")
        central.call("PATCH", "/v1/cluster-init/crs/revoke", {"ids": [victim]})
        run = ansible("secured_cluster.yml", limit="lab-prod")
        assert run.rc == 0, run
        fresh = registration_id(hub, "lab-prod")
        assert fresh != victim and fresh in central.crs()
        assert central.clusters()["lab-prod"]["initBundleId"] == fresh

    def test_lost_record_is_reported_not_silently_reminted(self, converged, ansible, hub, central, lab):
        record = hub.get("v1", "secrets", "lab-prod-acs-registration", RECORDS)
        saved = {k: record[k] for k in ("metadata", "data", "type")}
        hub.delete("v1", "secrets", "lab-prod-acs-registration", RECORDS)
        try:
            crs = central.crs()
            run = ansible("secured_cluster.yml", limit="lab-prod")
            assert run.rc != 0
            assert "Central already has crs lab-prod" in run.output and "Rotate" in run.output, run
            assert central.crs() == crs
        finally:
            body = {"apiVersion": "v1", "kind": "Secret", "type": saved["type"], "data": saved["data"],
                    "metadata": {k: saved["metadata"][k] for k in ("name", "namespace", "labels", "annotations")}}
            hub.create("v1", "secrets", body, namespace=RECORDS)

    def test_a_name_central_rejects_fails_before_minting(self, converged, ansible, central):
        crs = central.crs()
        run = ansible("secured_cluster.yml", limit="lab-dev", extra_vars={"acs_secured_cluster_name": "dev east!"})
        assert run.rc != 0
        assert "'dev east!' is not a valid init bundle / CRS name" in run.output, run
        assert central.crs() == crs


class TestAcsBadInput:
    def test_wrong_password(self, converged, ansible, central, hub):
        run = ansible("acs_call.yml", extra_vars={"call": "token", "central": {
            "endpoint": central.endpoint, "ca": central.ca, "password": "not-the-password"}})
        assert run.rc != 0
        assert "cluster lab-hub: Central https://%s: authentication failed: the password given was refused " \
               "(HTTP 401)" % central.endpoint in run.output, run
        assert hub.get_or_none("v1", "secrets", "test-acs-probe", RECORDS) is None

    def test_unreachable_central(self, converged, ansible):
        run = ansible("acs_call.yml", extra_vars={"call": "clusters", "central": {
            "endpoint": "localhost:1", "password": "x" * 12, "retries": 1}})
        assert run.rc != 0
        assert "Central https://localhost:1: GET /v1/auth/status: unreachable" in run.output, run

    def test_central_ca_mismatch(self, converged, ansible, lab, central):
        with open(lab.ca_file) as handle:
            wrong_ca = handle.read()
        run = ansible("acs_call.yml", extra_vars={"call": "clusters", "central": {
            "endpoint": central.endpoint, "ca": wrong_ca, "password": central.password}})
        assert run.rc != 0
        assert "TLS verification failed" in run.output and central.endpoint in run.output, run

    def test_5xx_is_retried_and_then_reported(self, converged, ansible, hub, central):
        faults = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "devsecops-lab-central-faults", "namespace": "stackrox"},
                  "data": {"status": "503", "count": "2"}}
        hub.create("v1", "configmaps", faults, namespace="stackrox")
        try:
            run = ansible("acs_call.yml", extra_vars={"call": "clusters", "central": {
                "endpoint": central.endpoint, "ca": central.ca, "password": central.password}})
            assert run.rc == 0, run
            hub.merge_patch("v1", "configmaps", "devsecops-lab-central-faults", {"data": {"count": "-1"}},
                            namespace="stackrox")
            run = ansible("acs_call.yml", extra_vars={"call": "clusters", "central": {
                "endpoint": central.endpoint, "ca": central.ca, "password": central.password, "retries": 1}})
            assert run.rc != 0
            assert "HTTP 503" in run.output and central.endpoint in run.output, run
        finally:
            hub.delete("v1", "configmaps", "devsecops-lab-central-faults", namespace="stackrox")


def test_secured_cluster_teardown_revokes_at_central_and_reconverges(converged, ansible, hub, prod, central):
    material = registration_id(hub, "lab-prod")
    run = ansible("secured_cluster.yml", limit="lab-prod", extra_vars={"secured_state": "absent"})
    assert run.rc == 0, run
    assert material not in central.crs()
    assert "lab-prod" not in central.clusters()
    assert hub.get_or_none("v1", "secrets", "lab-prod-acs-registration", RECORDS) is None
    assert prod.get_or_none("v1", "secrets", "cluster-registration-secret", "stackrox") is None
    assert prod.list(*SECURED)["items"] == []
    again = ansible("secured_cluster.yml", limit="lab-prod")
    assert again.rc == 0, again
    assert central.clusters()["lab-prod"]["healthStatus"]["overallHealthStatus"] == "HEALTHY"
