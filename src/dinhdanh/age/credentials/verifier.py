"""Verifying an age presentation: an SD-JWT+KB (RFC 9901 section 7) of our SD-JWT VC.

``verify_presentation(presentation, nonce, audience, now, claims=..., trust=...)`` returns the
requested claims or raises ``PresentationRejected`` whose ``code`` names the first check that
failed, in this order:

1. the serialization: a JWT, Disclosures, then a KB-JWT (RFC 9901 section 4; key binding is
   required) - ``presentation_malformed``, ``key_binding_missing``;
2. the Issuer-signed JWT (section 7.1 step 2; SD-JWT VC draft section 3): ``typ``
   ``dc+sd-jwt`` and our ``vct`` (``credential_type_invalid``), the key named by ``kid`` in
   the issuer's JWK Set, whose type fixes the algorithm (``issuer_key_unknown``), the
   signature (``issuer_signature_invalid``), ``iss`` (``issuer_mismatch``), ``exp``
   (``credential_expired``), ``nbf`` and ``iat`` (``credential_not_yet_valid``), and the
   shape of ``_sd``, ``_sd_alg``, ``cnf``, ``status`` (``credential_malformed``);
3. the Disclosures (section 7.1 step 3): each well formed (``disclosure_invalid``), its
   digest in ``_sd`` (``disclosure_not_referenced``) and not given twice
   (``disclosure_duplicate``); the disclosed claims are exactly those requested
   (``claim_missing``, ``claim_not_requested``);
4. the KB-JWT (section 7.3): ``cnf.jwk`` usable (``holder_key_invalid``), ``typ`` ``kb+jwt``
   and its signature by that key (``key_binding_invalid``), ``nonce`` (``nonce_mismatch``),
   ``aud`` (``audience_mismatch``), ``iat`` within ``kb_max_age`` before ``now`` and at most
   ``skew`` after (``key_binding_stale``), ``sd_hash`` (``sd_hash_mismatch``);
5. the status list entry (Token Status List section 8), through ``trust.status``
   (``status_unavailable``, ``credential_revoked``).

The hot path parses each part once and verifies with keys built in advance (``Trust``);
only the holder key, which differs in every credential, is built per call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dinhdanh.age.credentials.errors import PresentationRejected, StatusUnavailable
from dinhdanh.age.credentials.issuer import TYP, VCT
from dinhdanh.age.credentials.keys import verifying_keys
from dinhdanh.age.credentials.sdjwt import DIGEST_ALG, SdJwtError, digest, parse_disclosure
from dinhdanh.age.statuslist import VALID, StatusSource
from dinhdanh.crypto.compact import Compact, VerifyingKey, decode, verifying_key
from dinhdanh.crypto.jose import JoseError

__all__ = ["KB_TYP", "AgeProof", "Trust", "verify_presentation"]

KB_TYP = "kb+jwt"
MAX_PRESENTATION = 32_768  # characters; an ML-DSA-65 one is about 7,000


@dataclass(frozen=True, slots=True)
class Trust:
    """What a verifier trusts: one issuer, its keys by kid, and where statuses come from."""

    issuer: str
    keys: Mapping[str, VerifyingKey]
    status: StatusSource
    kb_max_age: int = 300  # seconds a KB-JWT's iat may lie before now
    skew: int = 60  # seconds of clock difference tolerated ahead of now
    vct: str = VCT

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, Any], status: StatusSource, **options: Any
    ) -> Trust:
        """From SD-JWT VC issuer metadata (``/.well-known/jwt-vc-issuer``): issuer, jwks."""
        return cls(metadata["issuer"], verifying_keys(metadata["jwks"]), status, **options)


@dataclass(frozen=True, slots=True)
class AgeProof:
    claims: dict[str, bool]  # the requested claims and their values
    issuer: str
    alg: str  # the issuer's signature algorithm
    expires_at: int  # the credential's exp


def _reject(code: str, detail: str) -> PresentationRejected:
    return PresentationRejected(code, detail)


def _time(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _reject("credential_malformed", f"{name} must be an integer")
    return value


def _decode(part: str, what: str, code: str) -> tuple[Compact, dict[str, Any]]:
    try:
        jws = decode(part)
        return jws, jws.claims()
    except JoseError as exc:
        raise _reject(code, f"the {what} is malformed: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Credential:
    payload: dict[str, Any]
    alg: str
    exp: int
    cnf: dict[str, Any]
    status_uri: str
    status_idx: int


def _issuer_signed(part: str, trust: Trust, t: int) -> _Credential:
    jws, payload = _decode(part, "issuer-signed JWT", "presentation_malformed")
    if jws.header.get("typ") != TYP:
        raise _reject("credential_type_invalid", f"the credential is not typed {TYP}")
    key = trust.keys.get(str(jws.header.get("kid")))
    if key is None or jws.header.get("alg") != key.alg:
        raise _reject("issuer_key_unknown", "no issuer key with that kid and algorithm")
    if not key.verify(jws.signing_input, jws.signature):
        raise _reject("issuer_signature_invalid", "the issuer signature does not verify")
    if payload.get("vct") != trust.vct:
        raise _reject("credential_type_invalid", "the credential is of another type (vct)")
    if payload.get("iss") != trust.issuer:
        raise _reject("issuer_mismatch", "the credential is from another issuer")
    exp, nbf, iat = _time(payload, "exp"), _time(payload, "nbf"), _time(payload, "iat")
    if exp is None:
        raise _reject("credential_malformed", "exp is required")
    if t >= exp:
        raise _reject("credential_expired", "the credential has expired")
    if (nbf is not None and nbf > t + trust.skew) or (iat is not None and iat > t + trust.skew):
        raise _reject("credential_not_yet_valid", "the credential is not valid yet")
    sd = payload.get("_sd")
    if (
        not isinstance(sd, list)
        or not all(isinstance(d, str) for d in sd)
        or len(set(sd)) != len(sd)
        or payload.get("_sd_alg", DIGEST_ALG) != DIGEST_ALG
    ):
        raise _reject("credential_malformed", "_sd must be distinct sha-256 digests")
    cnf, status = payload.get("cnf"), payload.get("status")
    entry = status.get("status_list") if isinstance(status, dict) else None
    if (
        not isinstance(cnf, dict)
        or not isinstance(entry, dict)
        or not isinstance(entry.get("uri"), str)
        or not isinstance(entry.get("idx"), int)
        or isinstance(entry.get("idx"), bool)
        or entry["idx"] < 0
    ):
        raise _reject("credential_malformed", "cnf and status.status_list are required")
    return _Credential(payload, key.alg, exp, cnf, entry["uri"], entry["idx"])


def _disclosed(disclosures: list[str], credential: _Credential) -> dict[str, bool]:
    payload = credential.payload
    referenced = frozenset(payload["_sd"])
    seen: set[str] = set()
    out: dict[str, bool] = {}
    for disclosure in disclosures:
        d = digest(disclosure)
        if d in seen:
            raise _reject("disclosure_duplicate", "a Disclosure is given twice")
        seen.add(d)
        if d not in referenced:
            raise _reject("disclosure_not_referenced", "a Disclosure is not in the credential")
        try:
            parsed = parse_disclosure(disclosure)
        except SdJwtError as exc:
            raise _reject("disclosure_invalid", str(exc)) from None
        name = parsed.name
        if name is None or name in payload or name in out:
            raise _reject("disclosure_invalid", "a Disclosure repeats or shadows a claim")
        if not isinstance(parsed.value, bool):
            raise _reject("disclosure_invalid", "an age claim's value is true or false")
        out[name] = parsed.value
    return out


def _key_binding(
    kb_part: str, sd_jwt: str, cnf: dict[str, Any], nonce: str, audience: str, t: int, trust: Trust
) -> None:
    try:
        holder = verifying_key(cnf.get("jwk", {}))
    except JoseError as exc:
        raise _reject("holder_key_invalid", f"cnf.jwk is not usable: {exc}") from None
    kb, claims = _decode(kb_part, "Key Binding JWT", "key_binding_invalid")
    if kb.header.get("typ") != KB_TYP or not kb.verified_by(holder):
        raise _reject("key_binding_invalid", "the KB-JWT is not signed by the holder key")
    if claims.get("nonce") != nonce or not isinstance(nonce, str) or not nonce:
        raise _reject("nonce_mismatch", "the KB-JWT is for another nonce")
    if claims.get("aud") != audience:
        raise _reject("audience_mismatch", "the KB-JWT is for another audience")
    iat = claims.get("iat")
    if (
        not isinstance(iat, int)
        or isinstance(iat, bool)
        or not t - trust.kb_max_age <= iat <= t + trust.skew
    ):
        raise _reject("key_binding_stale", "the KB-JWT's iat is outside the accepted window")
    if claims.get("sd_hash") != digest(sd_jwt):
        raise _reject("sd_hash_mismatch", "the KB-JWT covers another presentation")


def verify_presentation(
    presentation: str,
    nonce: str,
    audience: str,
    now: datetime,
    *,
    claims: str | Collection[str],
    trust: Trust,
) -> AgeProof:
    """Verify an age presentation for ``claims`` (one name, or several); see the module."""
    wanted = frozenset((claims,) if isinstance(claims, str) else claims)
    if not wanted:
        raise ValueError("a verifier requests at least one claim")
    t = int(now.timestamp())
    if not isinstance(presentation, str) or len(presentation) > MAX_PRESENTATION:
        raise _reject("presentation_malformed", "the presentation is not a string of sane size")
    parts = presentation.split("~")
    if len(parts) < 2 or not parts[0] or not all(parts[1:-1]):
        raise _reject("presentation_malformed", "not an SD-JWT: JWT~Disclosures~KB-JWT")
    kb_part = parts[-1]
    if not kb_part:
        raise _reject("key_binding_missing", "the presentation has no Key Binding JWT")
    credential = _issuer_signed(parts[0], trust, t)
    disclosed = _disclosed(parts[1:-1], credential)
    extra = disclosed.keys() - wanted
    if extra:
        raise _reject("claim_not_requested", f"claims not requested: {', '.join(sorted(extra))}")
    if len(disclosed) != len(wanted):
        missing = ", ".join(sorted(wanted - disclosed.keys()))
        raise _reject("claim_missing", f"requested claims not disclosed: {missing}")
    sd_jwt = presentation[: len(presentation) - len(kb_part)]
    _key_binding(kb_part, sd_jwt, credential.cnf, nonce, audience, t, trust)
    try:
        value = trust.status(credential.status_uri, credential.status_idx, now)
    except StatusUnavailable as exc:
        raise _reject("status_unavailable", str(exc)) from None
    if value != VALID:
        raise _reject("credential_revoked", "the credential has been revoked")
    return AgeProof(disclosed, trust.issuer, credential.alg, credential.exp)
