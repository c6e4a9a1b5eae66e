"""Helpers of the age credential tests: citizens of known ages, issuing through the service,
a verifier of our own credentials, and the sd-jwt reference implementation as a second
verifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dinhdanh.age.credentials.keys import IssuerAlg
from dinhdanh.age.credentials.verifier import Trust
from dinhdanh.age.wallet import Wallet
from dinhdanh.crypto.compact import decode
from dinhdanh.identity.age import latest_birth
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container, build, init_data_dir
from tests.support import Citizen, make_citizen

RFC9901: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "sd_jwt_rfc9901.json").read_text(encoding="utf-8")
)
CTX = AccessContext("account:test", "citizen", "age credentials")
VERIFIER = "https://shop.example.vn"


def born_aged(years: int, today: date) -> date:
    """A birth date making someone exactly ``years`` old today (a birthday today)."""
    return latest_birth(years, today)


def id_number_for(dob: date, serial: str = "012345") -> str:
    """An ID number of a woman born on ``dob`` registered in Hà Nội (Circular 59/2021)."""
    century = (dob.year - 1900) // 100 * 2 + 1  # 1: 1900s, 3: 2000s (female)
    return f"001{century}{dob.year % 100:02d}{serial}"


def make_teen(c: Container, today: date, years: int = 17, serial: str = "012345") -> Citizen:
    """A registry citizen ``years`` old (17: over 13 and 16, not 18), no account."""
    dob = born_aged(years, today)
    return make_citizen(c, id_number_for(dob, serial), "Trần Thị Bình", dob, with_account=False)


def issue(
    c: Container,
    subject: str,
    wallet: Wallet,
    n: int = 10,
    *,
    alg: IssuerAlg = "EdDSA",
    now: datetime | None = None,
) -> list[str]:
    """A batch through ``AgeCredentials.issue_batch``, stored in ``wallet``."""
    keys = wallet.holder_keys(n)
    with c.unit_of_work() as s:
        credentials = c.age_credentials.issue_batch(
            s, subject, keys, CTX, now or c.clock(), alg=alg
        )
    wallet.store(credentials)
    return credentials


def local_trust(c: Container, **options: Any) -> Trust:
    """A verifier of our own credentials, statuses read from our database."""
    return c.age_credentials.trust(
        c.age_credentials.local_status(c.unit_of_work, c.clock), **options
    )


@pytest.fixture(scope="module")
def sqlite_container(
    tmp_path_factory: pytest.TempPathFactory, ring_json: str
) -> Iterator[Container]:
    """One SQLite container for a module whose tests need a store but test no storage."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("age") / "var", keyring=ring_json)
    init_data_dir(settings)[1].dispose()
    with closing(build(settings)) as c:
        yield c


# -- the reference implementation (sd-jwt 0.10, jwcrypto) as an independent verifier --------


def reference_verify(
    presentation: str,
    issuer_jwks: dict[str, Any],
    nonce: str,
    audience: str,
    now: datetime,
    kb_max_age: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """The claims the ``sd-jwt`` reference verifier accepts, with the checks it lacks added.

    Adapted here, and only here, for how sd-jwt 0.10 differs from RFC 9901:
    - its KB-JWT check verifies with ``alg`` ES256 unless told otherwise (it does not read the
      KB-JWT header), so an EdDSA holder key fails: we build it without ``expected_aud`` and
      ``expected_nonce`` (no KB check) and call its KB check with the header's ``alg``;
    - it checks no ``exp``, ``nbf`` or ``iat`` (its own TODO) and no KB-JWT ``iat``: checked
      below, as RFC 9901 sections 7.1 and 7.3 ask;
    - it ignores Disclosures whose digest the credential does not contain (RFC 9901 section
      7.1 says reject): not adapted; tests/age/test_reference.py shows it.
    """
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    keys = {k["kid"]: k for k in issuer_jwks["keys"]}

    def issuer_key(_iss: str, header: dict[str, Any]) -> JWK:
        return JWK(**keys[header["kid"]])

    verifier = SDJWTVerifier(presentation, issuer_key)
    kb_jwt = presentation.rsplit("~", 1)[1]
    verifier._verify_key_binding_jwt(audience, nonce, sign_alg=decode(kb_jwt).header["alg"])
    claims: dict[str, Any] = verifier.get_verified_payload()
    t = now.timestamp()
    if not t < claims["exp"]:
        raise ValueError("expired")
    kb_iat = decode(kb_jwt).claims()["iat"]
    if not t - kb_max_age.total_seconds() <= kb_iat <= t + 60:
        raise ValueError("stale key binding")
    return claims
