"""Binding by login: the ID token checks (signature, issuer, audience, exp, iat age, nonce
once), the status and batch reads, the events feed and isolation between platforms."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.crypto.jose import SigningKey, sign_jwt
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.social.service import MAX_BATCH
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.social.linking import assert_unlinkable, binding_rows
from tests.support import Citizen


def _claims(c: Container, client_id: str, **kw: object) -> dict[str, object]:
    now = int(c.clock().timestamp())
    return {
        "iss": c.auth.issuer,
        "sub": "someone",
        "aud": client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-" + os.urandom(6).hex(),
        "acr": "urn:dinhdanh:loa:1",
    } | kw


def _audit_entries(c: Container) -> int:
    with c.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_real_sign_in_binds_the_account_once(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    plat = add_platform(container, "zalo")
    log_in(app_client, citizen)
    token = sign_in(app_client, plat)
    resp = bind(app_client, plat, "u-1", token)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["verified"] is True
    assert body["method"] == "login"
    assert body["acr"] == "urn:dinhdanh:loa:1"
    assert (body["age_over_13"], body["age_over_16"], body["age_over_18"]) == (True, True, True)
    assert body["guardian_approved"] is None
    assert body["risk"] is None
    assert citizen.subject_id not in resp.text
    # The same token again: its nonce is spent.
    again = bind(app_client, plat, "u-2", token)
    assert again.status_code == 400
    assert again.json()["code"] == "id_token_replayed"
    status = app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=plat.auth)
    assert status.json()["verified"] is True
    unbound = app_client.get("/api/v1/platforms/zalo/accounts/u-2/status", headers=plat.auth)
    assert unbound.status_code == 200
    assert unbound.json()["verified"] is False


def test_forged_expired_too_old_and_foreign_tokens_are_refused(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo, other = add_platform(container, "zalo"), add_platform(container, "other")
    signer = container.auth.provider.keys.signer("EdDSA")
    stranger = SigningKey.from_ed25519_seed(signer.kid, os.urandom(32))
    now = int(container.clock().timestamp())
    log_in(app_client, citizen)
    real = sign_in(app_client, zalo)
    head, payload, sig = real.split(".")
    flipped = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    cases = {
        "id_token_invalid": [
            sign_jwt(_claims(container, zalo.client_id), stranger),  # not our key
            f"{head}.{payload}.{flipped}",  # altered signature
            sign_jwt(_claims(container, zalo.client_id, iss="https://evil.example"), signer),
            # An access token is not an ID token, whatever its claims.
            sign_jwt(_claims(container, zalo.client_id), signer, typ="at+jwt"),
        ],
        "id_token_expired": [
            sign_jwt(_claims(container, zalo.client_id, iat=now - 400, exp=now - 100), signer)
        ],
        "id_token_too_old": [
            sign_jwt(_claims(container, zalo.client_id, iat=now - 660, exp=now + 300), signer)
        ],
        "id_token_wrong_audience": [real],  # zalo's token offered to another platform
    }
    for code, tokens in cases.items():
        for token in tokens:
            target = other if code == "id_token_wrong_audience" else zalo
            resp = bind(app_client, target, "acct", token)
            assert resp.status_code == 400, (code, resp.text)
            assert resp.json()["code"] == code, resp.text
    # A well-formed token of ours whose subject signed in nowhere binds nobody.
    lost = bind(app_client, zalo, "acct", sign_jwt(_claims(container, zalo.client_id), signer))
    assert lost.json()["code"] == "id_token_unknown_subject"
    assert bind(app_client, zalo, "acct", real).status_code == 200  # the real one still works


def test_a_platform_never_reaches_another(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo, fb = add_platform(container, "zalo"), add_platform(container, "fb")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "u-1", sign_in(app_client, zalo)).status_code == 200
    calls = [
        ("get", "/api/v1/platforms/zalo/accounts/u-1/status", None),
        ("post", "/api/v1/platforms/zalo/accounts:status", {"account_ids": ["u-1"]}),
        ("get", "/api/v1/platforms/zalo/events", None),
        ("put", "/api/v1/platforms/zalo/accounts/u-1", {"id_token": "x.y.z"}),
    ]
    for method, path, body in calls:
        kw = {"json": body} if body is not None else {}
        resp = app_client.request(method, path, headers=fb.auth, **kw)
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["code"] == "forbidden"
        assert app_client.request(method, path, **kw).status_code == 401
    # fb asking about the same account id in its own space learns nothing.
    own = app_client.get("/api/v1/platforms/fb/accounts/u-1/status", headers=fb.auth)
    assert own.json()["verified"] is False


def test_batch_status_counts_reads_per_day_and_opens_nothing(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "u-1", sign_in(app_client, zalo)).status_code == 200
    audit_before = _audit_entries(container)
    ids = ["u-0", "u-1", "u-2"]
    resp = app_client.post(
        "/api/v1/platforms/zalo/accounts:status", json={"account_ids": ids}, headers=zalo.auth
    )
    assert resp.status_code == 200, resp.text
    assert [i["account_id"] for i in resp.json()["items"]] == ids
    assert [i["verified"] for i in resp.json()["items"]] == [False, True, False]
    app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=zalo.auth)
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", container.clock().date()) == 4
    assert _audit_entries(container) == audit_before  # no per-call audit entry
    too_many = {"account_ids": [f"a{i}" for i in range(MAX_BATCH + 1)]}
    big = app_client.post(
        "/api/v1/platforms/zalo/accounts:status", json=too_many, headers=zalo.auth
    )
    assert big.status_code == 422


def test_events_feed_pages_by_cursor(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    for account in ("u-1", "u-2"):
        assert bind(app_client, zalo, account, sign_in(app_client, zalo)).status_code == 200
    feed = app_client.get("/api/v1/platforms/zalo/events?limit=1", headers=zalo.auth).json()
    assert [(e["account_id"], e["kind"]) for e in feed["items"]] == [("u-1", "binding_created")]
    rest = app_client.get(
        f"/api/v1/platforms/zalo/events?after={feed['next_cursor']}", headers=zalo.auth
    ).json()
    assert [(e["account_id"], e["kind"]) for e in rest["items"]] == [("u-2", "binding_created")]
    end = app_client.get(
        f"/api/v1/platforms/zalo/events?after={rest['next_cursor']}", headers=zalo.auth
    ).json()
    assert end == {"items": [], "next_cursor": rest["next_cursor"]}


def test_more_accounts_than_the_limit_are_flagged(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    container.social.account_limit = 1
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    first = bind(app_client, zalo, "u-1", sign_in(app_client, zalo)).json()
    assert first["flags"] == []
    second = bind(app_client, zalo, "u-2", sign_in(app_client, zalo)).json()
    assert second["flags"] == ["ACCOUNT_LIMIT"]
    again = app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=zalo.auth)
    assert again.json()["flags"] == ["ACCOUNT_LIMIT"]


def test_two_platforms_bindings_of_one_person_share_no_linking_value(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    a, b = add_platform(container, "zalo"), add_platform(container, "fb")
    log_in(app_client, citizen)
    # Same account id and same nonce at both: the stored values must still differ.
    assert bind(app_client, a, "same", sign_in(app_client, a, "n-same")).status_code == 200
    assert bind(app_client, b, "same", sign_in(app_client, b, "n-same")).status_code == 200
    assert_unlinkable(binding_rows(container), citizen.subject_id)


def test_an_owner_who_dies_is_flagged_and_the_platform_told(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "u-1", sign_in(app_client, zalo)).json()["flags"] == []
    with container.unit_of_work() as s:
        assert container.social.recheck_deceased(s, container.clock()) == 0
    rec = CitizenRecord(
        citizen.id_number,
        citizen.full_name,
        citizen.date_of_birth,
        Sex.MALE,
        citizen.id_number[:3],
        phone=citizen.phone,
        date_of_death=container.clock().date(),
    )
    ctx = AccessContext("test", "registry_import", "death")
    with container.unit_of_work() as s:
        container.registry.upsert(s, [rec], ctx, container.clock())
    with container.unit_of_work() as s:
        assert container.social.recheck_deceased(s, container.clock()) == 1
    with container.unit_of_work() as s:
        assert container.social.recheck_deceased(s, container.clock()) == 0  # told once
    status = app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=zalo.auth)
    assert status.json()["flags"] == ["OWNER_DECEASED"]
    feed = app_client.get("/api/v1/platforms/zalo/events", headers=zalo.auth).json()["items"]
    assert [(e["account_id"], e["kind"]) for e in feed][-1] == ("u-1", "owner_deceased")
