"""RFC 9901 encoding: the RFC's examples as vectors, and properties of the codec."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.age.credentials.sdjwt import (
    SdJwtError,
    digest,
    join,
    make_disclosure,
    new_salt,
    parse_disclosure,
    sd_hash,
    split,
)
from dinhdanh.crypto.compact import b64url, decode, unb64url, verifying_key
from dinhdanh.crypto.jose import JoseError
from tests.age.conftest import RFC9901

VECTORS = RFC9901["vectors"]
B64URL = string.ascii_letters + string.digits + "-_"


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc_disclosure_digest(v: dict[str, Any]) -> None:
    assert digest(v["disclosure"]) == v["digest"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc_disclosure_decodes_to_its_salt_name_and_value(v: dict[str, Any]) -> None:
    parsed = parse_disclosure(v["disclosure"])
    assert (parsed.salt, parsed.name, parsed.value) == (v["salt"], v["claim"], v["value"])


def test_rfc_equivalent_encodings_decode_alike_and_hash_apart() -> None:
    e = RFC9901["equivalent_encodings"]
    parsed = {(p.salt, p.name, p.value) for p in map(parse_disclosure, e["disclosures"])}
    assert parsed == {(e["salt"], e["claim"], e["value"])}
    assert len({digest(d) for d in e["disclosures"]}) == len(e["disclosures"])
    # We write compact JSON with UTF-8 as it is: the RFC's "no white space" spelling.
    assert make_disclosure(e["salt"], e["claim"], e["value"]) == e["disclosures"][-1]


def test_rfc_presentation_splits_hashes_and_verifies() -> None:
    p = RFC9901["presentation"]
    parts = split(p["serialized"])
    assert len(parts.disclosures) == 4
    assert [parse_disclosure(d).name for d in parts.disclosures] == p["disclosed"]
    assert sd_hash(parts.sd_jwt) == p["sd_hash"]
    assert join(parts.jwt, parts.disclosures, parts.kb_jwt) == p["serialized"]
    issuer_jwt, kb = decode(parts.jwt), decode(parts.kb_jwt)
    payload = issuer_jwt.claims()
    assert issuer_jwt.verified_by(verifying_key(p["issuer_jwk"]))
    assert kb.header["typ"] == "kb+jwt"
    assert kb.verified_by(verifying_key(payload["cnf"]["jwk"]))
    assert kb.claims() == {
        "nonce": p["nonce"],
        "aud": p["aud"],
        "iat": p["iat"],
        "sd_hash": p["sd_hash"],
    }
    # The three object-property Disclosures are in _sd; the array element's digest is in
    # the nationalities array.
    digests = [digest(d) for d in parts.disclosures]
    assert set(digests[:3]) <= set(payload["_sd"])
    assert {"...": digests[3]} in payload["nationalities"]


def test_a_changed_byte_anywhere_changes_the_rfc_signatures_verdict() -> None:
    p = RFC9901["presentation"]
    parts = split(p["serialized"])
    head, body, sig = parts.jwt.split(".")
    forged = decode(".".join((head, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], sig)))
    assert not forged.verified_by(verifying_key(p["issuer_jwk"]))


# -- properties -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
names = st.text(min_size=1).filter(lambda n: n not in {"_sd", "...", "_sd_alg"})
salts = st.text(alphabet=B64URL, min_size=1, max_size=40)


@given(st.binary(max_size=300))
def test_base64url_round_trip_without_padding(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text
    assert set(text) <= set(B64URL)
    assert unb64url(text) == data


@given(st.text(max_size=20).filter(lambda t: not set(t) <= set(B64URL) or len(t) % 4 == 1))
def test_base64url_refuses_other_alphabets_and_impossible_lengths(text: str) -> None:
    with pytest.raises(JoseError):
        unb64url(text)


@given(salts, names, json_values)
def test_disclosure_round_trip(salt: str, name: str, value: Any) -> None:
    d = make_disclosure(salt, name, value)
    parsed = parse_disclosure(d)
    assert (parsed.salt, parsed.name, parsed.value) == (salt, name, value)
    assert json.loads(unb64url(d)) == [salt, name, value]
    assert digest(d) == digest(d)
    assert len(unb64url(digest(d))) == 32


@given(st.lists(st.text(alphabet=B64URL, min_size=1), max_size=5), st.text(alphabet=B64URL))
def test_split_join_round_trip(disclosures: list[str], kb: str) -> None:
    jwt = "a.b.c"
    serialized = join(jwt, disclosures, kb)
    parts = split(serialized)
    assert (parts.jwt, list(parts.disclosures), parts.kb_jwt) == (jwt, disclosures, kb)
    assert serialized == parts.sd_jwt + kb
    assert parts.sd_jwt.endswith("~")


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'["salt"]',
        b'[1, "name", true]',
        b'["salt", 1, true]',
        b'["salt", "_sd", true]',
        b'["salt", "...", true]',
        b'["s", "n", true, "extra"]',
        b'{"salt": "n"}',
        b"not json",
    ],
)
def test_malformed_disclosures_are_refused(payload: bytes) -> None:
    with pytest.raises(SdJwtError):
        parse_disclosure(b64url(payload))


@pytest.mark.parametrize("serialized", ["", "~", "jwt", "a.b.c~~d~", "~d~"])
def test_malformed_serializations_are_refused(serialized: str) -> None:
    with pytest.raises(SdJwtError):
        split(serialized)


def test_reserved_names_cannot_be_made_disclosable() -> None:
    with pytest.raises(SdJwtError):
        make_disclosure(new_salt(), "_sd", [])


def test_salts_carry_128_random_bits() -> None:
    salts_seen = {new_salt() for _ in range(1000)}
    assert len(salts_seen) == 1000
    assert all(len(unb64url(s)) == 16 for s in salts_seen)
