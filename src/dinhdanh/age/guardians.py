"""Guardian links: from the registry feed, from the guardian feed, and by an officer.

Every decision is `age.guardian_rules` (pure); this module reads the birth dates it needs from
the registry (each opening audited) and writes `guardian_links`. Reading or writing a link is
itself an access to personal data, audited under the child with the field
``guardian_id_number`` (the citizen's access log says "guardian").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dinhdanh.age import guardian_rules as rules
from dinhdanh.age.models import GuardianLink
from dinhdanh.errors import DomainError
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.store.batch import Counts, gc_paused
from dinhdanh.store.bulk import insert_rows
from dinhdanh.store.feeds import Reason
from dinhdanh.store.ids import uuid7s

LINKS: Table = GuardianLink.__table__  # type: ignore[assignment]
FIELDS = ("guardian_id_number",)  # the citizen's access log names it "guardian"
SOURCES = ("registry", "feed", "officer")


class LinkRefused(DomainError):
    """The rules refuse the link; ``code`` is the first reason's (``too_many_guardians``...)."""

    code, status, title = "guardian_link_refused", 409, "The guardian link is refused"

    def __init__(self, reasons: Sequence[Reason]) -> None:
        super().__init__("; ".join(r.message for r in reasons), reasons=[r.code for r in reasons])
        self.code = reasons[0].code


class LinkNotFound(DomainError):
    code, status, title = "guardian_link_not_found", 404, "No such guardian link"


class UnknownCitizen(DomainError):
    code, status, title = "citizen_not_found", 404, "No such citizen"


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    child: str
    guardian: str
    relation: str
    source: str
    valid_from: date
    valid_to: date | None
    ended_on: date | None
    active: bool


Births = Callable[[str], date | None]


