"""Unit tests for module_utils/harbor.py and harbor_manage.py against a local HTTPS server.

The server runs the lab's Harbor stand-in (tests/lab/standins/harbor.py, which follows Harbor 2.12's API) with
a test CA, plus its pluggable scanner adapter stand-in, so the client's paths, payloads and status codes and
the managers' decisions are exercised over real TLS without a lab.
"""

import base64
import json
import os
import sys
import threading

import pytest

from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor import Harbor, scanner_url
from ansible_collections.devsecops.multicluster.plugins.module_utils.harbor_manage import (
    PASSWORD_ALPHABET,
    HarborError,
    Project,
    ScanAll,
    Scanner,
    new_password,
    password_problem,
    run,
)
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import RestError
from fakes import FakeCluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab import pki  # noqa: E402  pylint: disable=wrong-import-position
from tests.lab.standins import harbor as standin  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Harbor-admin-pw-0"


def with_(params, **changes):
    """params with some options changed."""
    merged = dict(params)
    merged.update(changes)
    return merged


def serve(server):
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


class World:
    """The Harbor stand-in on 127.0.0.1:<random> over TLS, its scanner adapter, and knobs for the tests."""

    def __init__(self, tmp_path):
        ca = pki.CA.generate("test ingress CA")
        self.ca = ca.cert_pem.decode()
        cert, key = ca.leaf("harbor-core", server=True, hosts=("localhost", "127.0.0.1"))
        self.password = PASSWORD  # the chart's Secret: the admin password of a new installation (a new uid)
        self.uid = "uid-1"
        self.faults = []  # statuses still to answer
        self.repos = {}
        self.requests = []
        self.api = standin.HarborAPI("test", str(tmp_path / "harbor.json"), self._installed, self._fault,
                                     lambda name: self.repos.get(name, []))
        self.server = standin.HarborServer(("127.0.0.1", 0), self.api, cert.decode(), key.decode())
        self.adapter = standin.AdapterServer(("127.0.0.1", 0))
        for server in (self.server, self.adapter):
            serve(server)
        self.endpoint = "localhost:%d" % self.server.server_address[1]
        self.api._ensure_state("uid-1", PASSWORD)  # installed: Trivy and library are there

    def _installed(self):
        return (self.password, self.uid) if self.password else (None, "no Secret harbor/harbor-admin")

    def _fault(self, path):
        self.requests.append(path)
        return (self.faults.pop(0) if self.faults else None), 0

    def harbor(self, **options):
        opts = {"endpoint": self.endpoint, "ca": self.ca, "password": self.password, "retries": 3}
        opts.update(options)
        return Harbor(opts, sleep=lambda s: None)

    def admin(self):
        client = self.harbor()
        client.authenticate()
        return client

    @property
    def state(self):
        return self.api.state

    def scanner(self, name):
        return next((r for r in self.state["scanners"].values() if r["name"] == name), None)

    def close(self):
        for server in (self.server, self.adapter):
            server.shutdown()
            server.server_close()


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


def manage(cls, world, check_mode=False, client=None, **params):
    manager = cls(client or world.admin(), None, params, check_mode=check_mode)
    action = manager.absent if params.get("state") == "absent" else manager.present
    return manager, run(manager, action)


def scanner_params(**params):
    base = {"name": "Clair", "url": None, "description": None, "auth": None, "access_credential": None,
            "update_credential": "on_create", "skip_cert_verify": None, "use_internal_addr": None, "disabled": None,
            "default": False, "state": "present"}
    base.update(params)
    return base


# -- the client ---------------------------------------------------------------------------------------
def test_scanner_url_is_normalised_as_harbor_stores_it():
    assert scanner_url("harbor-scanner-clair:8080/") == "http://harbor-scanner-clair:8080"
    assert scanner_url(" https://a.example/x?y=1 ") == "https://a.example/x"
    assert scanner_url("") == ""


def test_unauthenticated_calls(world):
    client = world.harbor(password=None)
    assert client.ping() == "Pong"
    assert client.health()["status"] == "healthy"
    info = client.system_info()
    assert info["harbor_version"] == standin.VERSION and "external_url" not in info


