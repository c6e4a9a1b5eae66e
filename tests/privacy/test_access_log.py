"""The citizen's view of the audit log: their own entries only, newest first, delayed ones
hidden until their date, stable pages; and who may ask for a delay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dinhdanh.privacy.access_log import DisclosureDelayRefused, access_log, disclose_after
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings, SettingsError, load_settings
from dinhdanh.wiring import Container

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BASES = Settings().legal_bases
OFFICER = AccessContext(
    "staff:7f3a",
    "officer",
    "criminal_investigation: theft of SIM cards",
    organisation="Công an tỉnh Hà Nội",
    legal_basis="criminal_investigation",
    case_ref="HN-2026-0412",
)
CARRIER = AccessContext("apikey:0a1b2c:Viettel", "carrier", "subscriber upload of VTL")
OLD_OFFICER = AccessContext("apikey:9f9f:demo officer", "officer", "court_order: case 12/2026")


def _append(c: Container, ctx: AccessContext, subject: str, at: datetime, n: int = 1) -> None:
    with c.unit_of_work() as s:
        c.audit.append(s, [ctx.event("read", subject, ("full_name",))] * n, at)


def _page(c: Container, subject: str, now: datetime, **kw: int | None) -> list[int]:
    with c.unit_of_work() as s:
        page = access_log(s, subject, now, legal_bases=BASES, **kw)  # type: ignore[arg-type]
    return [i.seq for i in page.items]


def test_the_citizen_sees_their_own_entries_newest_first(container: Container) -> None:
    _append(container, OFFICER, "me", T0)
    _append(container, CARRIER, "someone-else", T0)
    _append(container, CARRIER, "me", T0 + timedelta(hours=1))
    _append(container, OLD_OFFICER, "me", T0 + timedelta(hours=2))
    with container.unit_of_work() as s:
        page = access_log(s, "me", T0 + timedelta(days=1), legal_bases=BASES)
    assert page.next_cursor is None
    assert [(i.seq, i.organisation, i.role, i.legal_basis) for i in page.items] == [
        (4, "demo officer", "officer", "court_order"),  # the basis read from the purpose
        (3, "Viettel", "carrier", None),  # the organisation from the API key's name
        (1, "Công an tỉnh Hà Nội", "officer", "criminal_investigation"),
    ]
    assert page.items[2].fields == ("full_name",)
    assert page.items[2].action == "read"
    assert page.items[2].at == T0
    assert _page(container, "someone-else", T0 + timedelta(days=1)) == [2]
    assert _page(container, "nobody", T0 + timedelta(days=1)) == []


def test_a_delayed_entry_appears_when_its_delay_ends(container: Container) -> None:
    until = T0 + timedelta(days=30)
    secret = replace(OFFICER, disclose_after=until)
    _append(container, OFFICER, "me", T0)
    _append(container, secret, "me", T0 + timedelta(minutes=1))
    _append(container, CARRIER, "me", T0 + timedelta(minutes=2))
    assert _page(container, "me", T0 + timedelta(days=1)) == [3, 1]
    assert _page(container, "me", until - timedelta(microseconds=1)) == [3, 1]
    assert _page(container, "me", until) == [3, 2, 1]
    assert _page(container, "me", until + timedelta(days=400)) == [3, 2, 1]


def test_pages_are_stable_while_entries_arrive(container: Container) -> None:
    _append(container, CARRIER, "me", T0, n=7)
    now = T0 + timedelta(days=1)
    with container.unit_of_work() as s:
        first = access_log(s, "me", now, limit=3)
    assert [i.seq for i in first.items] == [7, 6, 5]
    assert first.next_cursor == 5
    _append(container, OFFICER, "me", T0 + timedelta(hours=1), n=2)  # seq 8, 9: newer
    with container.unit_of_work() as s:
        second = access_log(s, "me", now, before=first.next_cursor, limit=3)
        third = access_log(s, "me", now, before=second.next_cursor, limit=3)
    assert [i.seq for i in second.items] == [4, 3, 2]
    assert [i.seq for i in third.items] == [1]
    assert third.next_cursor is None
    assert _page(container, "me", now, limit=500)[:3] == [9, 8, 7]  # capped, not refused


# -- who may delay, and for how long (no storage) -------------------------------------------

DELAY_BASES = ("criminal_investigation", "court_order")


@pytest.mark.parametrize("basis", DELAY_BASES)
def test_an_investigation_or_a_court_order_may_delay(basis: str) -> None:
    got = disclose_after(basis, 90, T0, bases=DELAY_BASES, max_days=90)
    assert got == T0 + timedelta(days=90)


def test_no_delay_asked_is_none_whatever_the_basis() -> None:
    assert disclose_after("own_request", None, T0, bases=DELAY_BASES, max_days=90) is None


@pytest.mark.parametrize(
    ("basis", "days", "words"),
    [
        ("administrative_procedure", 10, "legal bases"),
        ("telecom_reconciliation", 1, "legal bases"),
        (None, 1, "legal bases"),
        ("criminal_investigation", 91, "1 to 90 days"),
        ("court_order", 0, "1 to 90 days"),
        ("court_order", -5, "1 to 90 days"),
    ],
)
def test_other_bases_and_longer_delays_are_refused(
    basis: str | None, days: int, words: str
) -> None:
    with pytest.raises(DisclosureDelayRefused, match=words) as caught:
        disclose_after(basis, days, T0, bases=DELAY_BASES, max_days=90)
    assert caught.value.code == "disclosure_delay_refused"


@pytest.mark.parametrize(
    ("overrides", "ok"),
    [
        ({}, True),
        ({"audit_max_disclosure_days": 365}, True),
        ({"audit_max_disclosure_days": 366}, False),  # the hard ceiling: twelve months
        ({"audit_max_disclosure_days": 0}, False),
        ({"audit_delay_bases": ["own_request"]}, True),
        ({"audit_delay_bases": []}, True),  # no delays at all
        ({"audit_delay_bases": ["curiosity"]}, False),  # must be a configured legal basis
    ],
)
def test_delay_settings_are_validated(overrides: dict[str, object], ok: bool) -> None:
    if ok:
        s = load_settings(**overrides)
        assert s.audit_max_disclosure_days == overrides.get("audit_max_disclosure_days", 90)
    else:
        with pytest.raises(SettingsError):
            load_settings(**overrides)
