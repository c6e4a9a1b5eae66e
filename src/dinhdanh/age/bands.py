"""Refresh the age bands of platform bindings as their owners grow up.

A binding's bands (``age_over_13/16/18``) and a child's guardian state are computed when the
account is bound; this raises them afterwards without storing a birth date, or anything
derived from it, on a binding. For the period since the last refresh, the one age rule gives
the birth dates of those who reached each band (``band_rules.turning``); the registry finds
their subjects by birth-date blind index (nothing opened; each match audited); `social`
recomputes each platform's pairwise subject of them, raises the bands of their bindings (at 16
the guardian state ends, as for an adult's account) and tells each platform
``age_band_changed``. Only after the period has ended (``DINHDANH_AGE_BAND_REFRESH_MONTHS``):
a platform learns at most the month of a birthday, not the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from dinhdanh.age.band_rules import period_end, turning
from dinhdanh.age.models import AgeBandRefresh
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.social.service import Social
from dinhdanh.store.db import insert_missing

SYSTEM = AccessContext("age:bands", "system", "age bands refresh")
RECHECK = AccessContext("age:bands", "system", "age bands after a birth-date correction")
_ROW = 1


@dataclass(frozen=True, slots=True)
class Rechecked:
    subjects: list[str]  # citizens whose corrected birth date was rechecked
    changed: int  # bindings whose bands moved, down or up


@dataclass(frozen=True, slots=True)
class Refreshed:
    through: date  # the last day covered so far
    changed: int  # bindings whose bands rose in this run


class AgeBands:
    def __init__(self, registry: Registry, social: Social, months: int = 1) -> None:
        self.registry = registry
        self.social = social
        self.months = months

    def _state(self, session: Session, through: date, now: datetime) -> AgeBandRefresh:
        """The refresh row, locked until commit (two runs at once take turns). A first run
        starts from the oldest binding whose bands may have risen since it was checked."""
        row = session.get(AgeBandRefresh, _ROW, with_for_update=True)
        if row is not None:
            return row
        oldest = self.social.oldest_band_check(session)
        start = through if oldest is None else min(through, oldest - timedelta(days=1))
        insert_missing(session, AgeBandRefresh, [{"id": _ROW, "through": start, "updated_at": now}])
        row = session.get(AgeBandRefresh, _ROW, with_for_update=True, populate_existing=True)
        assert row is not None
        return row

    def recheck_corrected(self, session: Session, now: datetime) -> Rechecked:
        """The bands of citizens whose birth date the registry corrected, set to what the
        corrected date gives today, lowered as well as raised (a correction is not a
        birthday: no period to wait for); then the queue is cleared. The caller revokes
        their age credentials (``AgeCredentials.revoke_deceased(also=...)``)."""
        births = self.registry.corrected_births(session, RECHECK, now)
        if not births:
            return Rechecked([], 0)
        changed = self.social.recheck_age_bands(session, births, now)
        self.registry.clear_corrections(session, births)
        return Rechecked(sorted(births), changed)

    def refresh(self, session: Session, now: datetime) -> Refreshed:
        """Raise the bands reached from the last day covered to the end of the latest
        finished period; a run with nothing new to cover changes nothing."""
        through = period_end(now.date(), self.months)
        state = self._state(session, through, now)
        if through <= state.through:
            return Refreshed(state.through, 0)
        turned = {
            years: self.registry.born_on(session, births, SYSTEM, now)
            for years, births in turning(state.through, through).items()
        }
        changed = self.social.raise_age_bands(session, turned, now)
        state.through, state.updated_at = through, now
        session.flush()
        return Refreshed(through, changed)
