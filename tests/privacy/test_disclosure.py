"""Re-identification requests on every database: filed by an investigator, decided by another
person with the approver role, revealed once by the requester within 7 days of the approval;
each step audited with the request's legal basis and case reference, and the citizen told in
"Who used my data" once the delay ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.errors import DomainError
from dinhdanh.privacy.access_log import access_log
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.disclosure import Person, RequestInfo
from dinhdanh.privacy.disclosure_rules import State
from dinhdanh.privacy.models import AuditEntry, DisclosureRequest
from dinhdanh.staff.service import StaffMember
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.parallel import burst, only
from tests.social.conftest import add_platform, bind, sign_in
from tests.staff.factories import grant, person
from tests.support import Citizen

POLICE = "Công an tỉnh Bắc Ninh"
PROSECUTOR = "Viện kiểm sát nhân dân tỉnh Bắc Ninh"
CASE = "HS-2026/118"


@dataclass
class Scene:
    c: Container
    citizen: Citizen  # bound at "zalo" as ACCOUNT
    investigator: AccessContext
    approver: AccessContext


ACCOUNT = "u-4242"


def ctx(c: Container, who: Citizen, role: str, org: str) -> AccessContext:
    return StaffMember(grant(c, who, role, org=org)).context("test")


@pytest.fixture
def scene(container: Container, app_client: TestClient, citizen: Citizen) -> Scene:
    c = container
    zalo = add_platform(c, "zalo", "Zalo Việt")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, ACCOUNT, sign_in(app_client, zalo)).status_code == 200
    investigator = ctx(c, person(c, 1), "investigator", POLICE)
    approver = ctx(c, person(c, 2), "approver", PROSECUTOR)
    return Scene(c, citizen, investigator, approver)


def file(s: Scene, account: str = ACCOUNT, **kw: object) -> RequestInfo:
    args: dict[str, object] = {
        "platform": "zalo",
        "account_id": account,
        "legal_basis": "criminal_investigation",
        "case_ref": CASE,
        "reason": "threats posted from this account",
        "delay_days": None,
        "now": s.c.clock(),
    } | kw
    by = args.pop("by", s.investigator)
    with s.c.unit_of_work() as session:
        return s.c.disclosure.file(session, by, **args)  # type: ignore[arg-type]


def approve(s: Scene, request_id: str, by: AccessContext | None = None, **kw: object) -> None:
    with s.c.unit_of_work() as session:
        s.c.disclosure.approve(
            session,
            request_id,
            by or s.approver,
            "basis and reason checked",
            kw.get("now", s.c.clock()),  # type: ignore[arg-type]
        )


def reveal(s: Scene, request_id: str, by: AccessContext | None = None, **kw: object) -> object:
    with s.c.unit_of_work() as session:
        now = kw.get("now", s.c.clock())
        return s.c.disclosure.reveal(session, request_id, by or s.investigator, now)  # type: ignore[arg-type]


def code_of(fn: object, *args: object, **kw: object) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)  # type: ignore[operator]
    return err.value.code


def entries(c: Container) -> list[AuditEntry]:
    with c.unit_of_work() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("disclosure_%"))
            .order_by(AuditEntry.seq)
        ).all()
        session.expunge_all()
    return list(rows)


def test_filed_approved_and_revealed_once_every_step_audited(scene: Scene) -> None:
    s = scene
    filed = file(s)
    assert filed.state is State.PENDING
    assert (filed.platform, filed.account_id, filed.organisation) == ("zalo", ACCOUNT, POLICE)
    approve(s, filed.id)
    with s.c.unit_of_work() as session:
        got = s.c.disclosure.get(session, filed.id, s.c.clock())
    assert got is not None
    assert got.state is State.APPROVED
    assert got.decider_organisation == PROSECUTOR
    assert got.decided_at is not None
    assert got.expires_at == got.decided_at + timedelta(days=7)

    shown = reveal(s, filed.id)
    assert shown.person == Person(s.citizen.id_number, s.citizen.full_name)  # type: ignore[attr-defined]
    assert shown.request.state is State.REVEALED  # type: ignore[attr-defined]
    assert code_of(reveal, s, filed.id) == "disclosure_already_revealed"

    steps = entries(s.c)
    assert [e.action for e in steps] == [
        "disclosure_file",
        "disclosure_approve",
        "disclosure_reveal",
    ]
    assert {(e.legal_basis, e.case_ref) for e in steps} == {("criminal_investigation", CASE)}
    assert [e.actor for e in steps] == [
        s.investigator.actor,
        s.approver.actor,
        s.investigator.actor,
    ]
    assert [e.organisation for e in steps] == [POLICE, PROSECUTOR, POLICE]
    assert [e.role for e in steps] == ["investigator", "approver", "investigator"]
    # Nobody knows who the request is about until the reveal, which names the citizen.
    assert [e.subject for e in steps] == [None, None, s.citizen.subject_id]
    assert all(filed.id in e.purpose for e in steps)
    with s.c.unit_of_work() as session:
        read = session.scalars(
            select(AuditEntry).where(
                AuditEntry.subject == s.citizen.subject_id, AuditEntry.actor == s.investigator.actor
            )
        ).all()
        assert [(e.action, e.fields) for e in read] == [
            ("read", "id_number,full_name"),
            ("disclosure_reveal", ""),
        ]
        assert s.c.audit.verify(session).ok


def test_the_row_keeps_neither_the_person_nor_the_account_in_clear(scene: Scene) -> None:
    s = scene
    filed = file(s)
    approve(s, filed.id)
    reveal(s, filed.id)
    with s.c.unit_of_work() as session:
        row = session.get(DisclosureRequest, filed.id)
        assert row is not None
        values = [getattr(row, col.key) for col in DisclosureRequest.__table__.columns]
    text = repr(values).encode()
    for secret in (s.citizen.subject_id, s.citizen.id_number, ACCOUNT):
        assert secret.encode() not in text
        assert secret.encode() not in row.account_sealed
    assert row.found is True


def test_filing_looks_nothing_up_and_an_unbound_account_reveals_no_person(scene: Scene) -> None:
    s = scene
    bound, unbound = file(s), file(s, "nobody-here")
    # The same answer for a bound and an unbound account: filing tells nothing.
    assert (bound.state, bound.found) == (unbound.state, unbound.found) == (State.PENDING, None)
    approve(s, unbound.id)
    shown = reveal(s, unbound.id)
    assert shown.person is None  # type: ignore[attr-defined]
    assert shown.request.found is False  # type: ignore[attr-defined]
    assert code_of(reveal, s, unbound.id) == "disclosure_already_revealed"
    last = entries(s.c)[-1]
    assert (last.action, last.subject) == ("disclosure_reveal", None)
    assert "no person bound" in last.purpose


def test_nobody_approves_their_own_request_even_under_another_grant(scene: Scene) -> None:
    s = scene
    filed = file(s)
    # The investigator also holds an approver grant: still the same person.
    own = ctx(s.c, person(s.c, 1), "approver", PROSECUTOR)
    assert own.actor == s.investigator.actor
    assert code_of(approve, s, filed.id, own) == "disclosure_self_approval"
    with s.c.unit_of_work() as session:
        assert code_of(
            s.c.disclosure.refuse, session, filed.id, own, "not mine to judge", s.c.clock()
        ) == ("disclosure_self_approval")
    approve(s, filed.id)  # another person can
    assert [e.action for e in entries(s.c)] == ["disclosure_file", "disclosure_approve"]


def test_only_an_approver_decides_and_only_an_investigator_files(scene: Scene) -> None:
    s = scene
    filed = file(s)
    officer = ctx(s.c, person(s.c, 3), "officer", POLICE)
    other_investigator = ctx(s.c, person(s.c, 3), "investigator", POLICE)
    assert code_of(approve, s, filed.id, officer) == "disclosure_role_required"
    assert code_of(approve, s, filed.id, other_investigator) == "disclosure_role_required"
    assert code_of(file, s, by=officer) == "disclosure_role_required"
    assert code_of(file, s, by=s.approver) == "disclosure_role_required"
    machine = AccessContext("machine:Công an/4f2a", "investigator", "x", organisation=POLICE)
    assert code_of(file, s, by=machine) == "disclosure_role_required"
    assert code_of(approve, s, "no-such-request") == "disclosure_not_found"


def test_only_the_requester_reveals(scene: Scene) -> None:
    s = scene
    filed = file(s)
    approve(s, filed.id)
    colleague = ctx(s.c, person(s.c, 3), "investigator", POLICE)
    assert code_of(reveal, s, filed.id, colleague) == "disclosure_not_found"
    assert code_of(reveal, s, filed.id, s.approver) == "disclosure_role_required"
    # The same person under a second investigator grant is still the requester.
    again = ctx(s.c, person(s.c, 1), "investigator", "Cục An ninh mạng")
    assert reveal(s, filed.id, again).person is not None  # type: ignore[attr-defined]


def test_a_refused_request_reveals_nothing(scene: Scene) -> None:
    s = scene
    filed = file(s)
    assert code_of(reveal, s, filed.id) == "disclosure_not_approved"
    with s.c.unit_of_work() as session:
        s.c.disclosure.refuse(session, filed.id, s.approver, "no link to the case", s.c.clock())
    assert code_of(reveal, s, filed.id) == "disclosure_refused"
    assert code_of(approve, s, filed.id) == "disclosure_decided"
    refused = entries(s.c)[-1]
    assert (refused.action, refused.actor) == ("disclosure_refuse", s.approver.actor)
    assert "no link to the case" in refused.purpose


def test_an_approval_expires_after_seven_days_and_the_expiry_is_audited_once(
    scene: Scene,
) -> None:
    s = scene
    t0 = s.c.clock()
    filed = file(s, now=t0)
    approve(s, filed.id, now=t0 + timedelta(days=3))  # 7 days from the approval, not the filing
    assert code_of(reveal, s, filed.id, now=t0 + timedelta(days=10)) == "disclosure_expired"
    with s.c.unit_of_work() as session:
        assert s.c.disclosure.expire_due(session, t0 + timedelta(days=9)) == 0
        assert s.c.disclosure.expire_due(session, t0 + timedelta(days=10)) == 1
        assert s.c.disclosure.expire_due(session, t0 + timedelta(days=11)) == 0
        row = session.get(DisclosureRequest, filed.id)
        assert row is not None
        assert row.state == "expired"
    assert code_of(reveal, s, filed.id, now=t0 + timedelta(days=4)) == "disclosure_expired"
    expired = entries(s.c)[-1]
    assert (expired.action, expired.actor, expired.subject) == (
        "disclosure_expire",
        "system:disclosure",
        None,
    )
    assert (expired.legal_basis, expired.case_ref) == ("criminal_investigation", CASE)


def test_a_request_nobody_answers_lapses_after_thirty_days(scene: Scene) -> None:
    s = scene
    t0 = s.c.clock()
    filed = file(s, now=t0)
    assert filed.expires_at == t0 + timedelta(days=30)  # DINHDANH_DISCLOSURE_PENDING_DAYS
    late = t0 + timedelta(days=30)
    assert code_of(approve, s, filed.id, now=late) == "disclosure_expired"
    assert code_of(reveal, s, filed.id, now=late) == "disclosure_expired"
    with s.c.unit_of_work() as session:
        assert s.c.disclosure.expire_due(session, late - timedelta(seconds=1)) == 0
        assert s.c.disclosure.pending(session, late - timedelta(seconds=1))
        assert s.c.disclosure.expire_due(session, late) == 1
        assert s.c.disclosure.expire_due(session, late) == 0
        assert not s.c.disclosure.pending(session, late)
        row = session.get(DisclosureRequest, filed.id)
        assert row is not None
        assert row.state == "expired"
    lapsed = entries(s.c)[-1]
    assert (lapsed.action, lapsed.actor) == ("disclosure_expire", "system:disclosure")
    assert "lapsed unanswered" in lapsed.purpose
    # Approved in time, the approval's own week runs from the approval.
    second = file(s, now=t0)
    approve(s, second.id, now=t0 + timedelta(days=29))
    assert reveal(s, second.id, now=t0 + timedelta(days=35)).person is not None  # type: ignore[attr-defined]


def test_the_citizen_sees_the_reveal_only_when_its_delay_ends(scene: Scene) -> None:
    s = scene
    filed = file(s, legal_basis="court_order", delay_days=30)
    assert filed.delay_days == 30
    approve(s, filed.id)
    t = s.c.clock()
    reveal(s, filed.id, now=t)

    def seen(at: object) -> list[tuple[str, str | None, str | None, str]]:
        with s.c.unit_of_work() as session:
            page = access_log(session, s.citizen.subject_id, at, legal_bases=("court_order",))  # type: ignore[arg-type]
        return [(i.action, i.organisation, i.legal_basis, i.role) for i in page.items]

    assert not [x for x in seen(t + timedelta(days=30, seconds=-1)) if x[3] == "investigator"]
    shown = [x for x in seen(t + timedelta(days=30)) if x[3] == "investigator"]
    assert shown == [  # newest first
        ("disclosure_reveal", POLICE, "court_order", "investigator"),
        ("read", POLICE, "court_order", "investigator"),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"legal_basis": "curiosity"}, "legal_basis_unknown"),
        ({"legal_basis": ""}, "purpose_required"),
        ({"case_ref": "x"}, "case_ref_required"),
        ({"delay_days": 10, "legal_basis": "administrative_procedure"}, "disclosure_delay_refused"),
        ({"delay_days": 91}, "disclosure_delay_refused"),
        ({"delay_days": 0}, "disclosure_delay_refused"),
        ({"platform": "nowhere"}, "platform_not_found"),
        ({"account_id": ""}, "disclosure_invalid"),
        ({"account_id": "x" * 201}, "disclosure_invalid"),
        ({"reason": "  "}, "disclosure_invalid"),
    ],
)
def test_a_request_needs_a_legal_basis_a_case_and_a_bounded_delay(
    scene: Scene, change: dict[str, object], code: str
) -> None:
    assert code_of(file, scene, **change) == code
    assert entries(scene.c) == []


def test_two_approvers_at_once_one_decision_two_reveals_at_once_one_person(
    scene: Scene,
) -> None:
    s = scene
    filed = file(s)
    others = [ctx(s.c, person(s.c, n), "approver", PROSECUTOR) for n in (2, 3)]
    outcomes = burst(lambda i: approve(s, filed.id, others[i % 2]), 6)
    only(outcomes, DomainError)
    assert sum(o is None for o in outcomes) == 1
    assert {o.code for o in outcomes if isinstance(o, DomainError)} == {"disclosure_decided"}
    shown = burst(lambda _: reveal(s, filed.id), 6)
    only(shown, DomainError)
    people = [o for o in shown if not isinstance(o, Exception)]
    assert len(people) == 1
    assert [e.action for e in entries(s.c)].count("disclosure_reveal") == 1
