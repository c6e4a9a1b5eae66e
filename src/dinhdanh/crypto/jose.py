"""JOSE glue: compact JWS/JWT signed with EdDSA (Ed25519), ES256 or ML-DSA-65.

Specifications implemented here, on top of joserfc:

- RFC 7515 (JWS compact serialization), RFC 7519 (JWT), RFC 7517 (JWK, JWK Set; section 5:
  keys of an unknown type or malformed keys in a set are ignored).
- RFC 7518 section 3.4: ES256, ECDSA over P-256 with SHA-256, signature R || S.
- RFC 8037: OKP keys and the JWS algorithm "EdDSA", restricted here to Ed25519 (RFC 9864
  deprecates the polymorphic "EdDSA" name in favour of "Ed25519"; OIDC clients know
  "EdDSA", and pinning the curve removes the ambiguity RFC 9864 is about).
- RFC 9964 (ML-DSA for JOSE and COSE): section 3, the "AKP" key type with ``alg`` (required),
  ``pub`` (base64url raw public key) and, for private keys only, ``priv``; section 4,
  ``priv`` is the 32-byte FIPS 204 seed; section 5, JWS alg "ML-DSA-65", pure ML-DSA with
  an empty context string; section 6, the thumbprint over ``alg``, ``kty``, ``pub``;
  section 7.4, a private key whose ``pub`` doesn't match its ``priv`` is refused.

joserfc knows neither ML-DSA nor AKP. Both are registered through its extension points
(a ``JWSAlgModel``, a ``BaseKey`` subclass in a ``JWKRegistry``) in registries of our own,
so joserfc's process-wide defaults stay as they are for any other user. Our JWS registry
holds exactly the three algorithms above: "none", HMAC and RSA can't be selected by a
token's header whatever the caller passes.

Front: ``SigningKey`` (built from seeds), ``signing_keys_from_seeds``, ``sign_jwt``,
``verify_jwt`` (``verify_jws`` for a payload that isn't JSON), ``public_jwk``, ``jwks`` and
``parse_jwks``. Every failure raises ``JoseError``.
"""

from __future__ import annotations

import binascii
import functools
import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any, ClassVar, Final, Literal, Self, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import errors as jose_errors
from joserfc import jws

# joserfc doesn't re-export the base classes a new key type is built from.
from joserfc._rfc7517.models import AsymmetricKey, NativeKeyBinding
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import DictKey, ECKey, JWKRegistry, Key, KeySet, OKPKey
from joserfc.jwk import KeyParameters as _KeyParameters
from joserfc.registry import KeyParameter
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from dinhdanh.crypto._primitives import SEED_LEN, CryptoError, hkdf_sha256

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AKPKey",
    "Algorithm",
    "JoseError",
    "PublicKeySet",
    "SigningKey",
    "jwks",
    "p256_scalar",
    "parse_jwks",
    "public_jwk",
    "sign_jwt",
    "signing_keys_from_seeds",
    "verify_jws",
    "verify_jwt",
]

Algorithm = Literal["EdDSA", "ES256", "ML-DSA-65"]
SUPPORTED_ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256", "ML-DSA-65")

MLDSA65: Final = "ML-DSA-65"
_MLDSA65_PUBLIC_LEN = 1952
# base64url of a 3309-byte ML-DSA-65 signature is 4412 characters; joserfc allows 1024.
_MAX_SIGNATURE_CHARS = 4608
# FIPS 186-5 A.2.1: 64 bits more than the order, reduced mod n - 1, plus 1.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_KDF_INFO = b"dinhdanh/jose/p256-scalar/1"
_P256_KDF_LEN = (256 + 64) // 8


class JoseError(CryptoError):
    """A token or key failed to sign, parse or verify; the message says which and why."""


# -- RFC 9964: the AKP key type, for ML-DSA-65 ---------------------------------------------


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def _unb64(value: object, member: str) -> bytes:
    if not isinstance(value, str):
        raise jose_errors.KeyParameterError(f"'{member}' must be a base64url string")
    try:
        return urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise jose_errors.KeyParameterError(f"'{member}' is not base64url") from None


