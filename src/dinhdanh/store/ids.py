"""Row identifiers."""

from __future__ import annotations

import os
from datetime import datetime


def uuid7s(n: int, now: datetime) -> list[str]:
    """n UUIDv7s (RFC 9562 section 5.7): a millisecond timestamp, then 74 random bits.

    Not derived from any personal value, and time-ordered, so a primary-key index grows at its
    right edge instead of at random pages during a million-row import.
    """
    ts = int(now.timestamp() * 1000).to_bytes(6, "big")
    raw = os.urandom(10 * n)
    out = []
    for i in range(0, 10 * n, 10):
        b = bytearray(ts + raw[i : i + 10])
        b[6] = 0x70 | (b[6] & 0x0F)  # version 7
        b[8] = 0x80 | (b[8] & 0x3F)  # variant 10
        h = b.hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out
