"""Certificates and keys for the lab's apiservers and stand-ins.

One CA per lab run signs the apiservers' serving certificates, the admin client
certificates and the stand-ins' HTTPS certificates. Extensions follow what strict
X.509 verification expects (critical basicConstraints and keyUsage on the CA,
SKI/AKI, SANs for 127.0.0.1 and localhost on every leaf).
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)


def _name(common_name, organization=None, unit=None):
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _key_usage(ca):
    """CA: sign certificates and CRLs. Leaf (ECDSA): sign and agree keys."""
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=not ca, key_cert_sign=ca,
        crl_sign=ca, encipher_only=False, decipher_only=False,
    )


def _write(path, data, private=False):
    with open(path, "wb") as handle:
        handle.write(data)
    if private:
        os.chmod(path, 0o600)


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CA:
    """A certificate authority kept as a pair of PEM files."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @classmethod
    def generate(cls, common_name, validity=VALIDITY):
        """A new CA in memory."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def create(cls, directory, common_name):
        """A new CA saved as <directory>/ca.crt and ca.key."""
        ca = cls.generate(common_name)
        ca.save(directory)
        return ca

    @classmethod
    def load(cls, directory):
        with open(os.path.join(directory, "ca.crt"), "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(os.path.join(directory, "ca.key"), "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        return cls(cert, key)

    def save(self, directory):
        os.makedirs(directory, exist_ok=True)
        _write(os.path.join(directory, "ca.crt"), self.cert_pem)
        _write(os.path.join(directory, "ca.key"), _key_pem(self.key), private=True)

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self):
        return _key_pem(self.key)

    def leaf(self, common_name, organization=None, unit=None, server=False, client=False,
             hosts=("127.0.0.1", "localhost"), not_after=None):
        """A leaf certificate and its key as PEM bytes (SANs for `hosts` on server certificates)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization, unit))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(not_after or now + VALIDITY, self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if server:
            sans = []
            for host in hosts:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    sans.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    def issue(self, path_prefix, common_name, organization=None, server=False, client=False,
              hosts=("127.0.0.1", "localhost")):
        """Issue a leaf certificate; writes <prefix>.crt and <prefix>.key and returns both PEMs."""
        cert_pem, key_pem = self.leaf(common_name, organization, server=server, client=client, hosts=hosts)
        _write(path_prefix + ".crt", cert_pem)
        _write(path_prefix + ".key", key_pem, private=True)
        return cert_pem, key_pem


def service_account_keypair(path_prefix):
    """An RSA key pair for service-account token signing (<prefix>.key / <prefix>.pub)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(path_prefix + ".key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()), private=True)
    _write(path_prefix + ".pub", key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
