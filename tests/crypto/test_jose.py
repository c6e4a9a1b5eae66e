"""JOSE glue: our tokens verify with jwcrypto, jwcrypto's verify with ours, forgeries don't."""

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.errors import KeyParameterError
from jwcrypto import jwk as cjwk
from jwcrypto import jws as cjws
from jwcrypto import jwt as cjwt

from dinhdanh.crypto import CryptoError
from dinhdanh.crypto.jose import (
    SUPPORTED_ALGORITHMS,
    AKPKey,
    JoseError,
    SigningKey,
    jwks,
    p256_scalar,
    parse_jwks,
    public_jwk,
    sign_jwt,
    signing_keys_from_seeds,
    verify_jws,
    verify_jwt,
)

from .conftest import load_vectors

ALGS = list(SUPPORTED_ALGORITHMS)
CLAIMS = {"iss": "http://127.0.0.1:8000", "sub": "pairwise-abc", "aud": "client-1", "n": 1}
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MLDSA_RFC = load_vectors("mldsa_jose")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seeds(tag: int) -> tuple[bytes, bytes, bytes]:
    return bytes([tag]) * 32, bytes([tag + 1]) * 32, bytes([tag + 2]) * 32


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {key.alg: key for key in signing_keys_from_seeds(1, *_seeds(1))}


@pytest.fixture(scope="module")
def other_keys() -> dict[str, SigningKey]:
    return {key.alg: key for key in signing_keys_from_seeds(1, *_seeds(7))}


@pytest.fixture(scope="module")
def published(keys: dict[str, SigningKey]) -> dict[str, Any]:
    return jwks(keys.values())


# -- keys and JWKS ------------------------------------------------------------------------


def test_kids_and_algorithms(keys: dict[str, SigningKey]) -> None:
    assert {alg: key.kid for alg, key in keys.items()} == {
        "EdDSA": "ed25519-v1",
        "ML-DSA-65": "mldsa65-v1",
        "ES256": "p256-v1",
    }


def test_derivation_is_deterministic() -> None:
    first = [public_jwk(k) for k in signing_keys_from_seeds(3, *_seeds(1))]
    again = [public_jwk(k) for k in signing_keys_from_seeds(3, *_seeds(1))]
    other = [public_jwk(k) for k in signing_keys_from_seeds(3, *_seeds(2))]
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))
    assert [j["kid"] for j in first] == ["ed25519-v3", "mldsa65-v3", "p256-v3"]


def test_p256_scalar_follows_its_documented_derivation() -> None:
    # HKDF-SHA-256 (RFC 5869) by hand, no salt, then FIPS 186-5 A.2.1.
    seed = bytes(range(32))
    prk = hmac.new(bytes(32), seed, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, 3):
        block = hmac.new(
            prk, block + b"dinhdanh/jose/p256-scalar/1" + bytes([counter]), hashlib.sha256
        ).digest()
        okm += block
    expected = int.from_bytes(okm[:40], "big") % (P256_N - 1) + 1
    assert p256_scalar(seed) == expected
    key = SigningKey.from_p256_seed("k", seed).private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.private_numbers().private_value == expected


