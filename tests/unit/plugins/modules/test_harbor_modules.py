"""Unit tests for the Harbor modules' entry points: idempotence, check mode, diff, results without secrets,
failures naming the cluster, Harbor and the object, never a traceback.

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
from ansible_collections.devsecops.multicluster.plugins.modules import (
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
        self.api = standin.HarborAPI("test", str(tmp_path / "harbor.json"), self._installed)
        self.server = _serve(standin.HarborServer(("127.0.0.1", 0), self.api, cert.decode(), key.decode()))
        self.adapter = _serve(standin.AdapterServer(("127.0.0.1", 0)))
        self.endpoint = "localhost:%d" % self.server.server_address[1]
        self.hub = FakeCluster("hub")
        self.hub.add(_secret(PASSWORD))
        self.hub.add({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "default-ingress-cert", "namespace": "openshift-config-managed"},
                      "data": {"ca-bundle.crt": self.ca}})

    def _installed(self):
        return (PASSWORD, "uid-1") if self.installed else (None, "no Secret harbor/harbor-admin")

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
