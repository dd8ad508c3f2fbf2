"""Certificates for the test cluster, made with the openssl command line.

One CA signs the API server's serving certificate and a client certificate per component,
each with the identity Kubernetes' bootstrap RBAC expects (the kubelet as
`system:node:<node>` in `system:nodes`, so the Node authorizer and NodeRestriction judge it
as they would on microk8s). Keys are P-256: they are made in milliseconds.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "2"  # a test cluster lives for minutes


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))


def certificate_authority(directory: Path) -> KeyPair:
    pair = KeyPair(directory / "ca.crt", directory / "ca.key")
    _key(pair.key)
    _openssl("req", "-x509", "-new", "-key", str(pair.key), "-out", str(pair.cert), "-days", DAYS,
             "-subj", "/CN=geostack-test-cluster-ca")
    return pair


def signed(ca: KeyPair, directory: Path, name: str, subject: str, usage: str,
           alt_names: tuple[str, ...] = ()) -> KeyPair:
    """A certificate for `subject` (/O=group/CN=user), `usage` serverAuth or clientAuth."""
    pair = KeyPair(directory / f"{name}.crt", directory / f"{name}.key")
    _key(pair.key)
    csr, extensions = directory / f"{name}.csr", directory / f"{name}.ext"
    lines = ["basicConstraints=CA:FALSE", "keyUsage=digitalSignature,keyEncipherment",
             f"extendedKeyUsage={usage}"]
    if alt_names:
        lines.append("subjectAltName=" + ",".join(alt_names))
    extensions.write_text("\n".join(lines) + "\n")
    _openssl("req", "-new", "-key", str(pair.key), "-out", str(csr), "-subj", subject)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
             "-days", DAYS, "-extfile", str(extensions), "-out", str(pair.cert))
    return pair


def service_account_keys(directory: Path) -> KeyPair:
    """The key the API server signs service account tokens with (cert: its public half)."""
    pair = KeyPair(directory / "sa.pub", directory / "sa.key")
    _key(pair.key)
    _openssl("pkey", "-in", str(pair.key), "-pubout", "-out", str(pair.cert))
    return pair
