"""Unit tests for module_utils/credentials.py and secret_copy.py."""

import base64
import json

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    ANNOTATION,
    CredentialMinter,
    CredentialSpec,
    fingerprint,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.secret_copy import SecretSync, render, summary
from fakes import FakeCluster


class FakeTarget(FakeCluster):
    """A target cluster that issues tokens and answers TokenReviews like an apiserver."""

    server = "https://dev.example:6443"

    def __init__(self):
        super().__init__(name="dev")
        self.valid = {}
        self.issued = 0
        self.client = type("C", (), {"configuration": type("Cfg", (), {"ssl_ca_cert": None})()})()

    def create_subresource(self, api_version, kind, name, subresource, body, namespace=None):
        self.issued += 1
        token = "token-%d-%s" % (self.issued, "x" * 20)
        anchor = body["spec"]["boundObjectRef"]["name"]
        self.valid[token] = ("system:serviceaccount:%s:%s" % (namespace, name), anchor)
        return {"status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}}

    def create(self, api_version, kind, body, namespace=None):
        if kind == "TokenReview":
            entry = self.valid.get(body["spec"]["token"])
            if entry and self.find("Secret", entry[1], "devsecops-multicluster") is not None:
                return {"status": {"authenticated": True, "user": {"username": entry[0]}}}
            return {"status": {"authenticated": False}}
        body = dict(body, metadata=dict(body["metadata"], uid="uid-%s" % body["metadata"]["name"]))
        return super().create(api_version, kind, body, namespace)


def spec(**kw):
    params = dict(purpose="argocd", cluster_role="cluster-admin", rules=None, token_type="bound", duration=3600)
    params.update(kw)
    return CredentialSpec(params, "dev")


def token_of(hub):
    record = hub.find("Secret", "dev-argocd", "devsecops-multicluster")
    return base64.b64decode(record["data"]["token"]).decode()


def test_spec_validation():
    with pytest.raises(ValueError, match="exactly one of cluster_role"):
        spec(rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    with pytest.raises(ValueError, match="at least 600"):
        spec(duration=60)
    assert spec().renew_before == 1200 and spec().record_name == "dev-argocd"


def test_mint_records_and_reuses_then_remints_when_revoked():
    hub, target = FakeCluster(), FakeTarget()
    first = CredentialMinter(hub, target, spec())
    result = first.present()
    assert result["reused"] is False and result["reason"] == "no credential is recorded"
    assert target.find("ServiceAccount", "devsecops-multicluster-argocd", "devsecops-multicluster")
    binding = target.find("ClusterRoleBinding", "devsecops-multicluster-argocd")
    assert binding["roleRef"]["name"] == "cluster-admin"
    record = hub.find("Secret", "dev-argocd", "devsecops-multicluster")
    assert base64.b64decode(record["data"]["server"]).decode() == target.server
    assert record["metadata"]["annotations"][ANNOTATION + "fingerprint"] == fingerprint(token_of(hub))
    assert token_of(hub) in first.secret_values

    again = CredentialMinter(hub, target, spec())
    assert again.present()["reused"] is True and not again.changed

    holder = record["metadata"]["annotations"][ANNOTATION + "holder"]
    target.delete("v1", "Secret", holder, "devsecops-multicluster")  # revoked behind our back
    old = token_of(hub)
    healed = CredentialMinter(hub, target, spec())
    result = healed.present()
    assert result["reason"].startswith("the target no longer accepts the token")
    assert token_of(hub) != old


def test_rotation_revokes_the_previous_holder_and_check_mode_writes_nothing():
    hub, target = FakeCluster(), FakeTarget()
    CredentialMinter(hub, target, spec()).present()
    holder = hub.find("Secret", "dev-argocd", "devsecops-multicluster")["metadata"]["annotations"][ANNOTATION + "holder"]
    hub.writes.clear()
    target.writes.clear()
    dry = CredentialMinter(hub, target, spec(), check_mode=True)
    dry.present(rotate=True)
    assert dry.changed and hub.writes == [] and target.writes == []
    CredentialMinter(hub, target, spec()).present(rotate=True)
    assert target.find("Secret", holder, "devsecops-multicluster") is None


def test_server_change_and_type_change_remint():
    hub, target = FakeCluster(), FakeTarget()
    CredentialMinter(hub, target, spec()).present()
    moved = CredentialMinter(hub, target, spec(server="https://dev-internal:6443")).present()
    assert moved["reason"].startswith("the record points at https://dev.example:6443")


def test_absent_revokes_and_removes_everything():
    hub, target = FakeCluster(), FakeTarget()
    CredentialMinter(hub, target, spec()).present()
    gone = CredentialMinter(hub, target, spec())
    gone.absent()
    assert hub.find("Secret", "dev-argocd", "devsecops-multicluster") is None
    assert target.find("ServiceAccount", "devsecops-multicluster-argocd", "devsecops-multicluster") is None
    assert target.find("ClusterRoleBinding", "devsecops-multicluster-argocd") is None
    again = CredentialMinter(hub, target, spec())
    again.absent()
    assert not again.changed


def test_own_rules_make_a_cluster_role_that_is_kept_in_line():
    hub, target = FakeCluster(), FakeTarget()
    rules = [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]
    CredentialMinter(hub, target, spec(cluster_role=None, rules=rules)).present()
    assert target.find("ClusterRole", "devsecops-multicluster-argocd")["rules"] == rules
    wider = [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}]
    minter = CredentialMinter(hub, target, spec(cluster_role=None, rules=wider))
    minter.present()
    assert "update ClusterRole devsecops-multicluster-argocd on dev" in minter.actions


def test_render_formats():
    source = {"server": "https://dev:6443", "token": "tok-123456", "ca.crt": "PEM", "cluster": "dev"}
    argo = render(source, "argocd-cluster")
    assert argo["name"] == "dev" and json.loads(argo["config"]) == {
        "bearerToken": "tok-123456", "tlsClientConfig": {"insecure": False, "caData": base64.b64encode(b"PEM").decode()}}
    kubeconfig = json.loads(render(source, "kubeconfig", name="dev")["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["token"] == "tok-123456"
    assert render(source, "copy", keys={"t": "token"}) == {"t": "tok-123456"}
    with pytest.raises(ValueError, match="no key\\(s\\) nope"):
        render(source, "copy", keys={"x": "nope"})
    with pytest.raises(ValueError, match="needs the keys server and token"):
        render({"server": "s"}, "argocd-cluster")
    assert summary({"token": "tok-123456"})["token"].startswith("sha256:")


def _secret(name, ns, data, stype="Opaque"):
    return {"apiVersion": "v1", "kind": "Secret", "type": stype, "metadata": {"name": name, "namespace": ns},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_secret_sync_copies_idempotently_and_hides_values():
    hub, spoke = FakeCluster(), FakeCluster(name="dev")
    hub.add(_secret("pull", "src", {".dockerconfigjson": '{"auths": {"q": {"auth": "c2VjcmV0"}}}'},
                    "kubernetes.io/dockerconfigjson"))
    params = dict(source_name="pull", source_namespace="src", name=None, namespace="ci", format="copy")
    sync = SecretSync(hub, spoke, params)
    sync.present()
    copied = spoke.find("Secret", "pull", "ci")
    assert copied["type"] == "kubernetes.io/dockerconfigjson"
    assert sync.after["data"][".dockerconfigjson"].startswith("sha256:")
    assert '{"auths": {"q": {"auth": "c2VjcmV0"}}}' in sync.secret_values
    again = SecretSync(hub, spoke, params)
    again.present()
    assert not again.changed
    hub.objects[("Secret", "src", "pull")]["data"][".dockerconfigjson"] = base64.b64encode(b"{}").decode()
    changed = SecretSync(hub, spoke, params)
    changed.present()
    assert changed.changed and changed.before["data"] != changed.after["data"]


def test_secret_sync_errors_and_absent():
    hub = FakeCluster()
    with pytest.raises(ClusterError, match="source Secret src/missing does not exist"):
        SecretSync(hub, hub, dict(source_name="missing", source_namespace="src")).present()
    hub.add(_secret("a", "src", {"k": "value-1234"}))
    hub.add(_secret("a", "dst", {"k": "value-1234"}, "kubernetes.io/basic-auth"))
    with pytest.raises(ClusterError, match="cannot change a Secret's type"):
        SecretSync(hub, hub, dict(source_name="a", source_namespace="src", namespace="dst", type="Opaque")).present()
    gone = SecretSync(hub, hub, dict(source_name="a", source_namespace="src", namespace="dst"))
    gone.absent()
    assert gone.changed and hub.find("Secret", "a", "dst") is None


def test_token_inside_its_renewal_window_is_reminted():
    hub, target = FakeCluster(), FakeTarget()
    CredentialMinter(hub, target, spec()).present()
    record = hub.objects[("Secret", "devsecops-multicluster", "dev-argocd")]
    record["metadata"]["annotations"][ANNOTATION + "expires"] = "2000-01-01T00:00:00Z"
    result = CredentialMinter(hub, target, spec()).present()
    assert result["reason"] == "the token expires at 2000-01-01T00:00:00Z (renewal window 1200s)"
    assert hub.objects[("Secret", "devsecops-multicluster", "dev-argocd")]["metadata"]["annotations"][
        ANNOTATION + "expires"] == "2099-01-01T00:00:00Z"


class RacingHub(FakeCluster):
    """A hub on which another cluster's run creates the records namespace between our read and our create."""

    def __init__(self, status):
        super().__init__(name="hub")
        self.status = status

    def create(self, api_version, kind, body, namespace=None):
        if kind == "Namespace":
            raise ClusterError("cluster hub: HTTP %d on Namespace %s" % (self.status, body["metadata"]["name"]),
                               details={"status": self.status})
        return super().create(api_version, kind, body, namespace)


def test_ensure_namespace_created_concurrently_is_there_other_errors_are_not():
    from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import ensure_namespace
    hub = FakeCluster()
    assert ensure_namespace(hub, "devsecops-multicluster") is True
    assert hub.find("Namespace", "devsecops-multicluster")["metadata"]["labels"]
    assert ensure_namespace(hub, "devsecops-multicluster") is False
    assert ensure_namespace(RacingHub(409), "devsecops-multicluster") is False
    with pytest.raises(ClusterError, match="HTTP 403"):
        ensure_namespace(RacingHub(403), "devsecops-multicluster")
