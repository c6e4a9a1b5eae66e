"""Verifying presentations made by our wallet: they verify (with ours and with the sd-jwt
reference implementation), and each kind of tampering fails with its own reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dinhdanh.age.credentials.errors import REASONS, PresentationRejected, StatusUnavailable
from dinhdanh.age.credentials.keys import IssuerAlg, IssuerKeys
from dinhdanh.age.credentials.sdjwt import digest, join, make_disclosure, new_salt, sd_hash
from dinhdanh.age.credentials.verifier import AgeProof, Trust, verify_presentation
from dinhdanh.age.wallet import HolderAlg, Wallet
from dinhdanh.crypto import generate_keyring
from dinhdanh.crypto.compact import b64url, decode
from dinhdanh.crypto.jose import SigningKey, public_jwk, sign_jwt
from dinhdanh.wiring import Container
from tests.age.conftest import VERIFIER, issue, local_trust, make_teen
from tests.age.reference import reference_verify

NONCE = "n-0S6_WzA2Mj"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass
class Issued:
    """One citizen with wallets of each kind, refilled through the real issuance service."""

    c: Container
    subject: str
    wallets: dict[tuple[str, str], Wallet] = field(default_factory=dict)

    def present(
        self,
        claims: str | list[str] = "age_over_16",
        *,
        nonce: str = NONCE,
        audience: str = VERIFIER,
        at: datetime | None = None,
        holder: HolderAlg = "EdDSA",
        issuer: IssuerAlg = "EdDSA",
    ) -> str:
        wallet = self.wallets.setdefault((holder, issuer), Wallet(holder))
        if not len(wallet):
            issue(self.c, self.subject, wallet, 10, alg=issuer)
        return wallet.present(claims, nonce, audience, at or self.c.clock())

    def verify(
        self,
        presentation: str,
        claims: str | list[str] = "age_over_16",
        *,
        trust: Trust | None = None,
        now: datetime | None = None,
    ) -> AgeProof:
        return verify_presentation(
            presentation,
            NONCE,
            VERIFIER,
            now or self.c.clock(),
            claims=claims,
            trust=trust or local_trust(self.c),
        )

    def rejects(
        self,
        presentation: str,
        code: str,
        claims: str | list[str] = "age_over_16",
        *,
        trust: Trust | None = None,
        now: datetime | None = None,
    ) -> None:
        with pytest.raises(PresentationRejected) as rejected:
            self.verify(presentation, claims, trust=trust, now=now)
        assert rejected.value.code == code, rejected.value


@pytest.fixture(scope="module")
def issued(sqlite_container: Container) -> Iterator[Issued]:
    teen = make_teen(sqlite_container, sqlite_container.clock().date())
    return Issued(sqlite_container, teen.subject_id)


@pytest.mark.parametrize(
    ("holder", "issuer"), [("EdDSA", "EdDSA"), ("ES256", "EdDSA"), ("EdDSA", "ML-DSA-65")]
)
def test_our_wallets_presentation_verifies_with_ours_and_the_reference(
    issued: Issued, holder: HolderAlg, issuer: IssuerAlg
) -> None:
    p = issued.present("age_over_16", holder=holder, issuer=issuer)
    proof = issued.verify(p)
    assert proof.claims == {"age_over_16": True}
    assert proof.alg == issuer
    jwks = issued.c.age_credentials.metadata()["jwks"]
    claims = reference_verify(p, jwks, NONCE, VERIFIER, issued.c.clock())
    assert claims["age_over_16"] is True
    assert "age_over_13" not in claims
    assert "age_over_18" not in claims
    assert claims["vct"] == "urn:dinhdanh:vct:age:1"


def test_a_false_claim_is_proven_false(issued: Issued) -> None:
    assert issued.verify(issued.present("age_over_18"), "age_over_18").claims == {
        "age_over_18": False
    }


def test_several_claims_when_several_are_requested(issued: Issued) -> None:
    both = ["age_over_13", "age_over_18"]
    assert issued.verify(issued.present(both), both).claims == {
        "age_over_13": True,
        "age_over_18": False,
    }


# -- tampering: each check has its reason ---------------------------------------------------


def _swap_char(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def _replace_part(presentation: str, index: int, new: str) -> str:
    parts = presentation.split("~")
    parts[index] = new
    return "~".join(parts)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_change_to_the_disclosure_is_caught(issued: Issued, data: st.DataObject) -> None:
    p = issued.present()
    disclosure = p.split("~")[1]
    at = data.draw(st.integers(0, len(disclosure) - 1))
    char = data.draw(st.sampled_from(B64URL).filter(lambda ch: ch != disclosure[at]))
    forged = _replace_part(p, 1, disclosure[:at] + char + disclosure[at + 1 :])
    issued.rejects(forged, "disclosure_not_referenced")
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the reference raises
        reference_verify(
            forged, issued.c.age_credentials.metadata()["jwks"], NONCE, VERIFIER, issued.c.clock()
        )


def test_a_disclosure_of_another_credential_is_caught(issued: Issued) -> None:
    mine, other = issued.present(), issued.present()
    issued.rejects(_replace_part(mine, 1, other.split("~")[1]), "disclosure_not_referenced")


def test_a_disclosure_given_twice_is_caught(issued: Issued) -> None:
    p = issued.present()
    d = p.split("~")[1]
    issued.rejects(_replace_part(p, 1, d + "~" + d), "disclosure_duplicate")


def test_more_or_less_than_requested_is_caught(issued: Issued) -> None:
    issued.rejects(issued.present(["age_over_16", "age_over_18"]), "claim_not_requested")
    with pytest.raises(ValueError, match="at least one claim"):
        issued.verify(issued.present("age_over_16"), [])
    issued.rejects(
        issued.present("age_over_13"), "claim_missing", claims=["age_over_13", "age_over_16"]
    )


def test_the_key_binding_jwt_is_checked(issued: Issued) -> None:
    p = issued.present()
    kb = p.rsplit("~", 1)[1]
    issued.rejects(p[: len(p) - len(kb)], "key_binding_missing")
    issued.rejects(p[: len(p) - len(kb)] + _swap_char(kb, len(kb) - 5), "key_binding_invalid")
    # A KB-JWT signed by another key over the same SD-JWT.
    sd_jwt = p[: len(p) - len(kb)]
    stranger = SigningKey.from_ed25519_seed("holder", bytes(32))
    claims = decode(kb).claims()
    issued.rejects(sd_jwt + sign_jwt(claims, stranger, typ="kb+jwt"), "key_binding_invalid")


def test_nonce_and_audience(issued: Issued) -> None:
    issued.rejects(issued.present(nonce="another"), "nonce_mismatch")
    issued.rejects(issued.present(audience="https://evil.example"), "audience_mismatch")


def test_key_binding_freshness(issued: Issued) -> None:
    now = issued.c.clock()
    issued.rejects(issued.present(at=now - timedelta(minutes=6)), "key_binding_stale")
    issued.rejects(issued.present(at=now + timedelta(minutes=2)), "key_binding_stale")
    p = issued.present(at=now - timedelta(minutes=4))
    assert issued.verify(p).claims == {"age_over_16": True}
    narrow = local_trust(issued.c, kb_max_age=60)
    issued.rejects(issued.present(at=now - timedelta(minutes=2)), "key_binding_stale", trust=narrow)


def test_sd_hash_covers_the_presentation_as_sent(issued: Issued) -> None:
    both = ["age_over_13", "age_over_16"]
    p = issued.present(both)
    jwt, d1, d2, kb = p.split("~")
    issued.rejects("~".join((jwt, d2, d1, kb)), "sd_hash_mismatch", claims=both)


def test_the_status_bit(issued: Issued) -> None:
    p = issued.present()
    entry = decode(p.split("~")[0]).claims()["status"]["status_list"]
    lists = issued.c.age_credentials.lists
    assert issued.verify(p).claims == {"age_over_16": True}
    with issued.c.unit_of_work() as s:
        lists.revoke(s, [(lists.list_id(entry["uri"]) or 0, entry["idx"])], issued.c.clock())
    issued.rejects(p, "credential_revoked")

    def unreachable(uri: str, idx: int, now: datetime) -> int:
        raise StatusUnavailable("the list server is down")

    down = issued.c.age_credentials.trust(unreachable)
    issued.rejects(issued.present(), "status_unavailable", trust=down)


def test_expiry_and_validity_window(issued: Issued) -> None:
    p = issued.present()
    exp = decode(p.split("~")[0]).claims()["exp"]
    after = datetime.fromtimestamp(exp, issued.c.clock().tzinfo)
    issued.rejects(issued.present(at=after), "credential_expired", now=after)
    # The reference implementation checks no exp (its TODO): only our wrapper catches it.
    from sd_jwt.verifier import SDJWTVerifier

    jwks = {k["kid"]: k for k in issued.c.age_credentials.metadata()["jwks"]["keys"]}
    from jwcrypto.jwk import JWK

    expired = issued.present(at=after)
    SDJWTVerifier(expired, lambda _i, h: JWK(**jwks[h["kid"]]))  # accepted as is
    with pytest.raises(ValueError, match="expired"):
        reference_verify(expired, {"keys": list(jwks.values())}, NONCE, VERIFIER, after)
    before = datetime.fromtimestamp(
        decode(p.split("~")[0]).claims()["iat"] - 3600, issued.c.clock().tzinfo
    )
    issued.rejects(issued.present(at=before), "credential_not_yet_valid", now=before)


def test_issuer_signature_and_key(issued: Issued) -> None:
    p = issued.present()
    head, _, sig = p.split("~")[0].split(".")
    claims = decode(p.split("~")[0]).claims()
    later = claims | {"exp": claims["exp"] + 86_400}
    forged_body = b64url(json.dumps(later, separators=(",", ":")).encode())
    issued.rejects(_replace_part(p, 0, f"{head}.{forged_body}.{sig}"), "issuer_signature_invalid")
    # Same kid, another issuer's key (another key ring).
    other = IssuerKeys(generate_keyring()).signer("EdDSA")
    issued.rejects(
        _replace_part(p, 0, sign_jwt(claims, other, typ="dc+sd-jwt")), "issuer_signature_invalid"
    )
    unknown = SigningKey.from_ed25519_seed("age-ed25519-v9", bytes(32))
    issued.rejects(
        _replace_part(p, 0, sign_jwt(claims, unknown, typ="dc+sd-jwt")), "issuer_key_unknown"
    )
    real = issued.c.age_credentials.keys.signer("EdDSA")
    issued.rejects(
        _replace_part(p, 0, sign_jwt(claims, real, typ="JWT")), "credential_type_invalid"
    )
    issued.rejects(
        _replace_part(p, 0, sign_jwt(claims | {"vct": "urn:other"}, real, typ="dc+sd-jwt")),
        "credential_type_invalid",
    )
    elsewhere = Trust(
        "https://other.example", issued.c.age_credentials.keys.verifying, lambda *_: 0
    )
    issued.rejects(p, "issuer_mismatch", trust=elsewhere)


def _forge(
    issued: Issued,
    disclosures: list[str],
    holder: dict[str, str] | None = None,
    unreferenced: tuple[str, ...] = (),
    **changes: object,
) -> str:
    """A presentation whose issuer JWT the real issuer key signs around Disclosures, a holder
    key and claims we choose, with a valid KB-JWT: tests of the checks after the signature."""
    now = int(issued.c.clock().timestamp())
    key = SigningKey.from_ed25519_seed("holder", bytes(range(32)))
    cnf_jwk = holder or {k: v for k, v in public_jwk(key).items() if k in ("kty", "crv", "x")}
    payload: dict[str, object] = {
        "iss": issued.c.age_credentials.issuer,
        "iat": now - 60,
        "exp": now + 3600,
        "vct": "urn:dinhdanh:vct:age:1",
        "cnf": {"jwk": cnf_jwk},
        "status": {"status_list": {"idx": 0, "uri": "https://x/status-lists/1"}},
        "_sd_alg": "sha-256",
        "_sd": sorted(digest(d) for d in disclosures),
    }
    payload = {k: v for k, v in (payload | changes).items() if v is not None}
    jwt = sign_jwt(payload, issued.c.age_credentials.keys.signer("EdDSA"), typ="dc+sd-jwt")
    sd_jwt = join(jwt, [*disclosures, *unreferenced])
    kb = {"iat": now, "aud": VERIFIER, "nonce": NONCE, "sd_hash": sd_hash(sd_jwt)}
    return sd_jwt + sign_jwt(kb, key, typ="kb+jwt")


def test_the_forged_baseline_verifies(issued: Issued) -> None:
    # Statuses of the made-up list: always valid, so the baseline passes every check.
    trust = issued.c.age_credentials.trust(lambda *_: 0)
    d = make_disclosure(new_salt(), "age_over_16", True)
    assert issued.verify(_forge(issued, [d]), trust=trust).claims == {"age_over_16": True}


def test_the_reference_accepts_a_disclosure_rfc_9901_rejects(issued: Issued) -> None:
    """RFC 9901 section 7.1: a Disclosure whose digest is not in the credential makes the
    SD-JWT invalid. sd-jwt 0.10 ignores it; we reject it."""
    trust = issued.c.age_credentials.trust(lambda *_: 0)
    d = make_disclosure(new_salt(), "age_over_16", True)
    stray = make_disclosure(new_salt(), "age_over_18", True)
    p = _forge(issued, [d], unreferenced=(stray,))
    issued.rejects(p, "disclosure_not_referenced", trust=trust)
    jwks = issued.c.age_credentials.metadata()["jwks"]
    claims = reference_verify(p, jwks, NONCE, VERIFIER, issued.c.clock())
    assert claims["age_over_16"] is True
    assert "age_over_18" not in claims


@pytest.mark.parametrize(
    "disclosure",
    [
        make_disclosure("s1", "age_over_16", "yes"),  # not a boolean
        make_disclosure("s2", "iss", True),  # shadows a plain claim
        b64url(b'["s3", true]'),  # an array element
        b64url(b"not json"),
    ],
)
def test_disclosures_the_issuer_signed_but_we_refuse(issued: Issued, disclosure: str) -> None:
    trust = issued.c.age_credentials.trust(lambda *_: 0)
    issued.rejects(_forge(issued, [disclosure]), "disclosure_invalid", trust=trust)


def test_holder_key_and_credential_shape(issued: Issued) -> None:
    trust = issued.c.age_credentials.trust(lambda *_: 0)
    d = make_disclosure(new_salt(), "age_over_16", True)
    bad_holder = {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}
    issued.rejects(_forge(issued, [d], bad_holder), "holder_key_invalid", trust=trust)
    private = {"kty": "OKP", "crv": "Ed25519", "x": b64url(bytes(32)), "d": b64url(bytes(32))}
    issued.rejects(_forge(issued, [d], private), "holder_key_invalid", trust=trust)
    for change in (
        {"status": None},
        {"status": {"status_list": {"idx": -1, "uri": "https://x/1"}}},
        {"_sd": "not a list"},
        {"_sd": [digest(d), digest(d)]},
        {"_sd_alg": "sha-512"},
        {"exp": "tomorrow"},
        {"exp": None},
        {"cnf": None},
    ):
        issued.rejects(_forge(issued, [d], **change), "credential_malformed", trust=trust)


@pytest.mark.parametrize("garbage", ["", "~", "a.b.c", "x~y~z", "~~~", "é" * 40_000, "a.b~~kb"])
def test_malformed_presentations(issued: Issued, garbage: str) -> None:
    issued.rejects(garbage, "presentation_malformed")


def test_every_reason_code_is_exercised() -> None:
    tested = {
        "presentation_malformed", "credential_type_invalid", "issuer_key_unknown",
        "issuer_signature_invalid", "issuer_mismatch", "credential_expired",
        "credential_not_yet_valid", "credential_malformed", "credential_revoked",
        "status_unavailable", "disclosure_not_referenced", "disclosure_duplicate",
        "claim_missing", "claim_not_requested", "key_binding_missing", "holder_key_invalid",
        "key_binding_invalid", "nonce_mismatch", "audience_mismatch", "key_binding_stale",
        "sd_hash_mismatch", "disclosure_invalid",
    }  # fmt: skip
    assert tested == set(REASONS)


def test_a_verifier_built_from_the_published_metadata(issued: Issued) -> None:
    service = issued.c.age_credentials
    published = json.loads(json.dumps(service.metadata()))  # as fetched from the well-known path
    trust = Trust.from_metadata(
        published, service.local_status(issued.c.unit_of_work, issued.c.clock)
    )
    assert set(trust.keys) == {"age-ed25519-v1", "age-mldsa65-v1"}
    for issuer in ("EdDSA", "ML-DSA-65"):
        p = issued.present(issuer=issuer)  # type: ignore[arg-type]
        assert issued.verify(p, trust=trust).claims == {"age_over_16": True}
