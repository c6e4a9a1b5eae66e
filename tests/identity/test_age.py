"""The one age rule (identity.age): 29 February counts as 1 March in common years."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.identity.age import age_on, birthday, is_over, latest_birth

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
years = st.integers(min_value=0, max_value=120)


@pytest.mark.parametrize(
    ("born", "years", "on", "over"),
    [
        (date(2010, 5, 20), 14, date(2024, 5, 19), False),
        (date(2010, 5, 20), 14, date(2024, 5, 20), True),
        (date(2010, 5, 20), 14, datetime(2024, 5, 19, 23, 59), False),
        (date(2008, 2, 29), 14, date(2022, 2, 28), False),  # a common year: 1 March
        (date(2008, 2, 29), 14, date(2022, 3, 1), True),
        (date(2008, 2, 29), 28, date(2036, 2, 28), False),
        (date(2008, 2, 29), 28, date(2036, 2, 29), True),  # a leap year: the 29th itself
        (date(2008, 2, 29), 18, date(2026, 2, 28), False),
        (date(2008, 2, 29), 18, date(2026, 3, 1), True),
        (date(2000, 2, 29), 100, date(2100, 2, 28), False),  # 2100 is not a leap year
        (date(2000, 2, 29), 100, date(2100, 3, 1), True),
    ],
)
def test_is_over(born: date, years: int, on: date, over: bool) -> None:
    assert is_over(born, years, on) is over


def test_birthday_of_29_february() -> None:
    assert birthday(date(2012, 2, 29), 1) == date(2013, 3, 1)
    assert birthday(date(2012, 2, 29), 4) == date(2016, 2, 29)
    assert birthday(date(2012, 3, 1), 1) == date(2013, 3, 1)


@pytest.mark.parametrize(
    ("on", "years", "last"),
    [
        (date(2024, 2, 29), 18, date(2006, 2, 28)),  # born 1 March 2006 turns 18 tomorrow
        (date(2024, 2, 29), 20, date(2004, 2, 29)),
        (date(2026, 2, 28), 18, date(2008, 2, 28)),  # born 29 Feb 2008: not yet
        (date(2026, 3, 1), 18, date(2008, 3, 1)),
    ],
)
def test_latest_birth(on: date, years: int, last: date) -> None:
    assert latest_birth(years, on) == last


@given(days, years, days)
def test_is_over_is_reaching_the_birthday(born: date, n: int, on: date) -> None:
    assert is_over(born, n, on) is (on >= birthday(born, n))


@given(days, years, days)
def test_latest_birth_is_the_boundary(born: date, n: int, on: date) -> None:
    assert is_over(born, n, on) is (born <= latest_birth(n, on))


@given(days, years)
def test_the_birthday_is_the_first_day_over(born: date, n: int) -> None:
    day = birthday(born, n)
    assert is_over(born, n, day)
    assert not is_over(born, n, day - timedelta(days=1)) or n == 0


@given(days, days)
def test_age_on_is_the_largest_age_reached(born: date, on: date) -> None:
    age = age_on(born, on)
    if on < born:
        assert age == 0
        return
    assert is_over(born, age, on)
    assert not is_over(born, age + 1, on)


@given(days, years, days)
def test_older_means_over_at_least_as_often(born: date, n: int, on: date) -> None:
    # Monotone in the date and in the years asked.
    if is_over(born, n + 1, on):
        assert is_over(born, n, on)
    if is_over(born, n, on):
        assert is_over(born, n, on + timedelta(days=1))
