"""Who reached an age band in a period, and which periods a refresh may cover (age.band_rules,
identity.age.births_turning): pure, property-tested around 29 February."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.age.band_rules import BANDS, period_end, turning
from dinhdanh.identity.age import birthday, births_turning, is_over

# Days around 29 February of leap and common years, and any day.
near_feb = st.builds(
    lambda y, d: date(y, 2, 20) + timedelta(days=d),
    st.integers(2000, 2060),
    st.integers(0, 20),
)
days = st.one_of(near_feb, st.dates(date(2000, 1, 1), date(2060, 12, 31)))
years = st.sampled_from(BANDS)


def brute(n: int, after: date, through: date) -> list[date]:
    """Every birth date whose n-th birthday (identity.age.birthday) is in (after, through]."""
    b, last = date(after.year - n - 1, 1, 1), date(through.year - n + 1, 12, 31)
    out = []
    while b <= last:
        if after < birthday(b, n) <= through:
            out.append(b)
        b += timedelta(days=1)
    return out


@given(years, days, st.integers(0, 400))
def test_births_turning_is_the_birthday_rule(n: int, after: date, span: int) -> None:
    through = after + timedelta(days=span)
    got = births_turning(n, after, through)
    assert got == brute(n, after, through)
    for b in got:
        assert is_over(b, n, through)
        assert not is_over(b, n, after)


@given(years, days, st.integers(0, 200), st.integers(0, 200))
def test_consecutive_periods_neither_miss_nor_repeat(n: int, a: date, x: int, y: int) -> None:
    """A missed period caught up in one run finds exactly what two runs would have."""
    b = a + timedelta(days=x)
    c = b + timedelta(days=y)
    assert births_turning(n, a, b) + births_turning(n, b, c) == births_turning(n, a, c)


@given(days, days)
def test_nothing_when_the_period_does_not_move_forward(a: date, b: date) -> None:
    if b <= a:
        assert turning(a, b) == {13: [], 16: [], 18: []}


def test_29_february_turns_on_1_march_in_common_years() -> None:
    # 2025 is common: born 29 February 2012, 13 on 1 March 2025, with those born that day.
    assert births_turning(13, date(2025, 2, 27), date(2025, 2, 28)) == [date(2012, 2, 28)]
    assert births_turning(13, date(2025, 2, 28), date(2025, 3, 1)) == [
        date(2012, 2, 29),
        date(2012, 3, 1),
    ]
    # 2028 is a leap year: 16 on 29 February itself.
    assert births_turning(16, date(2028, 2, 28), date(2028, 2, 29)) == [date(2012, 2, 29)]
    assert births_turning(16, date(2028, 2, 29), date(2028, 3, 1)) == [date(2012, 3, 1)]
    # The February 2025 period holds no 29 February birthday; March holds it.
    feb = turning(date(2025, 1, 31), date(2025, 2, 28))[13]
    march = turning(date(2025, 2, 28), date(2025, 3, 31))[13]
    assert date(2012, 2, 29) not in feb
    assert date(2012, 2, 29) in march


def test_period_end_examples() -> None:
    assert period_end(date(2026, 6, 15), 1) == date(2026, 5, 31)
    assert period_end(date(2026, 6, 1), 1) == date(2026, 5, 31)
    assert period_end(date(2026, 5, 31), 1) == date(2026, 4, 30)
    assert period_end(date(2025, 3, 1), 1) == date(2025, 2, 28)
    assert period_end(date(2028, 3, 1), 1) == date(2028, 2, 29)
    assert period_end(date(2026, 6, 15), 3) == date(2026, 3, 31)
    assert period_end(date(2026, 7, 1), 3) == date(2026, 6, 30)
    assert period_end(date(2026, 1, 10), 12) == date(2025, 12, 31)


@given(days, st.sampled_from([1, 2, 3, 4, 6, 12]))
def test_period_end_is_the_end_of_the_last_whole_period(today: date, months: int) -> None:
    end = period_end(today, months)
    start_next = end + timedelta(days=1)
    assert start_next.day == 1
    assert (start_next.month - 1) % months == 0
    assert end < today <= end + timedelta(days=31 * months)
    # The whole period after it has not ended yet: a run later in it covers the same.
    assert period_end(start_next, months) == end
