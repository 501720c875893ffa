"""Unit tests for the Harbor modules' entry points: idempotence, check mode, diff, results without secrets,
failures naming the cluster, Harbor and the object, never a traceback; the admin password's record (minted,
reused, rotated, a rotation that did not finish settled, deleted).

Harbor is the lab's Harbor stand-in (tests/lab/standins/harbor.py) served over HTTPS in the test process; the
cluster (the admin password Secret, the ingress CA ConfigMap) is the in-memory FakeCluster.
"""

import base64
import json
import os
import sys
import threading

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.devsecops.multicluster.plugins.module_utils import product
from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import fingerprint
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import password_problem
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
from ansible_collections.devsecops.multicluster.plugins.modules import (
    harbor_admin_password,
    harbor_info,
    harbor_project,
    harbor_scan_all,
    harbor_scanner,
)
from fakes import Exit, FakeCluster, Fail, use_fake

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab import pki  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import harbor as standin  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Harbor-admin-pw-1"
CREDENTIAL = "adapter-credential-7"


def _serve(server):
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def _secret(password):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "harbor-admin", "namespace": "harbor"},
            "data": {"HARBOR_ADMIN_PASSWORD": base64.b64encode(password.encode()).decode()}}


class World:
    def __init__(self, tmp_path):
        ca = pki.CA.generate("test ingress CA")
        self.ca = ca.cert_pem.decode()
        cert, key = ca.leaf("harbor-core", server=True, hosts=("localhost", "127.0.0.1"))
        self.installed = True
        self.secret = (PASSWORD, "uid-1")  # the chart's Secret: the admin password of a new installation, its uid
        self.faults = {}  # path suffix -> HTTP statuses still to answer
        self.requests = []
        self.api = standin.HarborAPI("test", str(tmp_path / "harbor.json"), self._installed, self._fault)
        self.server = _serve(standin.HarborServer(("127.0.0.1", 0), self.api, cert.decode(), key.decode()))
        self.adapter = _serve(standin.AdapterServer(("127.0.0.1", 0)))
        self.endpoint = "localhost:%d" % self.server.server_address[1]
        self.hub = FakeCluster("hub")
        self.hub.add(_secret(PASSWORD))
        self.hub.add({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "default-ingress-cert", "namespace": "openshift-config-managed"},
                      "data": {"ca-bundle.crt": self.ca}})

    def _installed(self):
        return self.secret if self.installed else (None, "no Secret harbor/harbor-admin")

    def _fault(self, path):
        self.requests.append(path)
        for suffix, statuses in self.faults.items():
            if path.endswith(suffix) and statuses:
                return statuses.pop(0), 0
        return None, 0

    def install(self, password):
        """A new installation of Harbor, whose admin password is the one the chart's Secret holds now."""
        self.secret = (password, "uid-%d" % (int(self.secret[1].split("-")[1]) + 1))

    @property
    def connection(self):
        return {"endpoint": self.endpoint, "ca": self.ca, "retries": 0,
                "password_secret": {"namespace": "harbor", "name": "harbor-admin"}}

    def scanner(self, name):
        return next((r for r in self.api.state["scanners"].values() if r["name"] == name), None)

    def close(self):
        for server in (self.server, self.adapter):
            server.shutdown()
            server.server_close()


@pytest.fixture
def world(monkeypatch, tmp_path):
    w = World(tmp_path)
    use_fake(monkeypatch, product, w.hub)
    use_fake(monkeypatch, harbor_info, w.hub)
    yield w
    w.close()


def run(module, args, expect=Exit):
    with patch_module_args(dict(args, cluster_name="lab-hub")):
        with pytest.raises(expect):
            module.main()


