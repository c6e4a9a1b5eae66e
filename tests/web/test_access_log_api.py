"""GET /api/v1/me/access-log: the citizen's browser session sees officer lookups of them,
a delayed one only from its date, never another citizen's entries; errors are problems."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth import totp
from dinhdanh.privacy.roles import Role
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.staff.factories import ORG
from tests.support import TOTP_SECRET, Citizen, Clock, make_citizen
from tests.web.test_officer_api import assert_problem, key

URL = "/api/v1/me/access-log"
LOOKUP = "/api/v1/citizens:lookup"
INVESTIGATION = {"legal_basis": "criminal_investigation", "case_ref": "HN-2026-0412"}


@pytest.fixture
def clock(container: Container) -> Clock:
    """Today's time (the citizen's account is created now), moved forward by the tests."""
    clock = Clock()
    clock.now = datetime.now(UTC).replace(microsecond=0)
    container.clock = clock
    return clock


@pytest.fixture
def tc(app_client: TestClient, clock: Clock) -> TestClient:
    return app_client


def _log_in(tc: TestClient, citizen: Citizen, clock: Clock) -> None:
    tc.cookies.clear()
    log_in(tc, citizen, totp.totp_at(TOTP_SECRET, int(clock.now.timestamp())))


def _lookup(tc: TestClient, headers: dict[str, str], id_number: str, **extra: Any) -> Any:
    resp = tc.post(LOOKUP, json={"id_number": id_number, **INVESTIGATION, **extra}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _officer_reads(tc: TestClient, **params: Any) -> list[dict[str, Any]]:
    resp = tc.get(URL, params=params)
    assert resp.status_code == 200, resp.text
    return [i for i in resp.json()["items"] if i["role"] == "officer"]


def test_the_citizen_sees_an_officer_lookup_in_their_language(
    tc: TestClient, container: Container, citizen: Citizen, clock: Clock
) -> None:
    other = make_citizen(container, "079195000001", "Trần Thị Bình", date(1995, 2, 28))
    officer = key(container, Role.OFFICER)
    _lookup(tc, officer, citizen.id_number)
    _lookup(tc, officer, other.id_number)
    _log_in(tc, citizen, clock)
    reads = _officer_reads(tc, lang="en")
    assert len(reads) == 1  # the lookup of the other citizen is not theirs to see
    read = reads[0]
    assert read["organisation"] == ORG  # the officer's staff grant names the unit
    assert read["legal_basis"] == {
        "code": "criminal_investigation",
        "label": "criminal investigation",
    }
    assert read["action"] == "read"
    assert "full_name" in read["fields"]
    assert "case" not in str(read)  # the case reference stays with the authority
    assert _officer_reads(tc, lang="vi")[0]["legal_basis"]["label"] == "điều tra hình sự"
    every = tc.get(URL).json()["items"]
    assert {i["seq"] for i in every} >= {read["seq"]}
    assert [i["seq"] for i in every] == sorted((i["seq"] for i in every), reverse=True)


def test_a_delayed_lookup_appears_when_its_delay_ends(
    tc: TestClient, container: Container, citizen: Citizen, clock: Clock
) -> None:
    officer = key(container, Role.OFFICER)
    _lookup(tc, officer, citizen.id_number, disclosure_delay_days=30)
    _log_in(tc, citizen, clock)
    assert _officer_reads(tc) == []
    clock.now += timedelta(days=30)
    _log_in(tc, citizen, clock)  # the first session has long expired
    reads = _officer_reads(tc)
    assert len(reads) == 1
    assert reads[0]["legal_basis"]["code"] == "criminal_investigation"


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"disclosure_delay_days": 91}, 400, "disclosure_delay_refused"),  # over the setting
        ({"disclosure_delay_days": 366}, 422, "validation_failed"),  # over the hard ceiling
        ({"disclosure_delay_days": 0}, 422, "validation_failed"),
        (
            {"disclosure_delay_days": 5, "legal_basis": "administrative_procedure"},
            400,
            "disclosure_delay_refused",
        ),
    ],
)
def test_a_delay_outside_the_rules_is_refused_and_nothing_is_read(
    tc: TestClient,
    container: Container,
    citizen: Citizen,
    clock: Clock,
    extra: dict[str, Any],
    status: int,
    code: str,
) -> None:
    body = {"id_number": citizen.id_number, **INVESTIGATION, **extra}
    resp = tc.post(LOOKUP, json=body, headers=key(container, Role.OFFICER))
    assert_problem(resp, status, code)
    _log_in(tc, citizen, clock)
    assert _officer_reads(tc) == []


def test_pages_follow_the_cursor(
    tc: TestClient, container: Container, citizen: Citizen, clock: Clock
) -> None:
    officer = key(container, Role.OFFICER)
    for _ in range(5):
        _lookup(tc, officer, citizen.id_number)
    _log_in(tc, citizen, clock)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"before": cursor} if cursor else {})
        page = tc.get(URL, params=params).json()
        assert len(page["items"]) <= 2
        seen += [i["seq"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == len(tc.get(URL, params={"limit": 100}).json()["items"])
    assert_problem(tc.get(URL, params={"limit": 101}), 422, "validation_failed")


def test_without_a_session_it_is_401_even_with_an_api_key(
    tc: TestClient, container: Container
) -> None:
    assert_problem(tc.get(URL), 401, "unauthenticated")
    assert_problem(tc.get(URL, headers=key(container, Role.OFFICER)), 401, "unauthenticated")


# -- the page ---------------------------------------------------------------------------------

PAGE = "/account/access-log"


def test_the_page_needs_a_session(tc: TestClient) -> None:
    resp = tc.get(PAGE, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/account/access-log"


def test_the_page_tells_each_access_in_plain_words(
    tc: TestClient, container: Container, citizen: Citizen, clock: Clock
) -> None:
    _lookup(tc, key(container, Role.OFFICER), citizen.id_number)
    _log_in(tc, citizen, clock)
    vi = tc.get(PAGE, params={"lang": "vi"}).text
    assert "Ai đã dùng dữ liệu của tôi" in vi
    assert f"{ORG}, cán bộ, điều tra hình sự, đã xem số định danh, họ tên" in vi
    en = tc.get(PAGE, params={"lang": "en"}).text
    assert f"{ORG}, officer, criminal investigation, read your ID number, name" in en
    assert 'aria-current="page">Who used my data<' in en
    for internal in ("HN-2026-0412", "criminal_investigation", "full_name"):
        assert internal not in en  # no case reference, no codes


def test_the_page_links_older_entries(
    tc: TestClient, container: Container, citizen: Citizen, clock: Clock
) -> None:
    officer = key(container, Role.OFFICER)
    for _ in range(21):
        _lookup(tc, officer, citizen.id_number)
    _log_in(tc, citizen, clock)
    first = tc.get(PAGE, params={"lang": "en"}).text
    assert first.count("<li><time") == 20  # the two sign-in steps, 18 of the lookups
    older = re.search(r'href="/account/access-log\?before=(\d+)"', first)
    assert older, "no link to older entries"
    second = tc.get(PAGE, params={"before": older.group(1)}).text
    lookups = first.count("criminal investigation,") + second.count("criminal investigation,")
    assert lookups == 21
    assert "Newest entries" in second
