# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificates and keys for a loopback-only control plane (one CA, short-lived, never shared)."""

from __future__ import annotations

import datetime
import ipaddress
import os

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the caller
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

VALIDITY_DAYS = 365
CLIENT_IDENTITIES = {
    # file stem: (common name, organisation); bootstrap RBAC already binds these names.
    "admin": ("aphex-admin", "system:masters"),
    "kube-controller-manager": ("system:kube-controller-manager", None),
    "kube-scheduler": ("system:kube-scheduler", None),
}


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: str, data: bytes, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject, issuer, public_key, signing_key, *, ca=False, server_names=(), server_ips=(), client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    sans = [x509.DNSName(name) for name in server_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _name(common_name: str, organisation: str | None = None):
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        parts.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(parts)


def ensure_pki(directory: str, service_ip: str = "10.96.0.1") -> dict:
    """Create the CA, the API server's serving certificate, client certificates and the
    service-account signing key in `directory` unless they already exist. Returns file paths."""
    if not HAS_CRYPTOGRAPHY:
        raise RuntimeError(f"the Python library 'cryptography' is required: {CRYPTOGRAPHY_IMPORT_ERROR}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    paths = {
        "ca_cert": os.path.join(directory, "ca.crt"),
        "ca_key": os.path.join(directory, "ca.key"),
        "apiserver_cert": os.path.join(directory, "apiserver.crt"),
        "apiserver_key": os.path.join(directory, "apiserver.key"),
        "sa_key": os.path.join(directory, "sa.key"),
        "sa_pub": os.path.join(directory, "sa.pub"),
    }
    for stem in CLIENT_IDENTITIES:
        paths[f"{stem}_cert"] = os.path.join(directory, f"{stem}.crt")
        paths[f"{stem}_key"] = os.path.join(directory, f"{stem}.key")
    if all(os.path.exists(p) for p in paths.values()):
        return paths

    ca_key = _key()
    ca_name = _name("aphex-local-cluster-ca")
    ca_cert = _cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    _write(paths["ca_key"], _key_pem(ca_key), private=True)
    _write(paths["ca_cert"], ca_cert.public_bytes(serialization.Encoding.PEM))

    server_key = _key()
    server_cert = _cert(
        _name("kube-apiserver"), ca_name, server_key.public_key(), ca_key,
        server_names=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                      "kubernetes.default.svc.cluster.local"),
        server_ips=("127.0.0.1", service_ip))
    _write(paths["apiserver_key"], _key_pem(server_key), private=True)
    _write(paths["apiserver_cert"], server_cert.public_bytes(serialization.Encoding.PEM))

    for stem, (common_name, organisation) in CLIENT_IDENTITIES.items():
        key = _key()
        cert = _cert(_name(common_name, organisation), ca_name, key.public_key(), ca_key, client=True)
        _write(paths[f"{stem}_key"], _key_pem(key), private=True)
        _write(paths[f"{stem}_cert"], cert.public_bytes(serialization.Encoding.PEM))

    sa_key = _key()
    _write(paths["sa_key"], _key_pem(sa_key), private=True)
    sa_public = sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    _write(paths["sa_pub"], sa_public)
    return paths
