"""The whole path on synthetic data: registry feed and carrier uploads go through the real
importers into the store (SQLite and PostgreSQL), citizens disown through "my numbers", and the
reconciliation from the store finds every planted case with exactly its reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dinhdanh.identity import indexes
from dinhdanh.identity.importer import import_citizens
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.synth import generate_population, write_citizens_csv
from dinhdanh.synth.telecom import (
    SynthSubscription,
    generate_subscriptions,
    ported,
    write_subscriptions_csv,
)
from dinhdanh.telecom.blocks import declare_ports
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.wiring import Container
from tests.telecom.test_store_reconciliation import run, verdicts

AS_OF = datetime(2026, 1, 1, 9, tzinfo=UTC)
CTX = AccessContext("test", "telecom_reconciliation", "synthetic end to end")
CARRIERS = ("VTL", "VNP", "MBF")


def _load(c: Container, tmp_path: Path, junk_rate: float = 0.4) -> list[SynthSubscription]:
    population = list(generate_population(1_500, seed=11, today=AS_OF.date()))
    subs = list(generate_subscriptions(population, seed=12, junk_rate=junk_rate, carriers=CARRIERS))
    feed = tmp_path / "citizens.csv"
    write_citizens_csv(population, feed)
    common = {"unit_of_work": c.unit_of_work, "ctx": CTX, "clock": lambda: AS_OF, "workers": 1}
    report = import_citizens(feed, registry=c.registry, today=AS_OF.date(), **common)
    assert report.rejected == []
    with c.unit_of_work() as s:
        for code in CARRIERS:
            c.telecom.add_carrier(s, code, code, AS_OF)  # the plan's blocks
            moved = [x.msisdn for x in subs if x.carrier == code and ported(x)]
            declare_ports(s, code, moved, AS_OF)  # numbers synth put at another carrier
    for code in CARRIERS:
        path = tmp_path / f"{code}.csv"
        write_subscriptions_csv([sub for sub in subs if sub.carrier == code], path)
        report = import_subscriptions(
            path,
            carrier=code,
            telecom=c.telecom,
            ring=c.ring,
            today=AS_OF.date(),
            **common,
        )
        assert report.rejected == [], report.rejected[:5]  # every synthetic row is well formed
    return subs


def disown(c: Container, subs: list[SynthSubscription]) -> None:
    """The citizens say "not mine" on "my numbers" where the generator planted it."""
    with c.unit_of_work() as s:
        for sub in subs:
            if sub.disowned:
                view = c.registry.get_by_id_number(s, sub.id_number, CTX, AS_OF)
                assert view is not None
                id_bidx = indexes.id_index(c.ring, sub.id_number)
                c.telecom.declare(s, view.subject_id, id_bidx, sub.msisdn, "disowned", CTX, AS_OF)


def test_every_planted_case_is_found_through_the_store(
    container: Container, tmp_path: Path
) -> None:
    c = container
    subs = _load(c, tmp_path)
    disown(c, subs)
    out = tmp_path / "out"
    run(c, out, now=AS_OF)
    got = {
        (code, msisdn): set(reasons)
        for code in CARRIERS
        for msisdn, reasons in verdicts(out, code).items()
    }
    expected = {
        (sub.carrier, sub.msisdn): {str(r) for r in sub.expected}
        for sub in subs
        if sub.status == "active"
    }
    planted = set().union(*expected.values())
    assert len(planted) >= 10, planted  # the run exercised (nearly) every reason code
    assert got == expected
