"""Opaque secrets handed to browsers and clients, and the digests stored in their place.

Each is 256 random bits, base64url; the database keeps SHA-256 only. A fast hash is right for
random values of this size (no dictionary to attack), and it keeps every request cheap.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime

RandomBytes = Callable[[int], bytes]


def new_token(random: RandomBytes = os.urandom, nbytes: int = 32) -> str:
    return base64.urlsafe_b64encode(random(nbytes)).rstrip(b"=").decode("ascii")


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_id(random: RandomBytes = os.urandom) -> str:
    """A random UUID (version 4) for row ids."""
    b = bytearray(random(16))
    b[6] = 0x40 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
