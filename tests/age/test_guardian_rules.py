"""Guardian rules (age.guardian_rules): pure, the date passed in; birthdays and 29 February."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.age import guardian_rules as r
from dinhdanh.identity.age import birthday, is_over

births = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))
leap_births = (
    st.integers(min_value=1992, max_value=2028)
    .filter(lambda y: y % 4 == 0)
    .map(lambda y: date(y, 2, 29))
)
offsets = st.integers(min_value=-3, max_value=3)


@given(born=births | leap_births, off=offsets)
def test_a_link_ends_on_the_eighteenth_birthday(born: date, off: int) -> None:
    eighteen = birthday(born, 18)
    day = eighteen + timedelta(days=off)
    assert r.is_active(born, born, None, None, day) is (day < eighteen)
    assert r.is_active(born, born, None, None, day) is (not is_over(born, 18, day))


@given(born=leap_births)
def test_29_february_children_stay_children_until_1_march(born: date) -> None:
    year = born.year + 18
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    feb28 = date(year, 2, 28)
    assert r.is_active(born, born, None, None, feb28)
    assert r.is_active(born, born, None, None, date(year, 3, 1)) is False
    if leap:
        assert not r.is_active(born, born, None, None, date(year, 2, 29))


@given(
    born=births,
    start=st.integers(0, 3000),
    length=st.integers(0, 3000),
    probe=st.integers(-5, 6500),
)
def test_validity_period_both_days_included(
    born: date, start: int, length: int, probe: int
) -> None:
    valid_from = born + timedelta(days=start)
    valid_to = valid_from + timedelta(days=length)
    day = born + timedelta(days=probe)
    expected = valid_from <= day <= valid_to and not is_over(born, 18, day)
    assert r.is_active(born, valid_from, valid_to, None, day) is expected


@given(born=births, ended=st.integers(0, 6000), probe=st.integers(0, 6000))
def test_an_ended_link_holds_until_the_day_before_its_end(
    born: date, ended: int, probe: int
) -> None:
    ended_on = born + timedelta(days=ended)
    day = born + timedelta(days=probe)
    assert r.is_active(born, born, None, ended_on, day) is (
        day < ended_on and not is_over(born, 18, day)
    )


@given(guardian=births | leap_births, off=offsets, others=st.integers(0, 3))
def test_a_guardian_is_an_adult_on_the_day_the_link_counts(
    guardian: date, off: int, others: int
) -> None:
    day = birthday(guardian, 18) + timedelta(days=off)
    child = day - timedelta(days=365 * 5)
    codes = {p.code for p in r.link_problems(child, guardian, others, day)}
    assert ("guardian_not_adult" in codes) is (off < 0)
    assert ("too_many_guardians" in codes) is (others >= r.MAX_GUARDIANS)
    assert "child_is_adult" not in codes


@given(child=births | leap_births, off=offsets)
def test_no_new_link_for_a_child_of_18(child: date, off: int) -> None:
    day = birthday(child, 18) + timedelta(days=off)
    codes = {p.code for p in r.link_problems(child, date(1970, 1, 1), 0, day)}
    assert ("child_is_adult" in codes) is (off >= 0)


@given(born=births | leap_births, off=offsets)
def test_needs_guardian_until_the_sixteenth_birthday(born: date, off: int) -> None:
    day = birthday(born, 16) + timedelta(days=off)
    assert r.needs_guardian(born, 16, day) is (off < 0)


def test_age_bands() -> None:
    born = date(2012, 2, 29)
    assert r.age_band(born, date(2025, 2, 28)) == "under-13"
    assert r.age_band(born, date(2025, 3, 1)) == "13-15"
    assert r.age_band(born, date(2028, 2, 29)) == "16-17"


@pytest.mark.parametrize(
    ("state", "decision", "after"),
    [
        (r.Approval.PENDING, r.Decision.APPROVE, r.Approval.APPROVED),
        (r.Approval.PENDING, r.Decision.REFUSE, r.Approval.REFUSED),
        (r.Approval.PENDING, r.Decision.REVOKE, None),
        (r.Approval.APPROVED, r.Decision.REVOKE, r.Approval.REVOKED),
        (r.Approval.APPROVED, r.Decision.APPROVE, None),
        (r.Approval.APPROVED, r.Decision.LINK_ENDED, r.Approval.PENDING),
        (r.Approval.REFUSED, r.Decision.APPROVE, r.Approval.APPROVED),
        (r.Approval.REFUSED, r.Decision.REVOKE, None),
        (r.Approval.REVOKED, r.Decision.APPROVE, r.Approval.APPROVED),
    ],
)
def test_approval_transitions(
    state: r.Approval, decision: r.Decision, after: r.Approval | None
) -> None:
    assert r.next_approval(state, decision) == after


def test_what_a_platform_sees() -> None:
    assert r.guardian_approved(None) is None
    assert r.guardian_approved("approved") is True
    for state in ("pending", "refused", "revoked"):
        assert r.guardian_approved(state) is False


@pytest.mark.parametrize(
    ("row", "codes"),
    [
        (
            {"child_id_number": "001212000777", "guardian_id_number": "001212000777"},
            {"guardian_is_self"},
        ),
        ({"child_id_number": "12", "guardian_id_number": "001090012345"}, None),
        ({"relation": "uncle"}, {"invalid_relation"}),
        ({"valid_from": "2026-02-30"}, {"invalid_date"}),
        ({"valid_from": ""}, {"invalid_date"}),
        ({"valid_to": "2020-01-01"}, {"invalid_period"}),
    ],
)
def test_feed_rows_rejected(row: dict[str, str], codes: set[str] | None) -> None:
    base = {
        "child_id_number": "001212000777",
        "guardian_id_number": "001090012345",
        "relation": "mother",
        "valid_from": "2024-01-01",
        "valid_to": "",
    }
    result = r.check_link_row(base | row, date(2026, 6, 1))
    assert isinstance(result, list)
    assert result
    if codes is not None:
        assert codes <= {x.code for x in result}


def test_feed_row_accepted() -> None:
    rec = r.check_link_row(
        {
            "child_id_number": "001212000777",
            "guardian_id_number": "001090012345",
            "relation": " Mother ",
            "valid_from": "2024-01-01",
            "valid_to": "2030-09-29",
        },
        date(2026, 6, 1),
    )
    assert rec == r.LinkRecord(
        "001212000777", "001090012345", "mother", date(2024, 1, 1), date(2030, 9, 29)
    )
