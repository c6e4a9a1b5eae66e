"""Staff test helpers: citizens with accounts, grants and personal officer tokens."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.staff.service import GrantInfo
from dinhdanh.wiring import Container, build
from tests.support import Citizen, make_citizen

ORG = "Công an tỉnh Bắc Ninh"
OPERATOR = AccessContext("operator:test", "operator", "test")


def person(c: Container, n: int = 0, *, with_account: bool = True) -> Citizen:
    """The n-th of a few distinct citizens, made once (0 is make_citizen's default)."""
    ids = ["001090012345", "001085000042", "002092000314", "004078000271"]
    born = [date(1990, 5, 12), date(1985, 3, 1), date(1992, 7, 2), date(1978, 11, 3)]
    name, phone = f"Người Thử {n}", f"+8491234560{n}"
    with c.unit_of_work() as s:
        account = c.auth.accounts.by_id_number(s, ids[n])
        if account is not None:
            return Citizen(ids[n], account.subject_id, account.id, name, born[n], phone)
    return make_citizen(c, ids[n], name, born[n], phone, with_account=with_account)


def grant(
    c: Container,
    who: Citizen,
    role: str = "officer",
    *,
    org: str = ORG,
    days: int = 30,
    now: datetime | None = None,
    by: AccessContext = OPERATOR,
) -> GrantInfo:
    at = now or c.clock()
    with c.unit_of_work() as s:
        return c.staff.grant(
            s, who.subject_id, role, org, at + timedelta(days=days), "test grant", by, at
        )


def token(c: Container, g: GrantInfo, now: datetime | None = None) -> str:
    with c.unit_of_work() as s:
        _, tok, _ = c.staff.issue_token(s, g.id, "test token", OPERATOR, now or c.clock())
    return tok


def officer_headers(c: Container, who: Citizen | None = None) -> dict[str, str]:
    """A personal officer token of ``who`` (default: citizen 3), as request headers."""
    g = grant(c, who or person(c, 3))
    return {"Authorization": f"Bearer {token(c, g)}"}


def officer_token_in(settings: Settings) -> str:
    """A personal officer token in an initialised data directory (for CLI and server tests)."""
    c = build(settings)
    try:
        return token(c, grant(c, person(c, 3)))
    finally:
        c.close()
