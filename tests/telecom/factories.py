"""Hand-made subscriber rows for telecom tests."""

from __future__ import annotations

import csv
from pathlib import Path

from dinhdanh.telecom.feed import COLUMNS
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER

Row = dict[str, str]


def sub(
    msisdn: str,
    id_number: str = ID_NUMBER,
    full_name: str = FULL_NAME,
    date_of_birth: str = BIRTH_DATE.isoformat(),
    activation_date: str = "2025-03-01",
    channel: str = "store",
    agent_id: str = "",
    imei: str = "",
    status: str = "active",
) -> Row:
    return {
        "msisdn": msisdn,
        "id_number": id_number,
        "full_name": full_name,
        "date_of_birth": date_of_birth,
        "activation_date": activation_date,
        "channel": channel,
        "agent_id": agent_id,
        "imei": imei,
        "status": status,
    }


def csv_bytes(rows: list[Row]) -> bytes:
    from io import StringIO

    buf = StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def write_csv(path: Path, rows: list[Row]) -> Path:
    path.write_bytes(csv_bytes(rows))
    return path
