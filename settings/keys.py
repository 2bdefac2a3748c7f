"""A development RSA key for signing JWTs, written once where it is kept (no Django needed: the
benchmark harness makes its own before any settings load)."""

from __future__ import annotations

import os
from pathlib import Path


def write_rsa_key(path: Path) -> None:
    """A new 2048-bit RSA private key in PKCS#8 PEM at ``path``, written atomically (concurrent
    first starts each write a whole key and one of them wins)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(pem)
    tmp.replace(path)