def test_info_reads_the_ingress_ca_and_lists_without_secrets(world, module_io):
    run(harbor_scanner, {"harbor": world.connection, "name": "Clair", "url": world.adapter.url, "auth": "Bearer",
                         "access_credential": CREDENTIAL})
    run(harbor_info, {"harbor": {"endpoint": world.endpoint,
                                 "password_secret": {"namespace": "harbor", "name": "harbor-admin"}},
                      "wait": True, "wait_timeout": 5})
    assert module_io["answering"] and module_io["healthy"] and module_io["changed"] is False
    assert module_io["ca"] == world.ca and module_io["endpoint"] == "https://" + world.endpoint
    assert module_io["version"] == standin.VERSION and module_io["user"] == {"username": "admin", "sysadmin": True}
    assert module_io["default_scanner"] == "Trivy"
    by_name = dict((s["name"], s) for s in module_io["scanners"])
    assert by_name["Trivy"]["immutable"] and by_name["Clair"]["auth"] == "Bearer"
    assert [p["name"] for p in module_io["projects"]] == ["library"] and module_io["projects"][0]["public"]
    dumped = json.dumps(module_io)
    assert CREDENTIAL not in dumped and PASSWORD not in dumped


def test_info_without_credentials_and_while_not_installed(world, module_io):
    run(harbor_info, {"harbor": {"endpoint": world.endpoint, "ca": world.ca}})
    assert module_io["answering"] and "scanners" not in module_io and module_io["system_info"]["harbor_version"]
    world.installed = False
    module_io.clear()
    run(harbor_info, {"harbor": {"endpoint": world.endpoint, "ca": world.ca, "retries": 0}})
    assert module_io["answering"] is False and "HTTP 503" in module_io["problem"]
    run(harbor_info, {"harbor": {"endpoint": world.endpoint, "ca": world.ca}, "wait": True, "wait_timeout": 0},
        expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Harbor https://%s is not ready after 0s: Harbor https://%s: "
                                       "GET /api/v2.0/ping: HTTP 503: lab stand-in: Harbor is not installed"
                                       % (world.endpoint, world.endpoint))


def test_info_tls_failure_names_the_ca_source(world, module_io):
    world.hub.objects[("ConfigMap", "openshift-config-managed", "default-ingress-cert")]["data"]["ca-bundle.crt"] = \
        pki.CA.generate("another CA").cert_pem.decode()
    run(harbor_info, {"harbor": {"endpoint": world.endpoint}}, expect=Fail)
    assert "TLS verification failed" in module_io["msg"]
    assert module_io["msg"].endswith("(the CA came from ConfigMap openshift-config-managed/default-ingress-cert key "
                                     "ca-bundle.crt; give harbor.ca)")


def test_scanner_register_default_idempotent_with_diff(world, module_io):
    args = {"harbor": world.connection, "name": "Clair", "url": world.adapter.url, "auth": "Bearer",
            "access_credential": CREDENTIAL, "description": "Clair v2 adapter", "default": True, "_ansible_diff": True}
    run(harbor_scanner, dict(args, _ansible_check_mode=True))
    assert module_io["changed"] and world.scanner("Clair") is None
    assert module_io["diff"]["before"] == {} and module_io["diff"]["after"]["access_credential"] == "(hidden) (changed)"
    run(harbor_scanner, args)
    assert module_io["changed"] and module_io["scanner"]["is_default"] and module_io["scanner"]["uuid"]
    assert module_io["actions"] == ["register scanner Clair at %s" % world.adapter.url,
                                    "make Clair the system default scanner"]
    assert world.scanner("Clair")["access_credential"] == CREDENTIAL
    assert CREDENTIAL not in json.dumps(module_io) and PASSWORD not in json.dumps(module_io)
    run(harbor_scanner, args)
    assert module_io["changed"] is False and module_io["actions"] == []
    assert module_io["diff"]["before"] == module_io["diff"]["after"]
    assert module_io["diff"]["after"]["access_credential"] == "(hidden)"
    run(harbor_scanner, {"harbor": world.connection, "name": "Trivy", "default": True})
    assert module_io["changed"] and world.scanner("Trivy")["is_default"]


