"""Hand-made rows of the internet feeds, and files of them (CSV, JSONL, Parquet)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dinhdanh.internet.importer import Run
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER

Row = dict[str, str]
TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CTX = AccessContext("test:importer", "operator", "internet import")
ORG = "0100233488"  # valid tax codes (stdnum's own examples and computed ones)
ORG2 = "0101234565"
BRANCH = "0314409058-002"


def org(tax_code: str = ORG, **kw: str) -> Row:
    return {
        "tax_code": tax_code,
        "name": "Công ty TNHH Phở Ngon",
        "address": "1 Hàng Bông, Hà Nội",
        "status": "active",
        "established": "2001-01-01",
        "dissolved": "",
        "legal_rep_id_number": ID_NUMBER,
    } | kw


def person(domain: str, **kw: str) -> Row:
    return {
        "domain": domain,
        "registrant_type": "person",
        "registrant_id": ID_NUMBER,
        "registrant_name": FULL_NAME,
        "registrant_dob": BIRTH_DATE.isoformat(),
        "created": "2020-01-01",
        "expires": "2027-01-01",
        "nameservers": "ns1.example.vn ns2.example.vn",
        "status": "active",
    } | kw


def company(domain: str, tax_code: str = ORG, **kw: str) -> Row:
    return (
        person(
            domain,
            registrant_type="organisation",
            registrant_id=tax_code,
            registrant_name="Công ty TNHH Phở Ngon",
            registrant_dob="",
        )
        | kw
    )


def block(cidr: str, holder: str = ORG, **kw: str) -> Row:
    return {
        "cidr": cidr,
        "holder_tax_code": holder,
        "asn": "",
        "allocated": "",
        "status": "allocated",
    } | kw


def asn(number: str, holder: str = ORG, **kw: str) -> Row:
    return {
        "asn": number,
        "holder_tax_code": holder,
        "name": "PHO-NGON-AS",
        "allocated": "",
        "status": "allocated",
    } | kw


def write(path: Path, rows: Sequence[Row]) -> Path:
    """CSV, JSONL or Parquet by the suffix."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    elif path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(list(rows)), path)
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return path


def run_of(c: Container, **kw: object) -> Run:
    options: dict[str, object] = {
        "unit_of_work": c.unit_of_work,
        "clock": lambda: NOW,
        "today": TODAY,
    }
    return Run(**(options | kw))  # type: ignore[arg-type]


def codes(report: object) -> dict[int, list[str]]:
    """{line: [reason codes]} of a batch report."""
    return {r.line: [x.code for x in r.reasons] for r in report.rejected}  # type: ignore[attr-defined]