def test_public_jwks_have_kid_use_alg_and_no_private_members(
    keys: dict[str, SigningKey],
) -> None:
    ed, ml, p256 = (public_jwk(keys[a]) for a in ("EdDSA", "ML-DSA-65", "ES256"))
    assert ed.keys() == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (ed["kty"], ed["crv"], ed["alg"], ed["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert ml.keys() == {"kty", "pub", "kid", "use", "alg"}
    assert (ml["kty"], ml["alg"]) == ("AKP", "ML-DSA-65")
    assert len(_unb64(ml["pub"])) == 1952
    assert p256.keys() == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (p256["kty"], p256["crv"], p256["alg"]) == ("EC", "P-256", "ES256")


def test_jwks_lists_every_key(keys: dict[str, SigningKey], published: dict[str, Any]) -> None:
    assert [k["kid"] for k in published["keys"]] == [k.kid for k in keys.values()]
    json.dumps(published)  # serializable as is


def test_akp_thumbprint_agrees_with_jwcrypto(keys: dict[str, SigningKey]) -> None:
    jwk = public_jwk(keys["ML-DSA-65"])
    assert AKPKey.import_key(jwk).thumbprint() == cjwk.JWK(**jwk).thumbprint()


def test_signing_key_checks_its_inputs() -> None:
    with pytest.raises(JoseError, match="32 bytes"):
        SigningKey.from_ed25519_seed("k", bytes(31))
    with pytest.raises(JoseError, match="32 bytes"):
        SigningKey.from_mldsa65_seed("k", bytes(33))
    with pytest.raises(JoseError, match="kid"):
        SigningKey.from_ed25519_seed("", bytes(32))
    wrong_curve = ec.derive_private_key(5, ec.SECP384R1())
    with pytest.raises(JoseError, match="P-256"):
        SigningKey("k", "ES256", wrong_curve)


def test_repr_shows_no_key_material(keys: dict[str, SigningKey]) -> None:
    assert repr(keys["EdDSA"]) == "SigningKey(kid='ed25519-v1', alg='EdDSA')"


def test_jose_error_is_a_crypto_error() -> None:
    assert issubclass(JoseError, CryptoError)


def test_joserfc_defaults_are_left_alone() -> None:
    from joserfc.jwk import JWKRegistry
    from joserfc.jws import JWSRegistry

    assert "ML-DSA-65" not in JWSRegistry.algorithms
    assert "AKP" not in JWKRegistry.key_types


# -- RFC 9964 example ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rfc_case() -> dict[str, Any]:
    (case,) = MLDSA_RFC
    return case


def test_rfc9964_public_key_is_the_seed_s(rfc_case: dict[str, Any]) -> None:
    key = SigningKey.from_mldsa65_seed("x", bytes.fromhex(rfc_case["priv_seed_hex"]))
    assert public_jwk(key)["pub"] == rfc_case["jwk"]["pub"]
    assert _b64(bytes.fromhex(rfc_case["priv_seed_hex"])) == rfc_case["jwk"]["priv"]


def test_rfc9964_kid_is_the_akp_thumbprint(rfc_case: dict[str, Any]) -> None:
    jwk = {k: v for k, v in rfc_case["jwk"].items() if k != "kid"}
    assert AKPKey.import_key(jwk).thumbprint() == rfc_case["jwk"]["kid"]


def test_rfc9964_private_jwk_imports(rfc_case: dict[str, Any]) -> None:
    key = AKPKey.import_key(rfc_case["jwk"])
    assert key.is_private
    assert "priv" not in key.as_dict(private=False)


def test_rfc9964_jws_verifies_with_ours_and_jwcrypto(rfc_case: dict[str, Any]) -> None:
    public = {k: v for k, v in rfc_case["jwk"].items() if k != "priv"}
    payload = verify_jws(rfc_case["jws"], {"keys": [public]}, algorithms=["ML-DSA-65"])
    assert payload.decode("utf-8") == rfc_case["payload"]
    theirs = cjws.JWS()
    theirs.deserialize(rfc_case["jws"])
    theirs.verify(cjwk.JWK(**public), alg="ML-DSA-65")
    assert theirs.payload == payload


def test_rfc9964_mismatched_pub_and_priv_are_refused(rfc_case: dict[str, Any]) -> None:
    # Section 7.4: pub from another seed, priv the all-zeros seed.
    other = public_jwk(SigningKey.from_mldsa65_seed("x", bytes([1]) * 32))["pub"]
    tampered = {**rfc_case["jwk"], "pub": other}
    with pytest.raises(KeyParameterError, match="does not match"):
        AKPKey.import_key(tampered)
    assert len(parse_jwks({"keys": [tampered]})) == 0


# -- interoperability ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_round_trip(alg: str, keys: dict[str, SigningKey], published: dict[str, Any]) -> None:
    token = sign_jwt(CLAIMS, keys[alg])
    assert verify_jwt(token, published, algorithms=ALGS) == CLAIMS
    header = json.loads(_unb64(token.split(".")[0]))
    assert header == {"alg": alg, "kid": keys[alg].kid, "typ": "JWT"}


@pytest.mark.parametrize("alg", ALGS)
def test_ours_verify_with_jwcrypto(alg: str, keys: dict[str, SigningKey]) -> None:
    token = sign_jwt(CLAIMS, keys[alg])
    checked = cjwt.JWT(jwt=token, key=cjwk.JWK(**public_jwk(keys[alg])), algs=[alg])
    assert json.loads(checked.claims) == CLAIMS


@pytest.mark.parametrize("alg", ALGS)
def test_ours_verify_with_jwcrypto_from_the_published_jwks(
    alg: str, keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    keyset = cjwk.JWKSet.from_json(json.dumps(published))
    checked = cjwt.JWT(jwt=sign_jwt(CLAIMS, keys[alg]), key=keyset, algs=[alg])
    assert json.loads(checked.claims) == CLAIMS


def _jwcrypto_key(alg: str, kid: str) -> cjwk.JWK:
    if alg == "EdDSA":
        return cjwk.JWK.generate(kty="OKP", crv="Ed25519", kid=kid)
    if alg == "ES256":
        return cjwk.JWK.generate(kty="EC", crv="P-256", kid=kid)
    return cjwk.JWK.generate(kty="AKP", alg=alg, kid=kid)


def _jwcrypto_token(key: cjwk.JWK, header: dict[str, Any], claims: Any) -> str:
    token = cjwt.JWT(header=header, claims=claims)
    token.make_signed_token(key)
    return str(token.serialize())


@pytest.fixture(scope="module")
def client_keys() -> dict[str, cjwk.JWK]:
    return {alg: _jwcrypto_key(alg, f"client-{alg}") for alg in ALGS}


@pytest.mark.parametrize("alg", ALGS)
def test_jwcrypto_tokens_verify_with_ours(alg: str, client_keys: dict[str, cjwk.JWK]) -> None:
    key = client_keys[alg]
    token = _jwcrypto_token(key, {"alg": alg, "kid": key["kid"]}, CLAIMS)
    client_jwks = {"keys": [key.export_public(as_dict=True) for key in client_keys.values()]}
    assert verify_jwt(token, client_jwks, algorithms=ALGS) == CLAIMS
    assert verify_jwt(token, parse_jwks(client_jwks), algorithms=[alg]) == CLAIMS


def test_token_without_kid_verifies_against_a_single_key(
    client_keys: dict[str, cjwk.JWK],
) -> None:
    key = client_keys["EdDSA"]
    token = _jwcrypto_token(key, {"alg": "EdDSA"}, CLAIMS)
    single = {"keys": [key.export_public(as_dict=True)]}
    assert verify_jwt(token, single, algorithms=["EdDSA"]) == CLAIMS
    everything = {"keys": [k.export_public(as_dict=True) for k in client_keys.values()]}
    with pytest.raises(JoseError, match="no kid"):
        verify_jwt(token, everything, algorithms=["EdDSA"])


# -- forgeries and misuse -------------------------------------------------------------------


def _replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


@pytest.mark.parametrize("alg", ALGS)
def test_tampered_payload_fails(
    alg: str, keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    token = sign_jwt(CLAIMS, keys[alg])
    forged = _replace_segment(token, 1, _b64(json.dumps({**CLAIMS, "sub": "other"}).encode()))
    with pytest.raises(JoseError, match="signature does not verify"):
        verify_jwt(forged, published, algorithms=ALGS)


@pytest.mark.parametrize("alg", ALGS)
def test_tampered_signature_fails(
    alg: str, keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    token = sign_jwt(CLAIMS, keys[alg])
    signature = bytearray(_unb64(token.split(".")[2]))
    signature[len(signature) // 2] ^= 0x01
    forged = _replace_segment(token, 2, _b64(bytes(signature)))
    with pytest.raises(JoseError, match="signature does not verify"):
        verify_jwt(forged, published, algorithms=ALGS)


@pytest.mark.parametrize("alg", ALGS)
def test_same_kid_other_key_fails(
    alg: str, other_keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    token = sign_jwt(CLAIMS, other_keys[alg])  # same kids, other seeds
    with pytest.raises(JoseError, match="signature does not verify"):
        verify_jwt(token, published, algorithms=ALGS)


@pytest.mark.parametrize("alg", ALGS)
def test_algorithm_outside_the_allowed_list_fails(
    alg: str, keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    token = sign_jwt(CLAIMS, keys[alg])
    others = [a for a in ALGS if a != alg]
    with pytest.raises(JoseError, match="not allowed"):
        verify_jwt(token, published, algorithms=others)


def test_unknown_kid_fails(published: dict[str, Any]) -> None:
    rogue = SigningKey.from_ed25519_seed("ed25519-v9", bytes(32))
    with pytest.raises(JoseError, match="no usable key with kid 'ed25519-v9'"):
        verify_jwt(sign_jwt(CLAIMS, rogue), published, algorithms=ALGS)


def _unsigned(header: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(CLAIMS).encode())}."


@pytest.mark.parametrize("kid", [None, "ed25519-v1"])
def test_alg_none_fails(kid: str | None, published: dict[str, Any]) -> None:
    header = {"alg": "none"} if kid is None else {"alg": "none", "kid": kid}
    with pytest.raises(JoseError, match="not allowed"):
        verify_jwt(_unsigned(header), published, algorithms=ALGS)
    with pytest.raises(JoseError, match="unsupported"):
        verify_jwt(_unsigned(header), published, algorithms=["none"])


@pytest.mark.parametrize(
    ("claimed", "signer", "victim_kid"),
    [
        ("ES256", "ES256", "ed25519-v1"),  # ES256 token pointing at the Ed25519 key
        ("EdDSA", "EdDSA", "p256-v1"),
        ("ML-DSA-65", "ML-DSA-65", "ed25519-v1"),
        ("EdDSA", "EdDSA", "mldsa65-v1"),
    ],
)
@pytest.mark.parametrize("strip_alg", [False, True], ids=["jwk-alg", "no-jwk-alg"])
def test_alg_confusion_fails(
    claimed: str,
    signer: str,
    victim_kid: str,
    strip_alg: bool,
    keys: dict[str, SigningKey],
    published: dict[str, Any],
) -> None:
    signing = keys[signer]
    token = sign_jwt(CLAIMS, signing)
    header = {"alg": claimed, "kid": victim_kid, "typ": "JWT"}
    forged = _replace_segment(token, 0, _b64(json.dumps(header).encode()))
    target = published
    if strip_alg:  # a JWKS whose keys don't say their alg (AKP must, so it keeps it)
        target = {
            "keys": [
                {k: v for k, v in jwk.items() if k != "alg" or jwk["kty"] == "AKP"}
                for jwk in published["keys"]
            ]
        }
    with pytest.raises(JoseError):
        verify_jwt(forged, target, algorithms=ALGS)


def test_hmac_with_the_public_key_as_secret_is_refused(published: dict[str, Any]) -> None:
    header = _b64(json.dumps({"alg": "HS256", "kid": "p256-v1"}).encode())
    payload = _b64(json.dumps(CLAIMS).encode())
    secret = json.dumps(published["keys"][2]).encode()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{_b64(mac)}"
    with pytest.raises(JoseError, match="not allowed"):
        verify_jwt(token, published, algorithms=ALGS)
    with pytest.raises(JoseError, match="unsupported"):
        verify_jwt(token, published, algorithms=["HS256"])


def test_empty_algorithm_list_is_refused(published: dict[str, Any]) -> None:
    with pytest.raises(JoseError, match="no algorithm"):
        verify_jwt("a.b.c", published, algorithms=[])


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "a.b.c", "é.b.c", "e30.e30.", "a.b.c.d"], ids=repr
)
def test_malformed_tokens_fail(token: str, published: dict[str, Any]) -> None:
    with pytest.raises(JoseError):
        verify_jwt(token, published, algorithms=ALGS)


def test_typ_check(keys: dict[str, SigningKey], published: dict[str, Any]) -> None:
    access = sign_jwt(CLAIMS, keys["EdDSA"], typ="at+jwt")
    assert verify_jwt(access, published, algorithms=ALGS, typ="at+jwt") == CLAIMS
    assert verify_jwt(access, published, algorithms=ALGS, typ="application/AT+JWT") == CLAIMS
    id_token = sign_jwt(CLAIMS, keys["EdDSA"])
    with pytest.raises(JoseError, match="typ 'JWT' is not 'at\\+jwt'"):
        verify_jwt(id_token, published, algorithms=ALGS, typ="at+jwt")


def test_payload_must_be_a_json_object(client_keys: dict[str, cjwk.JWK]) -> None:
    key = client_keys["ES256"]
    signed = cjws.JWS(b"[1, 2]")
    signed.add_signature(key, alg="ES256", protected={"alg": "ES256", "kid": key["kid"]})
    token = signed.serialize(compact=True)
    client_jwks = {"keys": [key.export_public(as_dict=True)]}
    assert verify_jws(token, client_jwks, algorithms=["ES256"]) == b"[1, 2]"
    with pytest.raises(JoseError, match="not a JSON object"):
        verify_jwt(token, client_jwks, algorithms=["ES256"])


def test_jwks_parsing_skips_what_it_cannot_use(
    keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    noisy = {
        "keys": [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "AKP", "kid": "short", "alg": "ML-DSA-65", "pub": "AAAA"},
            {"kty": "AKP", "kid": "mldsa44", "alg": "ML-DSA-44", "pub": "AAAA"},
            "not a key",
            *published["keys"],
        ]
    }
    parsed = parse_jwks(noisy)
    assert len(parsed) == 3
    token = sign_jwt(CLAIMS, keys["ML-DSA-65"])
    assert verify_jwt(token, parsed, algorithms=ALGS) == CLAIMS
    with pytest.raises(JoseError, match="keys"):
        parse_jwks({"keys": "nope"})


def test_key_marked_for_encryption_is_not_used(
    keys: dict[str, SigningKey], published: dict[str, Any]
) -> None:
    enc = {"keys": [{**jwk, "use": "enc"} for jwk in published["keys"]]}
    with pytest.raises(JoseError, match="may not be used"):
        verify_jwt(sign_jwt(CLAIMS, keys["EdDSA"]), enc, algorithms=ALGS)


def test_claims_must_be_json(keys: dict[str, SigningKey]) -> None:
    with pytest.raises(JoseError, match="JSON-serializable"):
        sign_jwt({"exp": object()}, keys["EdDSA"])


def test_key_without_kid_is_found_by_its_thumbprint() -> None:
    key = cjwk.JWK.generate(kty="OKP", crv="Ed25519")
    assert "kid" not in key
    token = _jwcrypto_token(key, {"alg": "EdDSA", "kid": key.thumbprint()}, CLAIMS)
    other = _jwcrypto_key("ES256", "other")
    keyset = {"keys": [key.export_public(as_dict=True), other.export_public(as_dict=True)]}
    assert verify_jwt(token, keyset, algorithms=["EdDSA"]) == CLAIMS
