"""A test wallet for age credentials (used by the tests, the benchmark and a demo page).

It makes one key pair per credential it asks for, hands the public keys to an issuance
function, keeps each credential with its private key, and presents a credential once: the
Disclosures of the requested claim only, and a Key Binding JWT (RFC 9901 section 4.3:
``typ`` ``kb+jwt``, ``iat``, ``aud``, ``nonce``, ``sd_hash``) signed with that credential's
key. Then it forgets both, so no credential (and no key) is ever shown twice.

It holds everything in memory: a real wallet keeps the keys in the device's secure storage.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Literal

from dinhdanh.age.credentials.issuer import holder_jwk, thumbprint
from dinhdanh.age.credentials.sdjwt import (
    SdJwtError,
    digest,
    join,
    parse_disclosure,
    sd_hash,
    split,
)
from dinhdanh.age.credentials.verifier import KB_TYP
from dinhdanh.crypto.compact import decode
from dinhdanh.crypto.jose import JoseError, SigningKey, public_jwk, sign_jwt

HolderAlg = Literal["EdDSA", "ES256"]


class WalletError(ValueError):
    """The wallet can't store or present a credential."""


class Wallet:
    def __init__(self, alg: HolderAlg = "EdDSA") -> None:
        self.alg: HolderAlg = alg
        self._pending: dict[str, SigningKey] = {}  # thumbprint -> key not yet bound
        self._held: list[tuple[str, SigningKey]] = []  # (SD-JWT, its key), unused

    def __len__(self) -> int:
        return len(self._held)

    def holder_keys(self, n: int) -> list[dict[str, str]]:
        """``n`` fresh key pairs; their public JWKs go to the issuer, one per credential."""
        out = []
        for _ in range(n):
            seed = secrets.token_bytes(32)
            if self.alg == "EdDSA":
                key = SigningKey.from_ed25519_seed("holder", seed)
            else:
                key = SigningKey.from_p256_seed("holder", seed)
            jwk = holder_jwk(public_jwk(key))
            self._pending[thumbprint(jwk)] = key
            out.append(jwk)
        return out

    def request(self, issue: Callable[[list[dict[str, str]]], Sequence[str]], n: int = 10) -> int:
        """Ask ``issue`` (holder public keys -> credentials) for ``n`` credentials; store them."""
        credentials = issue(self.holder_keys(n))
        self.store(credentials)
        return len(credentials)

    def store(self, credentials: Sequence[str]) -> None:
        """Keep credentials bound to keys this wallet made; each Disclosure must be in it."""
        for credential in credentials:
            try:
                parts = split(credential)
                payload = decode(parts.jwt).claims()
                sd = set(payload["_sd"])
                bound = thumbprint(holder_jwk(payload["cnf"]["jwk"]))
                key = self._pending[bound]
            except (SdJwtError, JoseError, KeyError, TypeError, ValueError):
                raise WalletError("not a credential bound to a key of this wallet") from None
            if not all(digest(d) in sd for d in parts.disclosures):
                raise WalletError("a Disclosure of the credential is not in it")
            del self._pending[bound]
            self._held.append((credential, key))

    def present(
        self, claims: str | Collection[str], nonce: str, audience: str, now: datetime
    ) -> str:
        """An SD-JWT+KB of an unused credential disclosing only ``claims``; then forgotten."""
        wanted = {claims} if isinstance(claims, str) else set(claims)
        if not self._held:
            raise WalletError("no unused credential left: request a new batch")
        credential, key = self._held.pop(secrets.randbelow(len(self._held)))
        parts = split(credential)
        chosen = [d for d in parts.disclosures if parse_disclosure(d).name in wanted]
        sd_jwt = join(parts.jwt, chosen)
        kb = {"iat": int(now.timestamp()), "aud": audience, "nonce": nonce}
        kb["sd_hash"] = sd_hash(sd_jwt)
        return sd_jwt + sign_jwt(kb, key, typ=KB_TYP)
