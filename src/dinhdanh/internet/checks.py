"""Small checks shared by the internet feeds (pure, no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from dinhdanh.identity.rules import normalize_name
from dinhdanh.store.feeds import Reason


def day(raw: str | None, column: str, today: date, *, required: bool) -> date | Reason | None:
    """An ISO 8601 date (a date-time gives its date) not after ``today``."""
    text = (raw or "").strip()
    if not text:
        return Reason("invalid_date", f"{column} is missing") if required else None
    try:
        value = datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        return Reason("invalid_date", f"{column} {text!r} is not an ISO 8601 date")
    if value > today:
        return Reason("date_in_future", f"{column} {value} is after {today}")
    return value


def one_of(raw: str | None, allowed: Sequence[str]) -> str | Reason:
    value = (raw or "").strip().lower()
    if value in allowed:
        return value
    return Reason("invalid_status", f"status must be one of {', '.join(allowed)}")


def text(raw: str | None, column: str, limit: int, *, required: bool) -> str | Reason | None:
    """Unicode NFC with spaces collapsed; empty is None (or name_missing when required)."""
    value = normalize_name(raw or "")
    if not value:
        return Reason(f"{column}_missing", f"{column} is empty") if required else None
    if len(value) > limit:
        return Reason(f"{column}_too_long", f"{column} is over {limit} characters")
    return value


def digest(canonical: str) -> bytes:
    """Digest of a record of public data only (a keyed one is needed where it is personal)."""
    return hashlib.sha256(canonical.encode()).digest()[:16]
