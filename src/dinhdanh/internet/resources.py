"""The number registry's feeds: IP blocks (``cidr, holder_tax_code, asn, allocated, status``)
and AS numbers (``asn, holder_tax_code, name, allocated, status``). Public data, in clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from dinhdanh.internet.checks import day, digest, one_of, text
from dinhdanh.internet.ipindex import CidrError, Network, bounds, parse_cidr
from dinhdanh.internet.taxcode import TaxCodeError, parse_tax_code
from dinhdanh.store.feeds import Reason, Row

IP_COLUMNS = ("cidr", "holder_tax_code", "asn", "allocated", "status")
ASN_COLUMNS = ("asn", "holder_tax_code", "name", "allocated", "status")
IP_STATUSES = ("allocated", "assigned", "reserved", "returned")
ASN_STATUSES = ("allocated", "reserved", "returned")
MAX_ASN = 2**32 - 1
# IANA's special-purpose AS numbers: never allocated to a holder.
SPECIAL_ASNS = (
    (0, 0),  # RFC 7607
    (23456, 23456),  # AS_TRANS, RFC 6793
    (64496, 64511),  # documentation, RFC 5398
    (64512, 65534),  # private use, RFC 6996
    (65535, 65535),  # last 16-bit, RFC 7300
    (65536, 65551),  # documentation, RFC 5398
    (4_200_000_000, 4_294_967_294),  # private use, RFC 6996
    (4_294_967_295, 4_294_967_295),  # last 32-bit, RFC 7300
)


class AsnError(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


def parse_asn(raw: str | None) -> int:
    """``64500`` or ``AS64500``. Raises AsnError: asn_invalid, asn_reserved."""
    value = (raw or "").strip()
    digits = value[2:] if value[:2].upper() == "AS" else value
    if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
        raise AsnError(Reason("asn_invalid", f"{value[:32]!r} is not an AS number"))
    asn = int(digits)
    if asn > MAX_ASN:
        raise AsnError(Reason("asn_invalid", f"{asn} is over {MAX_ASN}"))
    if any(lo <= asn <= hi for lo, hi in SPECIAL_ASNS):
        raise AsnError(Reason("asn_reserved", f"AS{asn} is a special-purpose number"))
    return asn


def _holder(row: Row) -> str | Reason:
    try:
        return parse_tax_code(row.get("holder_tax_code"))
    except TaxCodeError as exc:
        return exc.reason


@dataclass(frozen=True, slots=True)
class IpBlockRecord:
    network: Network
    holder_tax_code: str
    asn: int | None
    allocated: date | None
    status: str

    def canonical(self) -> str:
        allocated = self.allocated.isoformat() if self.allocated else ""
        asn = "" if self.asn is None else str(self.asn)
        return "\x1f".join((str(self.network), self.holder_tax_code, asn, allocated, self.status))


class PreparedIpBlock(NamedTuple):
    cidr: str
    family: int
    range_start: bytes
    range_end: bytes
    prefixlen: int
    holder_tax_code: str
    asn: int | None
    allocated: date | None
    status: str
    digest: bytes


def check_ip_block(row: Row, today: date) -> IpBlockRecord | list[Reason]:
    reasons: list[Reason] = []
    network = None
    try:
        network = parse_cidr(row.get("cidr"))
    except CidrError as exc:
        reasons.append(exc.reason)
    holder = _holder(row)
    asn: int | Reason | None = None
    if (row.get("asn") or "").strip():
        try:
            asn = parse_asn(row.get("asn"))
        except AsnError as exc:
            asn = exc.reason
    allocated = day(row.get("allocated"), "allocated", today, required=False)
    status = one_of(row.get("status"), IP_STATUSES)
    reasons += [v for v in (holder, asn, allocated, status) if isinstance(v, Reason)]
    if reasons or network is None or not isinstance(holder, str) or not isinstance(status, str):
        return reasons
    return IpBlockRecord(
        network,
        holder,
        asn if isinstance(asn, int) else None,
        allocated if isinstance(allocated, date) else None,
        status,
    )


@dataclass
class IpBlockFeed:
    columns: tuple[str, ...] = IP_COLUMNS
    label: str = "cidr"

    def check(self, row: Row, today: date) -> IpBlockRecord | list[Reason]:
        return check_ip_block(row, today)

    def key(self, record: IpBlockRecord) -> str:
        return str(record.network)

    def fingerprint(self, prepared: PreparedIpBlock) -> bytes:
        return prepared.digest

    def prepare(self, records: list[IpBlockRecord]) -> list[PreparedIpBlock]:
        out = []
        for r in records:
            b = bounds(r.network)
            out.append(
                PreparedIpBlock(
                    str(r.network),
                    b.family,
                    b.start,
                    b.end,
                    b.prefixlen,
                    r.holder_tax_code,
                    r.asn,
                    r.allocated,
                    r.status,
                    digest(r.canonical()),
                )
            )
        return out


@dataclass(frozen=True, slots=True)
class AsnRecord:
    asn: int
    holder_tax_code: str
    name: str
    allocated: date | None
    status: str

    def canonical(self) -> str:
        allocated = self.allocated.isoformat() if self.allocated else ""
        return "\x1f".join((str(self.asn), self.holder_tax_code, self.name, allocated, self.status))


class PreparedAsn(NamedTuple):
    asn: int
    holder_tax_code: str
    name: str
    allocated: date | None
    status: str
    digest: bytes


def check_asn(row: Row, today: date) -> AsnRecord | list[Reason]:
    asn: int | Reason
    try:
        asn = parse_asn(row.get("asn"))
    except AsnError as exc:
        asn = exc.reason
    holder = _holder(row)
    name = text(row.get("name"), "name", 200, required=True)
    allocated = day(row.get("allocated"), "allocated", today, required=False)
    status = one_of(row.get("status"), ASN_STATUSES)
    reasons = [v for v in (asn, holder, name, allocated, status) if isinstance(v, Reason)]
    if (
        reasons
        or not isinstance(asn, int)
        or not isinstance(holder, str)
        or not isinstance(name, str)
        or not isinstance(status, str)
    ):
        return reasons
    return AsnRecord(asn, holder, name, allocated if isinstance(allocated, date) else None, status)


@dataclass
class AsnFeed:
    columns: tuple[str, ...] = ASN_COLUMNS
    label: str = "asn"

    def check(self, row: Row, today: date) -> AsnRecord | list[Reason]:
        return check_asn(row, today)

    def key(self, record: AsnRecord) -> str:
        return str(record.asn)  # a string: the rejects file shows it as written

    def fingerprint(self, prepared: PreparedAsn) -> bytes:
        return prepared.digest

    def prepare(self, records: list[AsnRecord]) -> list[PreparedAsn]:
        return [
            PreparedAsn(
                r.asn, r.holder_tax_code, r.name, r.allocated, r.status, digest(r.canonical())
            )
            for r in records
        ]
