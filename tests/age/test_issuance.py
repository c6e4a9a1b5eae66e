"""Issuing batches through the service, on every database: the credentials' contents, what
links them (nothing), the one audited registry read, refusals, revocation by the citizen and
by a death in the registry, and the issuer's public documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS, InvalidJWSSignature
from sqlalchemy import func, select

from dinhdanh.age.credentials.errors import IssuanceRefused
from dinhdanh.age.credentials.issuer import AGE_CLAIMS, VCT
from dinhdanh.age.credentials.models import IssuedBatch
from dinhdanh.age.credentials.sdjwt import parse_disclosure, split
from dinhdanh.age.statuslist import INVALID, VALID
from dinhdanh.age.wallet import Wallet
from dinhdanh.crypto.compact import decode
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.age.conftest import CTX, born_aged, id_number_for, issue, make_teen, record_death
from tests.support import make_citizen


def parsed(credential: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(header, payload, {claim: (salt, value)}) of an issued SD-JWT."""
    parts = split(credential)
    jwt = decode(parts.jwt)
    disclosed = {}
    for d in parts.disclosures:
        p = parse_disclosure(d)
        disclosed[p.name] = (p.salt, p.value)
    return jwt.header, jwt.claims(), disclosed


def statuses(c: Container, credentials: list[str]) -> list[int]:
    out = []
    with c.unit_of_work() as s:
        for credential in credentials:
            entry = parsed(credential)[1]["status"]["status_list"]
            list_id = c.age_credentials.lists.list_id(entry["uri"])
            assert list_id is not None
            out.append(c.age_credentials.lists.status(s, list_id, entry["idx"]))
    return out


