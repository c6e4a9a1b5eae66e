"""Citizen registry use cases: store sealed records, look them up by blind index, audit all.

Writing is split in two: `CitizenSealer.prepare` does the crypto (pure, so batch imports can run
it in worker processes) and `Registry.apply` does the database work and the audit entries.

`Registry` is also the one door other domains use to the registry (issue 9, item 7): a subject
by ID number, and facts about it. Facts kept in clear columns (blind indexes, the ``deceased``
flag, guardian links as blind indexes) are answered without opening the sealed record; facts
that need it (an age) open it and append an audit entry naming the field. Bulk readers get
`registry_select` (a SELECT for DuckDB over the attached store) and `dates_of_death`; no module
outside `identity` names the ``citizens`` table or its columns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, Table, delete, func, select, update
from sqlalchemy.orm import Session, aliased

from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.identity import age, indexes
from dinhdanh.identity.idnumber import MIN_YEAR, IdNumberError
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.identity.models import BirthDateCorrection, Citizen
from dinhdanh.identity.phone import e164_or_none
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.store.batch import Counts
from dinhdanh.store.bulk import insert_rows, lookup
from dinhdanh.store.db import insert_missing
from dinhdanh.store.ids import uuid7s
from dinhdanh.store.snapshots import bump

PERSONAL_FIELDS = (
    "id_number",
    "full_name",
    "date_of_birth",
    "sex",
    "guardian_id_number",
    "date_of_death",
    "phone",
)

CITIZENS: Table = Citizen.__table__  # type: ignore[assignment]  # core insert: the fast path
# For other domains' models and for wiring, so they need not name the table themselves.
SUBJECT_FK = f"{CITIZENS.name}.id"  # a column referencing a citizen's subject id
LOADED_TABLES: tuple[Table, ...] = (CITIZENS,)  # bulk-loaded: indexes may be built afterwards


class Prepared(NamedTuple):
    """A record ready for storage: blind indexes, keyed digest and the sealed record."""

    id_bidx: bytes
    name_bidx: bytes
    dob_bidx: bytes
    guardian_bidx: bytes | None
    phone_bidx: bytes | None
    deceased: bool
    sealed: bytes
    digest: bytes


_STORED = Prepared._fields[1:]  # columns written on insert and update, after id and id_bidx


def seal_context(id_bidx: bytes) -> bytes:
    # Binds a ciphertext to its row: a sealed record copied onto another row will not open.
    return b"citizen:" + id_bidx


class CitizenSealer:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def prepare(self, rec: CitizenRecord) -> Prepared:
        return self.prepare_many([rec])[0]

    def prepare_many(self, records: Sequence[CitizenRecord]) -> list[Prepared]:
        """Each record's stored form, its keyed digests computed a column at a time (an
        import's piece; identity.indexes' functions of one value give the same bytes)."""
        ring = self.ring
        canonicals = [r.canonical() for r in records]
        ids = indexes.id_indexes(ring, [r.id_number for r in records])
        guardians = iter(
            indexes.id_indexes(
                ring, [r.guardian_id_number for r in records if r.guardian_id_number]
            )
        )
        phones = iter(indexes.phone_indexes(ring, [r.phone for r in records if r.phone]))
        return [
            Prepared(
                id_bidx,
                name_bidx,
                dob_bidx,
                next(guardians) if r.guardian_id_number else None,
                next(phones) if r.phone else None,
                r.date_of_death is not None,
                seal(ring, canonical.encode(), seal_context(id_bidx)),
                digest,
            )
            for r, canonical, id_bidx, name_bidx, dob_bidx, digest in zip(
                records,
                canonicals,
                ids,
                indexes.name_indexes(ring, [r.full_name for r in records]),
                indexes.dob_indexes(ring, [r.date_of_birth for r in records]),
                indexes.record_digests(ring, canonicals),
                strict=True,
            )
        ]

    def open(self, row: Citizen) -> CitizenRecord:
        return self.open_parts(row.id_bidx, row.sealed)

    def open_parts(self, id_bidx: bytes, sealed: bytes) -> CitizenRecord:
        """A record from its two stored columns (bulk reads select them, not ORM rows)."""
        text = open_sealed(self.ring, sealed, seal_context(id_bidx)).decode()
        return CitizenRecord.from_canonical(text)


@dataclass(frozen=True, slots=True)
class Subject:
    """A citizen as other domains may see them without opening the sealed record."""

    subject_id: str
    id_bidx: bytes
    name_bidx: bytes
    dob_bidx: bytes
    deceased: bool
    has_guardian: bool


_SUBJECT_COLUMNS = (
    Citizen.id,
    Citizen.id_bidx,
    Citizen.name_bidx,
    Citizen.dob_bidx,
    Citizen.deceased,
    Citizen.guardian_bidx.is_not(None),
)


def _subject(row: Row[str, bytes, bytes, bytes, bool, bool] | None) -> Subject | None:
    if row is None:
        return None
    # SQLite hands booleans back as integers.
    return Subject(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]))


SNAPSHOT = "citizens"  # the registry's snapshot (store.snapshots): registry_select's rows
# The first day an ID number's birth year can name.
EARLIEST_BIRTH = date(MIN_YEAR, 1, 1)


@dataclass(frozen=True, slots=True)
class GuardianPairs:
    pairs: list[tuple[str, str]]  # (child, guardian) subject ids, every pair of the registry
    births: dict[str, date]  # both sides of each pair not already known: subject -> birth date


def registry_select(alias: str) -> str:
    """SQL (DuckDB) over the store attached as ``alias``: one row per citizen, with
    ``subject, id_bidx, name_bidx, dob_bidx, has_guardian, deceased``. Clear columns only."""
    # ``alias`` is the caller's own schema name, never input.
    return f"""SELECT id AS subject, id_bidx, name_bidx, dob_bidx,
                      guardian_bidx IS NOT NULL AS has_guardian,
                      CAST(deceased AS BOOLEAN) AS deceased
               FROM {alias}.{CITIZENS.name}"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class CitizenView:
    subject_id: str
    record: CitizenRecord


