"""Migration 0030 gives every binding its person's count of bound accounts at that platform,
counted from the rows already there."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from dinhdanh.store.migrate import downgrade, upgrade

COLUMNS = (
    "id",
    "platform",
    "account_key",
    "pairwise_sub",
    "subject_sealed",
    "method",
    "acr",
    "owner_deceased",
    "checked_at",
)
BINDINGS = sa.table("platform_bindings", *(sa.column(c) for c in (*COLUMNS, "accounts")))
PLATFORMS = sa.table(
    "platforms", *(sa.column(c) for c in ("code", "name", "client_id", "created_at"))
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _binding(n: int, platform: str, sub: str) -> dict[str, object]:
    return {
        "id": f"b-{n}",
        "platform": platform,
        "account_key": bytes([n]) * 32,
        "pairwise_sub": sub,
        "subject_sealed": b"sealed",
        "method": "login",
        "acr": "1",
        "owner_deceased": False,
        "checked_at": NOW,
    }


def test_counts_are_filled_from_the_rows(engine: Engine) -> None:
    upgrade(engine, "0029_subscriptions_msisdn_index")
    plats = [{"code": c, "name": c, "client_id": c, "created_at": NOW} for c in ("zalo", "fb")]
    # One person (sub "p") with three accounts at zalo; "q" with one; at fb the same
    # subject string "p" counts separately (another platform's sector).
    rows = [
        _binding(1, "zalo", "p"),
        _binding(2, "zalo", "p"),
        _binding(3, "zalo", "p"),
        _binding(4, "zalo", "q"),
        _binding(5, "fb", "p"),
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(PLATFORMS), plats)
        conn.execute(
            sa.insert(sa.table("platform_bindings", *(sa.column(c) for c in COLUMNS))), rows
        )
    upgrade(engine, "0030_binding_accounts")
    with engine.connect() as conn:
        q = sa.select(BINDINGS.c.id, BINDINGS.c.accounts).order_by(BINDINGS.c.id)
        assert conn.execute(q).all() == [("b-1", 3), ("b-2", 3), ("b-3", 3), ("b-4", 1), ("b-5", 1)]
    downgrade(engine, "0029_subscriptions_msisdn_index")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(BINDINGS)).scalar() == 5
