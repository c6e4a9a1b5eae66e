"""Per-operation cost of the crypto front and the audit chain, with peers where one exists.

    .venv/bin/python benchmarks/crypto.py [--seconds 1.0]

Each line is the median of 5 runs of as many calls as fit in --seconds / 5. Peers, timed in
the same run: the bare `cryptography` primitive under each of our operations (our framing
and key lookup cost the difference), and jwcrypto signing the same JWT claims with the same
key (jwcrypto supports ML-DSA natively; it is what platforms verify our tokens with).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwk, jws

from dinhdanh.auth.passwords import hash_password, verify_password
from dinhdanh.crypto import (
    blind_index,
    generate_keyring,
    open_sealed,
    seal,
    sign_hybrid,
    unwrap_key,
    verify_hybrid,
    wrap_key,
)
from dinhdanh.crypto.jose import SigningKey, public_jwk, sign_jwt
from dinhdanh.privacy.audit import GENESIS, entry_hash

RECORD = "001090012345|Nguyễn Văn An|1990-05-12|M||||+84912345678".encode()
CLAIMS = {
    "iss": "https://id.example.vn",
    "sub": "b3f1c2d4e5f60718293a4b5c6d7e8f90",
    "aud": "demo-platform",
    "iat": 1_790_000_000,
    "exp": 1_790_000_300,
    "acr": "urn:dinhdanh:loa:1",
    "age_over_16": True,
}


def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Median seconds per call over 5 runs."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    n = max(1, int(seconds / 5 / once))
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs)


def jwcrypto_signer(key: SigningKey) -> Callable[[], str]:
    private = jwk.JWK.from_pyca(key.private_key)
    payload = json.dumps(CLAIMS, separators=(",", ":"))

    def sign() -> str:
        token = jws.JWS(payload)
        token.add_signature(private, alg=key.alg, protected={"alg": key.alg, "kid": key.kid})
        return str(token.serialize(compact=True))

    return sign


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per operation")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    ring = generate_keyring()
    sealed = seal(ring, RECORD, b"citizen:x")
    signature = sign_hybrid(ring, RECORD)
    wrapped = wrap_key(ring, os.urandom(32))
    aes, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    mac_key = os.urandom(32)
    ed, mldsa = Ed25519PrivateKey.generate(), MLDSA65PrivateKey.generate()
    stored = hash_password("một mật khẩu dài và khó đoán")
    subject = str(uuid.uuid4())
    keys = {
        "EdDSA": SigningKey.from_ed25519_seed("ed", os.urandom(32)),
        "ES256": SigningKey.from_p256_seed("p256", os.urandom(32)),
        "ML-DSA-65": SigningKey.from_mldsa65_seed("mldsa", os.urandom(32)),
    }
    assert all(public_jwk(k)["alg"] == alg for alg, k in keys.items())

    rows: list[tuple[str, Callable[[], object], str, Callable[[], object] | None]] = [
        ("seal (AES-256-GCM, 60 B record)", lambda: seal(ring, RECORD, b"citizen:x"),
         "AESGCM.encrypt", lambda: aes.encrypt(nonce, RECORD, b"citizen:x")),
        ("open_sealed", lambda: open_sealed(ring, sealed, b"citizen:x"), "", None),
        ("blind_index (HMAC-SHA-256)", lambda: blind_index(ring, "001090012345", "id"),
         "hmac.digest", lambda: hmac.digest(mac_key, b"001090012345", hashlib.sha256)),
        ("sign_hybrid (Ed25519 + ML-DSA-65)", lambda: sign_hybrid(ring, RECORD),
         "Ed25519.sign + MLDSA65.sign", lambda: (ed.sign(RECORD), mldsa.sign(RECORD))),
        ("verify_hybrid", lambda: verify_hybrid(ring, RECORD, signature), "", None),
        ("wrap_key (X25519 + ML-KEM-768)", lambda: wrap_key(ring, os.urandom(32)), "", None),
        ("unwrap_key", lambda: unwrap_key(ring, wrapped), "", None),
        ("audit entry hash", lambda: entry_hash(GENESIS, 1, "2026-01-01T00:00:00.000000",
         "cli:root", "registry_import", "import", "create", subject, "id_number"), "", None),
        ("Argon2id hash (m=19 MiB, t=2, p=1)", lambda: hash_password("một mật khẩu dài"),
         "", None),
        ("Argon2id verify", lambda: verify_password(stored, "một mật khẩu dài và khó đoán"),
         "", None),
    ]  # fmt: skip
    for alg, key in keys.items():
        rows.append(
            (f"sign_jwt {alg}", lambda k=key: sign_jwt(CLAIMS, k), "jwcrypto", jwcrypto_signer(key))  # type: ignore[misc]
        )

    results = []
    print(f"{'operation':40} {'ours':>12} {'peer':>12}  peer")
    for name, ours, peer_name, peer in rows:
        t = per_call(ours, args.seconds)
        p = per_call(peer, args.seconds) if peer else None
        peer_us = round(p * 1e6, 2) if p else None
        results.append({"operation": name, "us": round(t * 1e6, 2), "peer": peer_name or None,
                        "peer_us": peer_us})  # fmt: skip
        shown = f"{p * 1e6:10.1f} µs" if p else f"{'':>12}"
        print(f"{name:40} {t * 1e6:9.1f} µs {shown}  {peer_name}")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