class Registry:
    def __init__(self, ring: KeyRing, audit: AuditLog) -> None:
        self.ring = ring
        self._audit = audit
        self.sealer = CitizenSealer(ring)

    # -- writing --
    def upsert(
        self, session: Session, records: Sequence[CitizenRecord], ctx: AccessContext, now: datetime
    ) -> Counts:
        """Create or update records keyed by ID number (distinct within one call)."""
        return self.apply(session, self.sealer.prepare_many(records), ctx, now)

    def apply(
        self, session: Session, prepared: Sequence[Prepared], ctx: AccessContext, now: datetime
    ) -> Counts:
        """Store prepared records; a record whose digest is unchanged is not touched."""
        counts = Counts()
        if not prepared:
            return counts
        existing = lookup(session, CITIZENS, "id_bidx", "digest", [p.id_bidx for p in prepared])
        fresh = [p for p in prepared if p.id_bidx not in existing]
        changed = [p for p in prepared if existing.get(p.id_bidx, p.digest) != p.digest]
        counts.created, counts.updated = len(fresh), len(changed)
        counts.unchanged = len(prepared) - len(fresh) - len(changed)

        subjects = uuid7s(len(fresh), now)
        insert_rows(
            session,
            CITIZENS,
            ("id", *Prepared._fields),
            [(s, *p) for s, p in zip(subjects, fresh, strict=True)],
            constants={"created_at": now, "updated_at": now},
        )
        events = [ctx.event("create", s, PERSONAL_FIELDS) for s in subjects]
        if changed:
            keys = [p.id_bidx for p in changed]
            ids = lookup(session, CITIZENS, "id_bidx", "id", keys)
            births = lookup(session, CITIZENS, "id_bidx", "dob_bidx", keys)
            # A birth date corrected: the bands platforms hold and age credentials are
            # rechecked (age.bands), lowered too: "over 16" must not outlive the correction.
            corrected = [
                {"subject_id": ids[p.id_bidx], "corrected_at": now}
                for p in changed
                if births[p.id_bidx] != p.dob_bidx
            ]
            if corrected:
                insert_missing(session, BirthDateCorrection, corrected)
            session.execute(
                update(Citizen),
                [
                    {"id": ids[p.id_bidx], "updated_at": now}
                    | dict(zip(_STORED, p[1:], strict=True))
                    for p in changed
                ],
            )
            events += [ctx.event("update", ids[p.id_bidx], PERSONAL_FIELDS) for p in changed]
        self._audit.append(session, events, now)
        if fresh or changed:
            bump(session, SNAPSHOT)  # the registry's Parquet snapshot is out of date
        return counts

    # -- reading (always audited, always with a purpose) --
    def _read(
        self, session: Session, rows: Sequence[Citizen], ctx: AccessContext, now: datetime
    ) -> list[CitizenView]:
        views = [CitizenView(row.id, self.sealer.open(row)) for row in rows]
        self._audit.append(
            session, [ctx.event("read", v.subject_id, PERSONAL_FIELDS) for v in views], now
        )
        return views

    def get_by_id_number(
        self, session: Session, id_number: str, ctx: AccessContext, now: datetime
    ) -> CitizenView | None:
        """Raises IdNumberError on a malformed number; None when nobody has it (also audited)."""
        value = parse_id(id_number).value
        stmt = select(Citizen).where(Citizen.id_bidx == indexes.id_index(self.ring, value))
        row = session.scalars(stmt).first()
        if row is None:
            self._audit.append(session, [ctx.event("lookup_miss", None, ("id_number",))], now)
            return None
        return self._read(session, [row], ctx, now)[0]

    def phone_index(self, phone: str) -> bytes | None:
        """Blind index of a phone number in any written form (identity.phone, the one
        normalizer); None when it is not a Vietnamese mobile number."""
        e164 = e164_or_none(phone)
        return None if e164 is None else indexes.phone_index(self.ring, e164)

    def get_by_phone(
        self, session: Session, phone: str, ctx: AccessContext, now: datetime
    ) -> list[CitizenView]:
        phone_bidx = self.phone_index(phone)
        if phone_bidx is None:
            return []
        stmt = select(Citizen).where(Citizen.phone_bidx == phone_bidx)
        return self._read(session, list(session.scalars(stmt)), ctx, now)

    def search(
        self,
        session: Session,
        full_name: str,
        date_of_birth: date,
        ctx: AccessContext,
        now: datetime,
        limit: int = 50,
    ) -> list[CitizenView]:
        stmt = (
            select(Citizen)
            .where(
                Citizen.name_bidx == indexes.name_index(self.ring, full_name),
                Citizen.dob_bidx == indexes.dob_index(self.ring, date_of_birth),
            )
            .limit(limit)
        )
        rows = list(session.scalars(stmt))
        if not rows:
            self._audit.append(
                session, [ctx.event("search_miss", None, ("full_name", "date_of_birth"))], now
            )
        return self._read(session, rows, ctx, now)

    def open_subject(
        self,
        session: Session,
        subject_id: str,
        fields: tuple[str, ...],
        ctx: AccessContext,
        now: datetime,
    ) -> CitizenRecord | None:
        """One citizen's record by subject id; the audit entry names the ``fields`` used.

        For services that release part of a record (an OIDC claim, a phone number to send a
        code to): they read only ``fields`` of the result.
        """
        row = session.get(Citizen, subject_id)
        if row is None:
            return None
        self._audit.append(session, [ctx.event("read", subject_id, fields)], now)
        return self.sealer.open(row)

    # -- facts for other domains --
    def subject(self, session: Session, id_number: str) -> Subject | None:
        """The citizen with this ID number, found by blind index (nothing opened, nothing
        audited); None when nobody has it or it is not an ID number at all."""
        try:
            value = parse_id(id_number).value
        except IdNumberError:
            return None
        return self.subject_by_index(session, indexes.id_index(self.ring, value))

    def subject_by_index(self, session: Session, id_bidx: bytes) -> Subject | None:
        stmt = select(*_SUBJECT_COLUMNS).where(Citizen.id_bidx == id_bidx)
        return _subject(session.execute(stmt).first())

    def subject_by_id(self, session: Session, subject_id: str) -> Subject | None:
        stmt = select(*_SUBJECT_COLUMNS).where(Citizen.id == subject_id)
        return _subject(session.execute(stmt).first())

    def is_verified(self, session: Session, subject_id: str) -> bool:
        """Whether the population registry lists this subject as a living citizen."""
        subject = self.subject_by_id(session, subject_id)
        return subject is not None and not subject.deceased

    def is_deceased(self, session: Session, subject_id: str) -> bool | None:
        """From the clear ``deceased`` flag; None for an unknown subject."""
        subject = self.subject_by_id(session, subject_id)
        return None if subject is None else subject.deceased

    def is_over(
        self,
        session: Session,
        subject_id: str,
        years: int,
        on: date,
        ctx: AccessContext,
        now: datetime,
    ) -> bool | None:
        """Whether the citizen is at least ``years`` old on ``on`` (age.is_over); opens the
        birth date, audited. None for an unknown subject."""
        record = self.open_subject(session, subject_id, ("date_of_birth",), ctx, now)
        return None if record is None else age.is_over(record.date_of_birth, years, on)

    def guardians_of(
        self, session: Session, subject_id: str, ctx: AccessContext, now: datetime
    ) -> list[str]:
        """Subject ids of the citizen's guardians, by blind index (nothing opened); the
        guardian link is personal data, so the read is audited."""
        guardian = aliased(Citizen)
        stmt = (
            select(guardian.id)
            .join(Citizen, Citizen.guardian_bidx == guardian.id_bidx)
            .where(Citizen.id == subject_id)
        )
        found = list(session.scalars(stmt))
        if found:
            self._audit.append(
                session, [ctx.event("read", subject_id, ("guardian_id_number",))], now
            )
        return found

    def children_of(
        self, session: Session, subject_id: str, ctx: AccessContext, now: datetime
    ) -> list[str]:
        """Subject ids of the citizens this one is guardian of (blind index; each child's
        guardian link read is audited under the child)."""
        id_bidx = self.id_bidx_of(session, subject_id)
        if id_bidx is None:
            return []
        found = list(
            session.scalars(
                select(Citizen.id).where(Citizen.guardian_bidx == id_bidx).order_by(Citizen.id)
            )
        )
        self._audit.append(
            session, [ctx.event("read", c, ("guardian_id_number",)) for c in found], now
        )
        return found

    def born_on(
        self, session: Session, dates: Sequence[date], ctx: AccessContext, now: datetime
    ) -> list[str]:
        """Subject ids of the citizens born on one of ``dates``, found by the birth-date blind
        index (nothing opened); the match tells a birth date, so each one found is audited."""
        found: list[str] = []
        bidx = sorted({indexes.dob_index(self.ring, d) for d in dates})
        for i in range(0, len(bidx), 1000):
            stmt = select(Citizen.id).where(Citizen.dob_bidx.in_(bidx[i : i + 1000]))
            found += session.scalars(stmt)
        found.sort()
        self._audit.append(session, [ctx.event("read", s, ("date_of_birth",)) for s in found], now)
        return found

    def guardian_pairs(
        self,
        session: Session,
        ctx: AccessContext,
        now: datetime,
        known: Collection[tuple[str, str]] = (),
    ) -> GuardianPairs:
        """Every registry guardian pair (child, guardian) whose guardian is in the registry,
        joined on the blind index, and the birth dates of both sides of each pair not in
        ``known`` (the links already derived). A birth date is told by its blind index, matched
        against every day a citizen can be born on: nothing else of a record is opened (the
        bulk derivation opened both records of every new pair, 11 of a 1 M-row load's 63 s).
        Audited: each child's guardian read, with its birth date when its pair is new, and the
        birth date of each new pair's guardian."""
        guardian = aliased(Citizen)
        stmt = (
            select(Citizen.id, Citizen.dob_bidx, guardian.id, guardian.dob_bidx)
            .join(guardian, Citizen.guardian_bidx == guardian.id_bidx)
            .order_by(Citizen.id)
        )
        pairs: list[tuple[str, str]] = []
        births: dict[str, date] = {}
        events = []
        new_guardians: set[str] = set()
        days: dict[bytes, date] | None = None
        for child, child_dob, guardian_id, guardian_dob in session.execute(stmt):
            pair = (str(child), str(guardian_id))
            pairs.append(pair)
            if pair in known:
                events.append(ctx.event("read", pair[0], ("guardian_id_number",)))
                continue
            if days is None:
                days = self._birth_days(now.date())
            for subject, dob in ((pair[0], child_dob), (pair[1], guardian_dob)):
                if dob in days:  # always, for a registry date of birth (not in the future)
                    births[subject] = days[dob]
            events.append(ctx.event("read", pair[0], ("guardian_id_number", "date_of_birth")))
            new_guardians.add(pair[1])
        events += [ctx.event("read", g, ("date_of_birth",)) for g in sorted(new_guardians)]
        self._audit.append(session, events, now)
        return GuardianPairs(pairs, births)

    def _birth_days(self, today: date) -> dict[bytes, date]:
        """Birth-date blind index -> date, for every day from the first an ID number encodes
        to ``today`` (about 46,000 keyed digests, computed a column at a time)."""
        days = [EARLIEST_BIRTH + timedelta(n) for n in range((today - EARLIEST_BIRTH).days + 1)]
        return dict(zip(indexes.dob_indexes(self.ring, days), days, strict=True))

    def corrected_births(
        self, session: Session, ctx: AccessContext, now: datetime
    ) -> dict[str, date]:
        """Subject id -> birth date of the citizens whose birth date was corrected and not yet
        rechecked (``clear_corrections``); the date told by its blind index (nothing else of
        the record opened), each one audited."""
        stmt = select(Citizen.id, Citizen.dob_bidx).join(
            BirthDateCorrection, BirthDateCorrection.subject_id == Citizen.id
        )
        rows = session.execute(stmt.order_by(Citizen.id)).all()
        if not rows:
            return {}
        days = self._birth_days(now.date())
        found = {subject: days[bidx] for subject, bidx in rows if bidx in days}
        events = [ctx.event("read", s, ("date_of_birth",)) for s in found]
        self._audit.append(session, events, now)
        return found

    def clear_corrections(self, session: Session, subjects: Collection[str]) -> None:
        """The corrections of ``subjects`` are rechecked: drop them from the queue."""
        wanted = sorted(subjects)
        for i in range(0, len(wanted), 1000):
            session.execute(
                delete(BirthDateCorrection).where(
                    BirthDateCorrection.subject_id.in_(wanted[i : i + 1000])
                )
            )

    def dates_of_death(
        self, session: Session, ctx: AccessContext, now: datetime
    ) -> tuple[list[bytes], list[date | None]]:
        """(ID blind indexes, dates of death) of the deceased, for bulk reconciliation: only
        these records are opened (about 0.5 %), each opening audited."""
        ids: list[bytes] = []
        dates: list[date | None] = []
        events = []
        # Three columns, no ORM objects: tens of thousands of rows at national scale.
        stmt = select(Citizen.id, Citizen.id_bidx, Citizen.sealed).where(Citizen.deceased.is_(True))
        for subject, id_bidx, sealed in session.execute(stmt):
            ids.append(id_bidx)
            dates.append(self.sealer.open_parts(id_bidx, sealed).date_of_death)
            events.append(ctx.event("read", subject, ("date_of_death",)))
        self._audit.append(session, events, now)
        return ids, dates

    def id_bidx_of(self, session: Session, subject_id: str) -> bytes | None:
        """The ID blind index of a citizen: how other domains find their records."""
        return session.scalar(select(Citizen.id_bidx).where(Citizen.id == subject_id))

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(Citizen)) or 0
