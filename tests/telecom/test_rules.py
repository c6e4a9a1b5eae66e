"""Junk-SIM rules, one hand-made case per reason code and per boundary (Decree 163/2024).

``CASES`` are plain data: ``test_reconcile`` runs the same cases through the DuckDB engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from dinhdanh.identity.idnumber import IdNumberError, Sex, make
from dinhdanh.telecom.rules import (
    ACTION,
    Action,
    Context,
    Owner,
    Reason,
    RuleConfig,
    Subscription,
    Verdict,
    decide,
    id_dob_consistent,
    verdict,
)

AS_OF = date(2026, 1, 1)
T0 = datetime(2024, 5, 1, 9, 0, 0)


def idx(kind: str, n: int) -> bytes:
    """A 16-byte stand-in for a blind index: distinct per kind and number."""
    return (kind.encode() + n.to_bytes(4, "big")).ljust(16, b"\x00")


def number(n: int) -> str:
    return f"+8491{n:07d}"


def sub(
    n: int,
    owner: int = 1,
    *,
    carrier: str = "VTL",
    name: int | None = None,
    dob: int | None = None,
    consistent: bool = True,
    minor: bool = False,
    at: datetime = T0,
    channel: str = "store",
    agent: str | None = None,
    imei: str | None = None,
    status: str = "active",
) -> Subscription:
    """Subscription ``n`` (number +8491000000n) of ``owner``, as the owner is registered."""
    return Subscription(
        carrier=carrier,
        msisdn=number(n),
        id_bidx=idx("id", owner),
        name_bidx=idx("name", owner if name is None else name),
        dob_bidx=idx("dob", owner if dob is None else dob),
        id_dob_consistent=consistent,
        under_minor_age_at_activation=minor,
        activation_at=at,
        channel=channel,
        agent_id=agent,
        imei=imei,
        status=status,
    )


def person(n: int, *, guardian: bool = False, death: date | None = None) -> Owner:
    return Owner(idx("id", n), idx("name", n), idx("dob", n), guardian, death)


@dataclass
class Case:
    name: str
    subs: list[Subscription]
    registry: list[Owner]
    # (carrier, msisdn) -> reasons; active rows not listed must be clean.
    expected: dict[tuple[str, str], set[Reason]]
    disowned: list[str] = field(default_factory=list)
    as_of: date = AS_OF
    config: RuleConfig = field(default_factory=RuleConfig)

    def expect(self) -> dict[tuple[str, str], set[Reason]]:
        out: dict[tuple[str, str], set[Reason]] = {
            (s.carrier, s.msisdn): set() for s in self.subs if s.status == "active"
        }
        out.update(self.expected)
        return out


def key(s: Subscription) -> tuple[str, str]:
    return (s.carrier, s.msisdn)


def flagged(subs: Iterable[Subscription], *reasons: Reason) -> dict[tuple[str, str], set[Reason]]:
    return {key(s): set(reasons) for s in subs if s.status == "active"}


def _people(*ns: int) -> list[Owner]:
    return [person(n) for n in ns]


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    add(Case("clean", [sub(1)], [person(1)], {}))
    add(
        Case(
            "id not found",
            [sub(1, owner=9)],
            [person(1)],
            {key(sub(1, owner=9)): {Reason.ID_NOT_FOUND}},
        )
    )
    add(
        Case(
            "not found: no name, birth date, death or minor checks",
            [sub(1, owner=9, name=5, dob=5, minor=True)],
            [person(1, death=date(2020, 1, 1))],
            {("VTL", number(1)): {Reason.ID_NOT_FOUND}},
        )
    )
    add(
        Case(
            "name mismatch",
            [sub(1, name=2)],
            [person(1)],
            {("VTL", number(1)): {Reason.NAME_MISMATCH}},
        )
    )
    add(
        Case(
            "dob mismatch",
            [sub(1, dob=2)],
            [person(1)],
            {("VTL", number(1)): {Reason.DOB_MISMATCH}},
        )
    )
    add(
        Case(
            "name and dob mismatch",
            [sub(1, name=2, dob=2)],
            [person(1)],
            {("VTL", number(1)): {Reason.NAME_MISMATCH, Reason.DOB_MISMATCH}},
        )
    )
    add(
        Case(
            "id format",
            [sub(1, consistent=False)],
            [person(1)],
            {("VTL", number(1)): {Reason.ID_FORMAT}},
        )
    )
    add(
        Case(
            "id format applies without a registry row",
            [sub(1, owner=9, consistent=False)],
            [],
            {("VTL", number(1)): {Reason.ID_NOT_FOUND, Reason.ID_FORMAT}},
        )
    )

    death = date(2025, 3, 10)
    deceased = [
        sub(1, at=datetime(2025, 3, 11, 8)),  # activated after the death
        sub(2, at=datetime(2020, 1, 1, 8)),  # still active after it
        sub(3, at=datetime(2025, 3, 10, 23)),  # on the day of death
        sub(4, at=datetime(2020, 1, 1, 8), status="terminated"),
    ]
    add(
        Case(
            "owner deceased",
            deceased,
            [person(1, death=death)],
            flagged(deceased, Reason.OWNER_DECEASED),
        )
    )
    add(
        Case(
            "death after as_of, activated before: not yet",
            [sub(1, at=datetime(2020, 1, 1))],
            [person(1, death=date(2026, 6, 1))],
            {},
        )
    )
    add(
        Case(
            "death after as_of, activated after the death (as_of in the past)",
            [sub(1, at=datetime(2026, 6, 2))],
            [person(1, death=date(2026, 6, 1))],
            {("VTL", number(1)): {Reason.OWNER_DECEASED}},
        )
    )

    add(
        Case(
            "owner minor",
            [sub(1, minor=True)],
            [person(1)],
            {("VTL", number(1)): {Reason.OWNER_MINOR}},
        )
    )
    add(Case("minor with a guardian on file", [sub(1, minor=True)], [person(1, guardian=True)], {}))

    online = [sub(10 + i, channel="online", at=T0 + timedelta(days=i)) for i in range(5)]
    online.append(sub(20, channel="store", at=T0 - timedelta(days=1)))
    online.append(sub(21, channel="online", at=T0 - timedelta(days=2), status="terminated"))
    add(
        Case(
            "online over limit: the 4th and later, terminated ones not counted",
            online,
            [person(1)],
            {
                key(online[3]): {Reason.ONLINE_OVER_LIMIT},
                key(online[4]): {Reason.ONLINE_OVER_LIMIT},
            },
        )
    )
    same_time = [
        sub(40 - i, channel="online", carrier=c) for i, c in enumerate(["VTL", "VNP", "MBF", "VTL"])
    ]
    add(
        Case(
            "online over limit: same time, ordered by number, across carriers",
            same_time,
            [person(1)],
            {key(same_time[0]): {Reason.ONLINE_OVER_LIMIT}},  # +849100000040, the greatest
        )
    )
    add(
        Case(
            "exactly the online limit",
            [sub(10 + i, channel="online", at=T0 + timedelta(days=i)) for i in range(3)],
            [person(1)],
            {},
        )
    )

    holder = [sub(100 + i, carrier=("VTL", "VNP", "MBF")[i % 3]) for i in range(10)]
    add(
        Case(
            "over threshold across carriers",
            holder,
            [person(1)],
            flagged(holder, Reason.OVER_THRESHOLD),
        )
    )
    add(
        Case(
            "one under the threshold, terminated ones not counted",
            [sub(100 + i) for i in range(9)]
            + [sub(200 + i, status="terminated") for i in range(3)],
            [person(1)],
            {},
        )
    )
    twice = [sub(100 + i) for i in range(9)] + [sub(100, carrier="VNP")]
    add(
        Case(
            "threshold counts distinct numbers: 10 rows, 9 numbers",
            twice,
            [person(1)],
            {
                ("VTL", number(100)): {Reason.DUPLICATE_MSISDN},
                ("VNP", number(100)): {Reason.DUPLICATE_MSISDN},
            },
        )
    )
    mixed = [sub(100 + i, name=2 if i == 0 else None) for i in range(10)]
    add(
        Case(
            "over threshold and a name mismatch",
            mixed,
            [person(1)],
            flagged(mixed, Reason.OVER_THRESHOLD)
            | {key(mixed[0]): {Reason.OVER_THRESHOLD, Reason.NAME_MISMATCH}},
        )
    )

    owners = list(range(1, 23))
    burst = [
        sub(300 + i, owner=o, channel="agent", agent="A1", at=T0 + timedelta(minutes=2 * i))
        for i, o in enumerate(owners[:21])
    ]
    later = sub(399, owner=22, channel="agent", agent="A1", at=T0 + timedelta(hours=3))
    add(
        Case(
            "agent burst: 21 IDs within 60 minutes, a later activation stays clean",
            [*burst, later],
            _people(*owners),
            flagged(burst, Reason.AGENT_BURST),
        )
    )
    add(Case("agent: exactly 20 IDs", burst[:20], _people(*owners), {}))
    repeat = [
        *burst[:20],
        sub(398, owner=1, channel="agent", agent="A1", at=T0 + timedelta(minutes=50)),
    ]
    add(Case("agent: 21 numbers for 20 IDs", repeat, _people(*owners), {}))
    edge = [
        sub(300 + i, owner=o, channel="agent", agent="A1", at=T0 + timedelta(minutes=3 * i))
        for i, o in enumerate(owners[:21])
    ]
    add(
        Case(
            "agent: first and last exactly 60 minutes apart (closed window)",
            edge,
            _people(*owners),
            flagged(edge, Reason.AGENT_BURST),
        )
    )
    beyond = [
        *edge[:-1],
        sub(320, owner=21, channel="agent", agent="A1", at=T0 + timedelta(minutes=60, seconds=1)),
    ]
    add(Case("agent: 60 minutes and a second", beyond, _people(*owners), {}))
    with_terminated = [
        sub(
            300 + i,
            owner=o,
            channel="agent",
            agent="A1",
            at=T0 + timedelta(minutes=2 * i),
            status="terminated" if i < 3 else "active",
        )
        for i, o in enumerate(owners[:21])
    ]
    add(
        Case(
            "agent: terminated activations count towards a burst",
            with_terminated,
            _people(*owners),
            flagged(with_terminated, Reason.AGENT_BURST),
        )
    )
    two_agents = [
        sub(300 + i, owner=o, channel="agent", agent=f"A{i % 2}", at=T0 + timedelta(minutes=i))
        for i, o in enumerate(owners[:21])
    ]
    add(Case("agent: 21 IDs split between two agents", two_agents, _people(*owners), {}))

    shared = [sub(500 + i, owner=i + 1, imei="356789012345678") for i in range(4)]
    add(
        Case("shared imei: 4 IDs", shared, _people(1, 2, 3, 4), flagged(shared, Reason.SHARED_IMEI))
    )
    add(Case("imei: exactly 3 IDs", shared[:3], _people(1, 2, 3), {}))
    dual = [*shared[:3], sub(510, owner=1, imei="356789012345678")]
    add(Case("imei: 4 numbers, 3 IDs (a dual-SIM owner)", dual, _people(1, 2, 3), {}))
    old = [*shared[:3], sub(511, owner=4, imei="356789012345678", status="terminated")]
    add(Case("imei: the 4th ID's number is terminated", old, _people(1, 2, 3, 4), {}))
    blank = [sub(520 + i, owner=i + 1, imei="") for i in range(5)]
    add(Case("an empty IMEI is no IMEI", blank, _people(1, 2, 3, 4, 5), {}))

    dup = [sub(600, carrier="VTL"), sub(600, carrier="VNP", owner=2)]
    add(
        Case(
            "duplicate msisdn at two carriers",
            dup,
            _people(1, 2),
            flagged(dup, Reason.DUPLICATE_MSISDN),
        )
    )
    recycled = [sub(600, carrier="VTL", status="terminated"), sub(600, carrier="VNP", owner=2)]
    add(Case("a recycled number", recycled, _people(1, 2), {}))

    add(
        Case(
            "disowned",
            [sub(700), sub(701)],
            [person(1)],
            {("VTL", number(700)): {Reason.DISOWNED}},
            disowned=[number(700), number(999)],
        )
    )
    add(
        Case(
            "an empty agent id is no agent",
            [sub(800 + i, owner=i + 1, channel="agent", agent="") for i in range(22)],
            _people(*owners),
            {},
        )
    )
    return cases


CASES = _cases()


def run_oracle(case: Case) -> dict[tuple[str, str], tuple[Verdict, list[Reason]]]:
    registry = {o.id_bidx: o for o in case.registry}
    ctx = Context.build(case.subs, case.disowned, case.as_of, case.config)
    return {
        key(s): verdict(s, registry.get(s.id_bidx), ctx) for s in case.subs if s.status == "active"
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_oracle_gives_every_expected_reason(case: Case) -> None:
    got = run_oracle(case)
    expected = case.expect()
    assert {k: set(r) for k, (_, r) in got.items()} == expected
    for k, (v, reasons) in got.items():
        assert v is (Verdict.JUNK if expected[k] else Verdict.OK)
        assert reasons == sorted(reasons)


def test_every_reason_has_a_case() -> None:
    covered = {r for c in CASES for reasons in c.expected.values() for r in reasons}
    assert covered == set(Reason)


def test_terminated_subscriptions_get_no_verdict() -> None:
    s = sub(1, status="terminated")
    ctx = Context.build([s], [], AS_OF, RuleConfig())
    with pytest.raises(ValueError, match="active"):
        verdict(s, person(1), ctx)


def test_config_changes_the_thresholds() -> None:
    config = RuleConfig(online_limit=1, over_threshold=3, shared_imei_k=1, agent_burst_n=2)
    subs = [
        sub(1, channel="online", at=T0),
        sub(2, channel="online", at=T0 + timedelta(minutes=1)),
        sub(3, owner=2, imei="1"),
        sub(4, owner=3, imei="1"),
    ]
    ctx = Context.build(subs, [], AS_OF, config)
    owners = {o.id_bidx: o for o in _people(1, 2, 3)}
    got = {s.msisdn: verdict(s, owners[s.id_bidx], ctx)[1] for s in subs}
    assert got[number(1)] == []
    assert got[number(2)] == [Reason.ONLINE_OVER_LIMIT]
    assert got[number(3)] == [Reason.SHARED_IMEI]


# -- decide and actions -------------------------------------------------------------------


def test_decide_ok() -> None:
    assert decide([]) == (Verdict.OK, (), Action.NONE)


def test_over_threshold_alone_is_a_review_flag() -> None:
    assert decide([Reason.OVER_THRESHOLD]) == (
        Verdict.JUNK,
        (Reason.OVER_THRESHOLD,),
        Action.REVIEW,
    )


def test_any_other_reason_notifies_and_reasons_are_sorted_once() -> None:
    v, reasons, action = decide(
        [Reason.OVER_THRESHOLD, Reason.SHARED_IMEI, Reason.AGENT_BURST, Reason.SHARED_IMEI]
    )
    assert v is Verdict.JUNK
    assert reasons == (Reason.AGENT_BURST, Reason.OVER_THRESHOLD, Reason.SHARED_IMEI)
    assert action is Action.NOTIFY


def test_every_reason_has_an_action() -> None:
    assert set(ACTION) == set(Reason)
    # A number at two carriers is reviewed, never actioned: locking on it would let one
    # carrier's upload lock another carrier's customer (hardening finding 3).
    review = {Reason.OVER_THRESHOLD, Reason.DUPLICATE_MSISDN}
    assert {r for r, a in ACTION.items() if a is Action.REVIEW} == review


def test_reason_codes_are_their_names() -> None:
    assert all(r.value == r.name for r in Reason)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"online_limit": 0},
        {"over_threshold": -1},
        {"agent_burst_n": True},
        {"agent_burst_minutes": 1.5},
        {"shared_imei_k": 0},
        {"minor_age": 0},
    ],
)
def test_config_refuses_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        RuleConfig(**kwargs)  # type: ignore[arg-type]


def test_config_defaults_follow_the_issue() -> None:
    c = RuleConfig()
    assert (c.online_limit, c.over_threshold, c.agent_burst_n, c.agent_burst_minutes) == (
        3,
        10,
        20,
        60,
    )
    assert (c.shared_imei_k, c.minor_age) == (3, 14)


# -- flags computed at upload ---------------------------------------------------------------


def test_id_dob_consistent_checks_the_birth_year_only() -> None:
    female_1990 = make("001", Sex.FEMALE, 1990, 123)
    assert id_dob_consistent(female_1990, date(1990, 7, 1))
    assert not id_dob_consistent(female_1990, date(1991, 7, 1))
    # The upload has no sex: a male-coded number never disagrees on sex here.
    assert id_dob_consistent(make("079", Sex.MALE, 2004, 5), date(2004, 1, 1))


def test_id_dob_consistent_refuses_a_malformed_number() -> None:
    with pytest.raises(IdNumberError):
        id_dob_consistent("12345", date(1990, 1, 1))