def test_authentication_with_the_chart_secret(world):
    hub = FakeCluster("lab-hub")
    hub.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "harbor-admin", "namespace": "harbor"},
             "data": {"HARBOR_ADMIN_PASSWORD": base64.b64encode(PASSWORD.encode()).decode()}})
    client = Harbor({"endpoint": world.endpoint, "ca": world.ca, "password": "wrong-pw-1",
                     "password_secret": {"namespace": "harbor", "name": "harbor-admin"}}, cluster=hub)
    user = client.authenticate()
    assert user["username"] == "admin" and client.is_admin
    assert client.auth_source == "the password in Secret harbor/harbor-admin"
    assert PASSWORD in client.secret_values and "wrong-pw-1" in client.secret_values
    assert client.system_info()["external_url"]  # a logged-in user sees the protected fields


def test_wrong_password_is_401_without_echoing_it(world):
    client = Harbor({"endpoint": world.endpoint, "ca": world.ca, "password": "wrong-pw-2",
                     "password_secret": {"namespace": "harbor", "name": "harbor-admin"}}, cluster=FakeCluster("hub"))
    with pytest.raises(RestError) as err:
        client.authenticate()
    assert err.value.status == 401
    assert "the password given for user admin was refused (HTTP 401)" in err.value.message
    assert "Secret harbor/harbor-admin does not exist on cluster hub" in err.value.message
    assert "wrong-pw-2" not in err.value.message
    with pytest.raises(RestError) as err:
        world.harbor(password=None).authenticate()
    assert "no credential given" in err.value.message
    with pytest.raises(RestError) as err:
        world.harbor(password="wrong-pw-3").scanners()  # anonymous: Harbor answers 401
    assert err.value.message.endswith("GET /api/v2.0/scanners: HTTP 401: unauthorized")


def test_5xx_is_retried_then_succeeds_or_named(world):
    sleeps = []
    client = Harbor({"endpoint": world.endpoint, "ca": world.ca, "password": PASSWORD}, sleep=sleeps.append)
    world.faults = [503, 502]
    assert client.authenticate()["username"] == "admin"
    assert sleeps == [1.0, 2.0]
    world.faults = [500] * 4
    with pytest.raises(RestError) as err:
        client.scanners()
    assert err.value.status == 500
    assert err.value.message.startswith("Harbor https://%s: GET /api/v2.0/scanners: HTTP 500: lab fault injection"
                                        % world.endpoint)
    assert sleeps == [1.0, 2.0, 1.0, 2.0, 4.0]


def test_not_installed_answers_503(world):
    world.password = None
    with pytest.raises(RestError) as err:
        Harbor({"endpoint": world.endpoint, "ca": world.ca, "retries": 0}).ping()
    assert err.value.status == 503 and "not installed" in err.value.message


def test_wrong_ca_fails_verification(world):
    other = pki.CA.generate("other CA").cert_pem.decode()
    with pytest.raises(RestError) as err:
        world.harbor(ca=other).ping()
    assert "TLS verification failed" in err.value.message and world.endpoint in err.value.message


def test_scanner_calls(world):
    client = world.admin()
    trivy = client.scanner_by_name("Trivy")
    assert trivy["is_default"] and trivy["url"] == "http://harbor-trivy:8080" and trivy["use_internal_addr"]
    assert trivy["capabilities"] == {"support_vulnerability": True, "support_sbom": True}
    client.ping_scanner("Clair", world.adapter.url)
    uuid = client.create_scanner({"name": "Clair", "url": world.adapter.url + "/"})
    created = client.scanner(uuid)
    assert created["url"] == world.adapter.url and not created["is_default"]
    assert client.scanner_metadata(uuid)["scanner"]["name"] == "Clair"
    client.set_default_scanner(uuid)
    assert client.scanner(uuid)["is_default"] and not client.scanner(trivy["uuid"])["is_default"]
    with pytest.raises(RestError) as err:
        client.create_scanner({"name": "Clair2", "url": world.adapter.url})
    assert err.value.status == 409 and "registration name or url already exists" in err.value.message
    with pytest.raises(RestError) as err:
        client.update_scanner(trivy["uuid"], {"name": "Trivy", "url": "http://other:8080"})
    assert err.value.status == 403 and "immutable" in err.value.message
    with pytest.raises(RestError) as err:
        client.create_scanner({"name": "Trivy", "url": world.adapter.url + "/x"})
    assert err.value.status == 400 and 'name "Trivy" is reserved' in err.value.message
    assert client.delete_scanner(uuid) is True and client.delete_scanner(uuid) is False
    assert client.scanner(uuid) is None


