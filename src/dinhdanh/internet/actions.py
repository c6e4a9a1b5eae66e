"""The registrars' action feed, like the carriers' (telecom ``CarrierAction``): instructions a
registrar fetches with its own API key and acknowledges once carried out.

- ``verify``: a reconciliation flagged the name (its reasons travel with the action): verify
  the registrant, then correct the registration or suspend the name;
- ``cleared``: a name flagged before is ok again;
- ``disowned``: the person the name is registered to said "not mine" (REGISTRANT_DISOWNED).

``domain_flags`` keeps what each registrar was last told, so that a rerun on unchanged data
sends nothing new (reruns are idempotent) and a change of reasons sends one ``verify``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from dinhdanh.internet import models as m

_CHUNK = 5000


class Action(StrEnum):
    VERIFY = "verify"
    CLEARED = "cleared"
    DISOWNED = "disowned"


def _joined(reasons: Iterable[str]) -> str:
    return ",".join(sorted(set(reasons)))


def _send(session: Session, rows: Sequence[tuple[str, str, Action, str]], now: datetime) -> None:
    if rows:
        session.execute(
            insert(m.RegistrarAction),
            [
                {
                    "registrar": registrar,
                    "ascii_name": name,
                    "action": action.value,
                    "reasons": reasons,
                    "created_at": now,
                    "acknowledged_at": None,
                }
                for registrar, name, action, reasons in rows
            ],
        )


def apply_verdicts(
    session: Session, flagged: Iterable[tuple[str, str, Sequence[str]]], now: datetime
) -> dict[str, int]:
    """Flag and tell registrars of every flagged (registrar, name, reasons) of a full run whose
    reasons changed; clear the flags of names the run found ok (or no longer has)."""
    known = {
        name: (registrar, reasons)
        for name, registrar, reasons in session.execute(
            select(m.DomainFlag.ascii_name, m.DomainFlag.registrar, m.DomainFlag.reasons)
        )
    }
    fresh: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    sent: list[tuple[str, str, Action, str]] = []
    seen: set[str] = set()
    for registrar, name, reasons in flagged:
        seen.add(name)
        joined = _joined(reasons)
        before = known.get(name)
        if before == (registrar, joined):
            continue
        row = {"ascii_name": name, "registrar": registrar, "reasons": joined, "since": now}
        (fresh if before is None else changed).append(row)
        sent.append((registrar, name, Action.VERIFY, joined))
    gone = [name for name in known if name not in seen]
    if fresh:
        session.execute(insert(m.DomainFlag), fresh)
    if changed:
        session.execute(update(m.DomainFlag), changed)
    for i in range(0, len(gone), _CHUNK):
        part = gone[i : i + _CHUNK]
        session.execute(delete(m.DomainFlag).where(m.DomainFlag.ascii_name.in_(part)))
    sent += [(known[name][0], name, Action.CLEARED, "") for name in gone]
    _send(session, sent, now)
    return {"opened": len(fresh), "changed": len(changed), "cleared": len(gone)}


def flag_disowned(
    session: Session, registrar: str, ascii_name: str, reason: str, now: datetime
) -> None:
    """Add ``reason`` to the name's flag at once and tell its registrar (``disowned``)."""
    flag = session.get(m.DomainFlag, ascii_name)
    if flag is None:
        flag = m.DomainFlag(ascii_name=ascii_name, registrar=registrar, reasons="", since=now)
        session.add(flag)
    flag.registrar = registrar
    flag.reasons = _joined([*filter(None, flag.reasons.split(",")), reason])
    _send(session, [(registrar, ascii_name, Action.DISOWNED, flag.reasons)], now)


def pending(session: Session, registrar: str, limit: int = 1000) -> list[m.RegistrarAction]:
    """The registrar's actions not yet acknowledged, oldest first."""
    stmt = (
        select(m.RegistrarAction)
        .where(
            m.RegistrarAction.registrar == registrar, m.RegistrarAction.acknowledged_at.is_(None)
        )
        .order_by(m.RegistrarAction.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def acknowledge(session: Session, registrar: str, action_ids: Sequence[int], now: datetime) -> int:
    """Mark the registrar's own actions done; ids of other registrars are ignored."""
    if not action_ids:
        return 0
    result = session.execute(
        update(m.RegistrarAction)
        .where(
            m.RegistrarAction.registrar == registrar,
            m.RegistrarAction.id.in_(list(action_ids)),
            m.RegistrarAction.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
