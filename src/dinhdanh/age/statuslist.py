"""Token Status List (IETF draft-ietf-oauth-status-list): the revocation bits of age credentials.

Implemented (section numbers of the draft):
- 4.1, the list: one status of ``bits`` = 1 per credential (0 valid, 1 revoked), index ``i``
  at bit ``i % 8`` (least significant first) of byte ``i // 8``; ``lst`` is the byte string
  compressed with ZLIB (RFC 1950, DEFLATE) and base64url-encoded.
- 5.1, the Status List Token as a JWT: header ``typ`` ``statuslist+jwt``; claims ``sub`` (the
  list's URI, equal to the ``uri`` in the credentials), ``iat``, ``exp``, ``ttl`` (seconds a
  verifier may cache it) and ``status_list`` ``{bits, lst}``; served as
  ``application/statuslist+jwt`` at ``GET /status-lists/{id}``.
- 6.1, the credential's ``status`` claim ``{"status_list": {"idx": i, "uri": u}}``.
- 8 and 13.7, the verifier's side (``StatusListCache``): fetched through a callable (no HTTP
  here), signature and ``typ`` checked, ``sub`` = ``uri``, ``exp``, and cached for ``ttl``.

Privacy (draft section 12): lists hold ``DINHDANH_AGE_STATUS_LIST_SIZE`` entries (131,072
by default, at least 100,000), and every index is drawn at random among a list's free ones,
never in order, so neither an index nor two indexes compared tell who or when. A list is
filled to the last index; then a new list opens. Revoking flips one bit; nothing else
changes in what is published.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from dinhdanh.age.credentials.errors import StatusListNotFound, StatusUnavailable
from dinhdanh.age.credentials.models import StatusListRow
from dinhdanh.crypto.compact import VerifyingKey, b64url, decode, unb64url
from dinhdanh.crypto.jose import JoseError, SigningKey, sign_jwt

__all__ = [
    "INVALID",
    "MEDIA_TYPE",
    "TYP",
    "VALID",
    "StatusListCache",
    "StatusLists",
    "StatusSource",
    "compress",
    "decompress",
    "draw",
    "read_token",
    "set_bit",
    "status_at",
]

# What ``verify_presentation`` asks: the status of entry ``idx`` of list ``uri`` at ``now``.
StatusSource = Callable[[str, int, datetime], int]
TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
VALID, INVALID = 0, 1
TOKEN_LIFETIME = 86_400  # seconds from iat to exp; ``ttl`` says when to fetch again sooner
_RANDOM_TRIES = 128  # then pick among the free indexes directly (a list nearly full)
_MAX_LIST_BYTES = 16 << 20  # a decompressed list larger than this is refused (zip bombs)
LISTS: Table = cast(Table, StatusListRow.__table__)
# Built once: issuance runs these twice per batch.
_OPEN_LIST = (
    select(LISTS.c.id, LISTS.c.size, LISTS.c.allocated, LISTS.c.taken)
    .where(LISTS.c.allocated < LISTS.c.size)
    .order_by(LISTS.c.id)
    .limit(1)
    .with_for_update()
)
_TAKE = (
    update(LISTS)
    .where(LISTS.c.id == bindparam("list_id"))
    .values(allocated=bindparam("allocated"), taken=bindparam("taken"))
)


# -- the bit string (pure) -------------------------------------------------------------------


def status_at(lst: bytes, idx: int, bits: int = 1) -> int:
    """The status of entry ``idx`` in a decompressed list of ``bits``-bit statuses."""
    per_byte = 8 // bits
    byte = idx // per_byte
    if idx < 0 or byte >= len(lst):
        raise IndexError(f"status index {idx} is outside the list")
    return (lst[byte] >> (idx % per_byte * bits)) & ((1 << bits) - 1)


def set_bit(buf: bytearray, idx: int) -> bool:
    """Set bit ``idx``; whether it was clear before."""
    byte, mask = idx >> 3, 1 << (idx & 7)
    was_clear = not buf[byte] & mask
    buf[byte] |= mask
    return was_clear


def compress(lst: bytes) -> str:
    """``lst`` of the draft: ZLIB (DEFLATE), then base64url."""
    return b64url(zlib.compress(lst, 9))


def decompress(lst: str, limit: int = _MAX_LIST_BYTES) -> bytes:
    """Reverse ``compress``; a stream that would grow past ``limit`` bytes is refused."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(unb64url(lst), limit)
    except (JoseError, zlib.error):
        raise ValueError("lst is not base64url ZLIB data") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("lst is truncated or larger than allowed")
    return out


