"""Platforms, bindings by login, status reads, the events feed and the citizen's own list.

A status read opens no sealed record and writes no audit entry: everything it answers was
computed when the account was bound (the registry reads then are audited), and each
platform's reads are counted per day instead (``platform_status_reads``, rows per
platform-day, incremented by one statement; the HTTP routes' counts gather in the process
for up to a second first: ``social.pending_reads``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session

from dinhdanh.age.guardian_rules import Approval, Decision, guardian_approved, next_approval
from dinhdanh.auth.clients import ClientInfo, Clients
from dinhdanh.auth.oidc.holder import holder_of
from dinhdanh.auth.oidc.pairwise import pairwise_sub
from dinhdanh.auth.oidc.provider import Provider
from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.crypto.derive import pairwise_key
from dinhdanh.crypto.jose import JoseError, verify_jwt
from dinhdanh.identity.age import is_over
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.access import Principal, create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.roles import Role
from dinhdanh.social import account_counts, status_queries
from dinhdanh.social import models as m
from dinhdanh.social.errors import (
    BatchTooLarge,
    IdTokenRejected,
    NotYourPlatform,
    PlatformExists,
    PlatformNotFound,
    SocialError,
)
from dinhdanh.social.pending_reads import Day, PendingReads
from dinhdanh.social.signals import Risk, Signals, account_key, account_keys
from dinhdanh.store import Base
from dinhdanh.store.db import record_once
from dinhdanh.store.ids import uuid7s

CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
MAX_BATCH = 10_000
MAX_ACCOUNT_ID = 200
TOKEN_MAX_AGE = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=60)
AGES = (13, 16, 18)
_CHUNK = 1000  # ids per IN (...) list

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True, slots=True)
class NewPlatform:
    code: str
    name: str
    client: ClientInfo
    client_secret: str | None
    api_key_id: str
    api_key: str  # shown once


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__, five
# times the cost, and a batch read builds up to 10,000 of them (docs/performance.md).
@dataclass(slots=True)
class Status:
    account_id: str
    verified: bool
    method: str | None = None
    acr: str | None = None
    age_over_13: bool | None = None
    age_over_16: bool | None = None
    age_over_18: bool | None = None
    # None: the owner needs no guardian; else whether a guardian approved the account
    # (age.guardian_rules); ``PENDING_GUARDIAN`` is flagged while nobody has decided yet.
    guardian_approved: bool | None = None
    risk: Risk | None = None  # from the platform's latest ranking
    flags: tuple[str, ...] = ()
    checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    account_id: str
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MyBinding:
    id: str
    platform: str
    platform_name: str
    method: str
    since: datetime
    guardian_state: str | None = None  # age.guardian_rules.Approval; None: needs no guardian


def own(who: Principal, code: str) -> str:
    """A platform key reaches its own platform's routes only (no other role reaches any)."""
    if who.role is Role.PLATFORM and who.scope == code:
        return code
    raise NotYourPlatform("this key cannot act for that platform")


def sector_of(code: str) -> str:
    """Each platform's own sector of pairwise subjects: no host it could share with another."""
    return f"platform.{code}"