class _AKPBinding(NativeKeyBinding):
    @classmethod
    def convert_raw_key_to_dict(cls, raw_key: Any, private: bool) -> DictKey:
        if isinstance(raw_key, MLDSA65PrivateKey):
            data: DictKey = {"alg": MLDSA65, "pub": _b64(raw_key.public_key().public_bytes_raw())}
            if private:
                data["priv"] = _b64(raw_key.private_bytes_raw())
            return data
        if isinstance(raw_key, MLDSA65PublicKey):
            return {"alg": MLDSA65, "pub": _b64(raw_key.public_bytes_raw())}
        raise jose_errors.InvalidKeyTypeError("AKP keys here are ML-DSA-65 keys")

    @classmethod
    def import_from_dict(cls, value: DictKey) -> MLDSA65PrivateKey | MLDSA65PublicKey:
        if value.get("alg") != MLDSA65:
            raise jose_errors.UnsupportedKeyAlgorithmError("only ML-DSA-65 AKP keys are supported")
        pub = _unb64(value.get("pub"), "pub")
        if len(pub) != _MLDSA65_PUBLIC_LEN:
            raise jose_errors.KeyParameterError("'pub' is not an ML-DSA-65 public key")
        if "priv" not in value:
            return MLDSA65PublicKey.from_public_bytes(pub)
        seed = _unb64(value["priv"], "priv")
        if len(seed) != SEED_LEN:
            raise jose_errors.KeyParameterError("'priv' must be the 32-byte ML-DSA seed")
        private = MLDSA65PrivateKey.from_seed_bytes(seed)
        if private.public_key().public_bytes_raw() != pub:
            raise jose_errors.KeyParameterError("'pub' does not match 'priv'")
        return private

    @classmethod
    def import_from_bytes(cls, value: bytes, password: str | bytes | None = None) -> Any:  # noqa: ARG003
        raise jose_errors.InvalidKeyTypeError("AKP keys are imported from JWK dicts only")


class AKPKey(AsymmetricKey[MLDSA65PrivateKey, MLDSA65PublicKey]):
    """RFC 9964 "AKP" JWK holding an ML-DSA-65 key."""

    key_type = "AKP"
    value_registry: ClassVar[dict[str, KeyParameter]] = {
        "alg": KeyParameter("Algorithm", "str", private=False, required=True),
        "pub": KeyParameter("Public Key", "str", private=False, required=True),
        "priv": KeyParameter("Private Key (seed)", "str", private=True, required=False),
    }
    binding = _AKPBinding

    @property
    def is_private(self) -> bool:
        return isinstance(self.raw_value, MLDSA65PrivateKey)

    @functools.cached_property
    def public_key(self) -> MLDSA65PublicKey:
        raw = self.raw_value
        return raw.public_key() if isinstance(raw, MLDSA65PrivateKey) else raw

    @property
    def private_key(self) -> MLDSA65PrivateKey | None:
        raw = self.raw_value
        return raw if isinstance(raw, MLDSA65PrivateKey) else None

    @classmethod
    def from_native(
        cls, key: MLDSA65PrivateKey | MLDSA65PublicKey, parameters: _KeyParameters | None = None
    ) -> Self:
        return cls(key, key, parameters)


class _MLDSA65Algorithm(JWSAlgModel):
    name = MLDSA65
    description = "ML-DSA-65 (FIPS 204), pure, empty context (RFC 9964)"
    key_type = "AKP"
    algorithm_security = 192

    def sign(self, msg: bytes, key: AKPKey) -> bytes:
        return key.get_op_key("sign").sign(msg)

    def verify(self, msg: bytes, sig: bytes, key: AKPKey) -> bool:
        try:
            key.get_op_key("verify").verify(sig, msg)
        except InvalidSignature:
            return False
        return True


class _Ed25519EdDSAAlgorithm(JWSAlgModel):
    # joserfc's own "EdDSA" warns on every use (RFC 9864 deprecation) and also takes Ed448.
    name = "EdDSA"
    description = "EdDSA over Ed25519 only (RFC 8037)"
    key_type = "OKP"
    algorithm_security = 128

    def check_key(self, key: OKPKey) -> None:
        super().check_key(key)
        if key.curve_name != "Ed25519":
            raise jose_errors.InvalidKeyCurveError("EdDSA here requires an Ed25519 key")

    def sign(self, msg: bytes, key: OKPKey) -> bytes:
        private = key.get_op_key("sign")
        if not isinstance(private, Ed25519PrivateKey):
            raise jose_errors.InvalidKeyTypeError("EdDSA here requires an Ed25519 key")
        return private.sign(msg)

    def verify(self, msg: bytes, sig: bytes, key: OKPKey) -> bool:
        public = key.get_op_key("verify")
        if not isinstance(public, Ed25519PublicKey):
            return False
        try:
            public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


