"""Whether any phone binding is left to flag junk. Asked before the phone checks are built:
they need the sign-in stack (a third of a second to import), which a reconciliation with no
binding left to flag never uses."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dinhdanh.social.models import Binding


def phone_bindings_waiting(session: Session) -> bool:
    b = Binding
    waiting = select(b.id).where(b.number_key.is_not(None), b.number_junk.is_(False))
    return bool(session.scalar(select(exists(waiting))))