def test_scanner_failures_are_clear(world, module_io):
    run(harbor_scanner, {"harbor": world.connection, "name": "Clair", "url": "http://127.0.0.1:1"}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Harbor https://%s: scanner registration Clair: Harbor could "
                                       "not fetch a valid scanner adapter metadata document from "
                                       "http://127.0.0.1:1/api/v1/metadata" % world.endpoint)
    assert module_io["msg"].endswith("HTTP 500: internal server error") and world.scanner("Clair") is None
    run(harbor_scanner, {"harbor": world.connection, "name": "Trivy", "url": world.adapter.url}, expect=Fail)
    assert "the built-in Trivy registration is immutable (Harbor answers 403 to any change); cannot change url" \
        in module_io["msg"]
    run(harbor_scanner, {"harbor": world.connection, "name": "Trivy", "state": "absent"}, expect=Fail)
    assert "immutable" in module_io["msg"]
    world.hub.objects[("Secret", "harbor", "harbor-admin")] = _secret("not-the-password")
    run(harbor_scanner, {"harbor": world.connection, "name": "Clair", "url": world.adapter.url}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-hub: Harbor https://%s: authentication failed: the password in Secret "
                                "harbor/harbor-admin for user admin was refused (HTTP 401)" % world.endpoint)


def test_project_check_mode_then_converge(world, module_io):
    args = {"harbor": world.connection, "name": "team-a", "auto_scan": True, "prevent_vulnerable": True,
            "severity": "high", "_ansible_diff": True}
    run(harbor_project, dict(args, _ansible_check_mode=True))
    assert module_io["changed"] and len(world.api.state["projects"]) == 1
    run(harbor_project, args)
    assert module_io["changed"] and module_io["project"]["auto_scan"] and module_io["project"]["severity"] == "high"
    assert module_io["project"]["metadata"] == {"public": "false", "auto_scan": "true", "prevent_vul": "true",
                                                "severity": "high"}
    run(harbor_project, args)
    assert module_io["changed"] is False
    run(harbor_project, dict(args, auto_scan=False))
    assert module_io["actions"] == ["set auto_scan=false on project team-a"]
    assert module_io["diff"]["before"]["auto_scan"] and not module_io["diff"]["after"]["auto_scan"]
    run(harbor_project, {"harbor": world.connection, "name": "team-a", "scanner": "Nope"}, expect=Fail)
    assert "there is no scanner registration named Nope (registered: Trivy)" in module_io["msg"]
    run(harbor_project, {"harbor": world.connection, "name": "team-a", "state": "absent"})
    assert module_io["changed"] and len(world.api.state["projects"]) == 1


def test_scan_all_module(world, module_io):
    run(harbor_scan_all, {"harbor": world.connection, "type": "Custom", "cron": "0 0 2 * * *"})
    assert module_io["changed"] and module_io["schedule"] == {"type": "Custom", "cron": "0 0 2 * * *"}
    run(harbor_scan_all, {"harbor": world.connection, "type": "Custom", "cron": "0 0 2 * * *"})
    assert module_io["changed"] is False
    run(harbor_scan_all, {"harbor": world.connection, "type": "Custom"}, expect=Fail)
    assert "a Custom schedule needs cron" in module_io["msg"]
    run(harbor_scan_all, {"harbor": world.connection, "state": "absent"})
    assert module_io["changed"] and world.api.state["schedule"] is None


# -- the admin password -----------------------------------------------------------------------------------
RECORD = ("Secret", "lab-prod-harbor-admin", "devsecops-multicluster")
NOWHERE = {"endpoint": "localhost:1", "retries": 0}  # nothing listens there
LABEL = "devsecops.multicluster/"


def password_args(world, **extra):
    return dict({"harbor": {"endpoint": world.endpoint, "ca": world.ca, "retries": 0}, "consumer": "lab-prod"},
                **extra)


def record(world):
    return world.hub.find(*RECORD)


def recorded(world, key="password"):
    value = ((record(world) or {}).get("data") or {}).get(key)
    return base64.b64decode(value).decode() if value is not None else None


def harbor_accepts(world, password):
    return Harbor({"endpoint": world.endpoint, "ca": world.ca, "retries": 0}).login(password, "a test") is not None