class _JWSRegistry(jws.JWSRegistry):
    # Dicts of our own: ``register`` below must not touch joserfc's default registry.
    algorithms: ClassVar[dict[str, JWSAlgModel]] = {}  # type: ignore[misc]
    recommended: ClassVar[list[str]] = []  # type: ignore[misc]
    max_signature_length = _MAX_SIGNATURE_CHARS
    # A DPoP proof (RFC 9449) carries its public key in the header: an ML-DSA-65 one is
    # 1,952 bytes, about 3.7 kB once base64url-encoded twice over; joserfc's default is 512.
    max_header_length = 4096


_JWSRegistry.register(_Ed25519EdDSAAlgorithm())
_JWSRegistry.register(jws.JWSRegistry.algorithms["ES256"])
_JWSRegistry.register(_MLDSA65Algorithm())


class _JWKRegistry(JWKRegistry):
    key_types: ClassVar[dict[str, type[Key]]] = {  # type: ignore[misc]
        "OKP": OKPKey,
        "EC": ECKey,
        # AKPKey is a BaseKey like the others; joserfc's Key union just doesn't name it.
        "AKP": cast(type[Key], AKPKey),
    }


@functools.lru_cache(maxsize=16)
def _registry(algorithms: frozenset[str]) -> _JWSRegistry:
    # Lenient on unknown header parameters (RFC 7515 section 4: ignore unless in "crit").
    return _JWSRegistry(algorithms=sorted(algorithms), strict_check_header=False)


def _allowed(algorithms: Collection[str]) -> frozenset[str]:
    allowed = frozenset(algorithms)
    if not allowed:
        raise JoseError(
            "no algorithm allowed: pass at least one of " + ", ".join(SUPPORTED_ALGORITHMS)
        )
    unknown = sorted(allowed.difference(SUPPORTED_ALGORITHMS))
    if unknown:
        raise JoseError(
            f"unsupported algorithm(s) {unknown}; supported: {list(SUPPORTED_ALGORITHMS)}"
        )
    return allowed


# -- signing ---------------------------------------------------------------------------


_KeyObject = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | MLDSA65PrivateKey


def _jose_key(alg: Algorithm, key: _KeyObject, parameters: _KeyParameters) -> Key:
    if alg == "EdDSA" and isinstance(key, Ed25519PrivateKey):
        return OKPKey.import_key(key, parameters)
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise JoseError("ES256 needs a P-256 key")
        return ECKey.import_key(key, parameters)
    if alg == MLDSA65 and isinstance(key, MLDSA65PrivateKey):
        return cast(Key, AKPKey.from_native(key, parameters))
    raise JoseError(f"a {type(key).__name__} can't sign {alg}")


