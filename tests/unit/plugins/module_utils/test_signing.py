"""Unit tests for cosign-format signing keys (module_utils/signing.py) and the signing_key module."""

import base64
import hashlib
import json

import nacl.secret
import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.devsecops.multicluster.plugins.module_utils import signing
from ansible_collections.devsecops.multicluster.plugins.module_utils.cluster import ClusterError
from ansible_collections.devsecops.multicluster.plugins.module_utils.signing import (
    SigningError,
    check_pair,
    decrypt_private_key,
    generate,
    key_fingerprint,
    public_pem,
    sign,
    verify,
)
from ansible_collections.devsecops.multicluster.plugins.modules import signing_key
from fakes import Exit, Fail, FakeCluster, use_fake

PAYLOAD = b'{"critical":{"identity":{"docker-reference":"quay.example/devel/example"}}}'

# Real cosign key pairs (test data, not code).
#
# tektoncd/chains test/testdata/cosign.key, cosign.pub and cosign.password (the password is "p"), made with
# cosign and loaded by Chains' e2e tests through cosign.LoadPrivateKey; added in commit
# 94149897de14af67ba928845b65b1bc140dcafa6, read at e44b60fe65e6897e3784ae4cc7f5ffe39581529e.
CHAINS_KEY = """-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiJhSmdseUlMSUcyVUVrd0pDT1U2NHRyalovK0U4aWVR
YitzUktqNTdhb2VrPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJiZitHc0ZVVXF1WDM3MWEzWE1yUUF3RE9GaEpXNmZHViJ9LCJj
aXBoZXJ0ZXh0IjoiTUc1cG90azJ0Tit3Rml6bmg5K0FqazMzYWE1WWlJeHVUeDZB
VTM1YzhXczBaSmRPa1BnL2hpR09hdFdMaVVmaXIzYVBLc01pQ1plcW0xam5vU2Va
V21nT0s5djhpM2RMRVBKSmtqbjljdnI4KzludzZlUFhXSCtCWU1kSWNkS0dHaDA0
VkFhTzJUajJBc2l4Vk9MbmhoU1hueHJFaERFM2tZeFlhQWNsNldZMWhrZmM0SHY5
Z0hoV1VLZEFmdDMvS1J3RENSc2xHU2Q1RWc9PSJ9
-----END ENCRYPTED COSIGN PRIVATE KEY-----
"""
CHAINS_PUB = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBOiqYumsujclXOl4CGGdW46tRjs4
2oi8XEki9rNijnEekF6egMrTGZaHmbCTyz2B4VzdRZDD0/7TO4mHleqBDw==
-----END PUBLIC KEY-----
"""
CHAINS_PASSWORD = "p"

# sigstore/cosign pkg/cosign/keys_test.go (constants pemsigstorekey, pemcosignkey, pemcosigneckey; the password
# is "hello"), at commit d6d86c224e5899b54f56cbb063b79dc43abc11c2. cosign's own test expects the first two to
# load and the third (N=65536, an SEC 1 "EC PRIVATE KEY" inside, not PKCS #8) to fail parsing after decryption.
COSIGN_SIGSTORE_KEY = """-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"""
COSIGN_COSIGN_KEY = """-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiJ4WWdoc09JTUxUWGNOT0RsclNIOUNKc1FlOVFnZmN1
cmUrMXlLdHh1TlkwPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiI0cS9PSlVmaXJkSUkrUjZ0ajZBMmcyQ0JqL25xdFNicCJ9LCJj
aXBoZXJ0ZXh0IjoiKzB4Q3NzcFN0WStBczdKanJpOWtsbHBWd2JhcUI4ZWJNdWto
eS9aVE1MSXRsL3B1YS9jWVJvbytLRGxMWWdmOW1kSjk4K1FnQW9oTktoYnJPMTcw
MHdBY1JTMjFDOE4zQUNJRUVZaWpOMllBNnMraGJSbkhjUnd4eGhDMDFtb2FvL0dO
Y1pmbEJheXZMV3pXblo4d2NDZ2ZpT1o1VXlRTEFJMHh0dnR6dEh3cTdDV1Vhd3V4
RlhlNDZzck9TUE9SNHN6bytabWErUGovSFE9PSJ9
-----END ENCRYPTED COSIGN PRIVATE KEY-----"""
COSIGN_SEC1_KEY = """-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
OCwicCI6MX0sInNhbHQiOiJHK3F5WTYrNzhNS0JzMXNGTGs1ajYwcS9kS3Z1czBW
VkhlSHZybC9POTF3PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJRc2JGdG13WDRDK2ttV3ZCcVRaMEFGOUFYdk1jRmg1SCJ9LCJj
aXBoZXJ0ZXh0IjoiREM5T28zeldiYVQzSXYwdFVnWEdycjUxYW1samwwNlQ5MTNP
VkxPbWpuMWhnK2o2WXRUbWg3SGhZSlY1N2J5eGE0Q281bE9YYmRqbTJ3aklubEd1
Um5aZCt5OExnekpSNzFSeEhKVzgrWmRlcFJmYWJMTjdHbDgrSFZEcERVQ3NxQnRh
VngyblpGbFEwWUl1anZwbFphblNGaUVvdERLVGkxZ3VhUXIwUHNzYU01NXZxbTRY
WS9rPSJ9
-----END ENCRYPTED COSIGN PRIVATE KEY-----"""


@pytest.fixture(scope="module")
def pair():
    return generate()


def document_of(pem):
    """The JSON document inside an encrypted key's PEM block, and the PEM type."""
    lines = pem.strip().splitlines()
    return json.loads(base64.b64decode("".join(lines[1:-1]))), lines[0][len("-----BEGIN "):-len("-----")]


