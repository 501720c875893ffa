"""Unit tests for module_utils/rest.py, central.py and quay.py against a local HTTPS server."""

import base64
import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.devsecops.multicluster.plugins.module_utils.central import Central, health
from ansible_collections.devsecops.multicluster.plugins.module_utils.quay import Quay
from ansible_collections.devsecops.multicluster.plugins.module_utils.rest import (
    RestClient,
    RestError,
    normalize_endpoint,
)
from fakes import FakeCluster


def _cert(subject, issuer_key, issuer_name, key, ca=False, sans=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pki(tmp_path):
    import ipaddress
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_key, ca_name, key,
                 sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca.public_bytes(serialization.Encoding.PEM).decode(), str(cert_file), str(key_file)


class Server:
    """Answers from a queue of (status, body) per path; records the requests."""

    def __init__(self, tmp_path):
        self.ca, cert, key = _pki(tmp_path)
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                server.requests.append((self.command, self.path, dict(self.headers), body))
                queue = server.routes.get((self.command, path)) or [(404, {"code": 5, "message": "not found"})]
                status, payload = queue.pop(0) if len(queue) > 1 else queue[0]
                if callable(payload):
                    status, payload = payload(self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.endpoint = "localhost:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def route(self, method, path, *answers):
        self.routes[(method, path)] = list(answers)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    srv.httpd.shutdown()


def test_normalize_endpoint():
    assert normalize_endpoint("central.example.com") == "https://central.example.com:443"
    assert normalize_endpoint("localhost:8443") == "https://localhost:8443"
    assert normalize_endpoint("https://c.example/") == "https://c.example:443"
    for bad in ("", "http://c.example", "c.example:abc"):
        with pytest.raises(ValueError):
            normalize_endpoint(bad)


def test_retries_5xx_then_succeeds(server):
    server.route("GET", "/v1/ping", (503, {"message": "busy"}), (503, {}), (200, {"status": "ok"}))
    sleeps = []
    client = RestClient("Central", server.endpoint, ca_pem=server.ca, sleep=sleeps.append)
    assert client.request("GET", "/v1/ping") == (200, {"status": "ok"})
    assert sleeps == [1.0, 2.0]


def test_5xx_gives_up_after_retries_naming_endpoint(server):
    server.route("GET", "/v1/ping", (500, {"message": "database down"}))
    client = RestClient("Central", server.endpoint, ca_pem=server.ca, retries=2, sleep=lambda s: None)
    with pytest.raises(RestError) as err:
        client.request("GET", "/v1/ping")
    assert err.value.status == 500
    assert "Central https://%s: GET /v1/ping: HTTP 500: database down" % server.endpoint == err.value.message
    assert len(server.requests) == 3


def test_4xx_is_not_retried_and_body_is_not_echoed(server):
    server.route("POST", "/v1/cluster-init/init-bundles", (409, {"code": 6, "message": "name already exists"}))
    client = RestClient("Central", server.endpoint, ca_pem=server.ca, sleep=lambda s: None)
    with pytest.raises(RestError) as err:
        client.request("POST", "/v1/cluster-init/init-bundles", body={"name": "s3cr3t-body"})
    assert err.value.status == 409 and "name already exists" in err.value.message
    assert "s3cr3t-body" not in err.value.message
    assert len(server.requests) == 1


def test_wrong_ca_fails_verification(server, tmp_path):
    (tmp_path / "other").mkdir()
    other_ca, _cert_file, _key_file = _pki(tmp_path / "other")
    client = RestClient("Central", server.endpoint, ca_pem=other_ca, sleep=lambda s: None)
    with pytest.raises(RestError) as err:
        client.request("GET", "/v1/ping")
    assert "TLS verification failed" in err.value.message and server.endpoint in err.value.message


def test_invalid_ca_pem():
    with pytest.raises(RestError) as err:
        RestClient("Central", "localhost:1", ca_pem="not a certificate")
    assert "not a valid PEM" in err.value.message


def test_unreachable_is_retried_then_reported():
    sleeps = []
    client = RestClient("Central", "localhost:1", retries=1, sleep=sleeps.append, timeout=2)
    with pytest.raises(RestError) as err:
        client.request("GET", "/v1/ping")
    assert "unreachable" in err.value.message and "after 2 attempts" in err.value.message
    assert err.value.status is None and sleeps == [1.0]


def _secret(namespace, name, **data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "data": dict((k, base64.b64encode(v.encode()).decode()) for k, v in data.items())}


def test_authentication_falls_back_from_refused_token_to_password_secret(server):
    hub = FakeCluster()
    hub.add(_secret("devsecops-multicluster", "hub-acs-automation", token="revoked-token-value"))
    hub.add(_secret("stackrox", "central-htpasswd", password="the-admin-password"))
    good = "Basic " + base64.b64encode(b"admin:the-admin-password").decode()
    server.route("GET", "/v1/auth/status", (200, lambda headers, body: (
        (200, {"userInfo": {"username": "admin"}}) if headers.get("Authorization") == good else
        (401, {"code": 16, "message": "credentials not found"}))))
    central = Central({"endpoint": server.endpoint, "ca": server.ca,
                       "token_secret": {"namespace": "devsecops-multicluster", "name": "hub-acs-automation"},
                       "password_secret": {"namespace": "stackrox", "name": "central-htpasswd"}}, cluster=hub)
    info = central.authenticate()
    assert info["userInfo"]["username"] == "admin"
    assert central.auth_source == "the password in Secret stackrox/central-htpasswd"
    assert "revoked-token-value" in central.secret_values and "the-admin-password" in central.secret_values


def test_authentication_failure_lists_every_source_without_values(server):
    hub = FakeCluster()
    server.route("GET", "/v1/auth/status", (401, {"code": 16, "message": "credentials not found"}))
    central = Central({"endpoint": server.endpoint, "ca": server.ca, "password": "wrong-password-1",
                       "password_secret": {"namespace": "stackrox", "name": "central-htpasswd"}}, cluster=hub)
    with pytest.raises(RestError) as err:
        central.authenticate()
    assert "the password given was refused (HTTP 401)" in err.value.message
    assert "Secret stackrox/central-htpasswd does not exist on cluster hub" in err.value.message
    assert "wrong-password-1" not in err.value.message


def test_no_credential_given(server):
    central = Central({"endpoint": server.endpoint, "ca": server.ca}, cluster=FakeCluster())
    with pytest.raises(RestError) as err:
        central.authenticate()
    assert "no credential given" in err.value.message


def test_crs_support_detection_and_crs_extended(server):
    central = Central({"endpoint": server.endpoint, "ca": server.ca, "token": "t0ken-value"})
    server.route("GET", "/v1/auth/status", (200, {"userInfo": {"username": "apitoken:t"}}))
    central.authenticate()
    server.route("GET", "/v1/cluster-init/crs", (404, {"message": "Not Found"}))
    assert central.crs_listing() is None
    server.route("GET", "/v1/cluster-init/crs", (200, {"items": [{"id": "a", "name": "dev"}]}))
    assert central.crs_listing() == [{"id": "a", "name": "dev"}]
    server.route("GET", "/v1/cluster-init/crs", (403, {"message": "not allowed"}))
    with pytest.raises(RestError):
        central.crs_listing()
    server.route("POST", "/v1/cluster-init/crs-extended", (200, {"meta": {"id": "x"}, "crs": ""}))
    central.generate_crs("dev", valid_for_seconds=86400, max_registrations=1)
    method, path, headers, body = server.requests[-1]
    assert json.loads(body) == {"name": "dev", "validFor": "86400s", "maxRegistrations": "1"}
    assert headers["Authorization"] == "Bearer t0ken-value"


def test_token_lookup_and_revocation_treat_404_as_gone(server):
    central = Central({"endpoint": server.endpoint, "ca": server.ca, "token": "t0ken-value"})
    server.route("GET", "/v1/apitokens/abc", (404, {"message": "not found"}))
    server.route("PATCH", "/v1/apitokens/revoke/abc", (404, {"message": "not found"}))
    assert central.api_token("abc") is None
    assert central.revoke_token("abc") is False


def test_health_summary():
    assert health(None) is None
    state = health({"id": "1", "name": "dev", "initBundleId": "b",
                    "healthStatus": {"overallHealthStatus": "HEALTHY", "sensorHealthStatus": "HEALTHY",
                                     "lastContact": "2026-01-01T00:00:00Z"}})
    assert state["overall"] == "HEALTHY" and state["collector"] == "UNINITIALIZED"
    assert state["registered_with"] == "b" and state["last_contact"] == "2026-01-01T00:00:00Z"


def test_find_cluster_on_a_central_bound_to_a_hub(server):
    central = Central({"endpoint": server.endpoint, "ca": server.ca, "token": "t0ken-value"}, cluster=FakeCluster())
    server.route("GET", "/v1/clusters", (200, {"clusters": [{"id": "1", "name": "dev"}]}))
    assert central.find_cluster("dev") == {"id": "1", "name": "dev"} and central.find_cluster("prod") is None


# -- Quay -----------------------------------------------------------------------------------------

def _quay_user(token_ok):
    def answer(headers, _body):
        if headers.get("Authorization") == "Bearer " + token_ok:
            return 200, {"username": "quayadmin", "super_user": True}
        return 401, {"detail": "Invalid bearer token", "error_message": "Invalid bearer token", "status": 401}
    return answer


def test_quay_tries_tokens_in_order_and_reads_the_secret_on_the_hub(server):
    hub = FakeCluster("hub")
    hub.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "quay-admin", "namespace": "ns"},
             "data": {"token": base64.b64encode(b"good-token").decode()}})
    server.route("GET", "/api/v1/user/", (200, _quay_user("good-token")))
    quay = Quay({"endpoint": server.endpoint, "ca": server.ca, "token": "stale-token",
                 "token_secret": {"namespace": "ns", "name": "quay-admin"}}, cluster=hub)
    info = quay.authenticate()
    assert info["username"] == "quayadmin" and quay.auth_source == "the token in Secret ns/quay-admin"
    assert quay.token == "good-token" and {"stale-token", "good-token"} <= set(quay.secret_values)
    assert quay.hostname == server.endpoint


