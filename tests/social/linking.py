"""The check that two platforms' bindings of one person share no value a database thief could
join them on (docs/architecture.md, "What a binding stores"): login and phone bindings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dinhdanh.social import models as m
from dinhdanh.wiring import Container

# Status facts in clear, the same for everyone bound the same way on the same day.
SHARED_BY_DESIGN = {
    "method",
    "acr",
    "age_over_13",
    "age_over_16",
    "age_over_18",
    "owner_deceased",
    "checked_at",
    "number_junk",
    "guardian_state",
    "accounts",  # how many accounts the person bound there: a small count, most often 1
}
LINKING = {
    "id",
    "platform",
    "account_key",
    "pairwise_sub",
    "subject_sealed",
    "number_key",
    "guardian_link",
}


def binding_rows(c: Container) -> list[dict[str, Any]]:
    with c.unit_of_work() as s:
        return [r._asdict() for r in s.execute(select(m.Binding.__table__)).all()]


def assert_unlinkable(rows: list[dict[str, Any]], *secrets: str) -> None:
    """Two rows, the column list exactly the documented one, no linking value of one row
    anywhere in the other, and none of ``secrets`` (subject id, number) in clear."""
    assert len(rows) == 2
    assert set(rows[0]) == SHARED_BY_DESIGN | LINKING
    for column in LINKING:
        if column == "number_key" and rows[0]["method"] == rows[1]["method"] == "login":
            assert rows[0][column] is rows[1][column] is None  # bound without a number
            continue
        if column == "guardian_link" and rows[1][column] is None:
            continue  # no approval on that row (None is no value to join on)
        assert rows[1][column] not in rows[0].values(), column
    for row in rows:
        for value in row.values():
            text = value.hex() if isinstance(value, bytes) else str(value)
            for secret in secrets:
                assert secret not in text
                assert secret.encode().hex() not in text
