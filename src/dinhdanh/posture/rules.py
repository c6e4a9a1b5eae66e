"""Findings' deadlines and lifecycle: pure decisions.

```mermaid
stateDiagram-v2
    [*] --> open: a scan sees the problem
    open --> acknowledged: the agency acknowledges
    open --> accepted: an approver accepts the risk, until a date
    acknowledged --> accepted: idem
    open --> fixed: a re-check no longer sees it
    acknowledged --> fixed: idem
    accepted --> fixed: idem
    accepted --> open: the acceptance expires
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dinhdanh.posture.checks import Severity


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    FIXED = "fixed"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    FIX = "fix"  # only a scan's re-check
    EXPIRE = "expire"  # an acceptance ran out


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.OPEN, Action.ACKNOWLEDGE): State.ACKNOWLEDGED,
    (State.OPEN, Action.ACCEPT): State.ACCEPTED,
    (State.ACKNOWLEDGED, Action.ACCEPT): State.ACCEPTED,
    (State.OPEN, Action.FIX): State.FIXED,
    (State.ACKNOWLEDGED, Action.FIX): State.FIXED,
    (State.ACCEPTED, Action.FIX): State.FIXED,
    (State.ACCEPTED, Action.EXPIRE): State.OPEN,
}
UNRESOLVED = frozenset({State.OPEN, State.ACKNOWLEDGED})  # count as debt when overdue


def next_state(state: State, action: Action) -> State | None:
    return TRANSITIONS.get((state, action))


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    critical: int = 2
    high: int = 15
    medium: int = 30
    low: int = 90
    strict_from_level: int = 4  # systems of this level and above get half the time

    def days(self, severity: Severity, level: int) -> int | None:
        base = {
            Severity.CRITICAL: self.critical,
            Severity.HIGH: self.high,
            Severity.MEDIUM: self.medium,
            Severity.LOW: self.low,
        }.get(severity)
        if base is None:
            return None
        return max(1, math.ceil(base / 2)) if level >= self.strict_from_level else base

    def deadline(self, severity: Severity, level: int, opened: datetime) -> datetime | None:
        days = self.days(severity, level)
        return None if days is None else opened + timedelta(days=days)


def overdue(state: State, deadline: datetime | None, now: datetime) -> bool:
    """Compliance debt: unresolved past its deadline."""
    return state in UNRESOLVED and deadline is not None and deadline < now
