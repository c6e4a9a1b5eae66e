"""One age credential: an SD-JWT VC (RFC 9901; SD-JWT VC draft, ``typ`` ``dc+sd-jwt``). Pure.

The Issuer-signed JWT holds, in clear, only what every credential of the day shares or what
is the credential's own: ``iss``, ``iat`` (midnight UTC of the day of issue), ``exp``,
``vct`` (``urn:dinhdanh:vct:age:1``), ``cnf`` (the holder's public key, reduced to the members
RFC 7638 requires, so a wallet cannot slip an identifier into it), ``status`` (one random
status list entry) and ``_sd_alg``. The only selectively disclosable claims are
``age_over_13``, ``age_over_16`` and ``age_over_18``, always all three (true or false), so
the ``_sd`` array (sorted) has the same length in every credential and says nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dinhdanh.age.credentials.sdjwt import (
    DIGEST_ALG,
    digest,
    join,
    make_disclosure,
    new_salt,
)
from dinhdanh.crypto.compact import b64url, verifying_key
from dinhdanh.crypto.jose import JoseError, SigningKey, sign_jwt

VCT = "urn:dinhdanh:vct:age:1"
TYP = "dc+sd-jwt"
AGE_THRESHOLDS = (13, 16, 18)
AGE_CLAIMS = tuple(f"age_over_{n}" for n in AGE_THRESHOLDS)
HOLDER_ALGS = ("EdDSA", "ES256")
# RFC 7638 section 3.2: the members of a thumbprint, i.e. all a public key needs.
_REQUIRED = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


class HolderKeyError(ValueError):
    """A holder key can't be bound into a credential."""


def holder_jwk(jwk: Mapping[str, Any]) -> dict[str, str]:
    """The holder's public key as it goes into ``cnf.jwk``: an Ed25519 (EdDSA) or P-256
    (ES256) key, with only its required members. A private key is refused."""
    try:
        key = verifying_key(jwk)
    except JoseError as exc:
        raise HolderKeyError(str(exc)) from None
    if key.alg not in HOLDER_ALGS:
        raise HolderKeyError("a holder key is an Ed25519 or P-256 key")
    return {name: str(jwk[name]) for name in _REQUIRED[str(jwk["kty"])]}


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint of a key reduced by ``holder_jwk``."""
    canonical = json.dumps(dict(sorted(jwk.items())), separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class CredentialClaims:
    """What differs between credentials of one day: the values, the key, the status entry."""

    ages: Mapping[str, bool]
    holder: Mapping[str, str]  # from ``holder_jwk``
    status_uri: str
    status_idx: int


def build_credential(
    claims: CredentialClaims, *, issuer: str, iat: int, exp: int, key: SigningKey
) -> str:
    """The SD-JWT (compact, ending in ``~``) with one Disclosure per age claim."""
    disclosures = [make_disclosure(new_salt(), name, value) for name, value in claims.ages.items()]
    payload = {
        "iss": issuer,
        "iat": iat,
        "exp": exp,
        "vct": VCT,
        "cnf": {"jwk": dict(claims.holder)},
        "status": {"status_list": {"idx": claims.status_idx, "uri": claims.status_uri}},
        "_sd_alg": DIGEST_ALG,
        "_sd": sorted(digest(d) for d in disclosures),
    }
    return join(sign_jwt(payload, key, typ=TYP), disclosures)
