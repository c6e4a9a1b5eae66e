"""The DuckDB reconciliation engine: the hand-made cases of test_rules, planted junk from the
synthetic generator, agreement with the row-by-row oracle, and the output files."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dinhdanh.analytics import connect
from dinhdanh.crypto import KeyRing
from dinhdanh.identity.idnumber import Sex, make
from dinhdanh.synth import SynthCitizen, generate_population
from dinhdanh.synth.telecom import (
    EARLIEST,
    REGISTRY_SCHEMA,
    SUBSCRIPTION_SCHEMA,
    UPLOAD_FIELDS,
    engine_inputs,
    generate_subscriptions,
    ground_truth,
    luhn_digit,
    write_engine_inputs,
    write_subscriptions_csv,
)
from dinhdanh.telecom.msisdn import home_carrier, normalize_msisdn
from dinhdanh.telecom.reconcile import BITS, Summary, reasons_of, reconcile
from dinhdanh.telecom.rules import Owner, Reason, RuleConfig, Subscription
from tests.telecom.test_rules import AS_OF, CASES, Case, idx, number, person, run_oracle, sub

Result = dict[tuple[str, str], tuple[str, list[str], str]]


def _subs_table(subs: Sequence[Subscription]) -> pa.Table:
    return pa.Table.from_pylist([asdict(s) for s in subs], schema=SUBSCRIPTION_SCHEMA)


def _registry_table(owners: Sequence[Owner]) -> pa.Table:
    return pa.Table.from_pylist([asdict(o) for o in owners], schema=REGISTRY_SCHEMA)


def _msisdns(numbers: Sequence[str]) -> pa.Table:
    return pa.table({"msisdn": pa.array(list(numbers), pa.string())})


def _register(
    con: duckdb.DuckDBPyConnection,
    subs: pa.Table,
    registry: pa.Table,
    disowned: pa.Table | None = None,
    provinces: pa.Table | None = None,
) -> None:
    con.register("subs", subs)
    con.register("registry", registry)
    if disowned is not None:
        con.register("disowned", disowned)
    if provinces is not None:
        con.register("provinces", provinces)


def read_result(out: Path) -> Result:
    result: Result = {}
    for path in sorted(out.glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            k = (row["carrier"], row["msisdn"])
            assert k not in result, "one verdict per subscription"
            result[k] = (row["verdict"], row["reasons"], row["action"])
    return result


def run_engine(
    tmp: Path,
    subs: pa.Table,
    registry: pa.Table,
    disowned: pa.Table | None,
    *,
    as_of: date = AS_OF,
    config: RuleConfig | None = None,
    carrier: str | None = None,
    provinces: pa.Table | None = None,
) -> tuple[Summary, Result]:
    con = connect()
    _register(con, subs, registry, disowned, provinces)
    summary = reconcile(
        con,
        "subs",
        "registry",
        "disowned" if disowned is not None else None,
        tmp,
        as_of,
        config or RuleConfig(),
        carrier,
        provinces="provinces" if provinces is not None else None,
    )
    con.close()
    return summary, read_result(tmp)


# -- the hand-made cases ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine_gives_every_expected_reason(case: Case, tmp_path: Path) -> None:
    summary, got = run_engine(
        tmp_path,
        _subs_table(case.subs),
        _registry_table(case.registry),
        _msisdns(case.disowned),
        as_of=case.as_of,
        config=case.config,
    )
    expected = case.expect()
    assert {k: set(reasons) for k, (_, reasons, _) in got.items()} == expected
    oracle = run_oracle(case)
    for k, (verdict, reasons, _) in got.items():
        assert reasons == sorted(reasons)
        assert (verdict, reasons) == (oracle[k][0].value, [r.value for r in oracle[k][1]])
    assert summary.rows == len(expected)


def test_actions_in_the_output(tmp_path: Path) -> None:
    holder = [sub(100 + i) for i in range(10)] + [sub(200, owner=2), sub(201, owner=3, name=9)]
    _, got = run_engine(
        tmp_path,
        _subs_table(holder),
        _registry_table([person(1), person(2), person(3)]),
        None,
    )
    assert got[("VTL", number(100))] == ("junk", ["OVER_THRESHOLD"], "review")
    assert got[("VTL", number(200))] == ("ok", [], "none")
    assert got[("VTL", number(201))] == ("junk", ["NAME_MISMATCH"], "notify")


def test_group_rules_see_every_carrier_when_one_is_asked_for(tmp_path: Path) -> None:
    holder = [sub(100 + i, carrier=("VTL", "VNP")[i % 2]) for i in range(10)]
    summary, got = run_engine(
        tmp_path, _subs_table(holder), _registry_table([person(1)]), None, carrier="VNP"
    )
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["VNP.parquet"]
    assert set(got) == {("VNP", number(100 + i)) for i in range(1, 10, 2)}
    assert all(reasons == ["OVER_THRESHOLD"] for _, reasons, _ in got.values())
    assert summary.carrier == "VNP"
    assert summary.rows == 5
    assert list(summary.per_carrier) == ["VNP"]


def test_a_carrier_asked_for_with_no_rows_gets_an_empty_file(tmp_path: Path) -> None:
    summary, got = run_engine(
        tmp_path, _subs_table([sub(1)]), _registry_table([]), None, carrier="MBF"
    )
    assert got == {}
    assert pq.read_table(tmp_path / "MBF.parquet").num_rows == 0
    assert summary.rows == 0


def test_output_columns_and_types(tmp_path: Path) -> None:
    run_engine(
        tmp_path,
        _subs_table([sub(1), sub(2, carrier="VNP", owner=9)]),
        _registry_table([person(1)]),
        None,
    )
    schema = pq.read_schema(tmp_path / "VNP.parquet")
    assert schema.names == ["msisdn", "carrier", "verdict", "reasons", "action"]
    assert schema.field("reasons").type == pa.list_(pa.string())
    assert all(
        schema.field(n).type == pa.string() for n in ("msisdn", "carrier", "verdict", "action")
    )


def test_summary_json_and_counts(tmp_path: Path) -> None:
    subs = [sub(1), sub(2, name=5), sub(3, carrier="VNP", owner=9), sub(4, status="terminated")]
    subs += [sub(10 + i, owner=3) for i in range(10)]
    summary, _ = run_engine(
        tmp_path, _subs_table(subs), _registry_table([person(1), person(3)]), _msisdns([number(1)])
    )
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["as_of"] == "2026-01-01"
    assert data["rows"] == summary.rows == 13
    assert data["per_verdict"] == {"ok": 0, "junk": 13}
    assert data["per_reason"]["DISOWNED"] == 1
    assert data["per_reason"]["NAME_MISMATCH"] == 1
    assert data["per_reason"]["ID_NOT_FOUND"] == 1
    assert data["per_reason"]["OVER_THRESHOLD"] == 10
    assert set(data["per_reason"]) == {r.value for r in Reason}
    assert data["per_action"] == {"none": 0, "review": 10, "notify": 3}
    assert data["per_carrier"]["VNP"]["per_verdict"] == {"ok": 0, "junk": 1}
    assert data["per_carrier"]["VTL"]["rows"] == 12
    assert data["junk_by_month"] == {"2024-05": 13}
    assert data["config"]["over_threshold"] == 10
    assert sorted(data["files"]) == ["VNP.parquet", "VTL.parquet"]
    assert summary.ok == 0
    assert summary.junk == 13
    assert summary.per_carrier["VTL"].junk == 12


def test_report_is_self_contained_with_its_charts(tmp_path: Path) -> None:
    subs = [sub(1, owner=9), sub(2, at=datetime(2023, 1, 5), name=7), sub(3)]
    provinces = pa.table(
        {"msisdn": [number(1), number(2), number(3)], "province": ["Hà Nội", "Huế <&>", "Hà Nội"]}
    )
    run_engine(tmp_path, _subs_table(subs), _registry_table([person(1)]), None, provinces=provinces)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for absent in ("<script", "src=", "<link", "url(", "@import", "https:"):
        assert absent not in page
    assert page.count("<svg") == 5
    for title in ("per reason", "per carrier", "per action", "per province", "activation month"):
        assert title in page
    assert "Huế &lt;&amp;&gt;" in page
    assert "2023-01" in page
    assert "2024-05" in page
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["per_province"] == {"Huế <&>": {"junk": 1}, "Hà Nội": {"junk": 1}}


def test_report_skips_the_province_chart_without_provinces(tmp_path: Path) -> None:
    run_engine(tmp_path, _subs_table([sub(1)]), _registry_table([person(1)]), None)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "per province" not in page
    assert json.loads((tmp_path / "summary.json").read_text())["per_province"] is None


# -- contract checks --------------------------------------------------------------------------


def test_two_active_rows_for_one_carrier_and_number_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="more than one active"):
        run_engine(
            tmp_path,
            _subs_table([sub(1), sub(1, owner=2)]),
            _registry_table([person(1), person(2)]),
            None,
        )


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    con = connect()
    con.register("subs", _subs_table([sub(1)]).drop_columns(["imei"]))
    con.register("registry", _registry_table([person(1)]))
    with pytest.raises(ValueError, match="imei"):
        reconcile(con, "subs", "registry", None, tmp_path, AS_OF, RuleConfig())


def test_an_unsafe_carrier_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="carrier"):
        run_engine(tmp_path, _subs_table([sub(1, carrier="../x")]), _registry_table([]), None)
    with pytest.raises(ValueError, match="carrier"):
        run_engine(tmp_path, _subs_table([sub(1)]), _registry_table([]), None, carrier="a/b")


def test_sqlite_typed_inputs_are_cast(tmp_path: Path) -> None:
    # What the SQLite scanner returns: integers for booleans, text for timestamps and dates.
    con = connect()
    con.execute(
        """CREATE TABLE subs AS SELECT 'VTL' AS carrier, '+84912345678' AS msisdn,
        ? AS id_bidx, ? AS name_bidx, ? AS dob_bidx, 1 AS id_dob_consistent,
        1 AS under_minor_age_at_activation, '2024-05-01 09:00:00' AS activation_at,
        'store' AS channel, NULL AS agent_id, NULL AS imei, 'active' AS status""",
        [idx("id", 1), idx("name", 1), idx("dob", 1)],
    )
    con.execute(
        """CREATE TABLE registry AS SELECT ? AS id_bidx, ? AS name_bidx, ? AS dob_bidx,
        0 AS has_guardian, '2025-01-01' AS date_of_death""",
        [idx("id", 1), idx("name", 1), idx("dob", 1)],
    )
    reconcile(con, "subs", "registry", None, tmp_path, AS_OF, RuleConfig())
    assert read_result(tmp_path)[("VTL", "+84912345678")] == (
        "junk",
        ["OWNER_DECEASED", "OWNER_MINOR"],
        "notify",
    )


def test_the_connection_is_left_as_it_was(tmp_path: Path) -> None:
    con = connect()
    con.execute("SET disabled_optimizers = 'late_materialization'")
    _register(con, _subs_table([sub(1)]), _registry_table([person(1)]))
    for run in range(2):  # twice on one connection
        reconcile(con, "subs", "registry", None, tmp_path / str(run), AS_OF, RuleConfig())
    leftovers = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_dd_%'"
    ).fetchall()
    assert leftovers == []
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == (
        "late_materialization",
    )


def test_masks_round_trip() -> None:
    assert len(set(BITS.values())) == len(Reason)
    everything = sum(BITS.values())
    assert reasons_of(everything) == sorted(Reason)
    assert reasons_of(BITS[Reason.DISOWNED] | BITS[Reason.AGENT_BURST]) == [
        Reason.AGENT_BURST,
        Reason.DISOWNED,
    ]


# -- synthetic population with planted junk ---------------------------------------------------


@pytest.fixture(scope="module")
def planted(
    ring: KeyRing, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[Any, Any], Result, Summary]:
    population = list(generate_population(6_000, seed=11, today=AS_OF))
    subs = list(generate_subscriptions(population, seed=12, as_of=AS_OF, junk_rate=0.25))
    inputs = engine_inputs(subs, population, ring)
    out = tmp_path_factory.mktemp("planted")
    summary, got = run_engine(
        out, inputs.subscriptions, inputs.registry, inputs.disowned, provinces=inputs.provinces
    )
    return ground_truth(subs), got, summary


def test_every_planted_reason_kind_is_planted(
    planted: tuple[dict[Any, Any], Result, Summary],
) -> None:
    truth, _, _ = planted
    assert {r for reasons in truth.values() for r in reasons} == set(Reason)


def test_every_planted_case_is_found_with_exactly_its_reasons(
    planted: tuple[dict[Any, Any], Result, Summary],
) -> None:
    truth, got, _ = planted
    assert set(got) == set(truth)
    wrong = {
        k: (sorted(truth[k]), reasons)
        for k, (_, reasons, _) in got.items()
        if set(reasons) != {r.value for r in truth[k]}
    }
    assert wrong == {}


def test_no_clean_subscription_is_flagged(planted: tuple[dict[Any, Any], Result, Summary]) -> None:
    truth, got, summary = planted
    clean = [k for k, reasons in truth.items() if not reasons]
    assert len(clean) > 1000
    assert all(got[k] == ("ok", [], "none") for k in clean)
    assert summary.ok == len(clean)


# -- agreement with the oracle on random rows ------------------------------------------------


def _random_rows(seed: int, n: int) -> tuple[list[Subscription], list[Owner], list[str]]:
    """Rows drawn from small key spaces, so that every group rule fires now and then."""
    rng = random.Random(seed)
    owners = [
        Owner(
            idx("id", i),
            idx("name", i),
            idx("dob", i),
            rng.random() < 0.3,
            date(2024, 1, 1) + timedelta(days=rng.randrange(900)) if rng.random() < 0.05 else None,
        )
        for i in range(n // 4)
        if rng.random() < 0.95
    ]
    subs: list[Subscription] = []
    taken: set[tuple[str, str]] = set()
    start = datetime(2025, 6, 1)
    for _ in range(n):
        carrier = rng.choice(("VTL", "VNP", "MBF"))
        msisdn = number(rng.randrange(n))
        status = "active" if rng.random() < 0.9 else "terminated"
        if status == "active":
            if (carrier, msisdn) in taken:
                continue
            taken.add((carrier, msisdn))
        owner = rng.randrange(n // 4 + 5)
        channel = rng.choice(("online", "store", "agent"))
        subs.append(
            Subscription(
                carrier=carrier,
                msisdn=msisdn,
                id_bidx=idx("id", owner),
                name_bidx=idx("name", owner if rng.random() < 0.95 else owner + 1),
                dob_bidx=idx("dob", owner if rng.random() < 0.95 else owner + 1),
                id_dob_consistent=rng.random() < 0.97,
                under_minor_age_at_activation=rng.random() < 0.05,
                activation_at=start + timedelta(minutes=rng.randrange(60 * 24 * 400)),
                channel=channel,
                agent_id=f"A{rng.randrange(3)}" if channel == "agent" else None,
                imei=str(rng.randrange(n // 3)) if rng.random() < 0.9 else None,
                status=status,
            )
        )
    disowned = [number(rng.randrange(n)) for _ in range(n // 50)]
    return subs, owners, disowned


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_agrees_with_the_oracle_on_random_rows(seed: int, tmp_path: Path) -> None:
    subs, owners, disowned = _random_rows(seed, 3000)
    config = RuleConfig(
        over_threshold=4, agent_burst_n=3, agent_burst_minutes=24 * 60, shared_imei_k=2
    )
    case = Case("random", subs, owners, {}, disowned=disowned, config=config)
    oracle = run_oracle(case)
    summary, got = run_engine(
        tmp_path, _subs_table(subs), _registry_table(owners), _msisdns(disowned), config=config
    )
    assert set(got) == set(oracle)
    disagree = {k: (got[k], oracle[k]) for k in got if got[k][1] != [r.value for r in oracle[k][1]]}
    assert disagree == {}
    fired = {r for _, reasons in oracle.values() for r in reasons}
    assert fired == set(Reason), "the random rows exercise every rule"
    assert summary.rows == len(oracle)


def test_random_rows_fixture_fields_match_the_engine_contract() -> None:
    assert [f.name for f in fields(Subscription)] == SUBSCRIPTION_SCHEMA.names
    assert [f.name for f in fields(Owner)] == REGISTRY_SCHEMA.names


# -- the generator's own guarantees -----------------------------------------------------------


@pytest.fixture(scope="module")
def small_population() -> list[Any]:
    return list(generate_population(3_000, seed=5, today=AS_OF))


def test_generator_is_deterministic(small_population: list[Any]) -> None:
    first = list(generate_subscriptions(small_population, seed=1, junk_rate=0.3))
    again = list(generate_subscriptions(small_population, seed=1, junk_rate=0.3))
    other = list(generate_subscriptions(small_population, seed=2, junk_rate=0.3))
    assert first == again
    assert first != other


def test_generated_rows_are_well_formed() -> None:
    # Enough of the deceased (0.5 %), all planted, to include deaths long before any SIM.
    population = generate_population(30_000, seed=6, today=AS_OF)
    subs = list(generate_subscriptions(population, seed=3, junk_rate=0.3, deceased_rate=1.0))
    assert sum(Reason.OWNER_DECEASED in s.expected for s in subs) > 100
    for s in subs:
        assert normalize_msisdn(s.msisdn) == s.msisdn
        assert home_carrier(s.msisdn) in {"VTL", "VNP", "MBF"}
        assert s.carrier in {"VTL", "VNP", "MBF"}
        assert EARLIEST <= s.activation_date.date() < AS_OF
        assert s.channel in {"online", "store", "agent"}
        assert (s.agent_id is not None) == (s.channel == "agent")
        assert s.status in {"active", "terminated"}
        if s.status == "terminated":
            assert s.expected == frozenset()
        if s.imei is not None:
            assert len(s.imei) == 15
            assert s.imei.isdigit()
            assert luhn_digit(s.imei[:14]) == s.imei[14]


@pytest.mark.parametrize(("body", "digit"), [("49015420323751", "8"), ("35209900176148", "1")])
def test_luhn_digit(body: str, digit: str) -> None:
    assert luhn_digit(body) == digit


def test_upload_csv(small_population: list[Any], tmp_path: Path) -> None:
    subs = list(generate_subscriptions(small_population[:300], seed=4))
    path = tmp_path / "upload.csv"
    assert write_subscriptions_csv(subs, path) == len(subs)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(UPLOAD_FIELDS)
    assert rows == [s.upload_row() for s in subs]
    assert {r["agent_id"] for r in rows if r["channel"] != "agent"} == {""}


def test_generator_refuses_what_it_cannot_honour(small_population: list[Any]) -> None:
    with pytest.raises(ValueError, match="carriers"):
        generate_subscriptions(small_population, carriers=("XYZ",))
    # Someone born in 1903 could hold an ID number the ID_NOT_FOUND plants fabricate.
    old = SynthCitizen(
        make("001", Sex.FEMALE, 1903, 1), "Lê Thị Cụ", date(1903, 2, 1), Sex.FEMALE, None, None, ""
    )
    with pytest.raises(ValueError, match="too old"):
        list(generate_subscriptions([*small_population[:10], old]))


@pytest.mark.parametrize("background", [False, True])
def test_written_engine_inputs_reconcile_to_the_ground_truth(
    background: bool, ring: KeyRing, tmp_path: Path
) -> None:
    population = list(generate_population(4_000, seed=8, today=AS_OF))
    subs = list(generate_subscriptions(population, seed=9, junk_rate=0.2))
    files = write_engine_inputs(
        population, tmp_path / "in", ring, seed=9, junk_rate=0.2, chunk_rows=1_000,
        background=background,
    )  # fmt: skip
    assert (files.citizens, files.rows) == (4_000, len(subs))
    assert len(list(files.subscriptions.glob("*.parquet"))) == -(-len(subs) // 1_000)
    con = connect()
    for name, path in (("s", files.subscriptions), ("r", files.registry), ("p", files.provinces)):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}/*.parquet')")
    con.execute(f"CREATE VIEW d AS SELECT * FROM read_parquet('{files.disowned}')")
    assert con.execute("SELECT count(*) FROM r").fetchone() == (4_000,)
    reconcile(con, "s", "r", "d", tmp_path / "out", AS_OF, RuleConfig(), provinces="p")
    got = {k: set(reasons) for k, (_, reasons, _) in read_result(tmp_path / "out").items()}
    assert got == {k: {r.value for r in v} for k, v in ground_truth(subs).items()}


def test_writing_stops_at_the_subscription_count_but_keeps_every_citizen(
    ring: KeyRing, tmp_path: Path
) -> None:
    population = generate_population(2_000, seed=8, today=AS_OF)
    files = write_engine_inputs(population, tmp_path, ring, subscriptions=1_234, chunk_rows=500)
    assert (files.citizens, files.rows) == (2_000, 1_234)
    assert pq.read_table(files.registry).num_rows == 2_000
    assert pq.read_table(files.subscriptions).num_rows == 1_234


def test_generator_truth_agrees_with_the_oracle_when_everyone_is_planted(ring: KeyRing) -> None:
    population = list(generate_population(15_000, seed=21, today=AS_OF))
    subs = list(generate_subscriptions(population, seed=22, junk_rate=1.0, deceased_rate=1.0))
    inputs = engine_inputs(subs, population, ring)
    rows = [Subscription(**r) for r in inputs.subscriptions.to_pylist()]
    owners = {r["id_bidx"]: Owner(**r) for r in inputs.registry.to_pylist()}
    disowned = [r["msisdn"] for r in inputs.disowned.to_pylist()]
    case = Case("everyone planted", rows, list(owners.values()), {}, disowned=disowned)
    oracle = {k: set(reasons) for k, (_, reasons) in run_oracle(case).items()}
    assert oracle == {k: set(v) for k, v in ground_truth(subs).items()}
