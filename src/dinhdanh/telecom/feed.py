"""A carrier's subscriber upload, row by row: what is valid, and what is kept of it.

Columns: msisdn, id_number, full_name, date_of_birth, activation_date, channel, agent_id,
imei, status. The owner's stated identity is kept only as blind indexes (the registry's own,
identity/indexes.py) and two facts computed here from the plaintext, which is then dropped:
whether the ID number's birth year agrees with the stated birth date (ID_FORMAT), and whether
the owner was under the minor age on the activation date (OWNER_MINOR).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from typing import Any, NamedTuple

from dinhdanh.crypto import KeyRing, blind_indexes, keyring_from_json
from dinhdanh.identity import indexes
from dinhdanh.identity.age import is_over
from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.identity.rules import normalize_name, parse_date
from dinhdanh.store.feeds import Reason, Row
from dinhdanh.telecom.msisdn import MsisdnError, normalize_msisdn
from dinhdanh.telecom.numberplan import OUT_OF_RANGE, NumberPlan
from dinhdanh.telecom.rules import CHANNELS, STATUSES, id_dob_consistent

COLUMNS = (
    "msisdn",
    "id_number",
    "full_name",
    "date_of_birth",
    "activation_date",
    "channel",
    "agent_id",
    "imei",
    "status",
)
BIDX_IMEI = "telecom.imei"


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    msisdn: str
    id_number: str
    full_name: str
    date_of_birth: date
    activation_at: datetime
    channel: str
    agent_id: str | None
    imei: str | None
    status: str

    def canonical(self) -> str:
        return "\x1f".join(
            (
                self.msisdn,
                self.id_number,
                self.full_name,
                self.date_of_birth.isoformat(),
                self.activation_at.isoformat(),
                self.channel,
                self.agent_id or "",
                self.imei or "",
                self.status,
            )
        )


class PreparedSubscription(NamedTuple):
    msisdn: str
    id_bidx: bytes
    name_bidx: bytes
    dob_bidx: bytes
    id_dob_consistent: bool
    minor_at_activation: bool
    province: str
    activation_at: datetime
    channel: str
    agent_id: str | None
    imei_bidx: bytes | None
    status: str
    digest: bytes


def _activation(raw: str | None, today: date) -> datetime | Reason:
    text = (raw or "").strip()
    try:
        value = (
            datetime.fromisoformat(text)
            if "T" in text or " " in text
            else datetime.combine(date.fromisoformat(text), time())
        )
    except ValueError:
        return Reason("invalid_date", "activation_date is not an ISO 8601 date or date-time")
    value = value.replace(tzinfo=None)  # carriers state local time; stored as stated
    if value.date() > today:
        return Reason("activation_in_future", f"activation_date is after {today}")
    return value


def check_subscription(
    row: Row, today: date, plan: NumberPlan | None = None
) -> SubscriptionRecord | list[Reason]:
    """One row of an upload; with a ``plan``, a number the carrier may not upload (another
    carrier's block, not declared ported in) is rejected."""
    reasons: list[Reason] = []
    msisdn = None
    try:
        msisdn = normalize_msisdn(row.get("msisdn") or "")
    except MsisdnError as exc:
        reasons.append(Reason(exc.code, str(exc)))
    if msisdn is not None and plan is not None and not plan.allows(msisdn):
        reasons.append(OUT_OF_RANGE)
    id_number = None
    try:
        id_number = parse_id(row.get("id_number") or "").value
    except IdNumberError as exc:
        reasons.append(Reason(exc.code, str(exc)))
    name = normalize_name(row.get("full_name") or "")
    if not name:
        reasons.append(Reason("name_missing", "full_name is empty"))
    dob = parse_date(row.get("date_of_birth"), "date_of_birth")
    if dob is None:
        reasons.append(Reason("invalid_date", "date_of_birth is missing"))
    elif isinstance(dob, Reason):
        reasons.append(dob)
    activation = _activation(row.get("activation_date"), today)
    if isinstance(activation, Reason):
        reasons.append(activation)
    channel = (row.get("channel") or "").strip().lower()
    if channel not in CHANNELS:
        reasons.append(Reason("invalid_channel", f"channel must be one of {', '.join(CHANNELS)}"))
    status = (row.get("status") or "").strip().lower()
    if status not in STATUSES:
        reasons.append(Reason("invalid_status", f"status must be one of {', '.join(STATUSES)}"))
    agent_id = (row.get("agent_id") or "").strip() or None
    if channel == "agent" and agent_id is None:
        reasons.append(Reason("agent_missing", "agent_id is required for the agent channel"))
    imei = "".join((row.get("imei") or "").split()) or None
    if imei is not None and not (imei.isdigit() and 14 <= len(imei) <= 16):
        reasons.append(Reason("invalid_imei", "imei must be 14 to 16 digits"))
    if (
        reasons
        or msisdn is None
        or id_number is None
        or not isinstance(dob, date)
        or not isinstance(activation, datetime)
    ):
        return reasons
    return SubscriptionRecord(
        msisdn, id_number, name, dob, activation, channel, agent_id, imei, status
    )


@dataclass
class SubscriptionFeed:
    """The pure half of a subscriber import (store.batch.FeedSpec); runs in worker processes."""

    ring_json: str
    minor_age: int = 14
    plan: NumberPlan | None = None
    columns: tuple[str, ...] = COLUMNS
    label: str = "msisdn"

    @cached_property
    def ring(self) -> KeyRing:
        return keyring_from_json(self.ring_json)

    def __getstate__(self) -> dict[str, Any]:
        return {"ring_json": self.ring_json, "minor_age": self.minor_age, "plan": self.plan}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ring_json"], state["minor_age"], state["plan"])  # type: ignore[misc]

    def check(self, row: Row, today: date) -> SubscriptionRecord | list[Reason]:
        return check_subscription(row, today, self.plan)

    def key(self, record: SubscriptionRecord) -> str:
        return record.msisdn

    def fingerprint(self, prepared: PreparedSubscription) -> bytes:
        return prepared.digest

    def prepare(self, records: list[SubscriptionRecord]) -> list[PreparedSubscription]:
        """Each record's stored form, its keyed digests computed a column at a time (the
        identity.indexes functions of one value give the same bytes)."""
        ring, minor_age = self.ring, self.minor_age
        ids = indexes.id_indexes(ring, [r.id_number for r in records])
        names = indexes.name_indexes(ring, [r.full_name for r in records])
        dobs = indexes.dob_indexes(ring, [r.date_of_birth for r in records])
        with_imei = [r.imei for r in records if r.imei]
        imeis = iter(blind_indexes(ring, with_imei, BIDX_IMEI))
        digests = indexes.record_digests(
            ring, ["subscription\x1f" + r.canonical() for r in records]
        )
        return [
            PreparedSubscription(
                r.msisdn,
                id_bidx,
                name_bidx,
                dob_bidx,
                id_dob_consistent(r.id_number, r.date_of_birth),
                not is_over(r.date_of_birth, minor_age, r.activation_at),
                r.id_number[:3],
                r.activation_at,
                r.channel,
                r.agent_id,
                next(imeis)[: indexes.SIZE] if r.imei else None,
                r.status,
                digest,
            )
            for r, id_bidx, name_bidx, dob_bidx, digest in zip(
                records, ids, names, dobs, digests, strict=True
            )
        ]

    def prepare_one(self, r: SubscriptionRecord) -> PreparedSubscription:
        return self.prepare([r])[0]