def no_secret_in(result, *passwords):
    dumped = json.dumps(result)
    assert not [p for p in passwords if p and p in dumped], "a password is in the result"


def minted(world, module_io):
    """A recorded password, and Harbor installed with it (the chart read it from the Secret)."""
    run(harbor_admin_password, password_args(world))
    world.install(recorded(world))
    return recorded(world)


def test_password_minted_once_reused_without_asking_harbor(world, module_io):
    args = password_args(world, _ansible_diff=True)
    run(harbor_admin_password, dict(args, _ansible_check_mode=True))
    assert module_io["changed"] and module_io["fingerprint"] == "" and module_io["minted"] == ""
    assert record(world) is None and world.hub.writes == []
    assert module_io["diff"] == {"before": {}, "after": {"fingerprint": "(a new password)", "pending": False}}
    module_io.clear()
    run(harbor_admin_password, args)
    password = recorded(world)
    assert module_io["changed"] and module_io["reused"] is False and module_io["reason"] == "no password is recorded"
    assert module_io["record"] == "devsecops-multicluster/lab-prod-harbor-admin" and module_io["username"] == "admin"
    assert len(password) == 32 and password_problem(password) is None and password.isalnum()
    assert module_io["fingerprint"] == fingerprint(password) and module_io["minted"] and module_io["rotated"] == ""
    meta = record(world)["metadata"]
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "devsecops.multicluster",
                              LABEL + "purpose": "harbor-admin", LABEL + "cluster": "lab-prod",
                              LABEL + "credential": "harbor-admin-password"}
    assert meta["annotations"][LABEL + "minted"] == module_io["minted"]
    assert meta["annotations"][LABEL + "fingerprint"] == fingerprint(password)
    assert recorded(world, "username") == "admin" and recorded(world, "pending") is None
    assert module_io["diff"]["after"] == {"fingerprint": fingerprint(password), "pending": False}
    no_secret_in(module_io, password)
    writes = len(world.hub.writes)
    module_io.clear()
    run(harbor_admin_password, args)
    assert module_io["changed"] is False and module_io["reused"] and module_io["actions"] == []
    assert module_io["fingerprint"] == fingerprint(password) and recorded(world) == password
    assert len(world.hub.writes) == writes and world.requests == [], "Harbor is not asked to mint or reuse"
    assert module_io["diff"]["before"] == module_io["diff"]["after"]


def test_rotation_changes_the_password_in_harbor_and_the_record(world, module_io):
    old = minted(world, module_io)
    assert harbor_accepts(world, old)
    module_io.clear()
    run(harbor_admin_password, password_args(world, rotate=True, _ansible_check_mode=True))
    assert module_io["changed"] and recorded(world) == old and world.api.state["admin_password"] == old
    assert module_io["actions"] == ["rotate the password of Harbor user admin of lab-prod (record "
                                    "devsecops-multicluster/lab-prod-harbor-admin)"]
    module_io.clear()
    run(harbor_admin_password, password_args(world, rotate=True, _ansible_diff=True))
    new = recorded(world)
    assert module_io["changed"] and new != old and password_problem(new) is None and len(new) == 32
    assert world.api.state["admin_password"] == new and recorded(world, "pending") is None
    assert harbor_accepts(world, new) and not harbor_accepts(world, old)
    annotations = record(world)["metadata"]["annotations"]
    assert module_io["rotated"] == annotations[LABEL + "rotated"] == annotations[LABEL + "minted"]
    assert annotations[LABEL + "fingerprint"] == module_io["fingerprint"] == fingerprint(new)
    assert LABEL + "pending-fingerprint" not in annotations
    assert module_io["diff"] == {"before": {"fingerprint": fingerprint(old), "pending": False},
                                 "after": {"fingerprint": fingerprint(new), "pending": False}}
    no_secret_in(module_io, old, new)
    module_io.clear()
    run(harbor_admin_password, password_args(world))
    assert module_io["changed"] is False and recorded(world) == new


