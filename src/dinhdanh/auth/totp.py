"""Time-based one-time passwords: RFC 6238 (TOTP) over RFC 4226 (HOTP).

- ``hotp``: RFC 4226 section 5.3, HMAC over the 8-byte big-endian counter, dynamic
  truncation, modulo 10^digits.
- ``totp_at``: RFC 6238 section 4.2, the counter is T = floor((t - T0) / X) with X = 30 s,
  T0 = 0 by default; HMAC-SHA-1 and 6 digits, what every authenticator app supports.
- ``verify_totp``: RFC 6238 section 5.2 (one step of clock drift either way by default)
  and section 5.2's "MUST NOT accept the second attempt of the same OTP": a code is refused
  unless its time step is later than the last step accepted for that secret.
- ``provisioning_uri``: the ``otpauth://totp/`` key URI authenticator apps scan as a QR code.

Time is a parameter (Unix seconds); callers pass the real clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Literal
from urllib.parse import quote, urlencode

__all__ = [
    "DEFAULT_DIGITS",
    "DEFAULT_STEP",
    "SECRET_LEN",
    "Algorithm",
    "hotp",
    "new_secret",
    "provisioning_uri",
    "time_step",
    "totp_at",
    "verify_totp",
]

Algorithm = Literal["SHA1", "SHA256", "SHA512"]

DEFAULT_STEP = 30
DEFAULT_DIGITS = 6
SECRET_LEN = 20  # RFC 4226 section 4 R6: 160 bits, the HMAC-SHA-1 output length

_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def hotp(
    secret: bytes, counter: int, *, digits: int = DEFAULT_DIGITS, algorithm: Algorithm = "SHA1"
) -> str:
    """RFC 4226 HOTP value for ``counter``, zero-padded to ``digits``."""
    if not 6 <= digits <= 10:
        raise ValueError("HOTP digits must be between 6 and 10")
    if not 0 <= counter < 2**64:
        raise ValueError("HOTP counter must fit in 8 unsigned bytes")
    mac = hmac.digest(secret, counter.to_bytes(8, "big"), _DIGESTS[algorithm])
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(binary % 10**digits).zfill(digits)


def time_step(t: int, *, step: int = DEFAULT_STEP, t0: int = 0) -> int:
    """RFC 6238 T: the number of whole ``step``-second periods between ``t0`` and ``t``."""
    if step <= 0:
        raise ValueError("TOTP time step must be positive")
    return (t - t0) // step


def totp_at(
    secret: bytes,
    t: int,
    *,
    step: int = DEFAULT_STEP,
    digits: int = DEFAULT_DIGITS,
    algorithm: Algorithm = "SHA1",
    t0: int = 0,
) -> str:
    """The code an authenticator shows at Unix time ``t``."""
    return hotp(secret, time_step(t, step=step, t0=t0), digits=digits, algorithm=algorithm)


def verify_totp(
    secret: bytes,
    code: str,
    now: int,
    last_used_step: int | None,
    window: int = 1,
    *,
    step: int = DEFAULT_STEP,
    digits: int = DEFAULT_DIGITS,
    algorithm: Algorithm = "SHA1",
) -> int | None:
    """The time step ``code`` matches, or None.

    Accepts the steps ``current - window`` to ``current + window``, but only those later than
    ``last_used_step``: store the returned step as the new ``last_used_step`` so the same
    code, or an older one, can't be replayed. Spaces in ``code`` ("123 456") are ignored.
    """
    if window < 0:
        raise ValueError("TOTP window must not be negative")
    candidate = "".join(code.split())
    if len(candidate) != digits or not (candidate.isascii() and candidate.isdigit()):
        return None
    current = time_step(now, step=step)
    first = max(current - window, 0 if last_used_step is None else last_used_step + 1, 0)
    matched: int | None = None
    # No early exit: every candidate step costs the same, whichever one matches.
    for counter in range(first, current + window + 1):
        expected = hotp(secret, counter, digits=digits, algorithm=algorithm)
        if hmac.compare_digest(expected, candidate) and matched is None:
            matched = counter
    return matched


def new_secret() -> bytes:
    """20 random bytes (160 bits), the length RFC 4226 recommends for HMAC-SHA-1."""
    return os.urandom(SECRET_LEN)


def provisioning_uri(
    secret: bytes,
    account: str,
    issuer: str,
    *,
    digits: int = DEFAULT_DIGITS,
    step: int = DEFAULT_STEP,
    algorithm: Algorithm = "SHA1",
) -> str:
    """``otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&...`` (Key URI format).

    The secret is unpadded RFC 4648 base32; label parts are percent-encoded (a space as %20,
    a colon inside a part as %3A), and the issuer is repeated as a parameter, as apps expect.
    """
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    query = urlencode(
        {
            "secret": base64.b32encode(secret).decode("ascii").rstrip("="),
            "issuer": issuer,
            "algorithm": algorithm,
            "digits": digits,
            "period": step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
