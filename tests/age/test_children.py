"""Child accounts (age.children): a guardian creates the login, a child's binding waits for a
guardian, only an active guardian decides (with fresh authentication), the platform sees
``guardian_approved`` in its status, its events feed and the ID token; approvals end with
the link. Real sign-ins through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.age.children import ChildLoginRefused, FreshAuthRequired, NotYourChild
from dinhdanh.age.guardian_rules import Approval, Decision
from dinhdanh.auth.enrolment import ChildEnrolment
from dinhdanh.wiring import Container
from tests.age.family import OFFICER, Family, link, make_family
from tests.oidc.conftest import csrf_of
from tests.social.conftest import Plat, add_platform, bind, sign_in
from tests.support import PASSWORD, Citizen, Clock

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def claims_of(id_token: str) -> dict[str, Any]:
    body = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def log_in_password(tc: TestClient, who: Citizen) -> None:
    page = tc.get("/login")
    resp = tc.post(
        "/login",
        data={
            "id_number": who.id_number,
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/account"


def status(tc: TestClient, plat: Plat, account: str) -> dict[str, Any]:
    resp = tc.get(f"/api/v1/platforms/{plat.code}/accounts/{account}/status", headers=plat.auth)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def events(tc: TestClient, plat: Plat) -> list[str]:
    resp = tc.get(f"/api/v1/platforms/{plat.code}/events", headers=plat.auth)
    assert resp.status_code == 200, resp.text
    return [e["kind"] for e in resp.json()["items"]]


def decide(
    c: Container, who: Citizen, child: Citizen, binding: str, d: Decision, *, fresh: bool = True
) -> Approval:
    with c.unit_of_work() as s:
        return c.children.decide(
            s, who.subject_id, child.subject_id, binding, d, fresh=fresh, now=c.clock()
        )


def binding_of(c: Container, child: Citizen) -> str:
    with c.unit_of_work() as s:
        (only,) = c.social.bindings_of(s, child.subject_id)
    return only.id


@pytest.fixture
def family(container: Container) -> Family:
    container.clock = Clock(NOW)
    f = make_family(container, accounts=True)
    link(container, f.child, f.mother, now=NOW)
    with container.unit_of_work() as s:
        made = container.children.create_login(
            s, f.mother.subject_id, f.child.subject_id, PASSWORD, NOW
        )
    assert not isinstance(made, list)
    return f


def test_a_child_account_waits_for_a_guardian(
    container: Container, app_client: TestClient, family: Family
) -> None:
    f, c = family, container
    plat = add_platform(c, "zalo")
    log_in_password(app_client, f.child)
    token = sign_in(app_client, plat, scope="openid age")
    claims = claims_of(token)
    assert claims["guardian_approved"] is False
    assert claims["age_over_16"] is False
    assert not {"birthdate", "name", "guardian"} & set(claims)
    assert bind(app_client, plat, "kid-1", token).status_code == 200
    st = status(app_client, plat, "kid-1")
    assert st["guardian_approved"] is False
    assert "PENDING_GUARDIAN" in st["flags"]
    binding = binding_of(c, f.child)

    # Nobody but an active guardian decides; the answer does not tell the account exists.
    for who in (f.child, f.father, f.other_parent):
        with pytest.raises(NotYourChild):
            decide(c, who, f.child, binding, Decision.APPROVE)
    with pytest.raises(FreshAuthRequired):
        decide(c, f.mother, f.child, binding, Decision.APPROVE, fresh=False)
    assert status(app_client, plat, "kid-1")["guardian_approved"] is False

    assert decide(c, f.mother, f.child, binding, Decision.APPROVE) is Approval.APPROVED
    st = status(app_client, plat, "kid-1")
    assert st["guardian_approved"] is True
    assert "PENDING_GUARDIAN" not in st["flags"]
    assert claims_of(sign_in(app_client, plat, scope="openid age"))["guardian_approved"] is True
    assert "guardian_approved" not in claims_of(sign_in(app_client, plat))  # no age scope

    assert decide(c, f.mother, f.child, binding, Decision.REVOKE) is Approval.REVOKED
    assert status(app_client, plat, "kid-1")["guardian_approved"] is False
    assert events(app_client, plat) == ["binding_created", "guardian_approved", "guardian_revoked"]


def test_an_approval_ends_with_the_link(
    container: Container, app_client: TestClient, family: Family
) -> None:
    f, c = family, container
    plat = add_platform(c, "tiktok")
    log_in_password(app_client, f.child)
    bind(app_client, plat, "kid", sign_in(app_client, plat))
    binding = binding_of(c, f.child)
    decide(c, f.mother, f.child, binding, Decision.APPROVE)
    with c.unit_of_work() as s:
        (mine,) = c.guardians.active_guardians(s, f.child.subject_id, OFFICER, NOW)
        c.children.end_link(
            s, mine.id, reason="court", legal_basis="court order 9/2026", ctx=OFFICER, now=NOW
        )
    st = status(app_client, plat, "kid")
    assert st["guardian_approved"] is False
    assert "PENDING_GUARDIAN" in st["flags"]
    assert events(app_client, plat)[-1] == "guardian_pending"
    with pytest.raises(NotYourChild):
        decide(c, f.mother, f.child, binding, Decision.APPROVE)


def test_an_approval_ends_when_the_link_runs_out(
    container: Container, app_client: TestClient
) -> None:
    c = container
    c.clock = Clock(NOW)
    f = make_family(c, accounts=True)
    link(c, f.child, f.father, relation="father", valid_to=date(2026, 6, 30), now=NOW)
    with c.unit_of_work() as s:
        c.children.create_login(s, f.father.subject_id, f.child.subject_id, PASSWORD, NOW)
    plat = add_platform(c, "fb")
    log_in_password(app_client, f.child)
    bind(app_client, plat, "k", sign_in(app_client, plat))
    decide(c, f.father, f.child, binding_of(c, f.child), Decision.APPROVE)
    with c.unit_of_work() as s:
        assert c.children.sweep(s, NOW + timedelta(days=29)) == 0
    with c.unit_of_work() as s:
        assert c.children.sweep(s, NOW + timedelta(days=30)) == 1
    assert status(app_client, plat, "k")["guardian_approved"] is False


def test_adults_need_no_guardian(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    from tests.oidc.conftest import log_in

    plat = add_platform(container, "zalo")
    log_in(app_client, citizen)
    token = sign_in(app_client, plat, scope="openid age")
    assert "guardian_approved" not in claims_of(token)
    bind(app_client, plat, "adult", token)
    st = status(app_client, plat, "adult")
    assert st["guardian_approved"] is None
    assert "PENDING_GUARDIAN" not in st["flags"]


def test_who_may_create_a_childs_login(container: Container) -> None:
    c = container
    f = make_family(c, accounts=True)
    link(c, f.child, f.mother, now=NOW)
    link(c, f.teen, f.mother, now=NOW)
    with c.unit_of_work() as s, pytest.raises(NotYourChild):
        c.children.create_login(s, f.father.subject_id, f.child.subject_id, PASSWORD, NOW)
    with c.unit_of_work() as s, pytest.raises(ChildLoginRefused):  # 17: enrols alone
        c.children.create_login(s, f.mother.subject_id, f.teen.subject_id, PASSWORD, NOW)
    with c.unit_of_work() as s:
        weak = c.children.create_login(s, f.mother.subject_id, f.child.subject_id, "abc", NOW)
    assert isinstance(weak, list)
    assert weak
    with c.unit_of_work() as s:
        assert not c.children.has_login(s, f.child.subject_id)
        made = c.children.create_login(s, f.mother.subject_id, f.child.subject_id, PASSWORD, NOW)
        assert not isinstance(made, list)
    with c.unit_of_work() as s, pytest.raises(ChildLoginRefused):
        c.children.create_login(s, f.mother.subject_id, f.child.subject_id, PASSWORD, NOW)


def test_children_cannot_enrol_alone(container: Container, app_client: TestClient) -> None:
    f = make_family(container)
    with container.unit_of_work() as s, pytest.raises(ChildEnrolment) as exc:
        container.auth.enrolments.start(
            s, f.child.id_number, f.child.full_name, f.child.date_of_birth, ip="1", now=NOW
        )
    assert exc.value.code == "enrolment_child"
    page = app_client.get("/enrol")
    resp = app_client.post(
        "/enrol",
        data={
            "id_number": f.child.id_number,
            "full_name": f.child.full_name,
            "date_of_birth": f.child.date_of_birth.isoformat(),
            "csrf": csrf_of(page.text),
        },
    )
    assert resp.status_code == 403
    assert "Gia đình tôi" in resp.text  # the default language: vi
