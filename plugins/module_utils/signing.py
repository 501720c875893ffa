# -*- coding: utf-8 -*-
# Copyright: (c) 2026, devsecops.multicluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signing key pairs in the format cosign writes and Tekton Chains reads, made without the cosign binary.

Tekton Chains signs with the key pair of its `signing-secrets` Secret: `cosign.key` (the encrypted
private key), `cosign.password` (its password) and `cosign.pub` (for verifiers). The format is the
one of sigstore/cosign (pkg/cosign/keys.go) and go-securesystemslib's `encrypted` package:

* the private key is an ECDSA P-256 key, DER-encoded as PKCS #8;
* it is encrypted with NaCl secretbox (XSalsa20-Poly1305, random 24-byte nonce; the ciphertext is
  the authenticator followed by the encrypted bytes, without the nonce) under a 32-byte key derived
  from the password with scrypt (random 32-byte salt);
* the parameters travel as JSON - {"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt"},
  "cipher": {"name": "nacl/secretbox", "nonce"}, "ciphertext"}, byte strings in standard base64 -
  inside a PEM block of type ENCRYPTED COSIGN PRIVATE KEY (cosign 2 and later also write and read
  ENCRYPTED SIGSTORE PRIVATE KEY; Chains' documentation asks for the COSIGN type);
* the public key is a PEM PUBLIC KEY (PKIX SubjectPublicKeyInfo).

New keys use scrypt N=32768, r=8, p=1: the only parameters that cosign versions built on go-tuf's
`encrypted` package accept; later versions accept them too, and N=65536 and N=131072 (r=8, p=1),
which are accepted here when opening a key. Any other parameters are refused before scrypt runs,
as upstream does, so a tampered record cannot make the module spend unbounded memory.

`SigningKey` keeps one such key pair recorded on the hub (DESIGN section 5): minted once, reused,
rotated on request (the previous public key stays in the record as `cosign.pub.previous`), replaced
when the record is unusable, deleted on request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
import os
import re
import secrets

try:
    import nacl.exceptions
    import nacl.secret
    HAS_NACL = True
    NACL_IMPORT_ERROR = None
except ImportError as _err:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_NACL = False
    NACL_IMPORT_ERROR = str(_err)

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _err:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = str(_err)

from ansible_collections.devsecops.multicluster.plugins.module_utils.credentials import (
    ANNOTATION,
    annotation,
    iso,
    record_body,
    utcnow,
    write_record,
)

COSIGN_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"
SIGSTORE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
PRIVATE_PEM_TYPES = (COSIGN_PEM_TYPE, SIGSTORE_PEM_TYPE)
PUBLIC_PEM_TYPE = "PUBLIC KEY"
KDF_NAME = "scrypt"
CIPHER_NAME = "nacl/secretbox"
# (N, r, p): what new keys use, and every set go-securesystemslib accepts (legacy, standard, OWASP).
SCRYPT_PARAMS = (32768, 8, 1)
ACCEPTED_SCRYPT_PARAMS = ((32768, 8, 1), (65536, 8, 1), (131072, 8, 1))
SALT_SIZE = 32
NONCE_SIZE = 24
BOX_KEY_SIZE = 32
PASSWORD_BYTES = 32

KEY = "cosign.key"
PUB = "cosign.pub"
PASSWORD = "cosign.password"
PREVIOUS_PUB = "cosign.pub.previous"

KIND = "signing-key"
DEFAULT_PURPOSE = "chains-signing"
DEFAULT_NAMESPACE = "devsecops-multicluster"


class SigningError(ValueError):
    """A key that cannot be made, opened or used; the message never holds a password or key material."""


def _require():
    missing = [name for name, present in (("PyNaCl", HAS_NACL), ("cryptography", HAS_CRYPTOGRAPHY)) if not present]
    if missing:
        raise SigningError("the Python libraries %s are required for cosign keys" % " and ".join(missing))


def _bytes(value):
    return value.encode("utf-8") if not isinstance(value, bytes) else value


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _unb64(text, what):
    try:
        return base64.b64decode(_bytes(text), validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise SigningError("the %s is not valid base64" % what)


def pem_encode(pem_type, der):
    """A PEM block (64-character lines, no headers) as Go's encoding/pem writes it."""
    body = _b64(der)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (pem_type, "\n".join(lines), pem_type)


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


def pem_decode(pem, types):
    """(type, DER bytes) of the first PEM block; SigningError unless its type is one of `types`."""
    match = _PEM.search(_text(pem or "") or "")
    if match is None:
        raise SigningError("no PEM block found")
    if match.group(1) not in types:
        raise SigningError("unsupported PEM type %s (expected %s)" % (match.group(1), " or ".join(types)))
    body = match.group(2)
    if ":" in body:
        raise SigningError("PEM headers are not supported in a %s block" % match.group(1))
    return match.group(1), _unb64("".join(body.split()), "%s PEM block" % match.group(1))


def new_password():
    """A random password: 32 bytes as URL-safe base64 text."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _scrypt(password, salt, params):
    n, r, p = params
    # hashlib.scrypt refuses more than 32 MiB unless told: allow what these parameters need, no more.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(_bytes(password), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=BOX_KEY_SIZE)


def encrypt_private_key(private_key, password, pem_type=COSIGN_PEM_TYPE):
    """The encrypted PEM of a private key, as `cosign generate-key-pair` writes it."""
    _require()
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    sealed = nacl.secret.SecretBox(_scrypt(password, salt, SCRYPT_PARAMS)).encrypt(der, nonce)
    n, r, p = SCRYPT_PARAMS
    document = {"kdf": {"name": KDF_NAME, "params": {"N": n, "r": r, "p": p}, "salt": _b64(salt)},
                "cipher": {"name": CIPHER_NAME, "nonce": _b64(nonce)},
                "ciphertext": _b64(sealed.ciphertext)}
    return pem_encode(pem_type, json.dumps(document, separators=(",", ":")).encode("ascii"))


def _is_pkcs8(der):
    """True for a PKCS #8 PrivateKeyInfo (version, then an AlgorithmIdentifier SEQUENCE); cosign accepts
    nothing else inside the encryption, not a SEC 1 EC PRIVATE KEY nor a PKCS #1 RSA key."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    pos = 2
    if der[1] & 0x80:
        pos += der[1] & 0x7F
    return der[pos:pos + 2] == b"\x02\x01" and der[pos + 2:pos + 3] in (b"\x00", b"\x01") \
        and der[pos + 3:pos + 4] == b"\x30"


def decrypt_private_key(pem, password):
    """The private key of an encrypted cosign PEM (COSIGN or SIGSTORE type) opened with its password."""
    _require()
    _kind, blob = pem_decode(pem, PRIVATE_PEM_TYPES)
    try:
        document = json.loads(blob.decode("utf-8"))
        kdf, cipher = document["kdf"], document["cipher"]
        params = (int(kdf["params"]["N"]), int(kdf["params"]["r"]), int(kdf["params"]["p"]))
        salt, nonce, sealed = kdf["salt"], cipher["nonce"], document["ciphertext"]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise SigningError("the private key is not an encrypted cosign key (malformed JSON parameters)")
    if kdf.get("name") != KDF_NAME:
        raise SigningError("unknown key derivation %r (expected %s)" % (kdf.get("name"), KDF_NAME))
    if cipher.get("name") != CIPHER_NAME:
        raise SigningError("unknown cipher %r (expected %s)" % (cipher.get("name"), CIPHER_NAME))
    if params not in ACCEPTED_SCRYPT_PARAMS:
        raise SigningError("unsupported scrypt parameters N=%d, r=%d, p=%d" % params)
    nonce = _unb64(nonce, "nonce")
    if len(nonce) != NONCE_SIZE:
        raise SigningError("the nonce is %d bytes, not %d" % (len(nonce), NONCE_SIZE))
    box = nacl.secret.SecretBox(_scrypt(password, _unb64(salt, "salt"), params))
    try:
        der = box.decrypt(_unb64(sealed, "ciphertext"), nonce)
    except nacl.exceptions.CryptoError:
        raise SigningError("cannot decrypt the private key: wrong password, or the key was altered "
                           "(authentication failed)")
    if not _is_pkcs8(der):
        raise SigningError("the decrypted private key is not PKCS #8 (cosign reads no other encoding)")
    try:
        return serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise SigningError("the decrypted private key cannot be parsed")


def public_pem(key):
    """PEM PUBLIC KEY text of a private or public key object."""
    _require()
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) \
        .decode("ascii")


def public_key_of(pem):
    """The public key object of a PEM PUBLIC KEY (SigningError when it is not one)."""
    _require()
    _kind, der = pem_decode(pem, (PUBLIC_PEM_TYPE,))
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise SigningError("the PUBLIC KEY PEM block does not hold a public key")


def key_fingerprint(pem):
    """SHA256:<hex> of the DER SubjectPublicKeyInfo of a PEM PUBLIC KEY."""
    _kind, der = pem_decode(pem, (PUBLIC_PEM_TYPE,))
    return "SHA256:%s" % hashlib.sha256(der).hexdigest()


def generate(password=None):
    """A new ECDSA P-256 key pair as the data of a Chains signing-secrets Secret (plain text values)."""
    _require()
    password = password or new_password()
    private_key = ec.generate_private_key(ec.SECP256R1())
    return {KEY: encrypt_private_key(private_key, password), PUB: public_pem(private_key), PASSWORD: password}


def sign(private_key, payload):
    """ECDSA-SHA256 signature (ASN.1 DER), as cosign makes with a P-256 key."""
    _require()
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise SigningError("only ECDSA keys can sign here")
    return private_key.sign(_bytes(payload), ec.ECDSA(hashes.SHA256()))


def verify(public_key_pem, payload, signature):
    """True when `signature` is the ECDSA-SHA256 signature of `payload` by the key of `public_key_pem`."""
    public = public_key_of(public_key_pem)
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise SigningError("only ECDSA public keys can verify here")
    try:
        public.verify(signature, _bytes(payload), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def inspect_pair(data):
    """(why the key pair in `data` cannot be used or None, public PEM of its private key or None).

    `data` holds plain text values (cosign.key, cosign.pub, cosign.password). The public key of the
    private key is returned whenever the private key opens, so a caller can keep it for verifiers.
    """
    missing = [key for key in (KEY, PASSWORD, PUB) if not (data or {}).get(key)]
    if KEY in missing or PASSWORD in missing:
        return "the record has no %s" % " and no ".join(k for k in missing if k != PUB), None
    try:
        derived = public_pem(decrypt_private_key(data[KEY], data[PASSWORD]))
    except SigningError as err:
        return "%s: %s" % (KEY, err), None
    if PUB in missing:
        return "the record has no %s" % PUB, derived
    try:
        recorded = public_key_of(data[PUB])
    except SigningError as err:
        return "%s: %s" % (PUB, err), derived
    if public_pem(recorded) != derived:
        return "%s is not the public key of %s" % (PUB, KEY), derived
    return None, derived


def check_pair(data):
    """None when the key, password and public key in `data` (plain text) belong together, else why not."""
    return inspect_pair(data)[0]


def _decode_data(record):
    """Plain text values of a record's data; values that are not UTF-8 text are left out."""
    plain = {}
    for key, value in ((record or {}).get("data") or {}).items():
        try:
            plain[key] = base64.b64decode(value or "").decode("utf-8")
        except (binascii.Error, TypeError, ValueError):
            continue
    return plain


def _fingerprint_or_none(pem):
    try:
        return key_fingerprint(pem) if pem else None
    except SigningError:
        return None


def dns_name(text):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9.-]", "-", (text or "").lower())).strip("-.")


class SigningKey(object):
    """One cosign key pair for one consumer and purpose, recorded in a labelled Secret on the hub."""

    def __init__(self, hub, params, check_mode=False):
        self.hub = hub
        self.consumer = params["consumer"]
        if not self.consumer:
            raise SigningError("consumer must name the cluster the key signs for")
        self.purpose = params.get("purpose") or DEFAULT_PURPOSE
        self.namespace = params.get("record_namespace") or DEFAULT_NAMESPACE
        self.name = params.get("record_name") or dns_name("%s-%s" % (self.consumer, self.purpose))
        self.check_mode = check_mode
        self.changed = False
        self.actions = []
        self.warnings = []
        self.secret_values = []
        self.before = None
        self.after = None

    @property
    def where(self):
        return "signing key record %s/%s" % (self.namespace, self.name)

    def _act(self, text):
        self.changed = True
        self.actions.append(text)

    def _summary(self, public=None, previous=None, created=None):
        return {"record": "%s/%s" % (self.namespace, self.name), "public_key": public or "",
                "fingerprint": _fingerprint_or_none(public) or "", "previous_public_key": previous or "",
                "previous_fingerprint": _fingerprint_or_none(previous) or "", "created": created or ""}

    @staticmethod
    def _diff_view(summary):
        return {"fingerprint": summary["fingerprint"] or None,
                "previous_fingerprint": summary["previous_fingerprint"] or None}

    def _remember_secrets(self, data):
        # Short values would mask unrelated text in the output; they are never output anyway.
        self.secret_values.extend(v for v in (data.get(KEY), data.get(PASSWORD)) if v and len(v) >= 8)

    def present(self, rotate=False):
        record = self.hub.get("v1", "Secret", self.name, self.namespace)
        data = _decode_data(record)
        self._remember_secrets(data)
        if record is not None:
            self.before = self._diff_view(self._summary(data.get(PUB), data.get(PREVIOUS_PUB)))
        problem, derived = (None, None) if record is None else inspect_pair(data)
        if record is not None and problem is None and not rotate:
            self.after = self.before
            return self._summary(data.get(PUB), data.get(PREVIOUS_PUB), annotation(record, "created"))
        if record is None:
            reason = "no signing key is recorded"
        elif problem:
            reason = "the recorded key pair is unusable: %s" % problem
            self.warnings.append("%s: %s; a new key pair replaces it%s" % (
                self.where, reason, "" if derived else
                " (the recorded public key cannot be vouched for by its private key and is not kept)"))
        else:
            reason = "rotation requested"
        return self._mint(record, reason, previous=derived, rotated=bool(rotate and record is not None))

    def _mint(self, record, reason, previous, rotated):
        verb = "rotate" if rotated else ("replace" if record is not None else "generate")
        self._act("%s the signing key pair for %s (%s) in %s" % (verb, self.consumer, reason, self.where))
        if previous:
            self.actions.append("keep the previous public key (%s) as %s" % (key_fingerprint(previous), PREVIOUS_PUB))
        if self.check_mode:
            summary = self._summary(previous=previous)
            self.after = dict(self._diff_view(summary), fingerprint="(a new key pair)")
            return summary
        pair = generate()
        self._remember_secrets(pair)
        now = iso(utcnow())
        annotations = {ANNOTATION + "created": now, ANNOTATION + "fingerprint": key_fingerprint(pair[PUB]),
                       ANNOTATION + "reason": reason}
        data = dict(pair)
        if rotated:
            annotations[ANNOTATION + "rotated"] = now
        if previous:
            data[PREVIOUS_PUB] = previous
            annotations[ANNOTATION + "previous-fingerprint"] = key_fingerprint(previous)
        encoded = dict((k, _b64(_bytes(v))) for k, v in data.items())
        if record is not None and not previous:
            # A merge patch keeps what it does not name: drop a previous key nobody can vouch for.
            encoded[PREVIOUS_PUB] = None
            annotations[ANNOTATION + "previous-fingerprint"] = None
        body = record_body(self.namespace, self.name, self.purpose, self.consumer, KIND, annotations, encoded)
        if record is None:
            body["data"] = dict((k, v) for k, v in encoded.items() if v is not None)
        write_record(self.hub, record, body)
        summary = self._summary(pair[PUB], previous, now)
        self.after = self._diff_view(summary)
        return summary

    def absent(self):
        record = self.hub.get("v1", "Secret", self.name, self.namespace)
        if record is not None:
            data = _decode_data(record)
            self._remember_secrets(data)
            self.before = self._diff_view(self._summary(data.get(PUB), data.get(PREVIOUS_PUB)))
            self.after = {}
            self._act("delete %s" % self.where)
            if not self.check_mode:
                self.hub.delete("v1", "Secret", self.name, self.namespace)
        return self._summary()
