"""The cybersecurity index: 0-100 per system and per agency, from the findings alone (pure;
docs/posture.md gives the formula and a worked example).

penalty(f)   = severity weight x level factor x age factor
               severity weight: critical 10, high 5, medium 2, low 1, info 0
               level factor:    1 + (level - 1) / 4          (level 1: 1, level 5: 2)
               age factor:      1 + min(days past deadline, 90) / 30   (1 to 4)
system(s)    = 100 x K / (K + sum of penalties of its findings live at the date), K = 10
agency(a)    = sum(level x system score) / sum(level), over its systems

A finding is live at date T when it was opened by T, not fixed by T, and not under an
acceptance that covers T. Fixing a finding removes a non-negative term: no score goes down;
a higher level multiplies every penalty by a larger factor: it never weighs less.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

K = 10.0
WEIGHTS = {"critical": 10.0, "high": 5.0, "medium": 2.0, "low": 1.0, "info": 0.0}
MAX_LATE_DAYS = 90
LATE_UNIT_DAYS = 30


@dataclass(frozen=True, slots=True)
class IndexFinding:
    """One exported finding, as findings.parquet holds it."""

    agency: str
    system_id: str
    system: str
    level: int
    code: str
    severity: str
    opened: datetime
    deadline: datetime | None
    fixed_at: datetime | None
    accepted_at: datetime | None
    accepted_until: datetime | None

    def live(self, at: datetime) -> bool:
        if self.opened > at or (self.fixed_at is not None and self.fixed_at <= at):
            return False
        accepted = self.accepted_at is not None and self.accepted_until is not None
        return not (accepted and self.accepted_at <= at < self.accepted_until)  # type: ignore[operator]

    def days_late(self, at: datetime) -> float:
        if self.deadline is None or self.deadline >= at:
            return 0.0
        return (at - self.deadline).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class SystemRef:
    agency: str
    system_id: str
    system: str
    level: int


def level_factor(level: int) -> float:
    return 1 + (level - 1) / 4


def age_factor(days_late: float) -> float:
    return 1 + min(days_late, MAX_LATE_DAYS) / LATE_UNIT_DAYS


def penalty(f: IndexFinding, at: datetime) -> float:
    return WEIGHTS.get(f.severity, 0.0) * level_factor(f.level) * age_factor(f.days_late(at))


def system_score(penalties: Iterable[float]) -> float:
    return 100 * K / (K + sum(penalties))


@dataclass(frozen=True, slots=True)
class Scores:
    systems: dict[str, float]  # system id -> score
    agencies: dict[str, float]  # tax code -> score
    debt: dict[str, int]  # tax code -> live findings past their deadline


def scores(systems: Sequence[SystemRef], found: Iterable[IndexFinding], at: datetime) -> Scores:
    """Every system scores (100 with no live finding); agencies weigh theirs by level."""
    per_system: defaultdict[str, list[float]] = defaultdict(list)
    debt: defaultdict[str, int] = defaultdict(int)
    for f in found:
        if f.live(at):
            per_system[f.system_id].append(penalty(f, at))
            if f.days_late(at) > 0 and f.severity != "info":
                debt[f.agency] += 1
    by_system = {s.system_id: system_score(per_system[s.system_id]) for s in systems}
    weighted: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    for s in systems:
        weighted[s.agency].append((s.level, by_system[s.system_id]))
    agencies = {
        a: sum(lv * sc for lv, sc in pairs) / sum(lv for lv, _ in pairs)
        for a, pairs in weighted.items()
    }
    return Scores(by_system, agencies, {a: debt.get(a, 0) for a in agencies})