def test_ping_of_an_unreachable_adapter_is_harbors_500(world):
    client = world.admin()
    with pytest.raises(RestError) as err:
        client.ping_scanner("x", "http://127.0.0.1:1")
    assert err.value.status == 500 and err.value.message.endswith("HTTP 500: internal server error")
    with pytest.raises(RestError) as err:
        client.ping_scanner("x", "ftp://127.0.0.1:1")
    assert err.value.status == 400 and "invalid HTTP scheme: ftp" in err.value.message


def test_project_and_schedule_calls(world):
    client = world.admin()
    assert client.project("library")["metadata"]["public"] == "true"
    assert client.project("team-a") is None
    client.create_project("team-a", {"public": "false", "auto_scan": "true"})
    assert client.rest.last_headers["Location"] == "/api/v2.0/projects/team-a"
    client.update_project_metadata("team-a", {"severity": "HIGH", "prevent_vul": "true"})
    meta = client.project("team-a")["metadata"]
    assert meta == {"public": "false", "auto_scan": "true", "severity": "high", "prevent_vul": "true"}
    assert sorted(p["name"] for p in client.projects()) == ["library", "team-a"]
    assert client.project_scanner("team-a")["name"] == "Trivy"  # the system default
    assert client.scan_all_schedule() == {}
    client.create_scan_all_schedule("Daily", "0 0 0 * * *")
    assert client.scan_all_schedule()["schedule"] == {"type": "Daily", "cron": "0 0 0 * * *"}
    client.update_scan_all_schedule("None", "")
    assert client.scan_all_schedule() == {}
    assert client.delete_project("team-a") is True and client.delete_project("team-a") is False


# -- the admin password -------------------------------------------------------------------------------------
def test_password_policy_and_generated_passwords():
    assert password_problem("Abcdefg1") is None and password_problem("A1" + "b" * 126) is None
    assert password_problem("Abcdef1") == "it has 7 characters, not 8 to 128"
    assert password_problem("A1" + "b" * 127) == "it has 129 characters, not 8 to 128"
    assert password_problem("abcdefgh") == "it has no upper-case letter and no digit"
    assert password_problem("ABCDEFG1") == "it has no lower-case letter"
    assert password_problem(None) == "it has 0 characters, not 8 to 128"
    drawn = [new_password() for _draw in range(3000)]
    assert all(len(p) == 32 and password_problem(p) is None and set(p) <= set(PASSWORD_ALPHABET) for p in drawn)
    assert len(set(drawn)) == len(drawn)
    # about 0.4 % of 32 random letters and digits have no digit: those are drawn again, never returned
    assert all(any(c.isdigit() for c in p) for p in drawn)


def test_login_and_change_password(world):
    client = world.harbor(password=None)
    assert client.login("Wrong-password-1", "a wrong one") is None and client.user is None
    user = client.login(PASSWORD, "the right one")
    assert user["user_id"] == 1 and client.auth_source == "the right one" and PASSWORD in client.secret_values
    client.change_password(1, PASSWORD, "New-password-2")
    assert world.state["admin_password"] == "New-password-2"
    assert world.harbor(password=None).login(PASSWORD, "old") is None
    assert world.harbor(password=None).login("New-password-2", "new")["username"] == "admin"
    world.faults = [503]
    with pytest.raises(RestError) as err:
        client.change_password(1, "New-password-2", "Newer-password-3")
    assert err.value.status == 503 and world.requests[-1] == "/api/v2.0/users/1/password", "sent once, no retry"
    assert client.rest.retries == 3 and "Newer-password-3" not in err.value.message