def test_quay_refused_tokens_fail_naming_every_source(server):
    server.route("GET", "/api/v1/user/", (200, _quay_user("other")))
    quay = Quay({"endpoint": server.endpoint, "ca": server.ca, "token": "bad",
                 "token_secret": {"namespace": "ns", "name": "missing"}}, cluster=FakeCluster("hub"))
    with pytest.raises(RestError) as err:
        quay.authenticate()
    assert "authentication failed: the token given was refused (HTTP 401); Secret ns/missing does not exist" \
        in err.value.message
    with pytest.raises(RestError) as err:
        Quay({"endpoint": server.endpoint, "ca": server.ca}).authenticate()
    assert "no credential given" in err.value.message


def test_quay_paths_keep_robot_names_and_404_means_absent(server):
    server.route("GET", "/api/v1/organization/devel/robots/lab_dev", (200, {"name": "devel+lab_dev", "token": "T"}))
    server.route("PUT", "/api/v1/repository/devel/example/permissions/user/devel+lab_dev", (200, {"role": "read"}))
    server.route("GET", "/api/v1/repository/devel/example/permissions/user/devel+lab_dev",
                 (400, {"message": "No permission"}))
    server.route("DELETE", "/api/v1/organization/devel/applications/cid/tokens/u1", (404, {"detail": "Not Found"}))
    quay = Quay({"endpoint": server.endpoint, "ca": server.ca, "token": "t"})
    quay.use_token("t", "the token given")
    assert quay.robot("devel", "lab_dev")["token"] == "T"
    assert quay.organization("missing") is None
    assert quay.permission("devel", "example", "devel+lab_dev") is None
    quay.set_permission("devel", "example", "devel+lab_dev", "read")
    assert quay.delete_app_token("devel", "cid", "u1") is False
    method, path, headers, body = server.requests[-2]
    assert (method, path) == ("PUT", "/api/v1/repository/devel/example/permissions/user/devel+lab_dev")
    assert json.loads(body) == {"role": "read"} and headers["Authorization"] == "Bearer t"


def test_quay_initialize_and_its_refusals(server):
    server.route("POST", "/api/v1/user/initialize", (200, {"username": "quayadmin", "access_token": "A"}),
                 (400, {"message": "Cannot initialize user in a non-empty database"}))
    quay = Quay({"endpoint": server.endpoint, "ca": server.ca})
    assert quay.initialize("quayadmin", "pw-secret-123", "a@example.com")["access_token"] == "A"
    assert json.loads(server.requests[-1][3])["access_token"] is True
    with pytest.raises(RestError) as err:
        quay.initialize("quayadmin", "pw-secret-123", "a@example.com")
    assert err.value.status == 400 and "non-empty database" in err.value.message
    assert "pw-secret-123" not in err.value.message