class Social:
    def __init__(
        self,
        ring: KeyRing,
        registry: Registry,
        clients: Clients,
        provider: Provider,
        account_limit: int = 5,
        signals: Signals | None = None,
    ) -> None:
        self._ring = ring
        self._registry = registry
        self._clients = clients
        self._provider = provider
        self.account_limit = account_limit
        self._pairwise = pairwise_key(ring)
        self.signals = signals or Signals()
        self._seen_platforms: set[str] = set()
        self.pending_reads = PendingReads()  # the HTTP routes' counts, written a moment later

    # -- platforms ---------------------------------------------------------------------
    def add_platform(
        self, session: Session, code: str, name: str, redirect_uris: list[str], now: datetime
    ) -> NewPlatform:
        code = code.strip().lower()
        name = name.strip()
        if not CODE.fullmatch(code):
            raise SocialError("a platform code is 2 to 32 of a-z, 0-9 and '-'")
        if not name:
            raise SocialError("a platform needs a name")
        if session.get(m.Platform, code) is not None:
            raise PlatformExists(f"platform {code} is already registered")
        client, secret = self._clients.create(
            session,
            name=name,
            redirect_uris=redirect_uris,
            sector_identifier=sector_of(code),
            now=now,
        )
        session.add(m.Platform(code=code, name=name, client_id=client.client_id, created_at=now))
        key_id, token = create_api_key(session, name, Role.PLATFORM, now, scope=code, owner=name)
        session.flush()
        return NewPlatform(code, name, client, secret, key_id, token)

    def platforms(self, session: Session) -> list[m.Platform]:
        return list(session.scalars(select(m.Platform).order_by(m.Platform.code)))

    def _platform(self, session: Session, code: str) -> m.Platform:
        row = session.get(m.Platform, code)
        if row is None:
            raise PlatformNotFound(f"no platform {code!r}")
        return row

    # -- binding by login ----------------------------------------------------------------
    def _account_key(self, code: str, account_id: str) -> bytes:
        return account_key(self._ring, code, account_id)

    @staticmethod
    def _seal_context(code: str, account_key: bytes) -> bytes:
        return b"social.binding\x00" + code.encode() + b"\x00" + account_key

    def _check_token(self, client: ClientInfo, token: str, now: datetime) -> dict[str, Any]:
        keys = self._provider.keys
        try:
            claims = verify_jwt(token, keys.public, algorithms=keys.algorithms, typ="JWT")
        except JoseError:
            raise IdTokenRejected("id_token_invalid", "the ID token does not verify") from None
        if claims.get("iss") != self._provider.issuer:
            raise IdTokenRejected("id_token_invalid", "the ID token is from another issuer")
        aud = claims.get("aud")
        if aud != client.client_id and not (isinstance(aud, list) and aud == [client.client_id]):
            raise IdTokenRejected("id_token_wrong_audience", "the ID token is for another client")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise IdTokenRejected("id_token_invalid", "the ID token lacks exp or iat")
        if exp <= now.timestamp():
            raise IdTokenRejected("id_token_expired", "the ID token has expired")
        issued = datetime.fromtimestamp(iat, now.tzinfo)
        if issued < now - TOKEN_MAX_AGE or issued > now + CLOCK_SKEW:
            raise IdTokenRejected(
                "id_token_too_old", "the ID token was issued more than 10 minutes ago"
            )
        for claim in ("sub", "nonce", "acr"):
            if not isinstance(claims.get(claim), str) or not claims[claim]:
                raise IdTokenRejected("id_token_invalid", f"the ID token has no {claim}")
        return claims

    def bind_login(
        self, session: Session, code: str, account_id: str, id_token: str, now: datetime
    ) -> Status:
        """Bind the platform's ``account_id`` to the person the ID token was issued for."""
        if not 1 <= len(account_id) <= MAX_ACCOUNT_ID:
            raise SocialError(f"an account id has 1 to {MAX_ACCOUNT_ID} characters")
        platform = self._platform(session, code)
        client = self._clients.get(session, platform.client_id)
        if client is None:
            raise SocialError("the platform's client is disabled")
        claims = self._check_token(client, id_token, now)
        nonce, sub = str(claims["nonce"]), str(claims["sub"])
        expires = datetime.fromtimestamp(int(claims["iat"]), now.tzinfo) + TOKEN_MAX_AGE
        row = {"platform": code, "nonce": nonce, "expires_at": expires + CLOCK_SKEW}
        if not record_once(session, m.UsedNonce, row, now):
            raise IdTokenRejected("id_token_replayed", "this ID token's nonce was already used")
        subject = holder_of(session, self._provider, client, sub, nonce)
        if subject is None:
            raise IdTokenRejected("id_token_unknown_subject", "no sign-in matches this ID token")
        return self._bind(session, code, account_id, subject, sub, "login", str(claims["acr"]), now)

    def _bind(
        self,
        session: Session,
        code: str,
        account_id: str,
        subject: str,
        sub: str,
        method: str,
        acr: str,
        now: datetime,
        number_key: bytes | None = None,
    ) -> Status:
        """Write the binding of ``account_id`` to citizen ``subject`` (the one writer of
        binding rows: login here, phone in ``social.phone``)."""
        ctx = AccessContext(f"platform:{code}", "platform", "account binding")
        ages = [self._registry.is_over(session, subject, y, now.date(), ctx, now) for y in AGES]
        key = self._account_key(code, account_id)
        sealed = json.dumps({"subject": subject, "account": account_id}).encode()
        row = {
            "id": uuid7s(1, now)[0],
            "platform": code,
            "account_key": key,
            "pairwise_sub": sub,
            "subject_sealed": seal(self._ring, sealed, self._seal_context(code, key)),
            "method": method,
            "acr": acr,
            "age_over_13": ages[0],
            "age_over_16": ages[1],
            "age_over_18": ages[2],
            "owner_deceased": bool(self._registry.is_deceased(session, subject)),
            "checked_at": now,
            "number_key": number_key,
            "number_junk": False,
            # A child's account waits for a guardian (age.children); an adult's needs none.
            "guardian_state": Approval.PENDING.value if ages[1] is False else None,
            "guardian_link": None,
        }
        account_counts.hold(session, code)  # the counts of accounts per person stay exact
        before = account_counts.owner(session, key)
        # One statement: two binders of one account at once both succeed, the last one wins.
        stmt = _insert(session, m.Binding).values(row)
        table = cast(Table, m.Binding.__table__)
        same_child = (table.c.pairwise_sub == stmt.excluded.pairwise_sub) & (
            stmt.excluded.guardian_state.is_not(None)
        )
        # The same child binding the same account again keeps the guardian's decision.
        keep = {
            "guardian_state": case(
                (same_child, table.c.guardian_state), else_=stmt.excluded.guardian_state
            ),
            "guardian_link": case((same_child, table.c.guardian_link), else_=None),
        }
        stmt = stmt.on_conflict_do_update(index_elements=["account_key"], set_=row | keep)
        session.execute(stmt)
        account_counts.recount(session, code, (sub, before))
        self._event(session, code, account_id, "binding_created", now)
        session.flush()
        return self._statuses(session, code, [account_id], now, record=False, count=False)[0]

    # -- status ------------------------------------------------------------------------
    def status(
        self,
        session: Session,
        code: str,
        account_ids: Sequence[str],
        now: datetime,
        *,
        count_later: UnitOfWork | None = None,
    ) -> list[Status]:
        """Statuses in the order asked; unbound accounts answer ``verified: false``.

        The reads are counted in ``session``; with ``count_later`` (the HTTP routes), in
        this process instead, written through that unit of work within
        ``pending_reads.FLUSH_SECONDS`` (``flush_reads`` writes them at once)."""
        if len(account_ids) > MAX_BATCH:
            raise BatchTooLarge(f"at most {MAX_BATCH} account ids per call")
        if code not in self._seen_platforms:  # platforms are never removed: one look is enough
            self._platform(session, code)
            self._seen_platforms.add(code)
        found = self._statuses(
            session, code, account_ids, now, record=True, count=count_later is None
        )
        if count_later is not None and self.pending_reads.add(code, now.date(), len(found)):
            self.pending_reads.write_later(lambda taken: self._store_reads(count_later, taken))
        return found

    @staticmethod
    def _store_reads(work: UnitOfWork, taken: Counter[Day]) -> None:
        # One transaction: a failed write is put back whole, never half counted twice.
        with work() as session:
            for (code, day), n in sorted(taken.items()):
                status_queries.count(session, code, day, n)

    def flush_reads(self, work: UnitOfWork) -> int:
        """Write this process's pending read counts now (at shutdown); returns how many."""
        return self.pending_reads.write(lambda taken: self._store_reads(work, taken))

    def _statuses(
        self,
        session: Session,
        code: str,
        account_ids: Sequence[str],
        now: datetime,
        *,
        record: bool,
        count: bool,
    ) -> list[Status]:
        keys = account_keys(self._ring, code, account_ids)
        wanted = sorted(set(keys))
        due = now - self.signals.grace
        rows, risk, late = status_queries.read(session, code, wanted, due)
        seen = self.signals.seen(session, code, wanted, rows.keys(), risk, late, now, record=record)
        if count:
            self._count_reads(session, code, now.date(), len(account_ids))
        out = []
        risk_of, limit = seen.risk.get, self.account_limit  # looked up once, not per id
        for account_id, key in zip(account_ids, keys, strict=True):
            b = rows.get(key)
            if b is None:
                out.append(Status(account_id, False, risk=risk_of(key), flags=seen.flags_of(key)))
                continue
            # Positional, in the fields' order: a batch builds up to 10,000 (keywords cost).
            out.append(
                Status(
                    account_id,
                    True,
                    b.method,
                    b.acr,
                    b.age_over_13,
                    b.age_over_16,
                    b.age_over_18,
                    guardian_approved(b.guardian_state),
                    risk_of(key),
                    _flags(b, limit),
                    _utc(b.checked_at),
                )
            )
        return out

    @staticmethod
    def _count_reads(session: Session, code: str, day: date, n: int) -> None:
        """Add ``n`` to the platform-day counter in one statement (concurrent calls add up,
        in slots on PostgreSQL: ``social.status_queries``)."""
        status_queries.count(session, code, day, n)

    def reads(self, session: Session, code: str, day: date) -> int:
        """How many account statuses the platform read on ``day`` (UTC): those written and
        those this process has yet to write (another process's within a second)."""
        r = m.StatusReads
        stmt = select(func.sum(r.reads)).where(r.platform == code, r.day == day)
        return int(session.scalar(stmt) or 0) + self.pending_reads.pending(code, day)

    # -- events ------------------------------------------------------------------------
    @staticmethod
    def _event(session: Session, code: str, account_id: str, kind: str, now: datetime) -> None:
        """Add an event to the platform's feed, in the order readers will see it.

        Ids come from one sequence, taken at insert and visible at commit: on PostgreSQL a
        writer that took a lower id could commit after a reader had read past a higher one,
        and a reader following its cursor would never see it. Holding the platform's row
        (FOR NO KEY UPDATE, which inserts referencing it do not wait for) until commit makes
        one platform's event writers take ids in commit order. SQLite has one writer at a
        time anyway. Lock order: write the rows an event is about before the event, never
        after it (``recheck_deceased``), so no transaction waits for a binding row while
        holding a platform (docs/architecture.md, Events).
        """
        lock = select(m.Platform.code).where(m.Platform.code == code)
        session.execute(lock.with_for_update(key_share=True))
        session.add(m.PlatformEvent(platform=code, account_id=account_id, kind=kind, at=now))

    def events(self, session: Session, code: str, after: int, limit: int = 1000) -> list[Event]:
        """The platform's events with an id above ``after`` (the cursor), oldest first."""
        stmt = (
            select(m.PlatformEvent)
            .where(m.PlatformEvent.platform == code, m.PlatformEvent.id > after)
            .order_by(m.PlatformEvent.id)
            .limit(limit)
        )
        return [Event(e.id, e.account_id, e.kind, _utc(e.at)) for e in session.scalars(stmt)]

    def recheck_deceased(self, session: Session, now: datetime) -> int:
        """Flag the bindings whose owner the registry now lists as deceased and tell each
        platform (``owner_deceased``); returns how many. Run after each registry import.
        Reads the registry's clear flag only: nothing personal is opened."""
        stmt = select(m.Binding).where(m.Binding.owner_deceased.is_(False))
        changed: list[tuple[str, str]] = []
        for b in session.scalars(stmt):
            held = self._open(b)
            if self._registry.is_deceased(session, held["subject"]):
                b.owner_deceased, b.checked_at = True, now
                changed.append((b.platform, held["account"]))
        session.flush()  # the bindings first, then the platforms' feeds (lock order: _event)
        for code, account_id in sorted(changed):
            self._event(session, code, account_id, "owner_deceased", now)
        session.flush()
        return len(changed)

    def oldest_band_check(self, session: Session) -> date | None:
        """The earliest day a binding with a band still false was checked (its bands are
        right as of that day): where a first age-band refresh starts."""
        b = m.Binding
        low = b.age_over_13.is_(False) | b.age_over_16.is_(False) | b.age_over_18.is_(False)
        first = session.scalar(select(func.min(b.checked_at)).where(low))
        return None if first is None else _utc(first).date()

    def raise_age_bands(
        self, session: Session, turned: Mapping[int, Sequence[str]], now: datetime
    ) -> int:
        """Raise the bands of the bindings of citizens who reached them (``turned``: years ->
        subject ids, from ``age.bands``) and tell each platform ``age_band_changed``, once per
        binding, without saying which band or birthday. Found by each platform's pairwise
        subject, recomputed from its sector (no column joins platforms); at 16 the account
        needs a guardian no more (as ``_bind`` decides), so its guardian state ends. Returns
        how many bindings changed; a binding whose band is already true is not touched."""
        changed: dict[str, m.Binding] = {}
        platforms = self.platforms(session)
        for years, subjects in sorted(turned.items()):
            column = getattr(m.Binding, f"age_over_{years}")
            for p in platforms:
                subs = [pairwise_sub(self._pairwise, sector_of(p.code), s) for s in subjects]
                for b in self._locked_bindings(session, p.code, subs, column.is_(False)):
                    setattr(b, f"age_over_{years}", True)
                    if years == AGES[1]:
                        b.guardian_state, b.guardian_link = None, None
                    b.checked_at = now
                    changed[b.id] = b
        return self._bands_changed(session, changed.values(), now)

    def _locked_bindings(
        self, session: Session, code: str, subs: Iterable[str], *where: Any
    ) -> Iterator[m.Binding]:
        """The bindings at platform ``code`` of these pairwise subjects, locked: a guardian
        deciding at the same time sees a band change first or is seen (``guardian_decide``
        re-reads its row locked)."""
        for chunk in _chunks(sorted(subs)):
            stmt = select(m.Binding).where(
                m.Binding.platform == code, m.Binding.pairwise_sub.in_(chunk), *where
            )
            yield from session.scalars(stmt.with_for_update())

    def _bands_changed(self, session: Session, changed: Iterable[m.Binding], now: datetime) -> int:
        """Tell each changed binding's platform ``age_band_changed``; how many there are."""
        session.flush()  # the bindings first, then the platforms' feeds (lock order: _event)
        # Opened for the platform's account id, and only for the bindings that changed.
        told = sorted((b.platform, self._open(b)["account"]) for b in changed)
        for code, account_id in told:
            self._event(session, code, account_id, "age_band_changed", now)
        session.flush()
        return len(told)

    def recheck_age_bands(self, session: Session, births: Mapping[str, date], now: datetime) -> int:
        """Set the bands of the bindings of citizens whose birth date was corrected
        (``births``: subject id -> the corrected date) to what that date gives today, down
        as well as up, as ``_bind`` would: an account now under 16 waits for a guardian
        again, one now 16 or over needs none; each changed binding's platform is told
        ``age_band_changed``. Returns how many bindings changed."""
        changed: dict[str, m.Binding] = {}
        today = now.date()
        for p in self.platforms(session):
            by_sub = {
                pairwise_sub(self._pairwise, sector_of(p.code), s): d for s, d in births.items()
            }
            for b in self._locked_bindings(session, p.code, by_sub):
                ages = [is_over(by_sub[b.pairwise_sub], y, today) for y in AGES]
                if [b.age_over_13, b.age_over_16, b.age_over_18] == ages:
                    continue
                b.age_over_13, b.age_over_16, b.age_over_18 = ages
                if not ages[1] and b.guardian_state is None:
                    b.guardian_state = Approval.PENDING.value
                elif ages[1]:
                    b.guardian_state, b.guardian_link = None, None
                b.checked_at = now
                changed[b.id] = b
        return self._bands_changed(session, changed.values(), now)

    def _open(self, b: m.Binding) -> dict[str, str]:
        context = self._seal_context(b.platform, b.account_key)
        held: dict[str, str] = json.loads(open_sealed(self._ring, b.subject_sealed, context))
        return held

    def reidentify(self, session: Session, code: str, account_id: str) -> str | None:
        """The citizen bound to ``account_id`` at platform ``code`` (subject id), or None.

        The one way from a platform account to a person: only an approved re-identification
        request calls it (privacy.disclosure); tests/privacy/test_no_reidentification_route.py
        checks that no other module does."""
        key = self._account_key(code, account_id)
        b = session.scalars(select(m.Binding).where(m.Binding.account_key == key)).first()
        return None if b is None else self._open(b)["subject"]

    # -- the citizen's side --------------------------------------------------------------
    def _mine(self, session: Session, subject_id: str) -> list[tuple[m.Binding, m.Platform]]:
        # Each platform's pairwise subject of this citizen, recomputed from its sector: the
        # stored rows carry no value that is the same across platforms (docs/architecture.md).
        subs = {
            pairwise_sub(self._pairwise, sector_of(p.code), subject_id): p
            for p in self.platforms(session)
        }
        found: list[tuple[m.Binding, m.Platform]] = []
        for chunk in _chunks(list(subs)):
            stmt = select(m.Binding).where(m.Binding.pairwise_sub.in_(chunk))
            for b in session.scalars(stmt):
                platform = subs[b.pairwise_sub]
                if b.platform == platform.code:
                    found.append((b, platform))
        return found

    def bindings_of(self, session: Session, subject_id: str) -> list[MyBinding]:
        rows = self._mine(session, subject_id)
        items = [
            MyBinding(b.id, p.code, p.name, b.method, _utc(b.checked_at), b.guardian_state)
            for b, p in rows
        ]
        return sorted(items, key=lambda x: (x.platform_name, x.since))

    def revoke(self, session: Session, subject_id: str, binding_id: str, now: datetime) -> bool:
        """The citizen ends one of their bindings; the platform sees ``binding_revoked``."""
        for b, _platform in self._mine(session, subject_id):
            if b.id == binding_id:
                account_id = self._open(b)["account"]
                account_counts.hold(session, b.platform)
                session.delete(b)
                session.flush()
                account_counts.recount(session, b.platform, [b.pairwise_sub])
                self._event(session, b.platform, account_id, "binding_revoked", now)
                session.flush()
                return True
        return False

    # -- a guardian's decisions (age.children decides who may make them) -----------------
    def guardian_decide(
        self,
        session: Session,
        child: str,
        binding_id: str,
        decision: Decision,
        link_id: str,
        now: datetime,
    ) -> Approval | None:
        """Apply ``decision`` to the child's binding; the platform sees it in its feed.
        None when the child has no such binding awaiting a guardian or the state does not
        accept the decision."""
        for b, _platform in self._mine(session, child):
            if b.id != binding_id or b.guardian_state is None:
                continue
            session.refresh(b, with_for_update=True)  # an age-band refresh may have ended it
            if b.guardian_state is None:
                return None
            after = next_approval(Approval(b.guardian_state), decision)
            if after is None:
                return None
            b.guardian_state = after.value
            b.guardian_link = self._seal_link(b, link_id) if after is Approval.APPROVED else None
            session.flush()  # the binding first, then the feed (lock order: _event)
            self._event(session, b.platform, self._open(b)["account"], f"guardian_{after}", now)
            session.flush()
            return after
        return None

    @staticmethod
    def _link_context(b: m.Binding) -> bytes:
        return b"social.guardian_link\x00" + b.account_key

    def _seal_link(self, b: m.Binding, link_id: str) -> bytes:
        return seal(self._ring, link_id.encode(), self._link_context(b))

    def _approved(self, session: Session) -> list[tuple[m.Binding, str]]:
        """Approved bindings with the link each was approved under (opened one by one:
        approved children's accounts are few)."""
        stmt = select(m.Binding).where(m.Binding.guardian_state == Approval.APPROVED.value)
        return [
            (b, open_sealed(self._ring, b.guardian_link, self._link_context(b)).decode())
            for b in session.scalars(stmt)
            if b.guardian_link is not None
        ]

    def approvals_under(self, session: Session) -> set[str]:
        """The guardian links that approvals stand on."""
        return {link for _b, link in self._approved(session)}

    def end_approvals(self, session: Session, link_ids: Sequence[str], now: datetime) -> int:
        """The approvals given under these guardian links end (the link ended): the bindings
        wait for a guardian again, and each platform sees ``guardian_pending``."""
        if not link_ids:
            return 0
        ending = set(link_ids)
        changed = []
        for b, link in self._approved(session):
            if link not in ending:
                continue
            after = next_approval(Approval.APPROVED, Decision.LINK_ENDED)
            assert after is not None
            b.guardian_state, b.guardian_link = after.value, None
            changed.append((b.platform, self._open(b)["account"]))
        session.flush()
        for code, account_id in sorted(changed):
            self._event(session, code, account_id, "guardian_pending", now)
        session.flush()
        return len(changed)

    def guardian_approved_for(self, session: Session, client_id: str, sub: str) -> bool:
        """Whether a guardian approved an account of the person with pairwise ``sub`` at the
        platform of this OIDC client (the ID token's ``guardian_approved``)."""
        stmt = (
            select(m.Binding.id)
            .join(m.Platform, m.Platform.code == m.Binding.platform)
            .where(
                m.Platform.client_id == client_id,
                m.Binding.pairwise_sub == sub,
                m.Binding.guardian_state == Approval.APPROVED.value,
            )
            .limit(1)
        )
        return session.scalar(stmt) is not None


def _insert(session: Session, model: type[Base]) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update`` on both databases."""
    name = session.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite_dialect.insert
    return insert(cast(Table, model.__table__))


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _flags(b: Any, limit: int) -> tuple[str, ...]:
    """The policy flags of a bound account's row (``status_queries.STATUS_COLUMNS``)."""
    pending = b.guardian_state == Approval.PENDING
    if b.accounts <= limit and not (b.owner_deceased or b.number_junk or pending):
        return ()  # most accounts
    flags = []
    if b.accounts > limit:  # the person's bindings at this platform
        flags.append("ACCOUNT_LIMIT")
    if b.owner_deceased:
        flags.append("OWNER_DECEASED")
    if b.number_junk:
        flags.append("JUNK_SIM_OWNER")
    if pending:
        flags.append("PENDING_GUARDIAN")
    return tuple(flags)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