def test_standin_password_change_answers_as_harbor(world):
    client = world.admin()
    anonymous = world.harbor(password="Wrong-password-1")
    for user_id, old, new, status, said in (
            (1, "Wrong-password-1", "New-password-2", 403, "Current password is incorrect"),
            (1, PASSWORD, "short1A", 400, "must be 8-128, inclusively, characters long"),
            (1, PASSWORD, "no-upper-case-1", 400, "at least 1 uppercase letter"),
            (1, PASSWORD, "No-digit-at-all", 400, "1 number"),
            (1, PASSWORD, PASSWORD, 400, "New password is identical to old password"),
            (7, "", "New-password-2", 404, "user 7 not found"),
            ("x", PASSWORD, "New-password-2", 400, "invalid syntax")):
        with pytest.raises(RestError) as err:
            client.change_password(user_id, old, new)
        assert err.value.status == status and said in err.value.message, (user_id, new, err.value.message)
    with pytest.raises(RestError) as err:
        anonymous.change_password(1, PASSWORD, "New-password-2")
    assert err.value.status == 401
    assert world.state["admin_password"] == PASSWORD


def test_standin_keeps_the_password_it_was_installed_with(world):
    world.password = "Changed-secret-3"  # the chart's Secret changes: Harbor's database does not
    assert world.harbor(password=None).login(PASSWORD, "installed")
    assert world.harbor(password=None).login("Changed-secret-3", "secret") is None
    world.uid = "uid-2"  # a new installation takes the Secret's password
    assert world.harbor(password=None).login("Changed-secret-3", "secret")


# -- scanner registrations -------------------------------------------------------------------------------
def test_register_adapter_then_idempotent(world):
    manager, result = manage(Scanner, world, **scanner_params(url=world.adapter.url, description="Clair v2",
                                                              default=True))
    assert manager.changed and manager.actions == ["register scanner Clair at %s" % world.adapter.url,
                                                   "make Clair the system default scanner"]
    assert result["is_default"] and result["uuid"] and not result["immutable"]
    assert world.scanner("Clair")["is_default"] and not world.scanner("Trivy")["is_default"]
    before = json.dumps(world.state, sort_keys=True)
    manager, again = manage(Scanner, world, **scanner_params(url=world.adapter.url + "/", description="Clair v2",
                                                             default=True))
    assert not manager.changed and manager.actions == [] and again["uuid"] == result["uuid"]
    assert json.dumps(world.state, sort_keys=True) == before


def test_unknown_adapter_url_fails_clearly_and_creates_nothing(world):
    for url, said in (("http://127.0.0.1:1", "HTTP 500: internal server error"),
                      ("http://clair.nowhere.example:8080", "HTTP 500: internal server error")):
        with pytest.raises(HarborError) as err:
            manage(Scanner, world, **scanner_params(url=url))
        message = err.value.message
        assert message.startswith("Harbor https://%s: scanner registration Clair: Harbor could not fetch a valid "
                                  "scanner adapter metadata document from %s/api/v1/metadata" % (world.endpoint, url))
        assert "adapter URL %s" % url in message and said in message
        assert world.scanner("Clair") is None
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(url="ftp://x"))
    assert "Harbor refused the settings" in err.value.message and "invalid HTTP scheme: ftp" in err.value.message


