"""How many accounts each person has bound at a platform (ACCOUNT_LIMIT), kept in every one of
that person's binding rows (``platform_bindings.accounts``), so that a status read finds the
count with the binding instead of counting at every read.

The writers of bindings (``Social._bind``, ``Social.revoke``) take the platform's lock first,
then recount the persons whose bindings they changed. Without the lock, two first bindings of
one person made at once would each count only its own row (neither sees the other's
uncommitted insert) and both keep 1. On PostgreSQL the lock is a transaction-scoped advisory
lock per platform (bindings are rare next to reads: each needs an ID token or a phone code);
SQLite runs one writing transaction at a time already. (Today one person's bindings also wait
for each other at the audit chain of that person's registry reads; the count does not rely on
that.)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from dinhdanh.social import models as m

_LOCK_SPACE = 0x50B1  # the first key of pg_advisory_xact_lock(int, int): this lock's kind


def hold(session: Session, code: str) -> None:
    """Be the platform's one writer of bindings until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:space, hashtext(:code))")
        session.execute(lock, {"space": _LOCK_SPACE, "code": code})


def owner(session: Session, key: bytes) -> str | None:
    """The pairwise subject the account is bound to now, if any (under ``hold``)."""
    b = m.Binding
    return session.scalar(select(b.pairwise_sub).where(b.account_key == key))


def recount(session: Session, code: str, subs: Iterable[str | None]) -> None:
    """Write each person's count of bound accounts into all of their bindings (under
    ``hold``, after the change)."""
    b = m.Binding
    for sub in sorted({s for s in subs if s is not None}):
        mine = (b.platform == code, b.pairwise_sub == sub)
        n = select(func.count()).select_from(b).where(*mine).scalar_subquery()
        stmt = update(b).where(*mine).values(accounts=n)
        session.execute(stmt, execution_options={"synchronize_session": False})