class Guardians:
    def __init__(self, registry: Registry, audit: AuditLog) -> None:
        self.registry = registry
        self._audit = audit

    # -- reading ---------------------------------------------------------------------------
    def births(self, session: Session, ctx: AccessContext, now: datetime) -> Births:
        """Birth dates by subject id, each opened once per call and audited."""
        cache: dict[str, date | None] = {}

        def birth(subject: str) -> date | None:
            if subject not in cache:
                rec = self.registry.open_subject(session, subject, ("date_of_birth",), ctx, now)
                cache[subject] = None if rec is None else rec.date_of_birth
            return cache[subject]

        return birth

    @staticmethod
    def _view(row: GuardianLink, birth: date | None, on: date) -> Link:
        active = birth is not None and rules.is_active(
            birth, row.valid_from, row.valid_to, row.ended_on, on
        )
        return Link(
            row.id,
            row.child,
            row.guardian,
            row.relation,
            row.source,
            row.valid_from,
            row.valid_to,
            row.ended_on,
            active,
        )

    def _views(
        self, session: Session, rows: Sequence[GuardianLink], ctx: AccessContext, now: datetime
    ) -> list[Link]:
        birth = self.births(session, ctx, now)
        self._audit.append(session, [ctx.event("read", r.child, FIELDS) for r in rows], now)
        return [self._view(r, birth(r.child), now.date()) for r in rows]

    def links_of_child(
        self, session: Session, child: str, ctx: AccessContext, now: datetime
    ) -> list[Link]:
        stmt = select(GuardianLink).where(GuardianLink.child == child).order_by(GuardianLink.id)
        return self._views(session, list(session.scalars(stmt)), ctx, now)

    def active_guardians(
        self, session: Session, child: str, ctx: AccessContext, now: datetime
    ) -> list[Link]:
        return [x for x in self.links_of_child(session, child, ctx, now) if x.active]

    def children_of(
        self, session: Session, guardian: str, ctx: AccessContext, now: datetime
    ) -> list[Link]:
        """The guardian's active links, one per child (several sources name one child once)."""
        stmt = (
            select(GuardianLink)
            .where(GuardianLink.guardian == guardian, GuardianLink.ended_on.is_(None))
            .order_by(GuardianLink.id)
        )
        seen: dict[str, Link] = {}
        for link in self._views(session, list(session.scalars(stmt)), ctx, now):
            if link.active:
                seen.setdefault(link.child, link)
        return list(seen.values())

    def link_between(
        self, session: Session, guardian: str, child: str, ctx: AccessContext, now: datetime
    ) -> Link | None:
        """The guardian's active link to this child, if any."""
        for link in self.children_of(session, guardian, ctx, now):
            if link.child == child:
                return link
        return None

    # -- writing ---------------------------------------------------------------------------
    def problems(
        self,
        session: Session,
        child: str,
        guardian: str,
        on: date,
        birth: Births,
        also: frozenset[str] = frozenset(),
    ) -> list[Reason]:
        """Why this link may not start to count on ``on``; ``also``: other guardians of the
        child active on that day that are not stored yet (earlier rows of a feed)."""
        if child == guardian:
            return [Reason("guardian_is_self", "a citizen cannot be their own guardian")]
        child_birth, guardian_birth = birth(child), birth(guardian)
        if child_birth is None or guardian_birth is None:
            return [Reason("citizen_not_found", "child or guardian is not in the registry")]
        others = {
            r.guardian
            for r in session.scalars(select(GuardianLink).where(GuardianLink.child == child))
            if r.guardian != guardian
            and rules.is_active(child_birth, r.valid_from, r.valid_to, r.ended_on, on)
        }
        others |= also - {guardian}
        return rules.link_problems(child_birth, guardian_birth, len(others), on)

    def add(
        self,
        session: Session,
        *,
        child: str,
        guardian: str,
        relation: str,
        source: str,
        valid_from: date,
        valid_to: date | None,
        legal_basis: str | None,
        ctx: AccessContext,
        now: datetime,
    ) -> Link:
        """Add a link (or reopen the same pair's link from the same source); LinkRefused when
        the rules refuse it on the day it starts to count."""
        if relation not in rules.RELATIONS:
            raise LinkRefused([Reason("invalid_relation", "unknown relation")])
        birth = self.births(session, ctx, now)
        on = max(valid_from, now.date())
        problems = self.problems(session, child, guardian, on, birth)
        if problems:
            self._audit.append(session, [ctx.event("link_refused", child, FIELDS)], now)
            raise LinkRefused(problems)
        row = self._row(session, child, guardian, source)
        if row is None:
            row = GuardianLink(
                id=uuid7s(1, now)[0], child=child, guardian=guardian, source=source, created_at=now
            )
            session.add(row)
        row.relation, row.valid_from, row.valid_to = relation, valid_from, valid_to
        row.ended_on, row.end_reason, row.legal_basis = None, None, legal_basis
        row.updated_at = now
        session.flush()
        self._audit.append(session, [ctx.event("create", child, FIELDS)], now)
        return self._view(row, birth(child), now.date())

    @staticmethod
    def _row(session: Session, child: str, guardian: str, source: str) -> GuardianLink | None:
        stmt = select(GuardianLink).where(
            GuardianLink.child == child,
            GuardianLink.guardian == guardian,
            GuardianLink.source == source,
        )
        return session.scalars(stmt).first()

    def end(
        self,
        session: Session,
        link_id: str,
        *,
        reason: str,
        legal_basis: str | None,
        ctx: AccessContext,
        now: datetime,
    ) -> Link:
        """End a link from today on (an officer's decision, or the registry no longer names
        the guardian)."""
        row = session.get(GuardianLink, link_id)
        if row is None:
            raise LinkNotFound("no such guardian link")
        if row.ended_on is None or row.ended_on > now.date():
            row.ended_on, row.end_reason, row.updated_at = now.date(), reason[:32], now
            if legal_basis:
                row.legal_basis = legal_basis[:200]
        session.flush()
        self._audit.append(session, [ctx.event("end", row.child, FIELDS)], now)
        return self._view(row, self.births(session, ctx, now)(row.child), now.date())

    # A first load's derivation holds hundreds of thousands of pairs and audit events: the
    # cyclic collector walked them again and again (16.3 s with it paused, 19.9 s without).
    @gc_paused()
    def sync_registry(
        self, session: Session, ctx: AccessContext, now: datetime
    ) -> tuple[list[str], list[str], int]:
        """Links of the citizen feed's ``guardian_id_number``: add the ones not yet here, end
        the ones the registry no longer names. Returns (added ids, ended ids, refused count):
        a registry pair the rules refuse (an adult child, a minor guardian, a third
        guardian) is left out, audited. Bulk: one pass; the birth dates of new pairs only, told
        by their blind index (Registry.guardian_pairs)."""
        today = now.date()
        stmt = select(GuardianLink).where(
            GuardianLink.source == "registry", GuardianLink.ended_on.is_(None)
        )
        current = {(r.child, r.guardian): r for r in session.scalars(stmt)}
        found = self.registry.guardian_pairs(session, ctx, now, known=current.keys())
        pairs, births = set(found.pairs), found.births
        events = []
        ended = []
        for pair, row in sorted(current.items()):
            if pair not in pairs:
                row.ended_on, row.end_reason, row.updated_at = today, "registry", now
                ended.append(row.id)
                events.append(ctx.event("end", row.child, FIELDS))
        todo = sorted(pairs - current.keys())
        children = sorted({c for c, _ in todo})
        # Each child's links as (guardian, valid_from, valid_to, ended_on).
        held: dict[str, list[tuple[str, date, date | None, date | None]]] = {}
        g = GuardianLink
        for i in range(0, len(children), 1000):
            links = select(g.child, g.guardian, g.valid_from, g.valid_to, g.ended_on).where(
                g.child.in_(children[i : i + 1000])
            )
            for r in session.execute(links):
                held.setdefault(r.child, []).append(
                    (r.guardian, r.valid_from, r.valid_to, r.ended_on)
                )
        added: list[str] = []
        new_rows: list[tuple[str, str, str]] = []
        refused = 0
        ids = iter(uuid7s(len(todo), now))
        for child, guardian in todo:
            child_birth, guardian_birth = births.get(child), births.get(guardian)
            if child_birth is None or guardian_birth is None or child == guardian:
                refused += 1
                continue
            others = {
                other
                for other, start, end, ended_on in held.get(child, [])
                if other != guardian and rules.is_active(child_birth, start, end, ended_on, today)
            }
            if rules.link_problems(child_birth, guardian_birth, len(others), today):
                refused += 1
                events.append(ctx.event("link_refused", child, FIELDS))
                continue
            link_id = next(ids)
            held.setdefault(child, []).append((guardian, today, None, None))
            new_rows.append((link_id, child, guardian))
            added.append(link_id)
            events.append(ctx.event("create", child, FIELDS))
        session.flush()
        insert_rows(  # core insert: a registry's worth of links at once
            session,
            LINKS,
            ("id", "child", "guardian"),
            new_rows,
            constants={
                "relation": "guardian",
                "source": "registry",
                "valid_from": today,
                "legal_basis": "population registry",
                "created_at": now,
                "updated_at": now,
            },
        )
        self._audit.append(session, events, now)
        return added, ended, refused

    def apply_feed(
        self,
        session: Session,
        rows: Sequence[tuple[str, str, str, date, date | None]],
        ctx: AccessContext,
        now: datetime,
    ) -> Counts:
        """Store rows of the guardian feed, already screened: (child, guardian, relation,
        valid_from, valid_to). A row equal to the stored link is not touched."""
        counts = Counts()
        for child, guardian, relation, valid_from, valid_to in rows:
            row = self._row(session, child, guardian, "feed")
            if row is None:
                session.add(
                    GuardianLink(
                        id=uuid7s(1, now)[0],
                        child=child,
                        guardian=guardian,
                        source="feed",
                        relation=relation,
                        valid_from=valid_from,
                        valid_to=valid_to,
                        legal_basis="guardian feed",
                        created_at=now,
                        updated_at=now,
                    )
                )
                counts.created += 1
                action = "create"
            elif (row.relation, row.valid_from, row.valid_to, row.ended_on) == (
                relation,
                valid_from,
                valid_to,
                None,
            ):
                counts.unchanged += 1
                continue
            else:
                row.relation, row.valid_from, row.valid_to = relation, valid_from, valid_to
                row.ended_on, row.end_reason, row.updated_at = None, None, now
                counts.updated += 1
                action = "update"
            self._audit.append(session, [ctx.event(action, child, FIELDS)], now)
        session.flush()
        return counts

    def expired(
        self, session: Session, ids: Sequence[str], ctx: AccessContext, now: datetime
    ) -> list[str]:
        """Of these link ids, the ones that no longer hold today."""
        if not ids:
            return []
        rows = list(session.scalars(select(GuardianLink).where(GuardianLink.id.in_(list(ids)))))
        known = {x.id for x in self._views(session, rows, ctx, now) if x.active}
        return [i for i in ids if i not in known]