def test_update_changes_only_what_differs_and_pings_a_new_url(world, tmp_path):
    manage(Scanner, world, **scanner_params(url=world.adapter.url))
    manager, result = manage(Scanner, world, **scanner_params(description="now described", skip_cert_verify=True))
    assert manager.actions == ["update scanner Clair (description, skip_certVerify)"]
    assert result["description"] == "now described" and result["skip_cert_verify"]
    assert world.scanner("Clair")["url"] == world.adapter.url  # kept
    other = serve(standin.AdapterServer(("127.0.0.1", 0), "other"))
    try:
        manager, result = manage(Scanner, world, **scanner_params(url=other.url))
        assert manager.actions == ["update scanner Clair (url)"] and result["url"] == other.url
    finally:
        other.shutdown()
        other.server_close()
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(url="http://127.0.0.1:1"))
    assert "adapter URL http://127.0.0.1:1" in err.value.message
    assert world.scanner("Clair")["url"] == other.url  # not updated


def test_builtin_trivy_is_immutable_but_may_be_default(world):
    manage(Scanner, world, **scanner_params(url=world.adapter.url, default=True))
    manager, result = manage(Scanner, world, **scanner_params(name="Trivy", default=True))
    assert manager.actions == ["make Trivy the system default scanner"] and result["immutable"]
    assert world.scanner("Trivy")["is_default"] and not world.scanner("Clair")["is_default"]
    manager, _result = manage(Scanner, world, **scanner_params(name="Trivy", default=True,
                                                               url="http://harbor-trivy:8080/"))
    assert not manager.changed
    for params, what in (({"url": "http://elsewhere:8080"}, "cannot change url"),
                         ({"description": "mine"}, "cannot change description"),
                         ({"state": "absent"}, "Harbor deletes it only when it runs without Trivy")):
        with pytest.raises(HarborError) as err:
            manage(Scanner, world, **scanner_params(name="Trivy", **params))
        assert "the built-in Trivy registration is immutable" in err.value.message and what in err.value.message
    assert world.scanner("Trivy")["url"] == "http://harbor-trivy:8080"
    del world.state["scanners"][world.scanner("Trivy")["uuid"]]  # a Harbor installed without Trivy
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(name="Trivy", default=True))
    assert "the name Harbor reserves for its built-in scanner" in err.value.message


def test_credential_is_write_only_and_never_returned(world):
    params = scanner_params(url=world.adapter.url, auth="Bearer", access_credential="adapter-secret-1")
    manager, result = manage(Scanner, world, **params)
    assert world.scanner("Clair")["access_credential"] == "adapter-secret-1"
    assert "adapter-secret-1" not in json.dumps(result) and "adapter-secret-1" not in json.dumps(manager.after)
    assert manager.after["access_credential"] == "(hidden) (changed)"
    manager, _result = manage(Scanner, world, **with_(params, access_credential="adapter-secret-2"))
    assert not manager.changed  # on_create: an existing registration keeps its credential
    assert world.scanner("Clair")["access_credential"] == "adapter-secret-1"
    assert "adapter-secret-1" in manager.secret_values  # Harbor 2.12 returns it: masked in the module's output
    manager, _result = manage(Scanner, world, **with_(params, access_credential="adapter-secret-2",
                                                      update_credential="always"))
    assert manager.actions == ["update scanner Clair (access_credential)"]
    assert world.scanner("Clair")["access_credential"] == "adapter-secret-2"
    manager, _result = manage(Scanner, world, **with_(params, access_credential="adapter-secret-2",
                                                      update_credential="always"))
    assert not manager.changed  # Harbor 2.12 returns it, so it is compared
    manager, _result = manage(Scanner, world, **scanner_params(description="x"))
    assert world.scanner("Clair")["access_credential"] == "adapter-secret-2"  # sent back, kept


