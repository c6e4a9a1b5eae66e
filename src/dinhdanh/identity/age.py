"""The one age rule of the platform. Pure.

Someone born on 29 February has their birthday on 1 March in common years (the reading of
Vietnamese and most civil law: the age is reached once the birth day has fully passed).
OIDC ``age_over_NN`` claims, telecom ``OWNER_MINOR``, the synthetic population and the demo
all ask this module.
"""

from __future__ import annotations

from datetime import date, datetime

__all__ = ["age_on", "birthday", "births_turning", "is_over", "latest_birth"]


def _day(on: date | datetime) -> date:
    return on.date() if isinstance(on, datetime) else on


def birthday(birth: date, years: int) -> date:
    """The day someone born on ``birth`` turns ``years`` (29 February: 1 March)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def is_over(birth: date, years: int, on: date | datetime) -> bool:
    """Whether someone born on ``birth`` is at least ``years`` old on ``on``."""
    # Inlined (no helper calls): subscriber imports ask this once per row.
    day = on.date() if isinstance(on, datetime) else on
    try:
        return day >= birth.replace(year=birth.year + years)
    except ValueError:
        return day >= date(birth.year + years, 3, 1)


def age_on(birth: date, on: date | datetime) -> int:
    """Completed years on ``on`` (the largest n with ``is_over(birth, n, on)``; 0 before birth)."""
    day = _day(on)
    years = day.year - birth.year
    if years > 0 and not is_over(birth, years, day):
        years -= 1
    return max(years, 0)


def latest_birth(years: int, on: date | datetime) -> date:
    """The last birth date of someone at least ``years`` old on ``on``:
    ``is_over(b, years, on)`` exactly when ``b <= latest_birth(years, on)``."""
    day = _day(on)
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # on 29 February, counting back to a common year
        return date(day.year - years, 2, 28)


def births_turning(years: int, after: date, through: date) -> list[date]:
    """The birth dates of those who turn ``years`` on a day from ``after`` (excluded) to
    ``through`` (included): ``b`` is listed exactly when ``is_over(b, years, through)`` and
    not ``is_over(b, years, after)``, a run of consecutive days (``latest_birth``)."""
    first = latest_birth(years, after).toordinal() + 1
    last = latest_birth(years, through).toordinal()
    return [date.fromordinal(d) for d in range(first, last + 1)]
