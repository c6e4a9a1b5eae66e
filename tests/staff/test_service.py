"""Staff grants on every database: granting, expiry, revocation, refusals, personal tokens,
and the audit entries that name the person and the organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.privacy.access import authenticate, check_purpose, create_api_key, list_api_keys
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.privacy.roles import Role
from dinhdanh.staff.roles import LOOKUP, StaffRole
from dinhdanh.staff.rules import same_person
from dinhdanh.staff.service import GrantEnded, GrantInvalid, GrantNotFound, NotAPerson
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.staff.factories import OPERATOR, ORG, grant, person, token

LAWFUL = {"legal_basis": "criminal_investigation", "case_ref": "HS-2026/042"}
LOOKUP_URL = "/api/v1/citizens:lookup"


def entries(c: Container, subject: str, action: str) -> list[AuditEntry]:
    with c.unit_of_work() as s:
        stmt = select(AuditEntry).where(AuditEntry.subject == subject, AuditEntry.action == action)
        return list(s.scalars(stmt.order_by(AuditEntry.seq)))


def test_a_grant_works_until_it_expires(container: Container) -> None:
    c = container
    officer = person(c, 1)
    now = c.clock()
    g = grant(c, officer, "officer", days=30, now=now)
    assert (g.role, g.organisation, g.granted_by) == (StaffRole.OFFICER, ORG, "operator:test")
    with c.unit_of_work() as s:
        member = c.staff.member(s, officer.subject_id, LOOKUP, now + timedelta(days=29))
        assert member is not None
        assert member.actor == f"person:{officer.subject_id}"
        assert c.staff.member(s, officer.subject_id, {StaffRole.ADMIN}, now) is None
        assert c.staff.member(s, officer.subject_id, LOOKUP, now + timedelta(days=30)) is None
        assert [x.id for x in c.staff.list_grants(s, now)] == [g.id]
        assert c.staff.list_grants(s, now + timedelta(days=31)) == []
        [ended] = c.staff.list_grants(s, now + timedelta(days=31), ended=True)
    assert ended.state(now + timedelta(days=31)) == "expired"
    [entry] = entries(c, officer.subject_id, "staff_grant")
    assert entry.actor == "operator:test"
    assert ORG in entry.purpose
    assert "officer" in entry.purpose


def test_a_revoked_grant_stops_at_once_with_its_tokens(container: Container) -> None:
    c = container
    officer = person(c, 1)
    g = grant(c, officer)
    tok = token(c, g)
    now = c.clock()
    with c.unit_of_work() as s:
        ended = c.staff.revoke(s, g.id, "left the unit", OPERATOR, now)
    assert ended.revoked_at == now
    assert (ended.revoked_by, ended.revoke_reason) == ("operator:test", "left the unit")
    with c.unit_of_work() as s:
        assert c.staff.member(s, officer.subject_id, LOOKUP, now) is None
        assert authenticate(s, tok, now) is None  # its personal token was revoked with it
        with pytest.raises(GrantEnded):
            c.staff.revoke(s, g.id, "again", OPERATOR, now)
        with pytest.raises(GrantNotFound):
            c.staff.revoke(s, "0000000000000000", "no such", OPERATOR, now)
    [entry] = entries(c, officer.subject_id, "staff_revoke")
    assert "left the unit" in entry.purpose


def test_only_people_with_an_account_get_roles(container: Container) -> None:
    c = container
    no_account = person(c, 2, with_account=False)
    now = c.clock()
    with c.unit_of_work() as s:
        for subject in (no_account.subject_id, "not-a-subject"):
            with pytest.raises(NotAPerson):
                c.staff.grant(
                    s, subject, "officer", ORG, now + timedelta(days=1), "x" * 5, OPERATOR, now
                )
    with c.unit_of_work() as s:
        assert c.staff.list_grants(s, now, ended=True) == []


@pytest.mark.parametrize(
    ("role", "org", "days", "reason"),
    [
        ("chief", ORG, 30, "a reason"),
        ("officer", " ", 30, "a reason"),
        ("officer", ORG, 30, ""),
        ("officer", ORG, 0, "a reason"),
        ("officer", ORG, 366, "a reason"),  # DINHDANH_STAFF_GRANT_MAX_DAYS is 365
    ],
)
def test_a_grant_needs_a_role_an_organisation_a_reason_and_a_bounded_expiry(
    container: Container, role: str, org: str, days: int, reason: str
) -> None:
    c = container
    officer = person(c, 1)
    now = c.clock()
    with c.unit_of_work() as s, pytest.raises(GrantInvalid):
        c.staff.grant(
            s, officer.subject_id, role, org, now + timedelta(days=days), reason, OPERATOR, now
        )


def test_nobody_grants_themselves_a_role(container: Container) -> None:
    c = container
    admin = person(c, 1)
    g = grant(c, admin, "admin")
    now = c.clock()
    with c.unit_of_work() as s:
        member = c.staff.member(s, admin.subject_id, {StaffRole.ADMIN}, now)
        assert member is not None
        with pytest.raises(GrantInvalid):
            c.staff.grant(
                s,
                admin.subject_id,
                "officer",
                ORG,
                now + timedelta(days=1),
                "self",
                member.context("x"),
                now,
            )
    assert g.active(now)


def test_a_token_of_an_ended_grant_is_refused(container: Container) -> None:
    c = container
    officer = person(c, 1)
    g = grant(c, officer, days=1)
    tok = token(c, g)
    # A key made outside issue_token, without an expiry of its own: the grant still rules.
    with c.unit_of_work() as s:
        _, loose = create_api_key(s, "loose", Role.OFFICER, c.clock(), owner=ORG, staff_grant=g.id)
        [info] = [
            k
            for k in list_api_keys(s, c.clock())
            if k.staff_grant == g.id and k.name == "test token"
        ]
    assert info.expires_at == g.expires_at  # a personal token ends with its grant
    body = {"id_number": "001090999999", **LAWFUL}
    with TestClient(create_app(c)) as tc:
        for t in (tok, loose):
            resp = tc.post(LOOKUP_URL, json=body, headers={"Authorization": f"Bearer {t}"})
            assert resp.status_code == 404, resp.text  # it works today: a miss
        later = g.expires_at + timedelta(seconds=1)
        c.clock = lambda: later
        resp = tc.post(LOOKUP_URL, json=body, headers={"Authorization": f"Bearer {tok}"})
        assert resp.status_code == 401  # the token expired with the grant
        resp = tc.post(LOOKUP_URL, json=body, headers={"Authorization": f"Bearer {loose}"})
        assert resp.status_code == 403
        assert resp.json()["code"] == "person_required"
    with c.unit_of_work() as s, pytest.raises(GrantEnded):
        c.staff.issue_token(s, g.id, "late", OPERATOR, later)


def test_only_lookup_roles_get_officer_tokens(container: Container) -> None:
    c = container
    g = grant(c, person(c, 1), "auditor")
    with c.unit_of_work() as s, pytest.raises(GrantInvalid):
        c.staff.issue_token(s, g.id, "t", OPERATOR, c.clock())


def test_officer_reads_are_audited_as_the_person_and_two_tokens_are_one_person(
    container: Container,
) -> None:
    c = container
    officer, other, citizen = person(c, 1), person(c, 2), person(c, 0)
    g = grant(c, officer, "officer")
    tokens = [token(c, g), token(c, g), token(c, grant(c, other, "investigator", org="C03"))]
    body = {"id_number": citizen.id_number, **LAWFUL, "purpose": "checking an alibi"}
    with TestClient(create_app(c)) as tc:
        for t in tokens:
            resp = tc.post(LOOKUP_URL, json=body, headers={"Authorization": f"Bearer {t}"})
            assert resp.status_code == 200, resp.text
    reads = [e for e in entries(c, citizen.subject_id, "read") if e.actor.startswith("person:")]
    assert [e.actor for e in reads] == [f"person:{officer.subject_id}"] * 2 + [
        f"person:{other.subject_id}"
    ]
    assert [e.role for e in reads] == ["officer", "officer", "investigator"]
    assert reads[0].purpose == "criminal_investigation: HS-2026/042; checking an alibi"
    assert same_person(reads[0].actor, reads[1].actor)  # two tokens, one person
    assert not same_person(reads[0].actor, reads[2].actor)
    if hasattr(AuditEntry, "organisation"):  # stored once the audit table carries it
        assert [e.organisation for e in reads] == [ORG, ORG, "C03"]
        assert [e.case_ref for e in reads] == ["HS-2026/042"] * 3


def test_machine_keys_name_their_owner(container: Container) -> None:
    c = container
    with c.unit_of_work() as s:
        key_id, tok = create_api_key(
            s, "upload bot", Role.CARRIER, c.clock(), scope="VTL", owner="VTL"
        )
    with c.unit_of_work() as s:
        who = authenticate(s, tok, c.clock())
        assert who is not None
        assert c.staff.person_of_key(s, who, c.clock()) is None
    assert who.actor == f"machine:VTL/{key_id}"
    with c.unit_of_work() as s, pytest.raises(ValueError, match="owner"):
        create_api_key(s, "x", Role.ADMIN, c.clock(), owner=" ")


def test_a_context_names_person_organisation_and_legal_ground(container: Container) -> None:
    c = container
    officer = person(c, 1)
    grant(c, officer)
    ground = check_purpose("court_order", "QD-17/2026", c.settings.legal_bases)
    with c.unit_of_work() as s:
        member = c.staff.member(s, officer.subject_id, LOOKUP, c.clock())
    assert member is not None
    ctx = member.context("ignored", ground)
    assert ctx == AccessContext(
        f"person:{officer.subject_id}",
        "officer",
        "court_order: QD-17/2026",
        organisation=ORG,
        legal_basis="court_order",
        case_ref="QD-17/2026",
    )
