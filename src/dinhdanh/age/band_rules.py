"""When platforms learn a new age band: pure decisions, the day passed in. No I/O.

A band (``age_over_13/16/18``) is refreshed only after the period holding the birthday has
ended, so an event or a status flip tells a platform at most the period (calendar blocks of
``months`` months; 1: the month), never the day. Who turned what in a period comes from the
one age rule (``identity.age``: 29 February turns on 1 March in common years).
"""

from __future__ import annotations

from datetime import date, timedelta

from dinhdanh.identity.age import births_turning

BANDS = (13, 16, 18)


def period_end(today: date, months: int) -> date:
    """The last day of the latest period of ``months`` months (blocks counted from January)
    that ended before ``today``: what a refresh on ``today`` may cover."""
    if not 1 <= months <= 12:
        raise ValueError("a period is 1 to 12 months")
    start = (today.year * 12 + today.month - 1) // months * months
    return date(start // 12, start % 12 + 1, 1) - timedelta(days=1)


def turning(after: date, through: date) -> dict[int, list[date]]:
    """For each band, the birth dates of those who reach it on a day after ``after`` up to
    ``through`` (empty lists when ``through`` is not later)."""
    return {years: births_turning(years, after, through) for years in BANDS}
