"""A software passkey for tests: an ES256 key that answers WebAuthn login ceremonies the way a
synced passkey does (user present and verified, signature counter always 0)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from dinhdanh.wiring import Container
from tests.auth.factories import add_passkey

_UP_UV = 0x01 | 0x04  # user present, user verified


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SoftPasskey:
    def __init__(self, cred_id: bytes = b"soft-passkey-1") -> None:
        self.cred_id = cred_id
        self._key = ec.generate_private_key(ec.SECP256R1())

    def cose_public_key(self) -> bytes:
        numbers = self._key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return bytes(cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y}))

    def register(self, c: Container, account_id: str, now: datetime) -> None:
        """Store the credential as a finished registration would."""
        add_passkey(
            c,
            account_id,
            _b64(self.cred_id),
            public_key=self.cose_public_key(),
            name="soft",
            created_at=now,
        )

    def answer(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """The browser's answer to ``navigator.credentials.get`` with these options."""
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": options["challenge"], "origin": origin}
        ).encode()
        auth_data = hashlib.sha256(options["rpId"].encode()).digest() + bytes([_UP_UV]) + b"\0" * 4
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": _b64(self.cred_id),
            "rawId": _b64(self.cred_id),
            "type": "public-key",
            "response": {
                "authenticatorData": _b64(auth_data),
                "clientDataJSON": _b64(client_data),
                "signature": _b64(signature),
            },
        }
