"""Reconciliation from the database (SQLite and PostgreSQL through DuckDB's scanners), the lock
cases it opens and resolves, and "my numbers"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from sqlalchemy import select

from dinhdanh.identity import indexes
from dinhdanh.identity.rules import check_citizen
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom import models as tm
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.reconciliation import reconcile_store
from dinhdanh.telecom.rules import Context, Owner, Subscription, verdict
from dinhdanh.telecom.service import NotYourNumber
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD, row

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
from tests.telecom.factories import sub, write_csv

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CTX = AccessContext("test", "telecom_reconciliation", "test reconciliation")
AN = GOOD[0]  # Nguyễn Văn An, 001090012345, alive, adult
ELDER = GOOD[4]  # died 2020-03-03


def seed(c: Container, tmp_path: Path, rows: list[dict[str, str]], carrier: str = "VTL") -> None:
    with c.unit_of_work() as s:
        if not c.telecom.carriers(s):
            c.registry.upsert(s, [check_citizen(r, NOW.date()) for r in GOOD], CTX, NOW)  # type: ignore[misc]
            c.telecom.add_carrier(s, "VTL", "Viettel", NOW)
            c.telecom.add_carrier(s, "VNP", "Vinaphone", NOW)
    report = import_subscriptions(
        write_csv(tmp_path / f"{carrier}-{len(rows)}.csv", rows),
        carrier=carrier,
        telecom=c.telecom,
        ring=c.ring,
        unit_of_work=c.unit_of_work,
        ctx=CTX,
        clock=lambda: NOW,
        today=NOW.date(),
        workers=1,
    )
    assert report.rejected == [], report.rejected


def run(
    c: Container,
    out: Path,
    carrier: str | None = None,
    now: datetime = NOW,
    snapshots: Path | None = None,
    spark_master: str | None = None,
) -> dict[str, object]:
    outcome = reconcile_store(
        spark_master=spark_master,
        engine=c.engine,
        unit_of_work=c.unit_of_work,
        registry=c.registry,
        telecom=c.telecom,
        rules=c.telecom_rules,
        ctx=CTX,
        clock=lambda: now,
        as_of=now.date(),
        out_dir=out,
        carrier=carrier,
        snapshots=snapshots,
    )
    return {
        "opened": outcome.cases_opened,
        "resolved": outcome.cases_resolved,
        "s": outcome.summary,
        "junk": frozenset(v.msisdn for v in outcome.junk),
    }


def verdicts(out: Path, carrier: str) -> dict[str, list[str]]:
    rows = duckdb.sql(f"SELECT msisdn, reasons FROM read_parquet('{out / carrier}.parquet')")
    return {msisdn: list(reasons) for msisdn, reasons in rows.fetchall()}


def test_reconcile_from_the_store(container: Container, tmp_path: Path) -> None:
    seed(
        container,
        tmp_path,
        [
            sub("0962000001", **{k: AN[k] for k in ("id_number", "full_name", "date_of_birth")}),
            sub("0962000002", AN["id_number"], "Nguyễn Văn Ăn", AN["date_of_birth"]),
            sub("0962000003", AN["id_number"], AN["full_name"], "1990-05-13"),
            sub("0962000004", "001090777777", "Không Có Ai", "1990-01-01"),
            sub("0962000005", ELDER["id_number"], ELDER["full_name"], ELDER["date_of_birth"]),
            sub("0962000006", AN["id_number"], AN["full_name"], "1991-05-12"),
        ],
    )
    out = tmp_path / "out"
    result = run(container, out)
    got = verdicts(out, "VTL")
    assert got == {
        "+84962000001": [],
        "+84962000002": ["NAME_MISMATCH"],
        "+84962000003": ["DOB_MISMATCH"],
        "+84962000004": ["ID_NOT_FOUND"],
        "+84962000005": ["OWNER_DECEASED"],
        "+84962000006": ["DOB_MISMATCH", "ID_FORMAT"],
    }
    assert result["opened"] == 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["per_verdict"] == {"ok": 1, "junk": 5}
    assert "<svg" in (out / "report.html").read_text()


def test_spark_gives_the_store_the_same_verdicts(
    container: Container, spark: SparkSession, tmp_path: Path
) -> None:
    rows = [
        sub("0962000001", **{k: AN[k] for k in ("id_number", "full_name", "date_of_birth")}),
        sub("0962000002", AN["id_number"], "Nguyễn Văn Ăn", AN["date_of_birth"]),
        sub("0962000004", "001090777777", "Không Có Ai", "1990-01-01"),
        sub("0962000005", ELDER["id_number"], ELDER["full_name"], ELDER["date_of_birth"]),
    ]
    seed(container, tmp_path, rows)
    duck = run(container, tmp_path / "duckdb")
    # The session is the tests' own: the store's run uses it, whatever master it names.
    on_spark = run(container, tmp_path / "spark", spark_master="local[1]")
    assert on_spark["junk"] == duck["junk"]
    got = verdicts(tmp_path / "spark", "VTL")
    assert got == verdicts(tmp_path / "duckdb", "VTL")
    assert got["+84962000005"] == ["OWNER_DECEASED"]
    assert on_spark["opened"] == 0  # the DuckDB run opened every case already
    infos = [json.loads((tmp_path / e / "summary.json").read_text()) for e in ("duckdb", "spark")]
    for info in infos:
        del info["seconds"], info["phases"]
    assert infos[0] == infos[1]
    assert spark.range(3).count() == 3  # the tests' session was left running


def test_correction_resolves_the_case_and_the_carrier_is_told(
    container: Container, tmp_path: Path
) -> None:
    wrong = sub("0962000002", AN["id_number"], "Nguyễn Văn Ăn", AN["date_of_birth"])
    seed(container, tmp_path, [wrong])
    run(container, tmp_path / "out")
    c = container
    with c.unit_of_work() as s:
        entered = c.telecom.advance(s, NOW + timedelta(days=31))
        assert entered == {"notified": 1, "one_way_locked": 1}
        actions = [a.action for a in c.telecom.pending_actions(s, "VTL")]
        assert actions == ["notify", "one_way_lock"]
    # The carrier corrects the name; the next reconciliation finds it ok.
    seed(
        container,
        tmp_path,
        [sub("0962000002", **{k: AN[k] for k in ("id_number", "full_name", "date_of_birth")})],
    )
    result = run(container, tmp_path / "out")
    assert result["resolved"] == 1
    with c.unit_of_work() as s:
        case = c.telecom.case_of(s, "VTL", "+84962000002")
        assert case is not None
        assert case.state == "resolved"
        pending = c.telecom.pending_actions(s, "VTL")
        assert [a.action for a in pending][-1] == "unlock"
        assert c.telecom.acknowledge(s, "VNP", [a.id for a in pending], NOW) == 0
        assert c.telecom.acknowledge(s, "VTL", [a.id for a in pending], NOW) == 3
        assert c.telecom.pending_actions(s, "VTL") == []
        assert c.audit.verify(s).ok


def test_my_numbers_across_carriers_and_disowning(container: Container, tmp_path: Path) -> None:
    mine = {k: AN[k] for k in ("id_number", "full_name", "date_of_birth")}
    seed(
        container,
        tmp_path,
        [sub("0962000001", **mine), sub("0962000009", status="terminated", **mine)],
    )
    seed(container, tmp_path, [sub("0888000001", **mine)], carrier="VNP")
    c = container
    id_bidx = indexes.id_index(c.ring, AN["id_number"])
    with c.unit_of_work() as s:
        view = c.registry.get_by_id_number(s, AN["id_number"], CTX, NOW)
        assert view is not None
        numbers = c.telecom.numbers_of(s, id_bidx, view.subject_id)
        assert [(n.carrier, n.msisdn) for n in numbers] == [
            ("VTL", "+84962000001"),
            ("VNP", "+84888000001"),
        ]
        c.telecom.declare(s, view.subject_id, id_bidx, "+84888000001", "disowned", CTX, NOW)
        with pytest.raises(NotYourNumber):
            c.telecom.declare(s, view.subject_id, id_bidx, "+84962000009", "disowned", CTX, NOW)
        case = c.telecom.case_of(s, "VNP", "+84888000001")
        assert case is not None
        assert (case.state, case.reasons) == ("flagged", "DISOWNED")
    out = tmp_path / "out"
    run(container, out)
    assert verdicts(out, "VNP") == {"+84888000001": ["DISOWNED"]}
    assert verdicts(out, "VTL") == {"+84962000001": []}


def test_one_carrier_only(container: Container, tmp_path: Path) -> None:
    seed(container, tmp_path, [sub("0962000001", "001090777777", "Không Có Ai", "1990-01-01")])
    seed(
        container,
        tmp_path,
        [sub("0888000001", "001090777777", "Không Có Ai", "1990-01-01")],
        carrier="VNP",
    )
    out = tmp_path / "out"
    result = run(container, out, carrier="VNP")
    assert sorted(p.name for p in out.glob("*.parquet")) == ["VNP.parquet"]
    assert result["opened"] == 1


# Born 29 February 2012, no guardian on file: 14 on 1 March 2026 (a common year).
LEAP = row("001312000099", "Đỗ Thị Lan", "2012-02-29", "F")


def test_owner_minor_turns_on_1_march_for_a_29_february_birth(
    container: Container, tmp_path: Path
) -> None:
    c = container
    with c.unit_of_work() as s:
        c.registry.upsert(s, [check_citizen(LEAP, NOW.date())], CTX, NOW)  # type: ignore[list-item]
    lan = {k: LEAP[k] for k in ("id_number", "full_name", "date_of_birth")}
    seed(
        c,
        tmp_path,
        [
            sub("0962000011", **lan, activation_date="2026-02-28"),
            sub("0962000012", **lan, activation_date="2026-03-01"),
        ],
    )
    out = tmp_path / "out"
    run(c, out)
    engine = verdicts(out, "VTL")
    # The row-by-row oracle over the same stored rows agrees with the DuckDB engine.
    with c.unit_of_work() as s:
        stored = [
            Subscription(
                r.carrier, r.msisdn, r.id_bidx, r.name_bidx, r.dob_bidx, r.id_dob_consistent,
                r.minor_at_activation, r.activation_at, r.channel, r.agent_id, None, r.status,
            )
            for r in s.scalars(select(tm.Subscription))
        ]  # fmt: skip
        owner = c.registry.subject(s, LEAP["id_number"])
        assert owner is not None
    registry = Owner(owner.id_bidx, owner.name_bidx, owner.dob_bidx, owner.has_guardian, None)
    context = Context.build(stored, [], NOW.date(), c.telecom_rules)
    oracle = {
        sub_.msisdn: [r.value for r in verdict(sub_, registry, context)[1]] for sub_ in stored
    }
    assert engine == oracle == {"+84962000011": ["OWNER_MINOR"], "+84962000012": []}