def test_rotation_without_a_record_mints_without_harbor(world, module_io):
    run(harbor_admin_password, dict(password_args(world, rotate=True), harbor=NOWHERE))
    assert module_io["changed"] and module_io["reason"] == "no password is recorded" and recorded(world)


def test_rotation_fails_clearly_when_harbor_cannot_change_it(world, module_io):
    old = minted(world, module_io)
    before = json.dumps(record(world), sort_keys=True)
    run(harbor_admin_password, dict(password_args(world, rotate=True), harbor=NOWHERE), expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: Harbor https://localhost:1: password of user admin of "
                                       "cluster lab-prod (record devsecops-multicluster/lab-prod-harbor-admin): cannot "
                                       "rotate: Harbor https://localhost:1: GET /api/v2.0/users/current: unreachable")
    assert module_io["msg"].endswith("; the record is unchanged")
    world.install("Another-password-9")
    run(harbor_admin_password, password_args(world, rotate=True), expect=Fail)
    assert "cannot rotate: Harbor refuses the recorded password" in module_io["msg"]
    world.install(old)
    for status, said in ((400, "Harbor refused the new password"), (500, "Harbor did not change the password")):
        world.faults = {"/password": [status]}
        run(harbor_admin_password, password_args(world, rotate=True), expect=Fail)
        assert "cannot rotate: %s: Harbor https://%s: PUT /api/v2.0/users/1/password: HTTP %d" % (
            said, world.endpoint, status) in module_io["msg"], module_io["msg"]
        assert module_io["msg"].endswith("; the recorded password is unchanged (Harbor still has it)")
        assert recorded(world) == old and recorded(world, "pending") is None
        assert world.api.state["admin_password"] == old
        assert [p for p in world.requests if p.endswith("/password")] == ["/api/v2.0/users/1/password"], \
            "the change is not repeated"
        world.requests = []
        no_secret_in(module_io, old)
    assert json.dumps(record(world)["data"], sort_keys=True) == json.dumps(json.loads(before)["data"], sort_keys=True)


def test_a_change_whose_answer_was_lost_is_recorded(world, module_io, monkeypatch):
    old = minted(world, module_io)
    real = Harbor.change_password

    def lost(self, user_id, current, new):
        real(self, user_id, current, new)
        raise RestError("Harbor %s: PUT /api/v2.0/users/1/password: timed out after 30s" % world.endpoint)

    monkeypatch.setattr(Harbor, "change_password", lost)
    module_io.clear()
    run(harbor_admin_password, password_args(world, rotate=True))
    new = recorded(world)
    assert module_io["changed"] and new != old and world.api.state["admin_password"] == new
    assert "its answer was Harbor" in module_io["reason"] and recorded(world, "pending") is None


def test_a_rotation_that_died_leaves_both_passwords_and_the_next_run_settles(world, module_io, monkeypatch):
    old = minted(world, module_io)
    real = Harbor.change_password

    def dies(self, user_id, current, new):
        real(self, user_id, current, new)
        world.installed = False  # Harbor goes away with the answer
        raise RestError("Harbor %s: PUT /api/v2.0/users/1/password: unreachable (Connection reset)" % world.endpoint)

    monkeypatch.setattr(Harbor, "change_password", dies)
    run(harbor_admin_password, password_args(world, rotate=True), expect=Fail)
    assert "which password Harbor has now is unknown" in module_io["msg"]
    assert "the record keeps both, the pending one too, and the next run settles it" in module_io["msg"]
    pending = recorded(world, "pending")
    assert recorded(world) == old and pending and world.api.state["admin_password"] == pending
    assert record(world)["metadata"]["annotations"][LABEL + "pending-fingerprint"] == fingerprint(pending)
    run(harbor_admin_password, password_args(world), expect=Fail)
    assert "Harbor cannot be asked which password it accepts" in module_io["msg"]
    assert recorded(world) == old and recorded(world, "pending") == pending
    no_secret_in(module_io, old, pending)
    world.installed = True
    module_io.clear()
    run(harbor_admin_password, password_args(world, _ansible_diff=True))
    assert module_io["changed"] and recorded(world) == pending and recorded(world, "pending") is None
    assert module_io["reason"] == "a rotation that did not finish: Harbor took the pending password"
    assert module_io["diff"]["before"] == {"fingerprint": fingerprint(old), "pending": True}
    annotations = record(world)["metadata"]["annotations"]
    assert annotations[LABEL + "rotated"] and LABEL + "pending-fingerprint" not in annotations
    module_io.clear()
    run(harbor_admin_password, password_args(world))
    assert module_io["changed"] is False