def test_credential_hidden_by_later_harbor_releases(world, monkeypatch):
    manage(Scanner, world, **scanner_params(url=world.adapter.url, auth="Bearer", access_credential="c-1"))
    original = standin.HarborAPI._registration

    def hidden(self, reg, *args):
        view = original(self, reg, *args)
        view.pop("access_credential")  # what Harbor 2.14.4 and 2.15.1 answer
        return view

    update = standin.HarborAPI._update_scanner

    def keeping(self, request):
        body, reg = request["body"], self.state["scanners"][request["params"]["uuid"]]
        if not body.get("access_credential") and body.get("auth"):
            body["access_credential"] = reg["access_credential"]  # 2.14.4/2.15.1: an empty one keeps the stored
        return update(self, request)

    monkeypatch.setattr(standin.HarborAPI, "_registration", hidden)
    monkeypatch.setattr(standin.HarborAPI, "_update_scanner", keeping)
    manager, _result = manage(Scanner, world, **scanner_params(description="d"))
    assert manager.actions == ["update scanner Clair (description)"]
    assert world.scanner("Clair")["access_credential"] == "c-1"  # sent empty, kept by Harbor
    manager, _result = manage(Scanner, world, **scanner_params(access_credential="c-2", update_credential="always"))
    assert manager.actions == ["update scanner Clair (access_credential)"]
    manager, _result = manage(Scanner, world, **scanner_params(access_credential="c-2", update_credential="always"))
    assert manager.changed  # not comparable: always sent, as documented


def test_scanner_input_errors(world):
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params())
    assert err.value.message.endswith("url is required to register a scanner (the adapter's base URL)")
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(url=world.adapter.url, auth="Bearer"))
    assert "auth Bearer needs access_credential" in err.value.message
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(url=world.adapter.url, disabled=True, default=True))
    assert "a disabled registration cannot be the system default scanner" in err.value.message
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, **scanner_params(url="http://harbor-trivy:8080"))
    assert "already registered as Trivy" in err.value.message
    assert world.scanner("Clair") is None


def test_scanner_check_mode_writes_nothing_and_absent_deletes(world):
    before = json.dumps(world.state, sort_keys=True)
    manager, result = manage(Scanner, world, check_mode=True, **scanner_params(url=world.adapter.url, default=True))
    assert manager.changed and len(manager.actions) == 2 and result["is_default"] and result["uuid"] is None
    assert json.dumps(world.state, sort_keys=True) == before
    with pytest.raises(HarborError):  # check mode still tests the adapter
        manage(Scanner, world, check_mode=True, **scanner_params(url="http://127.0.0.1:1"))
    manage(Scanner, world, **scanner_params(url=world.adapter.url))
    manager, _result = manage(Scanner, world, check_mode=True, **scanner_params(state="absent"))
    assert manager.actions == ["delete scanner registration Clair"] and world.scanner("Clair")
    manager, result = manage(Scanner, world, **scanner_params(state="absent"))
    assert manager.changed and world.scanner("Clair") is None and result["uuid"]
    manager, _result = manage(Scanner, world, **scanner_params(state="absent"))
    assert not manager.changed


def test_scanner_5xx_is_retried_then_named(world):
    world.faults = [503]
    manager, _result = manage(Scanner, world, **scanner_params(url=world.adapter.url))
    assert manager.changed
    client = world.admin()
    world.faults = [502] * 10
    with pytest.raises(HarborError) as err:
        manage(Scanner, world, client=client, **scanner_params(url=world.adapter.url))
    assert err.value.message == ("Harbor https://%s: scanner registration Clair: Harbor https://%s: GET "
                                 "/api/v2.0/scanners: HTTP 502: lab fault injection (devsecops-lab-harbor-faults): "
                                 "HTTP 502" % (world.endpoint, world.endpoint))
    assert len(world.faults) == 6  # 1 + 3 retries


# -- projects ----------------------------------------------------------------------------------------------
def project_params(**params):
    base = {"name": "team-a", "public": False, "auto_scan": None, "prevent_vulnerable": None, "severity": None,
            "scanner": None, "state": "present"}
    base.update(params)
    return base


def test_project_scan_on_push_idempotent(world):
    manager, result = manage(Project, world, **project_params(auto_scan=True))
    assert manager.actions == ["create project team-a (auto_scan=true, public=false)"]
    assert result["auto_scan"] and not result["public"] and result["project_id"] == 2
    stored = world.state["projects"]["2"]["metadata"]
    assert stored == {"public": "false", "auto_scan": "true"}
    manager, _result = manage(Project, world, **project_params(auto_scan=True))
    assert not manager.changed
    manager, result = manage(Project, world, **project_params(auto_scan=False, prevent_vulnerable=True,
                                                              severity="critical"))
    assert manager.actions == ["set auto_scan=false, prevent_vul=true, severity=critical on project team-a"]
    assert result["prevent_vulnerable"] and result["severity"] == "critical" and not result["auto_scan"]
    assert manager.before["auto_scan"] and not manager.after["auto_scan"]
    manager, _result = manage(Project, world, **project_params())  # nothing given: metadata kept
    assert not manager.changed


