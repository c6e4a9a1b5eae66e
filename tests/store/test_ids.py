from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dinhdanh.store.ids import uuid7s


def test_uuid7_layout_and_order() -> None:
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    first, second = uuid7s(50, t0), uuid7s(50, t0 + timedelta(milliseconds=1))
    parsed = [uuid.UUID(u) for u in first + second]
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert int(first[0].replace("-", "")[:12], 16) == int(t0.timestamp() * 1000)
    assert max(first) < min(second)  # later milliseconds sort after
    assert len(set(first + second)) == 100  # the random bits differ
