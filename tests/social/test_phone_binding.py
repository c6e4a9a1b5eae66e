"""Binding by phone: answers that say nothing of the number (registered, unknown, junk, locked,
foreign), the binding itself, codes that are wrong, expired or replayed, limits under
parallel requests, isolation between platforms, JUNK_SIM_OWNER after reconciliation, and
bindings that two platforms cannot be joined on."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.age.band_rules import period_end
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.settings import Settings
from dinhdanh.social import models as m
from dinhdanh.social.phone import Created, PhoneCheckLimited
from dinhdanh.social.service import Status
from dinhdanh.telecom.service import Verdict
from dinhdanh.wiring import Container, build
from tests.auth.factories import subscribe
from tests.cli.helpers import cli, cli_json
from tests.parallel import BURST, burst, only
from tests.social.conftest import Plat, add_platform
from tests.social.linking import assert_unlinkable, binding_rows
from tests.support import Citizen, make_citizen
from tests.telecom.test_store_reconciliation import run

NUMBER = "0912345678"  # the citizen's own subscription (tests.support.PHONE)
E164 = "+84912345678"
UNKNOWN = "0987654321"  # a Vietnamese mobile number nobody holds
CTX = AccessContext("test", "telecom_reconciliation", "test")


@pytest.fixture
def roomy(container: Container) -> Container:
    """Limits out of the way of tests that are not about them."""
    pc = container.phone_checks
    pc.config = replace(pc.config, per_number=50, per_account=50)
    return container


def start(tc: TestClient, plat: Plat, account: str, msisdn: str) -> Any:
    return tc.post(
        f"/api/v1/platforms/{plat.code}/phone-checks",
        json={"account_id": account, "msisdn": msisdn},
        headers=plat.auth,
    )


def confirm(tc: TestClient, plat: Plat, check_id: str, code: str) -> Any:
    return tc.post(
        f"/api/v1/platforms/{plat.code}/phone-checks/{check_id}:confirm",
        json={"code": code},
        headers=plat.auth,
    )


def texts_to(c: Container, e164: str) -> list[str]:
    with c.unit_of_work() as s:
        return [msg.text for msg in c.auth.outbox.messages(s, 1000) if msg.to == e164]


def code_sent_to(c: Container, e164: str) -> str:
    """The code of the newest SMS to ``e164``."""
    found = re.search(r"Code (\d{6})\.", texts_to(c, e164)[0])
    assert found is not None
    return found.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def refusal(resp: Any) -> dict[str, Any]:
    """The refusal without its ``instance`` (the path, which names the check)."""
    assert resp.status_code == 400, resp.text
    body: dict[str, Any] = resp.json()
    assert body["code"] == "phone_check_failed"
    return {k: v for k, v in body.items() if k != "instance"}


def bind_by_phone(c: Container, tc: TestClient, plat: Plat, account: str, number: str) -> Any:
    made = start(tc, plat, account, number)
    assert made.status_code == 202, made.text
    e164 = "+84" + number[1:]
    return confirm(tc, plat, made.json()["id"], code_sent_to(c, e164))


def reconcile(c: Container, out: Path) -> frozenset[str]:
    """The numbers a reconciliation run as of now finds junk."""
    junk = run(c, out, now=c.clock())["junk"]
    assert isinstance(junk, frozenset)
    return junk


def test_a_registered_and_an_unknown_number_get_the_same_answers(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c, zalo = roomy, add_platform(roomy, "zalo")
    subscribe(c, citizen, NUMBER)
    numbers = [NUMBER, UNKNOWN, "+1 202 555 0100", "024 3825 1234"]  # and foreign, landline
    made = [start(app_client, zalo, f"u-{i}", n) for i, n in enumerate(numbers)]
    for resp in made:
        assert resp.status_code == 202, resp.text
        assert set(resp.json()) == {"id", "expires_at"}
    # A code goes to every Vietnamese mobile number, registered or not; none abroad.
    assert len(texts_to(c, E164)) == len(texts_to(c, "+84987654321")) == 1
    assert "Zalo" in texts_to(c, E164)[0]
    with c.unit_of_work() as s:
        assert len(c.auth.outbox.messages(s, 1000)) == 2
    ids = [r.json()["id"] for r in made]
    # Wrong codes: one refusal, whatever the number.
    wrongs = [refusal(confirm(app_client, zalo, i, wrong(code_sent_to(c, E164)))) for i in ids[:2]]
    assert wrongs[0] == wrongs[1]
    # The right code for a number nobody holds: the same refusal again.
    right_unknown = confirm(app_client, zalo, ids[1], code_sent_to(c, "+84987654321"))
    assert refusal(right_unknown) == wrongs[0]
    # The right code for the citizen's own number binds.
    bound = confirm(app_client, zalo, ids[0], code_sent_to(c, E164))
    assert bound.status_code == 200, bound.text
    assert bound.json()["verified"] is True
    # Not phone-shaped at all is a format error.
    bad = start(app_client, zalo, "u-9", "call me maybe")
    assert bad.status_code == 422
    assert bad.json()["code"] == "msisdn_invalid"


def test_a_right_code_binds_the_account_by_phone(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c, zalo = roomy, add_platform(roomy, "zalo")
    subscribe(c, citizen, NUMBER)
    with c.unit_of_work() as s:
        audit_before = s.scalar(select(func.count()).where(AuditEntry.actor == "platform:zalo"))
    resp = bind_by_phone(c, app_client, zalo, "u-1", NUMBER)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["verified"], body["method"], body["acr"]) == (True, "phone", "urn:dinhdanh:loa:1")
    assert (body["age_over_13"], body["age_over_16"], body["age_over_18"]) == (True, True, True)
    assert body["flags"] == []
    status = app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=zalo.auth)
    assert status.json()["method"] == "phone"
    feed = app_client.get("/api/v1/platforms/zalo/events", headers=zalo.auth).json()["items"]
    assert [(e["account_id"], e["kind"]) for e in feed] == [("u-1", "binding_created")]
    with c.unit_of_work() as s:
        # The ages were read from the registry like a login binding's: audited, per citizen.
        reads = s.scalars(select(AuditEntry).where(AuditEntry.actor == "platform:zalo")).all()
        assert len(reads) - (audit_before or 0) == 3
        assert {e.subject for e in reads} == {citizen.subject_id}
        # The citizen finds it on "My platform accounts": the same pairwise subject as a login.
        mine = c.social.bindings_of(s, citizen.subject_id)
    assert [(b.platform, b.method) for b in mine] == [("zalo", "phone")]
    assert citizen.subject_id not in resp.text


def _other_citizen(c: Container, *, with_death: bool) -> Citizen:
    other = make_citizen(
        c, "001085000111", "Trần Văn Bình", date(1985, 2, 3), "+84912000099", with_account=False
    )
    if with_death:
        rec = CitizenRecord(
            other.id_number,
            other.full_name,
            other.date_of_birth,
            Sex.MALE,
            other.id_number[:3],
            phone=other.phone,
            date_of_death=date(2025, 1, 1),
        )
        with c.unit_of_work() as s:
            c.registry.upsert(
                s, [rec], AccessContext("test", "registry_import", "death"), c.clock()
            )
    return other


def test_junk_locked_mismatched_and_deceased_numbers_are_refused_alike(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c, zalo = roomy, add_platform(roomy, "zalo")
    subscribe(c, citizen, "0912000001", full_name="Nguyễn Văn Ăn")  # NAME_MISMATCH
    subscribe(c, citizen, "0912000002", date_of_birth="1990-05-13")  # DOB_MISMATCH
    subscribe(c, citizen, "0912000003", id_number="001090777777")  # ID_NOT_FOUND
    subscribe(c, citizen, "0912000004")  # clean, but under a lock case
    subscribe(c, citizen, "0912000005")  # clean, but disowned by its owner
    subscribe(c, _other_citizen(c, with_death=True), "0912000006")  # the owner is dead
    with c.unit_of_work() as s:
        case = Verdict("VTL", "+84912000004", ("AGENT_BURST",), "notify")
        assert c.telecom.apply_verdicts(s, [case], None, CTX, c.clock())["opened"] == 1
        id_bidx = c.registry.id_bidx_of(s, citizen.subject_id)
        assert id_bidx is not None
        c.telecom.declare(
            s, citizen.subject_id, id_bidx, "+84912000005", "disowned", CTX, c.clock()
        )
    made = start(app_client, zalo, "u-0", UNKNOWN)
    unknown = refusal(confirm(app_client, zalo, made.json()["id"], code_sent_to(c, "+84987654321")))
    for n in range(1, 7):
        number = f"091200000{n}"
        resp = bind_by_phone(c, app_client, zalo, f"u-{n}", number)
        assert refusal(resp) == unknown, number
    assert binding_rows(c) == []
    # The same owner's clean number still binds (the refusals were about the numbers).
    subscribe(c, citizen, NUMBER)
    assert bind_by_phone(c, app_client, zalo, "u-7", NUMBER).status_code == 200


def test_wrong_code_expired_check_and_replayed_confirm(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c, zalo = roomy, add_platform(roomy, "zalo")
    subscribe(c, citizen, NUMBER)
    now = datetime.now(UTC)
    c.clock = lambda: now
    # Out of attempts: after max_attempts wrong codes the right one fails too.
    first = start(app_client, zalo, "u-1", NUMBER).json()["id"]
    code = code_sent_to(c, E164)
    for _ in range(c.phone_checks.config.max_attempts):
        refusal(confirm(app_client, zalo, first, wrong(code)))
    refusal(confirm(app_client, zalo, first, code))
    # Expired: the right code after the check's life.
    second = start(app_client, zalo, "u-1", NUMBER).json()["id"]
    code = code_sent_to(c, E164)
    c.clock = lambda: now + c.phone_checks.config.ttl + timedelta(seconds=1)
    refusal(confirm(app_client, zalo, second, code))
    # Replayed: a used code binds once.
    third = start(app_client, zalo, "u-1", NUMBER).json()["id"]
    code = code_sent_to(c, E164)
    assert confirm(app_client, zalo, third, code).status_code == 200
    refusal(confirm(app_client, zalo, third, code))
    # A code that is not six digits is a format error; a check nobody made is not found.
    assert confirm(app_client, zalo, third, "12a456").status_code == 422
    missing = confirm(app_client, zalo, "0190aaaa-0000-7000-8000-000000000000", code)
    assert missing.status_code == 404
    assert missing.json()["code"] == "phone_check_not_found"


def test_a_platform_cannot_start_or_confirm_another_platforms_checks(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c = roomy
    zalo, fb = add_platform(c, "zalo"), add_platform(c, "fb")
    subscribe(c, citizen, NUMBER)
    check = start(app_client, zalo, "u-1", NUMBER).json()["id"]
    code = code_sent_to(c, E164)
    body = {"account_id": "u-1", "msisdn": NUMBER}
    for path, payload in [
        ("/api/v1/platforms/zalo/phone-checks", body),
        (f"/api/v1/platforms/zalo/phone-checks/{check}:confirm", {"code": code}),
    ]:
        resp = app_client.post(path, json=payload, headers=fb.auth)
        assert resp.status_code == 403
        assert resp.json()["code"] == "forbidden"
        assert app_client.post(path, json=payload).status_code == 401
    # fb's own path with zalo's check: not found, and no attempt spent.
    theirs = confirm(app_client, fb, check, code)
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "phone_check_not_found"
    assert confirm(app_client, zalo, check, code).status_code == 200
    fb_view = app_client.get("/api/v1/platforms/fb/accounts/u-1/status", headers=fb.auth)
    assert fb_view.json()["verified"] is False


def _starts(c: Container, accounts: list[str], numbers: list[str]) -> list[Created | Exception]:
    def attempt(i: int) -> Created:
        with c.unit_of_work() as s:
            return c.phone_checks.create(s, "zalo", accounts[i], numbers[i], c.clock())

    outcomes = burst(attempt)
    only(outcomes, PhoneCheckLimited)
    return outcomes


@pytest.mark.parametrize("limit", ["per_number", "per_account", "per_platform"])
def test_start_limits_hold_under_parallel_requests(
    container: Container, app_client: TestClient, limit: str
) -> None:
    c = container
    zalo = add_platform(c, "zalo")
    pc = c.phone_checks
    pc.config = replace(pc.config, per_number=99, per_account=99, per_platform=99)
    pc.config = replace(pc.config, **{limit: 4})
    same_number = limit == "per_number"
    same_account = limit == "per_account"
    accounts = ["u-1" if same_account else f"u-{i}" for i in range(BURST)]
    numbers = [NUMBER if same_number else f"09120001{i:02d}" for i in range(BURST)]
    outcomes = _starts(c, accounts, numbers)
    assert sum(isinstance(o, Created) for o in outcomes) == 4
    limited = [o for o in outcomes if isinstance(o, PhoneCheckLimited)]
    assert len(limited) == BURST - 4
    assert {e.code for e in limited} == {"phone_check_limited"}
    with c.unit_of_work() as s:
        assert len(c.auth.outbox.messages(s, 1000)) == 4  # no SMS for a refused start
        assert s.scalar(select(func.count()).select_from(m.PhoneCheck)) == 4
    # Over HTTP: 429 with the time to come back; a new window counts afresh.
    resp = start(app_client, zalo, accounts[0], numbers[0])
    assert resp.status_code == 429
    assert resp.json()["code"] == "phone_check_limited"
    assert "retry_at" in resp.json()
    later = c.clock() + pc.config.window
    c.clock = lambda: later
    assert start(app_client, zalo, accounts[0], numbers[0]).status_code == 202


def _confirms_at_once(
    c: Container, citizen: Citizen, *, right: bool
) -> tuple[str, str, list[Status | Exception | None]]:
    """A check, its code, and BURST confirms of it (the right code or a wrong one) at once."""
    add_platform(c, "zalo")
    subscribe(c, citizen, NUMBER)
    with c.unit_of_work() as s:
        check = c.phone_checks.create(s, "zalo", "u-1", NUMBER, c.clock()).id
    code = code_sent_to(c, E164)
    sent = code if right else wrong(code)

    def attempt(_i: int) -> Status | None:
        with c.unit_of_work() as s:
            return c.phone_checks.confirm(s, "zalo", check, sent, c.clock())

    outcomes = burst(attempt)
    only(outcomes)
    return check, code, outcomes


def test_a_check_compares_at_most_max_attempts_codes_under_parallel_requests(
    roomy: Container, citizen: Citizen
) -> None:
    c = roomy
    check, code, outcomes = _confirms_at_once(c, citizen, right=False)
    assert outcomes == [None] * BURST
    with c.unit_of_work() as s:
        row = s.get(m.PhoneCheck, check)
        assert row is not None
        assert row.attempts == c.phone_checks.config.max_attempts  # not BURST
        assert row.closed
        assert c.phone_checks.confirm(s, "zalo", check, code, c.clock()) is None


def test_one_right_code_sent_many_times_at_once_binds_once(
    roomy: Container, citizen: Citizen
) -> None:
    c = roomy
    _check, _code, outcomes = _confirms_at_once(c, citizen, right=True)
    assert sum(isinstance(o, Status) for o in outcomes) == 1
    assert outcomes.count(None) == BURST - 1
    assert len(binding_rows(c)) == 1
    with c.unit_of_work() as s:
        assert [e.kind for e in c.social.events(s, "zalo", 0)] == ["binding_created"]


def test_a_number_found_junk_by_reconciliation_flags_its_accounts(
    roomy: Container, app_client: TestClient, citizen: Citizen, tmp_path: Path
) -> None:
    c, zalo = roomy, add_platform(roomy, "zalo")
    subscribe(c, citizen, NUMBER)
    assert bind_by_phone(c, app_client, zalo, "u-1", NUMBER).status_code == 200
    with c.unit_of_work() as s:
        assert c.phone_checks.recheck_numbers(s, c.clock(), reconcile(c, tmp_path / "a")) == 0
    # The owner now holds ten numbers: reconciliation flags them all for review (no lock).
    for i in range(9):
        subscribe(c, citizen, f"09130000{i:02d}")
    junk = reconcile(c, tmp_path / "b")
    assert E164 in junk
    with c.unit_of_work() as s:
        assert c.telecom.case_of(s, "VTL", E164) is None
        assert c.phone_checks.recheck_numbers(s, c.clock(), junk) == 1
    with c.unit_of_work() as s:
        assert c.phone_checks.recheck_numbers(s, c.clock(), junk) == 0  # told once
    status = app_client.get("/api/v1/platforms/zalo/accounts/u-1/status", headers=zalo.auth)
    assert status.json()["flags"] == ["JUNK_SIM_OWNER"]
    feed = app_client.get("/api/v1/platforms/zalo/events", headers=zalo.auth).json()["items"]
    assert [(e["account_id"], e["kind"]) for e in feed][-1] == ("u-1", "number_junk")


def test_a_lock_case_on_the_number_flags_its_accounts(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c = roomy
    zalo, fb = add_platform(c, "zalo"), add_platform(c, "fb")
    subscribe(c, citizen, NUMBER)
    subscribe(c, citizen, "0912000001")
    assert bind_by_phone(c, app_client, zalo, "u-1", NUMBER).status_code == 200
    assert bind_by_phone(c, app_client, fb, "u-1", NUMBER).status_code == 200
    assert bind_by_phone(c, app_client, zalo, "u-2", "0912000001").status_code == 200
    # The owner says the number is not theirs: a lock case opens at once.
    with c.unit_of_work() as s:
        id_bidx = c.registry.id_bidx_of(s, citizen.subject_id)
        assert id_bidx is not None
        c.telecom.declare(s, citizen.subject_id, id_bidx, E164, "disowned", CTX, c.clock())
    with c.unit_of_work() as s:
        assert c.phone_checks.recheck_numbers(s, c.clock()) == 2  # at zalo and at fb
    for plat in (zalo, fb):
        path = f"/api/v1/platforms/{plat.code}/accounts/u-1/status"
        assert app_client.get(path, headers=plat.auth).json()["flags"] == ["JUNK_SIM_OWNER"]
        feed = app_client.get(f"/api/v1/platforms/{plat.code}/events", headers=plat.auth)
        assert feed.json()["items"][-1]["kind"] == "number_locked"
    other = app_client.get("/api/v1/platforms/zalo/accounts/u-2/status", headers=zalo.auth)
    assert other.json()["flags"] == []


def test_two_platforms_phone_bindings_of_one_person_share_no_linking_value(
    roomy: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c = roomy
    zalo, fb = add_platform(c, "zalo"), add_platform(c, "fb")
    subscribe(c, citizen, NUMBER)
    # Same account id, same number, same person.
    assert bind_by_phone(c, app_client, zalo, "same", NUMBER).status_code == 200
    assert bind_by_phone(c, app_client, fb, "same", NUMBER).status_code == 200
    rows = binding_rows(c)
    assert all(r["method"] == "phone" and r["number_key"] for r in rows)
    assert_unlinkable(rows, citizen.subject_id, E164, NUMBER[1:])


def test_the_reconcile_command_flags_accounts_bound_by_junk_numbers(
    settings: Settings, tmp_path: Path
) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    c = build(s)
    try:
        citizen = make_citizen(c, with_account=False)
        add_platform(c, "zalo")
        subscribe(c, citizen, NUMBER)
        with c.unit_of_work() as session:
            check = c.phone_checks.create(session, "zalo", "u-1", NUMBER, c.clock()).id
        with c.unit_of_work() as session:
            bound = c.phone_checks.confirm(session, "zalo", check, code_sent_to(c, E164), c.clock())
            assert bound is not None
        # The carrier corrects the subscriber's name to one the registry does not know.
        subscribe(c, citizen, NUMBER, full_name="Nguyễn Văn Ăn")
        out = cli_json(s, "reconcile", "subscriptions", "--out", str(tmp_path / "out"))
        assert out["bindings_flagged"] == 1
        recheck = cli_json(s, "platforms", "recheck")
        assert recheck == {
            "owner_deceased": 0,
            "junk_sim_owner": 0,
            "age_credentials_revoked": 0,
            "guardian_approvals_ended": 0,
            "birth_dates_corrected": 0,
            "age_bands_corrected": 0,
            "age_bands_changed": 0,
            "age_bands_through": period_end(datetime.now(UTC).date(), 1).isoformat(),
        }
        with c.unit_of_work() as session:
            assert c.social.status(session, "zalo", ["u-1"], c.clock())[0].flags == (
                "JUNK_SIM_OWNER",
            )
            # Junk and, since the run, locked too: told once, as junk.
            kinds = [e.kind for e in c.social.events(session, "zalo", 0)]
            assert kinds == ["binding_created", "number_junk"]
    finally:
        c.close()