def test_a_batch_of_ten_shares_no_salt_key_or_status_entry(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    credentials = issue(container, teen.subject_id, Wallet(), 10, now=now)
    assert len(credentials) == 10
    views = [parsed(c) for c in credentials]
    salts = [salt for _, _, d in views for salt, _ in d.values()]
    keys = [str(sorted(p["cnf"]["jwk"].items())) for _, p, _ in views]
    entries = [
        (p["status"]["status_list"]["uri"], p["status"]["status_list"]["idx"]) for _, p, _ in views
    ]
    digests = [digest for _, p, _ in views for digest in p["_sd"]]
    assert len(set(salts)) == len(salts) == 30
    assert len(set(keys)) == 10
    assert len(set(entries)) == 10
    assert len(set(digests)) == 30
    # Indexes are random, not consecutive.
    idx = sorted(i for _, i in entries)
    assert idx != list(range(idx[0], idx[0] + 10))


def test_the_credential_holds_what_the_format_says_and_nothing_else(container: Container) -> None:
    now = datetime.now(UTC).replace(hour=15, minute=42)
    teen = make_teen(container, now.date())
    header, payload, disclosed = parsed(issue(container, teen.subject_id, Wallet(), 1, now=now)[0])
    midnight = int(datetime.combine(now.date(), datetime.min.time(), UTC).timestamp())
    assert header == {"alg": "EdDSA", "kid": "age-ed25519-v1", "typ": "dc+sd-jwt"}
    assert set(payload) == {"iss", "iat", "exp", "vct", "cnf", "status", "_sd_alg", "_sd"}
    assert payload["iss"] == container.settings.effective_issuer
    assert payload["iat"] == midnight  # the day only: no time of issue to correlate
    assert payload["exp"] - payload["iat"] == 90 * 86_400
    assert payload["vct"] == VCT
    assert payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    assert set(payload["cnf"]["jwk"]) == {"kty", "crv", "x"}
    assert set(payload["status"]["status_list"]) == {"idx", "uri"}
    assert {k: v for k, (_, v) in disclosed.items()} == {
        "age_over_13": True,
        "age_over_16": True,
        "age_over_18": False,
    }


@pytest.mark.parametrize(("years", "days_short", "over_18"), [(18, 0, True), (18, 1, False)])
def test_ages_follow_the_one_age_rule_on_the_day_of_issue(
    container: Container, years: int, days_short: int, over_18: bool
) -> None:
    now = container.clock()
    dob = born_aged(years, now.date()) + timedelta(days=days_short)
    person = make_citizen(container, id_number_for(dob), "Lê Thị Cúc", dob, with_account=False)
    _, _, disclosed = parsed(issue(container, person.subject_id, Wallet(), 1, now=now)[0])
    assert disclosed["age_over_18"][1] is over_18
    assert disclosed["age_over_16"][1] is True


def test_the_birth_date_is_read_once_per_batch_and_audited(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())

    def reads() -> list[tuple[str, str]]:
        with container.unit_of_work() as s:
            rows = s.execute(
                select(AuditEntry.fields, AuditEntry.purpose).where(
                    AuditEntry.subject == teen.subject_id, AuditEntry.action == "read"
                )
            ).all()
        return [(r[0], r[1]) for r in rows]

    before = reads()
    issue(container, teen.subject_id, Wallet(), 10, now=now)
    assert reads()[len(before) :] == [("date_of_birth", CTX.purpose)]


def test_es256_holder_keys_and_ml_dsa_65_issuer(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    credential = issue(container, teen.subject_id, Wallet("ES256"), 2, alg="ML-DSA-65", now=now)[0]
    header, payload, _ = parsed(credential)
    assert header["alg"] == "ML-DSA-65"
    assert header["kid"] == "age-mldsa65-v1"
    assert set(payload["cnf"]["jwk"]) == {"kty", "crv", "x", "y"}
    # An independent JOSE library (jwcrypto, RFC 9964 AKP keys) verifies the signature.
    jwks = {k["kid"]: k for k in container.age_credentials.metadata()["jwks"]["keys"]}
    jws = JWS.from_jose_token(split(credential).jwt)
    jws.verify(JWK(**jwks["age-mldsa65-v1"]), alg="ML-DSA-65")
    assert json.loads(jws.payload) == payload
    with pytest.raises(InvalidJWSSignature):
        JWS.from_jose_token(split(credential).jwt).verify(JWK(**jwks["age-ed25519-v1"]))


def _private_jwk() -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    }


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ([], "batch_size_invalid"),
        ("eleven", "batch_size_invalid"),
        ([_private_jwk()], "holder_key_invalid"),
        ([{"kty": "RSA", "n": "AQAB", "e": "AQAB"}], "holder_key_invalid"),
        ([{"kty": "OKP", "crv": "Ed25519", "x": "short"}], "holder_key_invalid"),
        ([{"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}], "holder_key_invalid"),
        ("same twice", "holder_key_reused"),
    ],
)
def test_refusals_issue_nothing(container: Container, keys: Any, code: str) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    if keys == "eleven":
        keys = Wallet().holder_keys(11)
    elif keys == "same twice":
        keys = Wallet().holder_keys(1) * 2
    with container.unit_of_work() as s, pytest.raises(IssuanceRefused) as refused:
        container.age_credentials.issue_batch(s, teen.subject_id, keys, CTX, now)
    assert refused.value.code == code
    with container.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(IssuedBatch)) == 0


def test_unknown_and_dead_citizens_get_nothing(container: Container) -> None:
    now = container.clock()
    keys = Wallet().holder_keys(1)
    with container.unit_of_work() as s, pytest.raises(IssuanceRefused) as unknown:
        container.age_credentials.issue_batch(
            s, "0190a0a0-0000-7000-8000-000000000000", keys, CTX, now
        )
    assert (unknown.value.code, unknown.value.status) == ("subject_unknown", 404)
    teen = make_teen(container, now.date())
    record_death(container, teen)
    with container.unit_of_work() as s, pytest.raises(IssuanceRefused) as dead:
        container.age_credentials.issue_batch(s, teen.subject_id, keys, CTX, now)
    assert dead.value.code == "subject_deceased"
    with container.unit_of_work() as s, pytest.raises(IssuanceRefused) as alg:
        container.age_credentials.issue_batch(s, teen.subject_id, keys, CTX, now, alg="HS256")  # type: ignore[arg-type]
    assert alg.value.code == "alg_unsupported"


def test_holder_keys_lose_every_member_that_could_identify(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    key = Wallet().holder_keys(1)[0] | {"kid": "device-42", "use": "sig", "x5u": "https://t/"}
    with container.unit_of_work() as s:
        (credential,) = container.age_credentials.issue_batch(s, teen.subject_id, [key], CTX, now)
    assert parsed(credential)[1]["cnf"]["jwk"] == {k: key[k] for k in ("crv", "kty", "x")}


def test_a_citizen_revokes_all_their_credentials(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    other = make_citizen(container, with_account=False)
    mine = issue(container, teen.subject_id, Wallet(), 10, now=now)
    mine += issue(container, teen.subject_id, Wallet(), 5, now=now)
    theirs = issue(container, other.subject_id, Wallet(), 3, now=now)
    with container.unit_of_work() as s:
        assert container.age_credentials.revoke_all(s, teen.subject_id, now) == 15
    assert statuses(container, mine) == [INVALID] * 15
    assert statuses(container, theirs) == [VALID] * 3
    with container.unit_of_work() as s:
        assert container.age_credentials.revoke_all(s, teen.subject_id, now) == 0
        assert s.scalar(select(func.count()).select_from(IssuedBatch)) == 1  # theirs


def test_a_death_in_the_registry_revokes_the_credentials(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    other = make_citizen(container, with_account=False)
    mine = issue(container, teen.subject_id, Wallet(), 10, now=now)
    theirs = issue(container, other.subject_id, Wallet(), 2, now=now)
    with container.unit_of_work() as s:
        assert container.age_credentials.revoke_deceased(s, now) == 0
    record_death(container, teen)
    with container.unit_of_work() as s:
        assert container.age_credentials.revoke_deceased(s, now) == 10
    assert statuses(container, mine) == [INVALID] * 10
    assert statuses(container, theirs) == [VALID] * 2
    with container.unit_of_work() as s:
        assert container.age_credentials.revoke_deceased(s, now) == 0  # once
        # Past their expiry, batches have nothing left to revoke: their rows go.
        assert container.age_credentials.revoke_deceased(s, now + timedelta(days=91)) == 0
        assert s.scalar(select(func.count()).select_from(IssuedBatch)) == 0


def test_the_batch_row_names_nobody_in_clear(container: Container) -> None:
    now = container.clock()
    teen = make_teen(container, now.date())
    issue(container, teen.subject_id, Wallet(), 3, now=now)
    with container.unit_of_work() as s:
        (row,) = s.scalars(select(IssuedBatch)).all()
        values = [row.id.encode(), row.holder, row.sealed, str(row.expires_at).encode()]
    for value in values:
        assert teen.subject_id.encode() not in value
        assert teen.id_number.encode() not in value
    assert len(row.holder) == 32


def test_issuer_metadata_and_keys_at_the_well_known_path(
    container: Container, app_client: TestClient
) -> None:
    r = app_client.get("/.well-known/jwt-vc-issuer")
    assert r.status_code == 200
    meta = r.json()
    assert meta["issuer"] == container.settings.effective_issuer
    by_kid = {k["kid"]: k for k in meta["jwks"]["keys"]}
    assert by_kid["age-ed25519-v1"]["kty"] == "OKP"
    assert by_kid["age-mldsa65-v1"] | {"pub": ""} == {
        "kty": "AKP",
        "alg": "ML-DSA-65",
        "kid": "age-mldsa65-v1",
        "use": "sig",
        "pub": "",
    }
    # Not the OIDC token keys: one key, one protocol.
    oidc_kids = {k["kid"] for k in app_client.get("/jwks").json()["keys"]}
    assert not oidc_kids & set(by_kid)
    now = container.clock()
    teen = make_teen(container, now.date())
    jwt = split(issue(container, teen.subject_id, Wallet(), 1, now=now)[0]).jwt
    JWS.from_jose_token(jwt).verify(JWK(**by_kid["age-ed25519-v1"]))


def test_claim_names_are_the_three_age_claims() -> None:
    assert AGE_CLAIMS == ("age_over_13", "age_over_16", "age_over_18")
