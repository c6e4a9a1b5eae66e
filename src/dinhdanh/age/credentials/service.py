"""Age credentials: issue a batch, revoke a citizen's batches, revoke the deceased's.

``issue_batch`` is what the OpenID4VCI credential endpoint calls once it has checked the
wallet's proofs: one holder public key per credential. The birth date is opened once per
batch through the registry (one audit entry) and the three answers come from the one age
rule, ``identity.age.is_over``, on the day of issue. Each credential gets its own holder
key, salts and random status entry, so two verifiers shown two credentials of one batch
see nothing in common but the issuer, the day and the type.

What is kept (``models.IssuedBatch``): per batch, the subject and its status entries sealed
together, found by a keyed hash of the subject. A citizen's ``revoke_all`` and a death in
the registry (``revoke_deceased``, run with the other death rechecks) flip the batch's bits
and drop the row; rows of expired batches are dropped too (nothing left to revoke).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from dinhdanh.age.credentials.errors import IssuanceRefused
from dinhdanh.age.credentials.issuer import (
    AGE_THRESHOLDS,
    CredentialClaims,
    HolderKeyError,
    build_credential,
    holder_jwk,
    thumbprint,
)
from dinhdanh.age.credentials.keys import ISSUER_ALGS, IssuerAlg, IssuerKeys
from dinhdanh.age.credentials.models import IssuedBatch
from dinhdanh.age.credentials.verifier import Trust
from dinhdanh.age.statuslist import StatusListCache, StatusLists
from dinhdanh.crypto import KeyRing, blind_index, open_sealed, seal
from dinhdanh.identity.age import is_over
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext

BATCHES: Table = cast(Table, IssuedBatch.__table__)
_HOLDER_PURPOSE = "age.credentials.holder"


def _seal_context(batch_id: str) -> bytes:
    return b"age.batch:" + batch_id.encode()


class AgeCredentials:
    def __init__(
        self,
        ring: KeyRing,
        registry: Registry,
        issuer: str,
        *,
        validity_days: int = 90,
        max_batch: int = 10,
        list_size: int = 131_072,
        list_ttl: int = 300,
    ) -> None:
        if not 1 <= validity_days <= 90:
            raise ValueError("age credentials live 1 to 90 days")
        self._ring = ring
        self._registry = registry
        self.issuer = issuer
        self.validity = timedelta(days=validity_days)
        self.max_batch = max_batch
        self.keys = IssuerKeys(ring)
        self.lists = StatusLists(issuer, self.keys.signer("EdDSA"), list_size, list_ttl)

    def metadata(self) -> dict[str, Any]:
        """SD-JWT VC issuer metadata: served at ``/.well-known/jwt-vc-issuer``."""
        return {"issuer": self.issuer, "jwks": self.keys.jwks}

    # -- issuance ------------------------------------------------------------------------
    def issue_batch(
        self,
        session: Session,
        subject_id: str,
        holder_keys: Sequence[Mapping[str, Any]],
        ctx: AccessContext,
        now: datetime,
        *,
        alg: IssuerAlg = "EdDSA",
    ) -> list[str]:
        """One single-use SD-JWT VC per holder public key (JWK), in the order given."""
        if alg not in ISSUER_ALGS:
            raise IssuanceRefused("alg_unsupported", f"issuer signatures: {list(ISSUER_ALGS)}")
        if not 1 <= len(holder_keys) <= self.max_batch:
            raise IssuanceRefused(
                "batch_size_invalid", f"a batch has 1 to {self.max_batch} holder keys"
            )
        holders = []
        for position, jwk in enumerate(holder_keys):
            try:
                holders.append(holder_jwk(jwk))
            except HolderKeyError as exc:
                raise IssuanceRefused("holder_key_invalid", f"key {position}: {exc}") from None
        if len({thumbprint(h) for h in holders}) != len(holders):
            raise IssuanceRefused("holder_key_reused", "each credential needs its own holder key")
        # One registry read, audited: the birth date (and whether a death is recorded).
        record = self._registry.open_subject(session, subject_id, ("date_of_birth",), ctx, now)
        if record is None:
            raise IssuanceRefused("subject_unknown", "no such citizen", 404)
        if record.date_of_death is not None:
            raise IssuanceRefused("subject_deceased", "the registry lists this citizen as dead")
        today = now.astimezone(UTC).date()
        ages = {f"age_over_{n}": is_over(record.date_of_birth, n, today) for n in AGE_THRESHOLDS}
        day = datetime.combine(today, time(), UTC)
        iat, expires = int(day.timestamp()), day + self.validity
        exp = int(expires.timestamp())

        entries = self.lists.allocate(session, len(holders), now)
        key = self.keys.signer(alg)
        credentials = [
            build_credential(
                CredentialClaims(ages, holder, self.lists.uri(list_id), idx),
                issuer=self.issuer,
                iat=iat,
                exp=exp,
                key=key,
            )
            for holder, (list_id, idx) in zip(holders, entries, strict=True)
        ]
        self._keep(session, subject_id, entries, expires)
        return credentials

    def _keep(
        self, session: Session, subject_id: str, entries: list[tuple[int, int]], expires: datetime
    ) -> None:
        batch_id = str(uuid.uuid4())
        held = json.dumps({"s": subject_id, "e": entries}, separators=(",", ":")).encode()
        session.execute(
            insert(BATCHES).values(
                id=batch_id,
                holder=self._holder(subject_id),
                sealed=seal(self._ring, held, _seal_context(batch_id)),
                expires_at=expires,
            )
        )

    def _holder(self, subject_id: str) -> bytes:
        return blind_index(self._ring, subject_id, _HOLDER_PURPOSE)

    @staticmethod
    def _open(ring: KeyRing, batch_id: str, sealed: bytes) -> tuple[str, list[tuple[int, int]]]:
        held = json.loads(open_sealed(ring, sealed, _seal_context(batch_id)))
        return held["s"], [(int(a), int(b)) for a, b in held["e"]]

    def active(self, session: Session, subject_id: str, now: datetime) -> int:
        """How many credentials of the citizen are unexpired and not revoked (the account
        page). Revoked batches are deleted, so every entry left counts."""
        rows = session.execute(
            select(BATCHES.c.id, BATCHES.c.sealed, BATCHES.c.expires_at).where(
                BATCHES.c.holder == self._holder(subject_id)
            )
        ).all()
        return sum(
            len(self._open(self._ring, batch_id, sealed)[1])
            for batch_id, sealed, expires in rows
            if _aware(expires) > now
        )

    # -- revocation ----------------------------------------------------------------------
    def revoke_all(self, session: Session, subject_id: str, now: datetime) -> int:
        """Revoke every unexpired credential of the citizen; how many were revoked."""
        rows = session.execute(
            select(BATCHES.c.id, BATCHES.c.sealed, BATCHES.c.expires_at).where(
                BATCHES.c.holder == self._holder(subject_id)
            )
        ).all()
        entries = [
            e
            for batch_id, sealed, expires in rows
            if _aware(expires) > now
            for e in self._open(self._ring, batch_id, sealed)[1]
        ]
        revoked = self.lists.revoke(session, entries, now)
        if rows:
            session.execute(delete(BATCHES).where(BATCHES.c.id.in_([r[0] for r in rows])))
        return revoked

    def revoke_deceased(self, session: Session, now: datetime, also: Collection[str] = ()) -> int:
        """Revoke the credentials of citizens the registry now lists as dead, and every
        credential of the citizens in ``also`` (their birth date was corrected: what a
        credential says of their age may be wrong); run after each registry import
        (``dinhdanh platforms recheck``). Reads the registry's clear flag only. One pass over
        the batches, which opens each. Also drops the rows of expired batches. Returns how
        many were revoked."""
        wanted = set(also)
        session.execute(delete(BATCHES).where(BATCHES.c.expires_at <= now))
        by_subject: dict[str, list[tuple[str, list[tuple[int, int]]]]] = {}
        for batch_id, sealed in session.execute(select(BATCHES.c.id, BATCHES.c.sealed)):
            subject, entries = self._open(self._ring, batch_id, sealed)
            by_subject.setdefault(subject, []).append((batch_id, entries))
        batches = [
            b
            for s in by_subject
            if s in wanted or self._registry.is_deceased(session, s)
            for b in by_subject[s]
        ]
        revoked = self.lists.revoke(session, [e for _, entries in batches for e in entries], now)
        if batches:
            session.execute(delete(BATCHES).where(BATCHES.c.id.in_([b for b, _ in batches])))
        return revoked

    # -- verification --------------------------------------------------------------------
    def local_status(
        self,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        clock: Callable[[], datetime],
    ) -> StatusListCache:
        """A status source reading our own lists from the database (no HTTP round trip)."""

        def fetch(uri: str) -> str:
            with unit_of_work() as session:
                return self.lists.token_for_uri(session, uri, clock())

        return StatusListCache(fetch, self.keys.verifying, self.lists.ttl)

    def trust(self, status: Callable[[str, int, datetime], int], **options: Any) -> Trust:
        """What a verifier of our own credentials trusts (``verify_presentation``)."""
        return Trust(self.issuer, self.keys.verifying, status, **options)


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
