"""Migration 0013 on every database: API keys made before it are owned by their name."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from dinhdanh.settings import Settings
from dinhdanh.store import make_engine, upgrade


def test_existing_keys_get_their_name_as_owner(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine, "0011_upload_rejects")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_keys (id, name, role, scope, secret_sha256, created_at)"
                    " VALUES ('k1', 'Bộ phận vận hành', 'admin', NULL, :h, :t)"
                ),
                {"h": b"\0" * 32, "t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        upgrade(engine, "0013_staff_grants")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT owner, staff_grant_id FROM api_keys")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("Bộ phận vận hành", None)