def repem(document, pem_type="ENCRYPTED COSIGN PRIVATE KEY"):
    return signing.pem_encode(pem_type, json.dumps(document).encode())


# -- the key format -----------------------------------------------------------------------------------------


def test_generate_decrypt_sign_verify(pair):
    key = decrypt_private_key(pair["cosign.key"], pair["cosign.password"])
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    signature = sign(key, PAYLOAD)
    assert verify(pair["cosign.pub"], PAYLOAD, signature)
    assert not verify(pair["cosign.pub"], PAYLOAD + b" ", signature)
    assert check_pair(pair) is None


def test_verify_with_another_key_fails(pair):
    other = generate()
    signature = sign(decrypt_private_key(other["cosign.key"], other["cosign.password"]), PAYLOAD)
    assert not verify(pair["cosign.pub"], PAYLOAD, signature)
    assert key_fingerprint(other["cosign.pub"]) != key_fingerprint(pair["cosign.pub"])


def test_wrong_password_is_a_signing_error_without_the_password(pair):
    wrong = "Wrong-Password-0123456789"
    with pytest.raises(SigningError) as err:
        decrypt_private_key(pair["cosign.key"], wrong)
    assert "wrong password" in str(err.value)
    assert wrong not in str(err.value) and pair["cosign.password"] not in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt"])
def test_tampered_key_is_refused(pair, field):
    document, _kind = document_of(pair["cosign.key"])
    where = document if field == "ciphertext" else document["cipher"] if field == "nonce" else document["kdf"]
    raw = bytearray(base64.b64decode(where[field]))
    raw[len(raw) // 2] ^= 0x01
    where[field] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SigningError, match="authentication failed"):
        decrypt_private_key(repem(document), pair["cosign.password"])


@pytest.mark.parametrize("change, message", [
    (lambda d: d["kdf"]["params"].update(N=1 << 20), "unsupported scrypt parameters N=1048576"),
    (lambda d: d["kdf"].update(name="pbkdf2"), "unknown key derivation 'pbkdf2'"),
    (lambda d: d["cipher"].update(name="aes-gcm"), "unknown cipher 'aes-gcm'"),
    (lambda d: d["cipher"].update(nonce=base64.b64encode(b"x" * 12).decode()), "the nonce is 12 bytes, not 24"),
    (lambda d: d.pop("ciphertext"), "malformed JSON parameters"),
    (lambda d: d.update(ciphertext="***"), "ciphertext is not valid base64"),
])
def test_malformed_key_is_refused(pair, change, message):
    document, _kind = document_of(pair["cosign.key"])
    change(document)
    with pytest.raises(SigningError, match=message.replace("(", r"\(")):
        decrypt_private_key(repem(document), pair["cosign.password"])


