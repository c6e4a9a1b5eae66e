"""The whole path on synthetic data: registry feed and carrier uploads go through the real
importers into the store (SQLite and PostgreSQL), citizens disown through "my numbers", and the
reconciliation from the store finds every planted case with exactly its reasons."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dinhdanh.identity import indexes
from dinhdanh.identity.importer import import_citizens
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.synth import generate_population, write_citizens_csv
from dinhdanh.synth.telecom import SynthSubscription, generate_subscriptions
from dinhdanh.telecom.feed import COLUMNS
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.reconciliation import reconcile_store
from dinhdanh.wiring import Container

AS_OF = datetime(2026, 1, 1, 9, tzinfo=UTC)
CTX = AccessContext("test", "telecom_reconciliation", "synthetic end to end")
CARRIERS = ("VTL", "VNP", "MBF")


def _load(c: Container, tmp_path: Path) -> list[SynthSubscription]:
    population = list(generate_population(1_500, seed=11, today=AS_OF.date()))
    subs = list(generate_subscriptions(population, seed=12, junk_rate=0.4, carriers=CARRIERS))
    feed = tmp_path / "citizens.csv"
    write_citizens_csv(population, feed)
    common = {"unit_of_work": c.unit_of_work, "ctx": CTX, "clock": lambda: AS_OF, "workers": 1}
    report = import_citizens(feed, registry=c.registry, today=AS_OF.date(), **common)
    assert report.rejected == []
    with c.unit_of_work() as s:
        for code in CARRIERS:
            c.telecom.add_carrier(s, code, code, AS_OF)
    for code in CARRIERS:
        path = tmp_path / f"{code}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for sub in subs:
                if sub.carrier == code:
                    w.writerow([sub.upload_row()[col] for col in COLUMNS])
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


def test_every_planted_case_is_found_through_the_store(
    container: Container, tmp_path: Path
) -> None:
    c = container
    subs = _load(c, tmp_path)
    with c.unit_of_work() as s:
        for sub in subs:
            if sub.disowned:
                view = c.registry.get_by_id_number(s, sub.id_number, CTX, AS_OF)
                assert view is not None
                id_bidx = indexes.id_index(c.ring, sub.id_number)
                c.telecom.declare(s, view.subject_id, id_bidx, sub.msisdn, "disowned", CTX, AS_OF)
    out = tmp_path / "out"
    reconcile_store(
        engine=c.engine,
        unit_of_work=c.unit_of_work,
        sealer=c.registry.sealer,
        audit=c.audit,
        telecom=c.telecom,
        rules=c.telecom_rules,
        ctx=CTX,
        clock=lambda: AS_OF,
        as_of=AS_OF.date(),
        out_dir=out,
    )
    got: dict[tuple[str, str], set[str]] = {}
    for code in CARRIERS:
        rows = duckdb.sql(f"SELECT msisdn, reasons FROM read_parquet('{out / code}.parquet')")
        got |= {(code, msisdn): set(reasons) for msisdn, reasons in rows.fetchall()}
    expected = {
        (sub.carrier, sub.msisdn): {str(r) for r in sub.expected}
        for sub in subs
        if sub.status == "active"
    }
    planted: dict[str, int] = defaultdict(int)
    for reasons in expected.values():
        for reason in reasons:
            planted[reason] += 1
    assert len(planted) >= 10, planted  # the run exercised (nearly) every reason code
    assert got == expected
