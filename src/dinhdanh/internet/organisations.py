"""The business-registry feed, row by row: ``tax_code, name, address, status, established,
dissolved, legal_rep_id_number``.

Everything but the legal representative is public and kept in clear. The representative's ID
number is kept as the registry's blind index (the link to the citizen) and sealed to the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

from dinhdanh.crypto import KeyRing, keyring_from_json, seal
from dinhdanh.identity import indexes
from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.internet.checks import day, one_of, text
from dinhdanh.internet.taxcode import TaxCodeError, head_of, parse_tax_code
from dinhdanh.store.feeds import Reason, Row

COLUMNS = (
    "tax_code",
    "name",
    "address",
    "status",
    "established",
    "dissolved",
    "legal_rep_id_number",
)
STATUSES = ("active", "suspended", "dissolving", "dissolved")
MAX_NAME, MAX_ADDRESS = 500, 1000


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    tax_code: str
    name: str
    address: str | None
    status: str
    established: date | None
    dissolved: date | None
    legal_rep_id_number: str | None

    def canonical(self) -> str:
        return "\x1f".join(
            (
                self.tax_code,
                self.name,
                self.address or "",
                self.status,
                self.established.isoformat() if self.established else "",
                self.dissolved.isoformat() if self.dissolved else "",
                self.legal_rep_id_number or "",
            )
        )


class PreparedOrganisation(NamedTuple):
    tax_code: str
    head_tax_code: str
    name: str
    address: str | None
    status: str
    established: date | None
    dissolved: date | None
    rep_id_bidx: bytes | None
    rep_sealed: bytes | None
    digest: bytes


def rep_context(tax_code: str) -> bytes:
    # Binds the sealed ID number to its organisation: copied to another row it does not open.
    return b"internet.org_rep:" + tax_code.encode()


def check_organisation(row: Row, today: date) -> OrganisationRecord | list[Reason]:
    reasons: list[Reason] = []
    tax_code = None
    try:
        tax_code = parse_tax_code(row.get("tax_code"))
    except TaxCodeError as exc:
        reasons.append(exc.reason)
    name = text(row.get("name"), "name", MAX_NAME, required=True)
    address = text(row.get("address"), "address", MAX_ADDRESS, required=False)
    status = one_of(row.get("status"), STATUSES)
    established = day(row.get("established"), "established", today, required=False)
    dissolved = day(row.get("dissolved"), "dissolved", today, required=False)
    reasons += [v for v in (name, address, status, established, dissolved) if isinstance(v, Reason)]
    if isinstance(established, date) and isinstance(dissolved, date) and dissolved < established:
        reasons.append(Reason("dissolved_before_established", "dissolved precedes established"))
    rep = (row.get("legal_rep_id_number") or "").strip() or None
    if rep is not None:
        try:
            rep = parse_id(rep).value
        except IdNumberError as exc:
            reasons.append(Reason("legal_rep_id_invalid", f"legal_rep_id_number: {exc}"))
    if reasons or tax_code is None or not isinstance(name, str) or not isinstance(status, str):
        return reasons
    return OrganisationRecord(
        tax_code,
        name,
        address if isinstance(address, str) else None,
        status,
        established if isinstance(established, date) else None,
        dissolved if isinstance(dissolved, date) else None,
        rep,
    )


@dataclass
class OrganisationFeed:
    """The pure half of the import (store.batch.FeedSpec); runs in worker processes."""

    ring_json: str
    columns: tuple[str, ...] = COLUMNS
    label: str = "tax_code"

    @cached_property
    def ring(self) -> KeyRing:
        return keyring_from_json(self.ring_json)

    def __getstate__(self) -> dict[str, Any]:
        return {"ring_json": self.ring_json}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ring_json"])  # type: ignore[misc]

    def check(self, row: Row, today: date) -> OrganisationRecord | list[Reason]:
        return check_organisation(row, today)

    def key(self, record: OrganisationRecord) -> str:
        return record.tax_code

    def fingerprint(self, prepared: PreparedOrganisation) -> bytes:
        return prepared.digest

    def prepare(self, records: list[OrganisationRecord]) -> list[PreparedOrganisation]:
        return [self.prepare_one(r) for r in records]

    def prepare_one(self, r: OrganisationRecord) -> PreparedOrganisation:
        ring, rep = self.ring, r.legal_rep_id_number
        return PreparedOrganisation(
            r.tax_code,
            head_of(r.tax_code),
            r.name,
            r.address,
            r.status,
            r.established,
            r.dissolved,
            indexes.id_index(ring, rep) if rep else None,
            seal(ring, rep.encode(), rep_context(r.tax_code)) if rep else None,
            # Keyed: the record holds an ID number, so a plain hash could be brute-forced.
            indexes.record_digest(ring, "organisation\x1f" + r.canonical()),
        )
