"""The lock timeline of a junk subscription: a state machine with configurable durations.

Decree 163/2024/ND-CP and Circular 08/2026/TT-BKHCN (POLICY.md, "SIM subscriptions"):
unverified subscribers are notified, then one-way locked (no outgoing calls or SMS), two-way
locked 60 days later, and revoked 5 days after that. The notice period between the SMS and the
one-way lock is not in our sources; it is a setting (default 30 days). Resolution (the owner
re-verifies, or the carrier corrects the data) returns the number to normal from any state.

```mermaid
stateDiagram-v2
    [*] --> flagged: reconciliation says junk
    flagged --> notified: advance (SMS to the number)
    notified --> one_way_locked: notice period over
    one_way_locked --> two_way_locked: 60 days
    two_way_locked --> revoked: 5 days
    flagged --> resolved: re-verified or corrected
    notified --> resolved
    one_way_locked --> resolved
    two_way_locked --> resolved
    revoked --> [*]
    resolved --> [*]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    FLAGGED = "flagged"
    NOTIFIED = "notified"
    ONE_WAY_LOCKED = "one_way_locked"
    TWO_WAY_LOCKED = "two_way_locked"
    REVOKED = "revoked"
    RESOLVED = "resolved"


class CarrierAction(StrEnum):
    """What the carrier must do when a case enters a state."""

    NOTIFY = "notify"
    ONE_WAY_LOCK = "one_way_lock"
    TWO_WAY_LOCK = "two_way_lock"
    REVOKE = "revoke"
    UNLOCK = "unlock"  # resolution of a case whose number was locked
    CANCEL = "cancel"  # resolution before any lock


@dataclass(frozen=True, slots=True)
class TimelineConfig:
    notice_days: int = 30
    two_way_after_days: int = 60
    revoke_after_days: int = 5

    def __post_init__(self) -> None:
        for name in ("notice_days", "two_way_after_days", "revoke_after_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


# state -> (next state, days spent in the state before moving on, action on entering next)
def _table(cfg: TimelineConfig) -> dict[State, tuple[State, int, CarrierAction]]:
    return {
        State.FLAGGED: (State.NOTIFIED, 0, CarrierAction.NOTIFY),
        State.NOTIFIED: (State.ONE_WAY_LOCKED, cfg.notice_days, CarrierAction.ONE_WAY_LOCK),
        State.ONE_WAY_LOCKED: (
            State.TWO_WAY_LOCKED,
            cfg.two_way_after_days,
            CarrierAction.TWO_WAY_LOCK,
        ),
        State.TWO_WAY_LOCKED: (State.REVOKED, cfg.revoke_after_days, CarrierAction.REVOKE),
    }


TERMINAL = frozenset({State.REVOKED, State.RESOLVED})
LOCKED = frozenset({State.ONE_WAY_LOCKED, State.TWO_WAY_LOCKED})


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    since: datetime
    action: CarrierAction


def due_steps(state: State, since: datetime, now: datetime, cfg: TimelineConfig) -> list[Step]:
    """Every transition due by `now`, in order; each starts its state at its due time.

    Running `advance` late (say 70 days after a one-way lock) applies the missed steps with
    the dates they were due, so the next step is not pushed back by the delay.
    """
    table = _table(cfg)
    steps: list[Step] = []
    while state in table:
        nxt, days, action = table[state]
        due = since + timedelta(days=days)
        if due > now:
            break
        steps.append(Step(nxt, due, action))
        state, since = nxt, due
    return steps


def resolution(state: State) -> CarrierAction | None:
    """The carrier's action when a case in `state` is resolved; None if it cannot be."""
    if state in TERMINAL:
        return None
    return CarrierAction.UNLOCK if state in LOCKED else CarrierAction.CANCEL
