"""The lock timeline as a state machine, walked with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.telecom.timeline import (
    CarrierAction,
    State,
    TimelineConfig,
    due_steps,
    resolution,
)

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
CFG = TimelineConfig(notice_days=30, two_way_after_days=60, revoke_after_days=5)


def walk(now: datetime) -> list[tuple[State, datetime, CarrierAction]]:
    return [(s.state, s.since, s.action) for s in due_steps(State.FLAGGED, T0, now, CFG)]


def test_the_whole_timeline_day_by_day() -> None:
    assert walk(T0) == [(State.NOTIFIED, T0, CarrierAction.NOTIFY)]
    assert len(walk(T0 + timedelta(days=29, hours=23))) == 1
    one_way = T0 + timedelta(days=30)
    assert walk(one_way)[-1] == (State.ONE_WAY_LOCKED, one_way, CarrierAction.ONE_WAY_LOCK)
    assert walk(one_way + timedelta(days=59))[-1][0] is State.ONE_WAY_LOCKED
    two_way = one_way + timedelta(days=60)
    assert walk(two_way)[-1] == (State.TWO_WAY_LOCKED, two_way, CarrierAction.TWO_WAY_LOCK)
    revoked = two_way + timedelta(days=5)
    assert walk(revoked - timedelta(seconds=1))[-1][0] is State.TWO_WAY_LOCKED
    assert walk(revoked)[-1] == (State.REVOKED, revoked, CarrierAction.REVOKE)
    assert walk(revoked + timedelta(days=400)) == walk(revoked)  # revoked is final


def test_a_late_run_backdates_each_missed_step() -> None:
    steps = walk(T0 + timedelta(days=200))
    assert [s for s, _, _ in steps] == [
        State.NOTIFIED,
        State.ONE_WAY_LOCKED,
        State.TWO_WAY_LOCKED,
        State.REVOKED,
    ]
    assert [since for _, since, _ in steps] == [
        T0,
        T0 + timedelta(days=30),
        T0 + timedelta(days=90),
        T0 + timedelta(days=95),
    ]


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.FLAGGED, CarrierAction.CANCEL),
        (State.NOTIFIED, CarrierAction.CANCEL),
        (State.ONE_WAY_LOCKED, CarrierAction.UNLOCK),
        (State.TWO_WAY_LOCKED, CarrierAction.UNLOCK),
        (State.REVOKED, None),
        (State.RESOLVED, None),
    ],
)
def test_resolution_from_each_state(state: State, action: CarrierAction | None) -> None:
    assert resolution(state) == action


def test_durations_are_configuration() -> None:
    fast = TimelineConfig(notice_days=0, two_way_after_days=1, revoke_after_days=1)
    states = [s.state for s in due_steps(State.FLAGGED, T0, T0 + timedelta(days=1), fast)]
    assert states == [State.NOTIFIED, State.ONE_WAY_LOCKED, State.TWO_WAY_LOCKED]
    with pytest.raises(ValueError, match="notice_days"):
        TimelineConfig(notice_days=-1)


@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_advancing_in_two_runs_equals_one_run(a: int, b: int) -> None:
    """Running advance at day a and then at day a+b ends where one run at day a+b ends."""
    first = due_steps(State.FLAGGED, T0, T0 + timedelta(days=a), CFG)
    state, since = (first[-1].state, first[-1].since) if first else (State.FLAGGED, T0)
    second = due_steps(state, since, T0 + timedelta(days=a + b), CFG)
    both = first + second
    once = due_steps(State.FLAGGED, T0, T0 + timedelta(days=a + b), CFG)
    assert both == once
