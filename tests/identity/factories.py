"""Hand-made citizen rows for identity tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dinhdanh.identity.importer import COLUMNS
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER

Row = dict[str, str]


def row(
    id_number: str = ID_NUMBER,
    full_name: str = FULL_NAME,
    date_of_birth: str = BIRTH_DATE.isoformat(),
    sex: str = "M",
    guardian_id_number: str = "",
    date_of_death: str = "",
) -> Row:
    return {
        "id_number": id_number,
        "full_name": full_name,
        "date_of_birth": date_of_birth,
        "sex": sex,
        "guardian_id_number": guardian_id_number,
        "date_of_death": date_of_death,
    }


GOOD = [
    row(),
    row("079195000001", "Trần Thị Bình", "1995-02-28", "F"),
    row("048301000123", "Lê Minh Châu", "2001-07-04", "F"),
    row("001212000777", "Phạm Gia Huy", "2012-09-30", "M", guardian_id_number="001090012345"),
    row("038050004321", "Hoàng Văn Đức", "1950-01-15", "M", date_of_death="2020-03-03"),
]


def write_csv(path: Path, rows: list[Row]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        w.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[Row]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            obj = {k: (v or None) for k, v in r.items()}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return path
