"""A registrar's domain upload, row by row: ``domain, registrant_type, registrant_id,
registrant_name, registrant_dob, created, expires, nameservers, status``.

``registrant_type`` is ``person`` (registrant_id an ID number, with name and birth date) or
``organisation`` (registrant_id a tax code, registrant_name its name). A person is kept like
a subscriber (telecom/feed.py): the registry's blind indexes of the ID number, name and birth
date, whether they were under the minor age on the day of registration, and the stated
record sealed to the domain's row; the plaintext goes no further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

from dinhdanh.crypto import KeyRing, keyring_from_json, open_sealed, seal
from dinhdanh.identity import indexes
from dinhdanh.identity.age import is_over
from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.internet.checks import day, one_of, text
from dinhdanh.internet.names import DomainName, DomainNameError, parse_host, parse_registrable
from dinhdanh.internet.taxcode import TaxCodeError, parse_tax_code
from dinhdanh.store.feeds import Reason, Row

COLUMNS = (
    "domain",
    "registrant_type",
    "registrant_id",
    "registrant_name",
    "registrant_dob",
    "created",
    "expires",
    "nameservers",
    "status",
)
STATUSES = ("active", "suspended", "expired", "deleted")
REGISTRANT_TYPES = ("person", "organisation")
MAX_NAMESERVERS = 13
MAX_NAME = 500
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class DomainRecord:
    name: DomainName
    registrant_type: str
    registrant_id: str  # ID number or compact tax code
    registrant_name: str | None
    registrant_dob: date | None  # persons only
    created: date
    expires: date
    nameservers: tuple[str, ...]
    status: str

    def canonical(self) -> str:
        return "\x1f".join(
            (
                self.name.ascii,
                self.registrant_type,
                self.registrant_id,
                self.registrant_name or "",
                self.registrant_dob.isoformat() if self.registrant_dob else "",
                self.created.isoformat(),
                self.expires.isoformat(),
                " ".join(self.nameservers),
                self.status,
            )
        )


class PreparedDomain(NamedTuple):
    ascii_name: str
    unicode_name: str
    suffix: str
    registrant_type: str
    registrant_tax_code: str | None
    registrant_name: str | None  # organisations only
    registrant_id_bidx: bytes | None
    registrant_name_bidx: bytes | None
    registrant_dob_bidx: bytes | None
    registrant_minor: bool | None
    registrant_sealed: bytes | None
    created: date
    expires: date
    nameservers: str
    status: str
    digest: bytes


def registrant_context(ascii_name: str) -> bytes:
    # Binds the sealed registrant to its domain's row.
    return b"internet.registrant:" + ascii_name.encode()


def _nameservers(raw: str | None) -> tuple[str, ...] | Reason:
    found: list[str] = []
    for part in _SEPARATORS.split((raw or "").strip()):
        if not part:
            continue
        try:
            host = parse_host(part)
        except DomainNameError as exc:
            return Reason("nameserver_invalid", f"nameserver {part[:64]!r}: {exc}")
        if host not in found:
            found.append(host)
    if len(found) > MAX_NAMESERVERS:
        return Reason("too_many_nameservers", f"more than {MAX_NAMESERVERS} nameservers")
    return tuple(found)


def _registrant(
    row: Row, today: date, kind: str
) -> tuple[str, str | None, date | None] | list[Reason]:
    """(registrant id, name, birth date) as stored, or the reasons."""
    reasons: list[Reason] = []
    raw_id = row.get("registrant_id") or ""
    if kind == "organisation":
        try:
            tax_code = parse_tax_code(raw_id)
        except TaxCodeError as exc:
            return [exc.reason]
        name = text(row.get("registrant_name"), "registrant_name", MAX_NAME, required=False)
        if isinstance(name, Reason):
            return [name]
        return tax_code, name, None
    id_number = None
    try:
        id_number = parse_id(raw_id).value
    except IdNumberError as exc:
        reasons.append(Reason(exc.code, str(exc)))
    person = text(row.get("registrant_name"), "registrant_name", MAX_NAME, required=True)
    if isinstance(person, Reason):
        reasons.append(person)
    dob = day(row.get("registrant_dob"), "registrant_dob", today, required=True)
    if isinstance(dob, Reason):
        reasons.append(dob)
    if reasons or id_number is None or not isinstance(person, str) or not isinstance(dob, date):
        return reasons
    return id_number, person, dob


def check_domain(row: Row, today: date) -> DomainRecord | list[Reason]:
    reasons: list[Reason] = []
    name = None
    try:
        name = parse_registrable(row.get("domain") or "")
    except DomainNameError as exc:
        reasons.append(exc.reason)
    kind = (row.get("registrant_type") or "").strip().lower()
    registrant: tuple[str, str | None, date | None] | list[Reason] = []
    if kind in REGISTRANT_TYPES:
        registrant = _registrant(row, today, kind)
        if isinstance(registrant, list):
            reasons += registrant
    else:
        reasons.append(
            Reason("invalid_registrant_type", "registrant_type must be person or organisation")
        )
    created = day(row.get("created"), "created", today, required=True)
    expires = day(row.get("expires"), "expires", date.max, required=True)
    nameservers = _nameservers(row.get("nameservers"))
    status = one_of(row.get("status"), STATUSES)
    reasons += [v for v in (created, expires, nameservers, status) if isinstance(v, Reason)]
    if isinstance(created, date) and isinstance(expires, date) and expires < created:
        reasons.append(Reason("expires_before_created", "expires precedes created"))
    if (
        reasons
        or name is None
        or not isinstance(registrant, tuple)
        or not isinstance(created, date)
        or not isinstance(expires, date)
        or not isinstance(nameservers, tuple)
        or not isinstance(status, str)
    ):
        return reasons
    registrant_id, registrant_name, dob = registrant
    return DomainRecord(
        name, kind, registrant_id, registrant_name, dob, created, expires, nameservers, status
    )


@dataclass
class DomainFeed:
    """The pure half of a domain upload (store.batch.FeedSpec); runs in worker processes."""

    ring_json: str
    minor_age: int = 18
    columns: tuple[str, ...] = COLUMNS
    label: str = "domain"

    @cached_property
    def ring(self) -> KeyRing:
        return keyring_from_json(self.ring_json)

    def __getstate__(self) -> dict[str, Any]:
        return {"ring_json": self.ring_json, "minor_age": self.minor_age}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ring_json"], state["minor_age"])  # type: ignore[misc]

    def check(self, row: Row, today: date) -> DomainRecord | list[Reason]:
        return check_domain(row, today)

    def key(self, record: DomainRecord) -> str:
        return record.name.ascii

    def fingerprint(self, prepared: PreparedDomain) -> bytes:
        return prepared.digest

    def prepare(self, records: list[DomainRecord]) -> list[PreparedDomain]:
        return [self.prepare_one(r) for r in records]

    def prepare_one(self, r: DomainRecord) -> PreparedDomain:
        ring, person = self.ring, r.registrant_type == "person"
        dob = r.registrant_dob
        return PreparedDomain(
            r.name.ascii,
            r.name.unicode,
            r.name.suffix,
            r.registrant_type,
            None if person else r.registrant_id,
            None if person else r.registrant_name,
            indexes.id_index(ring, r.registrant_id) if person else None,
            indexes.name_index(ring, r.registrant_name or "") if person else None,
            indexes.dob_index(ring, dob) if dob else None,
            (not is_over(dob, self.minor_age, r.created)) if dob else None,
            seal(ring, _sealed_person(r), registrant_context(r.name.ascii)) if person else None,
            r.created,
            r.expires,
            " ".join(r.nameservers),
            r.status,
            indexes.record_digest(ring, "domain\x1f" + r.canonical()),
        )


def _sealed_person(r: DomainRecord) -> bytes:
    dob = r.registrant_dob.isoformat() if r.registrant_dob else ""
    return "\x1f".join((r.registrant_id, r.registrant_name or "", dob)).encode()


def open_person(ring: KeyRing, ascii_name: str, sealed: bytes) -> tuple[str, str, date]:
    """(ID number, name, birth date) as the registrar stated them."""
    plain = open_sealed(ring, sealed, registrant_context(ascii_name)).decode()
    id_number, name, dob = plain.split("\x1f")
    return id_number, name, date.fromisoformat(dob)