@pytest.mark.parametrize("pem, message", [
    ("not a key", "no PEM block found"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unsupported PEM type PRIVATE KEY"),
    ("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n",
     "not valid base64"),
    ("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n",
     "malformed JSON"),
])
def test_malformed_pem_is_refused(pem, message):
    with pytest.raises(SigningError, match=message):
        decrypt_private_key(pem, "whatever-password")


def test_format_is_what_cosign_expects(pair):
    pem = pair["cosign.key"]
    lines = pem.strip().splitlines()
    assert lines[0] == "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"
    assert lines[-1] == "-----END ENCRYPTED COSIGN PRIVATE KEY-----"
    assert all(len(line) == 64 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 64
    raw = base64.b64decode("".join(lines[1:-1]))
    document = json.loads(raw)
    # go-securesystemslib's json.Marshal: struct field order, compact, []byte as standard base64.
    assert raw.startswith(b'{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"')
    assert list(document) == ["kdf", "cipher", "ciphertext"]
    assert list(document["kdf"]) == ["name", "params", "salt"] and list(document["cipher"]) == ["name", "nonce"]
    assert document["cipher"]["name"] == "nacl/secretbox"
    salt = base64.b64decode(document["kdf"]["salt"], validate=True)
    nonce = base64.b64decode(document["cipher"]["nonce"], validate=True)
    ciphertext = base64.b64decode(document["ciphertext"], validate=True)
    assert len(salt) == 32 and len(nonce) == 24
    # Opened independently: scrypt then secretbox, the ciphertext being Go's Seal output (tag || ct, no nonce).
    box_key = hashlib.scrypt(pair["cosign.password"].encode(), salt=salt, n=32768, r=8, p=1, dklen=32,
                             maxmem=64 * 1024 * 1024)
    der = nacl.secret.SecretBox(box_key).decrypt(ciphertext, nonce)
    assert len(ciphertext) == len(der) + nacl.secret.SecretBox.MACBYTES
    key = serialization.load_der_private_key(der, None)
    assert der == key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    assert public_pem(key) == pair["cosign.pub"]
    assert pair["cosign.pub"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert len(base64.urlsafe_b64decode(pair["cosign.password"] + "=")) == 32
    assert set(pair) == {"cosign.key", "cosign.pub", "cosign.password"}


def test_fingerprint_is_sha256_of_the_subject_public_key_info(pair):
    der = serialization.load_pem_public_key(pair["cosign.pub"].encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_fingerprint(pair["cosign.pub"]) == "SHA256:" + hashlib.sha256(der).hexdigest()


def test_sigstore_pem_type_is_accepted(pair):
    document, _kind = document_of(pair["cosign.key"])
    key = decrypt_private_key(repem(document, "ENCRYPTED SIGSTORE PRIVATE KEY"), pair["cosign.password"])
    assert public_pem(key) == pair["cosign.pub"]


def test_known_answer_tekton_chains_test_key():
    data = {"cosign.key": CHAINS_KEY, "cosign.pub": CHAINS_PUB, "cosign.password": CHAINS_PASSWORD}
    assert check_pair(data) is None
    key = decrypt_private_key(CHAINS_KEY, CHAINS_PASSWORD)
    assert public_pem(key) == CHAINS_PUB
    assert verify(CHAINS_PUB, PAYLOAD, sign(key, PAYLOAD))
    with pytest.raises(SigningError, match="wrong password"):
        decrypt_private_key(CHAINS_KEY, "q")


def test_known_answer_cosign_test_keys():
    for pem in (COSIGN_SIGSTORE_KEY, COSIGN_COSIGN_KEY):
        key = decrypt_private_key(pem, "hello")
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert verify(public_pem(key), PAYLOAD, sign(key, PAYLOAD))
    # N=65536 opens (cosign's standard parameters), but like cosign the SEC 1 key inside is refused.
    with pytest.raises(SigningError, match="not PKCS #8"):
        decrypt_private_key(COSIGN_SEC1_KEY, "hello")


def test_check_pair_says_what_is_wrong(pair):
    other = generate()
    assert check_pair({"cosign.pub": pair["cosign.pub"]}) == "the record has no cosign.key and no cosign.password"
    assert check_pair(dict(pair, **{"cosign.pub": ""})) == "the record has no cosign.pub"
    assert check_pair(dict(pair, **{"cosign.pub": other["cosign.pub"]})) == \
        "cosign.pub is not the public key of cosign.key"
    assert check_pair(dict(pair, **{"cosign.pub": "junk"})) == "cosign.pub: no PEM block found"
    problem = check_pair(dict(pair, **{"cosign.password": other["cosign.password"]}))
    assert problem.startswith("cosign.key: cannot decrypt the private key: wrong password")
    assert other["cosign.password"] not in problem and pair["cosign.password"] not in problem


# -- the module ---------------------------------------------------------------------------------------------

RECORD = ("Secret", "devsecops-multicluster", "dev-east-chains-signing")


def run(args, expect=Exit):
    with patch_module_args(dict(args, cluster_name="lab-hub")):
        with pytest.raises(expect):
            signing_key.main()


@pytest.fixture
def hub(monkeypatch):
    fake = FakeCluster("hub")
    use_fake(monkeypatch, signing_key, fake)
    return fake


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: seen.append(text))
    return seen


def stored(hub):
    record = hub.objects[RECORD]
    return record, dict((k, base64.b64decode(v).decode()) for k, v in record["data"].items())


def assert_no_secret(result, data):
    text = json.dumps(result)
    for key in ("cosign.key", "cosign.password"):
        if data.get(key):
            assert data[key] not in text
    assert "PRIVATE KEY" not in text and "ciphertext" not in text


def test_module_creates_then_reuses(hub, module_io, warnings):
    run({"consumer": "dev-east"})
    record, data = stored(hub)
    assert module_io["changed"] is True and module_io["record"] == "devsecops-multicluster/dev-east-chains-signing"
    assert record["type"] == "Opaque" and set(data) == {"cosign.key", "cosign.pub", "cosign.password"}
    labels, notes = record["metadata"]["labels"], record["metadata"]["annotations"]
    assert labels["devsecops.multicluster/purpose"] == "chains-signing"
    assert labels["devsecops.multicluster/cluster"] == "dev-east"
    assert labels["devsecops.multicluster/credential"] == "signing-key"
    assert labels["app.kubernetes.io/managed-by"] == "devsecops.multicluster"
    assert notes["devsecops.multicluster/fingerprint"] == key_fingerprint(data["cosign.pub"])
    assert notes["devsecops.multicluster/created"] == module_io["created"]
    assert check_pair(data) is None
    assert module_io["public_key"] == data["cosign.pub"]
    assert module_io["fingerprint"] == key_fingerprint(data["cosign.pub"])
    assert module_io["previous_public_key"] == "" and module_io["previous_fingerprint"] == ""
    assert_no_secret(module_io, data)
    assert ("create", "Namespace", None, "devsecops-multicluster") in hub.writes

    writes = list(hub.writes)
    module_io.clear()
    run({"consumer": "dev-east", "_ansible_diff": True})
    assert module_io["changed"] is False and module_io["actions"] == [] and hub.writes == writes
    assert module_io["public_key"] == data["cosign.pub"] and module_io["created"] == notes[
        "devsecops.multicluster/created"]
    assert module_io["diff"]["before"] == module_io["diff"]["after"] == {
        "fingerprint": key_fingerprint(data["cosign.pub"]), "previous_fingerprint": None}
    assert_no_secret(module_io, data)
    assert warnings == []


def test_module_replaces_a_broken_record_with_a_warning(hub, module_io, warnings):
    run({"consumer": "dev-east"})
    _record, old = stored(hub)
    hub.objects[RECORD]["data"]["cosign.password"] = base64.b64encode(b"not-the-password-at-all").decode()
    module_io.clear()
    run({"consumer": "dev-east", "_ansible_diff": True})
    record, data = stored(hub)
    assert module_io["changed"] is True and check_pair(data) is None
    assert data["cosign.pub"] != old["cosign.pub"] and "cosign.pub.previous" not in data
    assert module_io["previous_public_key"] == ""
    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.startswith("signing key record devsecops-multicluster/dev-east-chains-signing: the recorded key "
                              "pair is unusable")
    assert "unusable" in warning and "wrong password" in warning and "not-the-password-at-all" not in warning
    assert module_io["actions"][0].startswith("replace the signing key pair for dev-east (the recorded key pair "
                                              "is unusable: cosign.key: cannot decrypt")
    assert "unusable" in record["metadata"]["annotations"]["devsecops.multicluster/reason"]
    assert_no_secret(module_io, data)
    assert "not-the-password-at-all" not in json.dumps(module_io)


def test_module_replaces_a_mismatched_public_key_keeping_the_true_one(hub, module_io, warnings):
    run({"consumer": "dev-east"})
    _record, old = stored(hub)
    hub.objects[RECORD]["data"]["cosign.pub"] = base64.b64encode(generate()["cosign.pub"].encode()).decode()
    module_io.clear()
    run({"consumer": "dev-east"})
    _record, data = stored(hub)
    assert check_pair(data) is None and data["cosign.pub.previous"] == old["cosign.pub"]
    assert module_io["previous_fingerprint"] == key_fingerprint(old["cosign.pub"])
    assert len(warnings) == 1 and "cosign.pub is not the public key of cosign.key" in warnings[0]


def test_module_rotates_keeping_the_previous_public_key(hub, module_io):
    run({"consumer": "dev-east", "purpose": "chains", "record_name": "chains-dev"})
    key = ("Secret", "devsecops-multicluster", "chains-dev")
    old = dict((k, base64.b64decode(v).decode()) for k, v in hub.objects[key]["data"].items())
    module_io.clear()
    run({"consumer": "dev-east", "purpose": "chains", "record_name": "chains-dev", "rotate": True,
         "_ansible_diff": True})
    record = hub.objects[key]
    data = dict((k, base64.b64decode(v).decode()) for k, v in record["data"].items())
    assert module_io["changed"] is True and check_pair(data) is None
    assert data["cosign.pub"] != old["cosign.pub"] and data["cosign.pub.previous"] == old["cosign.pub"]
    assert data["cosign.password"] != old["cosign.password"]
    notes = record["metadata"]["annotations"]
    assert notes["devsecops.multicluster/previous-fingerprint"] == key_fingerprint(old["cosign.pub"])
    assert notes["devsecops.multicluster/rotated"] == notes["devsecops.multicluster/created"]
    assert module_io["previous_public_key"] == old["cosign.pub"]
    assert module_io["fingerprint"] == key_fingerprint(data["cosign.pub"])
    assert module_io["diff"] == {
        "before": {"fingerprint": key_fingerprint(old["cosign.pub"]), "previous_fingerprint": None},
        "after": {"fingerprint": key_fingerprint(data["cosign.pub"]),
                  "previous_fingerprint": key_fingerprint(old["cosign.pub"])}}
    assert record["metadata"]["labels"]["devsecops.multicluster/purpose"] == "chains"
    # Images signed before the rotation still verify with the previous key.
    old_signature = sign(decrypt_private_key(old["cosign.key"], old["cosign.password"]), PAYLOAD)
    assert verify(data["cosign.pub.previous"], PAYLOAD, old_signature)
    assert not verify(data["cosign.pub"], PAYLOAD, old_signature)
    for secret in (old, data):
        assert_no_secret(module_io, secret)


def test_module_check_mode_writes_nothing(hub, module_io):
    run({"consumer": "dev-east", "_ansible_check_mode": True, "_ansible_diff": True})
    assert module_io["changed"] is True and hub.writes == [] and RECORD not in hub.objects
    assert module_io["public_key"] == "" and module_io["actions"][0].startswith("generate the signing key pair")
    assert module_io["diff"] == {"before": {}, "after": {"fingerprint": "(a new key pair)",
                                                         "previous_fingerprint": None}}
    run({"consumer": "dev-east"})
    _record, data = stored(hub)
    writes = list(hub.writes)
    for args in ({"rotate": True}, {"state": "absent"}):
        module_io.clear()
        run(dict(args, consumer="dev-east", _ansible_check_mode=True, _ansible_diff=True))
        assert module_io["changed"] is True and hub.writes == writes and stored(hub)[1] == data
        assert module_io["diff"]["before"]["fingerprint"] == key_fingerprint(data["cosign.pub"])
        assert_no_secret(module_io, data)


def test_module_absent_deletes_the_record(hub, module_io):
    run({"consumer": "dev-east"})
    _record, data = stored(hub)
    module_io.clear()
    run({"consumer": "dev-east", "state": "absent"})
    assert module_io["changed"] is True and RECORD not in hub.objects
    assert module_io["actions"] == ["delete signing key record devsecops-multicluster/dev-east-chains-signing"]
    assert_no_secret(module_io, data)
    module_io.clear()
    run({"consumer": "dev-east", "state": "absent"})
    assert module_io["changed"] is False and module_io["actions"] == []


def test_module_reuses_a_key_pair_cosign_made(hub, module_io):
    hub.add({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
             "metadata": {"name": "dev-east-chains-signing", "namespace": "devsecops-multicluster"},
             "data": dict((k, base64.b64encode(v.encode()).decode()) for k, v in (
                 ("cosign.key", CHAINS_KEY), ("cosign.pub", CHAINS_PUB), ("cosign.password", CHAINS_PASSWORD)))})
    run({"consumer": "dev-east"})
    assert module_io["changed"] is False and hub.writes == [] and module_io["public_key"] == CHAINS_PUB
    assert module_io["created"] == ""


class BrokenHub(FakeCluster):
    def get(self, api_version, kind, name, namespace=None):
        raise ClusterError("cluster %s: API server at https://hub.example:6443 unreachable while accessing Secret "
                           "%s/%s: connection refused" % (self.name, namespace, name))


def test_module_hub_failure_names_cluster_record_and_cause(monkeypatch, module_io):
    use_fake(monkeypatch, signing_key, BrokenHub("hub"))
    run({"consumer": "dev-east"}, expect=Fail)
    assert module_io["msg"] == ("cluster lab-hub: signing key record devsecops-multicluster/dev-east-chains-signing: "
                                "API server at https://hub.example:6443 unreachable while accessing Secret "
                                "devsecops-multicluster/dev-east-chains-signing: connection refused")
    assert module_io["actions"] == []


def test_module_forbidden_write_fails_without_secrets(hub, module_io, monkeypatch):
    def forbidden(api_version, kind, body, namespace=None):
        raise ClusterError("cluster %s: permission denied (HTTP 403) on %s %s/%s: secrets is forbidden" % (
            hub.name, kind, namespace, body["metadata"]["name"]))

    monkeypatch.setattr(hub, "create", forbidden)
    hub.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "devsecops-multicluster"}})
    run({"consumer": "dev-east"}, expect=Fail)
    assert module_io["msg"].startswith("cluster lab-hub: signing key record devsecops-multicluster/"
                                       "dev-east-chains-signing: permission denied (HTTP 403)")
    assert "PRIVATE KEY" not in json.dumps(module_io)


def test_module_documentation_is_valid_yaml():
    import yaml

    doc = yaml.safe_load(signing_key.DOCUMENTATION)
    spec = signing_key.argument_spec()
    for name, option in doc["options"].items():
        assert spec[name]["type"] == option["type"] and spec[name].get("default") == option.get("default")
    assert set(doc["options"]) == {"consumer", "purpose", "record_namespace", "record_name", "rotate", "state"}
    assert yaml.safe_load(signing_key.EXAMPLES) and set(yaml.safe_load(signing_key.RETURN)) == {
        "record", "public_key", "fingerprint", "previous_public_key", "previous_fingerprint", "created", "actions"}