def _with_pending(world, pending):
    world.hub.objects[RECORD[0], RECORD[2], RECORD[1]]["data"]["pending"] = base64.b64encode(pending.encode()).decode()


def test_a_pending_password_harbor_never_took_is_dropped_or_used_by_the_next_rotation(world, module_io):
    old = minted(world, module_io)
    _with_pending(world, "Pending-password-1")
    run(harbor_admin_password, password_args(world, _ansible_check_mode=True))
    assert module_io["changed"] and recorded(world, "pending") == "Pending-password-1"
    module_io.clear()
    run(harbor_admin_password, password_args(world))
    assert module_io["changed"] and recorded(world) == old and recorded(world, "pending") is None
    assert module_io["reason"] == "a rotation that did not finish: Harbor still has the recorded password"
    _with_pending(world, "Pending-password-2")
    module_io.clear()
    run(harbor_admin_password, password_args(world, rotate=True))
    assert module_io["changed"] and recorded(world) == "Pending-password-2" == world.api.state["admin_password"]
    _with_pending(world, "Pending-password-3")
    world.install("Neither-password-4")
    run(harbor_admin_password, password_args(world), expect=Fail)
    assert "Harbor accepts neither the recorded password nor the pending one" in module_io["msg"]
    assert recorded(world) == "Pending-password-2" and recorded(world, "pending") == "Pending-password-3"
    no_secret_in(module_io, old, "Pending-password-2", "Pending-password-3", "Neither-password-4")


def test_a_record_of_an_earlier_version_is_labelled_once(world, module_io):
    world.hub.add({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": RECORD[1], "namespace": RECORD[2], "creationTimestamp": "2026-01-02T03:04:05Z",
                                "labels": {"app.kubernetes.io/managed-by": "devsecops.multicluster",
                                           LABEL + "cluster": "lab-prod", LABEL + "purpose": "harbor-admin"}},
                   "data": {"password": base64.b64encode(b"Earlier-password-5").decode()}})
    run(harbor_admin_password, password_args(world, _ansible_check_mode=True))
    assert module_io["changed"] and LABEL + "credential" not in record(world)["metadata"]["labels"]
    run(harbor_admin_password, password_args(world))
    assert module_io["changed"] and module_io["reused"] and module_io["minted"] == "2026-01-02T03:04:05Z"
    meta = record(world)["metadata"]
    assert meta["labels"][LABEL + "credential"] == "harbor-admin-password"
    assert meta["annotations"][LABEL + "minted"] == "2026-01-02T03:04:05Z"
    assert recorded(world) == "Earlier-password-5" and recorded(world, "username") == "admin"
    module_io.clear()
    run(harbor_admin_password, password_args(world))
    assert module_io["changed"] is False


def test_absent_deletes_the_record(world, module_io):
    run(harbor_admin_password, password_args(world))
    run(harbor_admin_password, password_args(world, state="absent", _ansible_check_mode=True))
    assert module_io["changed"] and record(world) is not None
    run(harbor_admin_password, password_args(world, state="absent", _ansible_diff=True))
    assert module_io["changed"] and record(world) is None and module_io["diff"]["after"] == {}
    assert module_io["actions"] == ["delete record devsecops-multicluster/lab-prod-harbor-admin"]
    run(harbor_admin_password, password_args(world, state="absent"))
    assert module_io["changed"] is False
