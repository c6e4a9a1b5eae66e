"""`reconcile internet` from the database (SQLite and PostgreSQL through DuckDB's scanners):
every reason code on a small hand-made dataset, the Parquet schemas, a rerun's idempotence,
and the registrars' action feed it fills."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dinhdanh.identity import indexes
from dinhdanh.identity.rules import check_citizen
from dinhdanh.internet.importer import import_domains, import_ip_blocks, import_organisations
from dinhdanh.internet.reconciliation import Outcome, reconcile_store
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD
from tests.internet.factories import CTX, ORG2, block, company, org, person, run_of, write

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
AN, BINH, CHAU, HUY, ELDER = GOOD  # Huy was born in 2012; Đức died in 2020
UNLISTED_ORG = "0314409058"  # a valid tax code the business registry does not list


def _as(who: dict[str, str], domain: str, **kw: str) -> dict[str, str]:
    stated = {
        "registrant_id": who["id_number"],
        "registrant_name": who["full_name"],
        "registrant_dob": who["date_of_birth"],
    }
    return person(domain, **(stated | kw))


PAVN = [
    _as(AN, "an.vn"),
    _as(AN, "khong-co-ai.vn", registrant_id="001090777777"),
    _as(AN, "sai-ten.vn", registrant_name="Nguyễn Văn Ăn"),
    _as(AN, "sai-ngay.vn", registrant_dob="1990-05-13"),
    _as(ELDER, "cu-duc.vn"),
    _as(HUY, "be-huy.vn"),
    _as(AN, "het-han.vn", expires="2026-01-01"),
    _as(AN, "da-xoa.vn", status="deleted"),
    company("phở-ngon.vn"),
    company("chua-dang-ky.com.vn", UNLISTED_ORG),
    company("giai-the.vn", ORG2),
]
# Bình holds 11 unrelated names (flagged); Châu 11 names but only 10 labels (not flagged).
MATBAO = [_as(BINH, f"binh{i}.vn") for i in range(11)] + [
    *(_as(CHAU, f"chau{i}.vn") for i in range(10)),
    _as(CHAU, "chau0.com.vn"),
]


def seed(c: Container, tmp_path: Path) -> None:
    with c.unit_of_work() as s:
        c.registry.upsert(s, [check_citizen(r, NOW.date()) for r in GOOD], CTX, NOW)  # type: ignore[misc]
        c.internet.add_registrar(s, "PAVN", "P.A Việt Nam", NOW)
        c.internet.add_registrar(s, "MATBAO", "Mắt Bão", NOW)
    orgs = [org(), org(ORG2, status="dissolved", dissolved="2025-12-31")]
    ok = import_organisations(
        write(tmp_path / "orgs.csv", orgs), internet=c.internet, ring=c.ring, ctx=CTX, run=run_of(c)
    )
    assert ok.rejected == []
    upload(c, tmp_path, "PAVN", PAVN)
    upload(c, tmp_path, "MATBAO", MATBAO)
    blocks = [
        block("10.0.0.0/8"),
        block("172.16.0.0/12", UNLISTED_ORG),
        block("192.168.0.0/16", ORG2),
        block("100.64.0.0/10", UNLISTED_ORG, status="returned"),
    ]
    report = import_ip_blocks(
        write(tmp_path / "ips.csv", blocks), internet=c.internet, run=run_of(c)
    )
    assert report.rejected == []


def upload(c: Container, tmp_path: Path, registrar: str, rows: list[dict[str, str]]) -> None:
    path = write(tmp_path / f"{registrar}-{len(rows)}.csv", rows)
    report = import_domains(
        path, registrar=registrar, internet=c.internet, ring=c.ring, ctx=CTX, run=run_of(c)
    )
    assert report.rejected == [], report.rejected


def run(c: Container, out: Path) -> Outcome:
    return reconcile_store(
        engine=c.engine,
        unit_of_work=c.unit_of_work,
        internet=c.internet,
        rules=c.internet_rules,
        actor="test",
        clock=lambda: NOW,
        as_of=NOW.date(),
        out_dir=out,
    )


def verdicts(path: Path) -> dict[str, list[str]]:
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()
    return {key: list(reasons) for key, _, reasons in rows}


def test_every_reason_code(container: Container, tmp_path: Path) -> None:
    seed(container, tmp_path)
    out = tmp_path / "out"
    outcome = run(container, out)
    assert verdicts(out / "PAVN.parquet") == {
        "an.vn": [],
        "khong-co-ai.vn": ["REGISTRANT_NOT_FOUND"],
        "sai-ten.vn": ["REGISTRANT_MISMATCH"],
        "sai-ngay.vn": ["REGISTRANT_MISMATCH"],
        "cu-duc.vn": ["REGISTRANT_DECEASED"],
        "be-huy.vn": ["REGISTRANT_MINOR"],
        "het-han.vn": ["EXPIRED_ACTIVE"],
        "xn--ph-ngon-h14c.vn": [],
        "chua-dang-ky.com.vn": ["ORG_NOT_FOUND"],
        "giai-the.vn": ["ORG_DISSOLVED"],
    }
    matbao = verdicts(out / "MATBAO.parquet")
    assert {k for k, v in matbao.items() if v} == {f"binh{i}.vn" for i in range(11)}
    assert set(map(tuple, matbao.values())) == {("SHARED_REGISTRANT",), ()}
    assert verdicts(out / "ipblocks.parquet") == {
        "10.0.0.0/8": [],
        "172.16.0.0/12": ["HOLDER_NOT_FOUND"],
        "192.168.0.0/16": ["ORG_DISSOLVED"],
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["domains"]["per_verdict"] == {"ok": 13, "flagged": 19}
    assert summary["domains"]["per_reason"]["SHARED_REGISTRANT"] == 11
    assert summary["per_registrar"]["PAVN"]["per_verdict"] == {"ok": 2, "flagged": 8}
    assert summary["ipblocks"]["per_reason"]["HOLDER_NOT_FOUND"] == 1
    assert "<svg" in (out / "report.html").read_text()
    assert outcome.flags_opened == 19


def test_parquet_schemas(container: Container, tmp_path: Path) -> None:
    seed(container, tmp_path)
    out = tmp_path / "out"
    run(container, out)
    reasons = pa.list_(pa.string())
    for name, key in (("PAVN", "domain"), ("MATBAO", "domain"), ("ipblocks", "cidr")):
        schema = pq.read_schema(out / f"{name}.parquet")
        assert [
            (f.name, f.type.equals(t))
            for f, t in zip(schema, (pa.string(), pa.string(), reasons), strict=True)
        ] == [
            (key, True),
            ("verdict", True),
            ("reasons", True),
        ]
    assert sorted(p.name for p in out.iterdir()) == [
        "MATBAO.parquet",
        "PAVN.parquet",
        "ipblocks.parquet",
        "report.html",
        "summary.json",
    ]


def test_a_rerun_changes_nothing(container: Container, tmp_path: Path) -> None:
    seed(container, tmp_path)
    first = run(container, tmp_path / "one")
    with container.unit_of_work() as s:
        sent = len(container.internet.pending_actions(s, "PAVN"))
    second = run(container, tmp_path / "two")
    for name in ("PAVN.parquet", "MATBAO.parquet", "ipblocks.parquet"):
        assert pq.read_table(tmp_path / "one" / name) == pq.read_table(tmp_path / "two" / name)
    one, two = first.summary.to_json(), second.summary.to_json()
    for s in (one, two):
        del s["seconds"], s["phases"]
    assert one == two
    assert (second.flags_opened, second.flags_cleared) == (0, 0)
    with container.unit_of_work() as s:
        assert len(container.internet.pending_actions(s, "PAVN")) == sent == 8


def test_a_disowned_name_is_flagged_and_sent_to_its_registrar(
    container: Container, tmp_path: Path
) -> None:
    seed(container, tmp_path)
    c = container
    an = indexes.id_index(c.ring, AN["id_number"])
    with c.unit_of_work() as s:
        subject = c.registry.subject_by_index(s, an)
        assert subject is not None
        mine = [d.domain.ascii_name for d in c.internet.my_domains(s, subject.subject_id, an)]
        assert "an.vn" in mine
        assert "da-xoa.vn" not in mine
        c.internet.disown(s, subject.subject_id, an, "AN.vn", CTX, NOW)
        assert [
            (a.ascii_name, a.action, a.reasons) for a in c.internet.pending_actions(s, "PAVN")
        ] == [("an.vn", "disowned", "REGISTRANT_DISOWNED")]
        assert c.internet.pending_actions(s, "MATBAO") == []
    out = tmp_path / "out"
    run(c, out)
    assert verdicts(out / "PAVN.parquet")["an.vn"] == ["REGISTRANT_DISOWNED"]
    with c.unit_of_work() as s:
        names = [a.ascii_name for a in c.internet.pending_actions(s, "PAVN")]
        assert names.count("an.vn") == 1  # the run found what the registrar was already told
    # The registrar hands the name to someone else: the disowning no longer applies.
    upload(c, tmp_path, "PAVN", [company("an.vn")])
    run(c, tmp_path / "again")
    assert verdicts(tmp_path / "again" / "PAVN.parquet")["an.vn"] == []
    with c.unit_of_work() as s:
        last = c.internet.pending_actions(s, "PAVN")[-1]
        assert (last.ascii_name, last.action) == ("an.vn", "cleared")
