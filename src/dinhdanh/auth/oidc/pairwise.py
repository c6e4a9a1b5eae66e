"""Pairwise subject identifiers, OpenID Connect Core 1.0 section 8.1.

``sub = base64url(HMAC-SHA-256(K, sector_identifier || 0x00 || subject_id))``, where K is
derived from the key ring for this use only (``crypto.derive.pairwise_key``). The same citizen
gets the same ``sub`` at every client of one sector and unrelated ones across sectors; without
K nobody can link two of them, nor recompute one from a subject id. Public subjects are not
offered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def pairwise_sub(key: bytes, sector_identifier: str, subject_id: str) -> str:
    if "\x00" in sector_identifier:
        raise ValueError("sector identifier must not contain NUL")
    mac = hmac.digest(key, f"{sector_identifier}\x00{subject_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