def draw(taken: bytearray, size: int, allocated: int) -> int:
    """A uniformly random index not yet taken; marks it taken. ``allocated`` = bits set."""
    if allocated >= size:
        raise ValueError("the list is full")
    for _ in range(_RANDOM_TRIES):
        idx = secrets.randbelow(size)
        if set_bit(taken, idx):
            return idx
    # Nearly full: the r-th free index, r uniform, is as random and never loops.
    r = secrets.randbelow(size - allocated)
    for byte, value in enumerate(taken):
        free = 8 - value.bit_count()
        if r < free:
            for bit in range(8):
                if not value >> bit & 1:
                    if r == 0:
                        set_bit(taken, byte * 8 + bit)
                        return byte * 8 + bit
                    r -= 1
        r -= free
    raise ValueError("the taken bitmap disagrees with its count")  # pragma: no cover


# -- the lists in the database ---------------------------------------------------------------


class StatusLists:
    """Status lists stored one row each; allocation, revocation and the signed token."""

    def __init__(self, issuer: str, signer: SigningKey, size: int, ttl: int) -> None:
        if size % 8:
            raise ValueError("a status list size must be a multiple of 8")
        self.issuer = issuer
        self.prefix = f"{issuer}/status-lists/"
        self._signer = signer
        self.size = size
        self.ttl = ttl

    def uri(self, list_id: int) -> str:
        return f"{self.prefix}{list_id}"

    def list_id(self, uri: str) -> int | None:
        """The id of one of our lists from its URI; None for anything else."""
        tail = uri.removeprefix(self.prefix)
        if tail == uri or not tail.isascii() or not tail.isdigit() or len(tail) > 9:
            return None
        return int(tail)

    def allocate(self, session: Session, n: int, now: datetime) -> list[tuple[int, int]]:
        """``n`` fresh (list id, index) pairs, each index random among the list's free ones."""
        out: list[tuple[int, int]] = []
        while len(out) < n:
            row = session.execute(_OPEN_LIST).first()
            if row is None:
                self._open_list(session, now)
                continue
            list_id, size, allocated, taken = row[0], row[1], row[2], bytearray(row[3])
            while len(out) < n and allocated < size:
                out.append((list_id, draw(taken, size, allocated)))
                allocated += 1
            session.execute(_TAKE, {"list_id": list_id, "allocated": allocated, "taken": taken})
        return out

    def _open_list(self, session: Session, now: datetime) -> int:
        empty = bytes(self.size // 8)
        stmt = insert(LISTS).values(
            size=self.size, allocated=0, bits=empty, taken=empty, created_at=now, updated_at=now
        )
        return int(session.execute(stmt.returning(LISTS.c.id)).scalar_one())

    def revoke(self, session: Session, entries: Iterable[tuple[int, int]], now: datetime) -> int:
        """Set the bits of ``entries`` (list id, index); how many were not set already."""
        by_list: dict[int, list[int]] = {}
        for list_id, idx in entries:
            by_list.setdefault(list_id, []).append(idx)
        flipped = 0
        for list_id in sorted(by_list):  # one order for every writer: no deadlock
            row = session.execute(
                select(LISTS.c.size, LISTS.c.bits).where(LISTS.c.id == list_id).with_for_update()
            ).first()
            if row is None:
                raise StatusListNotFound(f"no status list {list_id}")
            size, bits = row[0], bytearray(row[1])
            changed = 0
            for idx in by_list[list_id]:
                if not 0 <= idx < size:
                    raise ValueError(f"index {idx} is outside status list {list_id}")
                changed += set_bit(bits, idx)
            if changed:
                session.execute(
                    update(LISTS)
                    .where(LISTS.c.id == list_id)
                    .values(bits=bytes(bits), updated_at=now)
                )
            flipped += changed
        return flipped

    def status(self, session: Session, list_id: int, idx: int) -> int:
        bits = session.scalar(select(LISTS.c.bits).where(LISTS.c.id == list_id))
        if bits is None:
            raise StatusListNotFound(f"no status list {list_id}")
        return status_at(bits, idx)

    def token(self, session: Session, list_id: int, now: datetime) -> str:
        """The signed Status List Token of list ``list_id`` as it is now."""
        bits = session.scalar(select(LISTS.c.bits).where(LISTS.c.id == list_id))
        if bits is None:
            raise StatusListNotFound(f"no status list {list_id}")
        iat = int(now.timestamp())
        claims = {
            "iss": self.issuer,
            "sub": self.uri(list_id),
            "iat": iat,
            "exp": iat + TOKEN_LIFETIME,
            "ttl": self.ttl,
            "status_list": {"bits": 1, "lst": compress(bits)},
        }
        return sign_jwt(claims, self._signer, typ=TYP)

    def token_for_uri(self, session: Session, uri: str, now: datetime) -> str:
        list_id = self.list_id(uri)
        if list_id is None:
            raise StatusListNotFound("not a status list of this issuer")
        return self.token(session, list_id, now)


# -- the verifier's side ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cached:
    bits: int
    lst: bytes
    refresh_at: float  # epoch seconds


def read_token(
    token: str, uri: str, keys: Mapping[str, VerifyingKey], now: datetime
) -> tuple[int, bytes, int]:
    """Check a Status List Token for ``uri`` and return (bits, decompressed list, ttl or 0).

    Raises ``StatusUnavailable`` when the signature, ``typ``, ``sub``, ``iat`` or ``exp`` fail.
    """
    try:
        jws = decode(token)
        key = keys.get(jws.header.get("kid", ""))
        if key is None or not jws.verified_by(key):
            raise StatusUnavailable("the status list token is not signed by the issuer")
        if jws.header.get("typ") != TYP:
            raise StatusUnavailable("the status list token is not typed statuslist+jwt")
        claims = jws.claims()
    except JoseError as exc:
        raise StatusUnavailable(f"the status list token is malformed: {exc}") from None
    t = int(now.timestamp())
    iat, exp, ttl = claims.get("iat"), claims.get("exp"), claims.get("ttl", 0)
    if claims.get("sub") != uri:
        raise StatusUnavailable("the status list token is for another list")
    if not isinstance(iat, int) or iat > t + 60:
        raise StatusUnavailable("the status list token has no valid iat")
    if exp is not None and (not isinstance(exp, int) or exp <= t):
        raise StatusUnavailable("the status list token has expired")
    if not isinstance(ttl, int) or ttl < 0:
        raise StatusUnavailable("the status list token's ttl is not a positive number")
    body = claims.get("status_list")
    if not isinstance(body, dict) or body.get("bits") not in (1, 2, 4, 8):
        raise StatusUnavailable("the status list token has no valid status_list")
    lst = body.get("lst")
    try:
        data = decompress(lst) if isinstance(lst, str) else None
    except ValueError:
        data = None
    if data is None:
        raise StatusUnavailable("the status list is not valid compressed data")
    return body["bits"], data, ttl


class StatusListCache:
    """``status(uri, idx, now)`` for ``verify_presentation``: status list tokens come from
    ``fetch(uri)`` (an HTTP client, or our own database), are checked with the issuer's
    ``keys`` and kept for their ``ttl``, at most ``max_age`` seconds."""

    def __init__(
        self,
        fetch: Callable[[str], str],
        keys: Mapping[str, VerifyingKey],
        max_age: int = 300,
    ) -> None:
        self._fetch = fetch
        self._keys = keys
        self._max_age = max_age
        self._lists: dict[str, _Cached] = {}

    def __call__(self, uri: str, idx: int, now: datetime) -> int:
        t = now.timestamp()
        cached = self._lists.get(uri)
        if cached is None or t >= cached.refresh_at:
            cached = self._load(uri, now)
        try:
            return status_at(cached.lst, idx, cached.bits)
        except IndexError:
            raise StatusUnavailable(f"index {idx} is outside the status list") from None

    def _load(self, uri: str, now: datetime) -> _Cached:
        try:
            token = self._fetch(uri)
        except StatusUnavailable:
            raise
        except Exception as exc:  # the fetcher's own failure (network, not found)
            raise StatusUnavailable(f"the status list could not be fetched: {exc}") from None
        bits, lst, ttl = read_token(token, uri, self._keys, now)
        keep = min(ttl, self._max_age) if ttl else self._max_age
        cached = _Cached(bits, lst, now.timestamp() + keep)
        self._lists[uri] = cached
        return cached

    def forget(self) -> None:
        """Drop every cached list (the next status read fetches again)."""
        self._lists.clear()