class SigningKey:
    """A private signing key with its ``kid`` and JWS ``alg``; build one from a seed."""

    __slots__ = ("_jwk", "alg", "kid", "private_key")

    def __init__(self, kid: str, alg: Algorithm, private_key: _KeyObject) -> None:
        if alg not in SUPPORTED_ALGORITHMS:
            raise JoseError(f"unsupported algorithm {alg!r}")
        if not kid:
            raise JoseError("a signing key needs a kid")
        self.kid = kid
        self.alg: Algorithm = alg
        self.private_key = private_key
        # Signing needs only private_key (sign_jwt); the JWK is for publishing (public_jwk).
        self._jwk = _jose_key(alg, private_key, {"kid": kid, "alg": alg, "use": "sig"})

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r})"

    @classmethod
    def from_ed25519_seed(cls, kid: str, seed: bytes) -> SigningKey:
        _check_seed(seed, "Ed25519")
        return cls(kid, "EdDSA", Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_mldsa65_seed(cls, kid: str, seed: bytes) -> SigningKey:
        _check_seed(seed, MLDSA65)
        return cls(kid, MLDSA65, MLDSA65PrivateKey.from_seed_bytes(seed))

    @classmethod
    def from_p256_seed(cls, kid: str, seed: bytes) -> SigningKey:
        """P-256 key whose scalar is derived from ``seed`` (see ``p256_scalar``)."""
        return cls(kid, "ES256", ec.derive_private_key(p256_scalar(seed), ec.SECP256R1()))


def _check_seed(seed: bytes, what: str) -> None:
    if len(seed) != SEED_LEN:
        raise JoseError(f"{what} seed must be {SEED_LEN} bytes")


def p256_scalar(seed: bytes) -> int:
    """Deterministic P-256 private scalar in [1, n - 1] from a 32-byte seed.

    HKDF-SHA-256 (no salt, info ``dinhdanh/jose/p256-scalar/1``) expands the seed to 320
    bits, then FIPS 186-5 Appendix A.2.1 ("extra random bits"): c mod (n - 1) + 1. The 64
    extra bits keep the bias below 2^-64.
    """
    _check_seed(seed, "P-256")
    c = int.from_bytes(hkdf_sha256(seed, _P256_KDF_INFO, _P256_KDF_LEN), "big")
    return c % (_P256_ORDER - 1) + 1


def signing_keys_from_seeds(
    version: int, ed25519_seed: bytes, mldsa_seed: bytes, p256_scalar_seed: bytes
) -> list[SigningKey]:
    """The token signing keys of one key version, default (EdDSA) first.

    Kids ``ed25519-v{version}`` (EdDSA), ``mldsa65-v{version}`` (ML-DSA-65) and
    ``p256-v{version}`` (ES256). Pass seeds of their own, derived for this use with their own
    labels, not the seeds that sign audit checkpoints: one key, one protocol.
    """
    return [
        SigningKey.from_ed25519_seed(f"ed25519-v{version}", ed25519_seed),
        SigningKey.from_mldsa65_seed(f"mldsa65-v{version}", mldsa_seed),
        SigningKey.from_p256_seed(f"p256-v{version}", p256_scalar_seed),
    ]


def sign_jwt(
    claims: Mapping[str, Any],
    key: SigningKey,
    typ: str = "JWT",
    header: Mapping[str, Any] | None = None,
) -> str:
    """Compact JWS over the JSON of ``claims``; header ``{"alg", "kid", "typ"}``.

    ``claims`` must already be JSON values (``exp`` as int seconds, not datetime).
    Use ``typ="at+jwt"`` for RFC 9068 access tokens. ``header``: members to put in the
    header instead of ``kid`` (a holder's ``jwk``).

    Signing is RFC 7515 section 7.1 done here, not through joserfc: its key-set and registry
    lookups cost several times the Ed25519 signature itself, on every token issued.
    Verification stays with joserfc (``verify_jws``), and tests check our tokens with jwcrypto.
    """
    try:
        payload = json.dumps(dict(claims), ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise JoseError(f"claims are not JSON-serializable: {exc}") from None
    if header:  # extra members (an OpenID4VCI proof's ``jwk``): no ``kid`` then
        members = {"alg": key.alg, "typ": typ, **header}
        head = urlsafe_b64encode(json.dumps(members, separators=(",", ":")).encode())
    else:
        head = _header_b64(key.alg, key.kid, typ)
    signing_input = head + b"." + urlsafe_b64encode(payload)
    private = key.private_key
    if isinstance(private, Ed25519PrivateKey | MLDSA65PrivateKey):
        signature = private.sign(signing_input)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        # JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 section 3.4), not DER.
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:  # pragma: no cover - SigningKey only takes the three key types above
        raise JoseError(f"cannot sign with {key.kid!r}")
    return (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header_b64(alg: str, kid: str, typ: str) -> bytes:
    header = json.dumps({"alg": alg, "kid": kid, "typ": typ}, separators=(",", ":"))
    return urlsafe_b64encode(header.encode())


def public_jwk(key: SigningKey) -> dict[str, Any]:
    """The public JWK of ``key``, with ``kid``, ``use: "sig"`` and ``alg``."""
    return dict(key._jwk.as_dict(private=False))


def jwks(keys: Iterable[SigningKey]) -> dict[str, list[dict[str, Any]]]:
    """``{"keys": [...]}``, the JWK Set to publish at ``/jwks``."""
    return {"keys": [public_jwk(key) for key in keys]}


# -- verification ----------------------------------------------------------------------


class PublicKeySet:
    """Verification keys parsed once from a JWK Set (``parse_jwks``); reuse it across calls.

    A key without ``kid`` gets its RFC 7638 thumbprint as ``kid`` (joserfc's ``KeySet`` does
    this), so tokens naming that thumbprint find it.
    """

    __slots__ = ("_by_kid", "_entries")

    def __init__(self, keys: list[Key]) -> None:
        # One single-key KeySet per key, built once: joserfc resolves a key of a type
        # outside its Key union (AKP) only from a KeySet.
        self._entries = [(key, KeySet([key])) for key in keys]
        self._by_kid: dict[str | None, list[tuple[Key, KeySet]]] = {}
        for entry in self._entries:
            self._by_kid.setdefault(entry[0].kid, []).append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, kid: str | None, alg: str) -> Key:
        """The key a token with header ``kid`` and ``alg`` must be verified with."""
        return self._resolve(kid, alg)[0]

    def _resolve(self, kid: str | None, alg: str) -> tuple[Key, KeySet]:
        if kid is None:
            if len(self._entries) != 1:
                raise JoseError(f"token has no kid and the JWKS holds {len(self._entries)} keys")
            candidates = self._entries
        else:
            candidates = self._by_kid.get(kid, [])
            if not candidates:
                raise JoseError(f"no usable key with kid {kid!r} in the JWKS")
        for key, keyset in candidates:
            if key.alg in (None, alg) and key.get("use") in (None, "sig"):
                return key, keyset
        found = ", ".join(f"{key.key_type}/{key.alg or 'any alg'}" for key, _ in candidates)
        raise JoseError(f"key {kid!r} ({found}) may not be used for {alg} signatures")


def parse_jwks(jwks: Mapping[str, Any]) -> PublicKeySet:
    """Parse a JWK Set; keys of unknown type or malformed are skipped (RFC 7517 section 5)."""
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise JoseError('a JWK Set needs a "keys" array')
    keys: list[Key] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") not in _JWKRegistry.key_types:
            continue
        try:
            keys.append(_JWKRegistry.import_key(entry))
        except (jose_errors.JoseError, ValueError, TypeError):
            continue
    return PublicKeySet(keys)


def _typ_matches(actual: object, expected: str) -> bool:
    # RFC 7515 section 4.1.9: compare case-insensitively, "application/" may be omitted.
    if not isinstance(actual, str):
        return False

    def bare(value: str) -> str:
        value = value.lower()
        return value.removeprefix("application/")

    return bare(actual) == bare(expected)


def verify_jws(
    token: str,
    jwks: Mapping[str, Any] | PublicKeySet,
    *,
    algorithms: Collection[str],
    typ: str | None = None,
) -> bytes:
    """The payload of compact JWS ``token`` once its signature verifies under ``jwks``.

    Checks: the header's ``alg`` is one of ``algorithms``; the key is found by ``kid`` and
    its type, curve and ``alg`` fit that algorithm (no alg confusion); the signature; ``typ``
    if given (``"at+jwt"`` for RFC 9068 access tokens).
    """
    allowed = _allowed(algorithms)
    keys = jwks if isinstance(jwks, PublicKeySet) else parse_jwks(jwks)
    registry = _registry(allowed)
    try:
        obj = jws.extract_compact(token.encode("ascii"), registry=registry)
    except UnicodeEncodeError:
        raise JoseError("token is not ASCII") from None
    except (jose_errors.JoseError, ValueError) as exc:
        raise JoseError(f"malformed token: {_describe(exc)}") from None
    header = obj.headers()
    alg = header.get("alg")
    if alg not in allowed:
        raise JoseError(f"token algorithm {alg!r} is not allowed (allowed: {sorted(allowed)})")
    if header.get("b64", True) is not True:
        raise JoseError("unencoded payloads (b64: false) are not supported")
    if typ is not None and not _typ_matches(header.get("typ"), typ):
        raise JoseError(f"token typ {header.get('typ')!r} is not {typ!r}")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise JoseError("token kid must be a string")
    _key, keyset = keys._resolve(kid, alg)
    try:
        valid = jws.validate_compact(obj, keyset, registry=registry)
    except (jose_errors.JoseError, ValueError) as exc:
        raise JoseError(f"key {kid!r} can't verify {alg}: {_describe(exc)}") from None
    if not valid:
        raise JoseError("signature does not verify")
    return obj.payload


def verify_jwt(
    token: str,
    jwks: Mapping[str, Any] | PublicKeySet,
    *,
    algorithms: Collection[str],
    typ: str | None = None,
) -> dict[str, Any]:
    """The claims of JWT ``token`` once ``verify_jws`` accepts it.

    Only the signature and header are checked here; ``iss``, ``aud``, ``exp`` and ``nonce``
    are the caller's to check.
    """
    payload = verify_jws(token, jwks, algorithms=algorithms, typ=typ)
    try:
        claims = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise JoseError("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise JoseError("payload is not a JSON object")
    return claims


def _describe(exc: Exception) -> str:
    if isinstance(exc, jose_errors.JoseError):
        return exc.description or exc.error
    return str(exc)