def test_project_scanner_by_name(world):
    manage(Scanner, world, **scanner_params(url=world.adapter.url))
    manager, result = manage(Project, world, **project_params(scanner="Clair"))
    assert manager.actions[-1] == "use scanner Clair for project team-a" and result["scanner"] == "Clair"
    assert world.state["project_scanners"]["2"] == world.scanner("Clair")["uuid"]
    manager, _result = manage(Project, world, **project_params(scanner="Clair"))
    assert not manager.changed
    manager, _result = manage(Project, world, **project_params(scanner="Trivy"))
    assert manager.actions == ["use scanner Trivy for project team-a"]
    with pytest.raises(HarborError) as err:
        manage(Project, world, **project_params(scanner="Anchore"))
    assert "there is no scanner registration named Anchore (registered: Clair, Trivy)" in err.value.message


def test_project_errors_and_absent(world):
    with pytest.raises(HarborError) as err:
        manage(Project, world, **project_params(name="Team_A"))
    assert "Harbor accepts only lower-case project names" in err.value.message
    assert len(world.state["projects"]) == 1
    manager, result = manage(Project, world, check_mode=True, **project_params(auto_scan=True))
    assert manager.changed and result["auto_scan"] and len(world.state["projects"]) == 1
    manage(Project, world, **project_params())
    world.repos["team-a"] = ["app", "base"]
    with pytest.raises(HarborError) as err:
        manage(Project, world, **project_params(state="absent"))
    assert err.value.message == ("Harbor https://%s: project team-a: it holds 2 repositories; Harbor deletes only "
                                 "empty projects (delete its repositories first)" % world.endpoint)
    world.repos.clear()
    manager, _result = manage(Project, world, **project_params(state="absent"))
    assert manager.actions == ["delete project team-a"] and len(world.state["projects"]) == 1
    manager, _result = manage(Project, world, **project_params(state="absent"))
    assert not manager.changed


# -- scan all -----------------------------------------------------------------------------------------------
def test_scan_all_schedule(world):
    manager, result = manage(ScanAll, world, type="Daily", cron=None, state="present")
    assert manager.actions == ["schedule scan all Daily (0 0 0 * * *)"] and result["type"] == "Daily"
    manager, _result = manage(ScanAll, world, type="Daily", cron=None, state="present")
    assert not manager.changed
    manager, result = manage(ScanAll, world, type="Custom", cron="0 0 2 * * *", state="present")
    assert manager.changed and world.state["schedule"]["schedule"] == {"type": "Custom", "cron": "0 0 2 * * *"}
    with pytest.raises(HarborError) as err:
        manage(ScanAll, world, type="Custom", cron="0 2 * * *", state="present")
    assert "is not a cron Harbor accepts" in err.value.message
    manager, _result = manage(ScanAll, world, type="Daily", cron=None, state="absent")
    assert manager.actions == ["remove the scan-all schedule (Custom 0 0 2 * * *)"] and world.state["schedule"] is None
    manager, _result = manage(ScanAll, world, type="None", cron=None, state="present")
    assert not manager.changed


def test_scan_all_needs_a_default_scanner(world):
    world.scanner("Trivy")["is_default"] = False
    with pytest.raises(HarborError) as err:
        manage(ScanAll, world, type="Daily", cron=None, state="present")
    assert err.value.message == ("Harbor https://%s: scan-all schedule: Harbor %s: GET /api/v2.0/system/scanAll/"
                                 "schedule: HTTP 412: no scanner is configured, it's not possible to scan"
                                 % (world.endpoint, "https://" + world.endpoint))
