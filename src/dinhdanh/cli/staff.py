"""`dinhdanh staff grant | revoke | list`: staff roles of citizens (the operator's side).

The audit actor is ``operator:<os user>`` (``cli.common.operator``): the CLI has no login.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dinhdanh.cli.common import (
    container_from,
    emit_json,
    fail,
    operator_context,
    out,
    parse_expiry,
)
from dinhdanh.staff.roles import StaffRole
from dinhdanh.staff.service import GrantInfo, StaffError

staff_app = typer.Typer(no_args_is_help=True, help="Staff roles of citizens (grants).")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Reason = Annotated[str, typer.Option(help="Why (kept in the grant and the audit log).")]


def _public(g: GrantInfo, state: str) -> dict[str, Any]:
    return {
        "id": g.id,
        "subject_id": g.subject_id,
        "role": g.role.value,
        "organisation": g.organisation,
        "state": state,
        "granted_at": g.granted_at.isoformat(),
        "granted_by": g.granted_by,
        "expires_at": g.expires_at.isoformat(),
        "reason": g.reason,
        "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
        "revoked_by": g.revoked_by,
        "revoke_reason": g.revoke_reason,
    }


@staff_app.command("grant")
def staff_grant(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Argument(help="The citizen's personal ID number.")],
    role: Annotated[StaffRole, typer.Option(help="The staff role.")],
    org: Annotated[str, typer.Option(help="Organisation the person acts for (its name).")],
    expires: Annotated[
        str, typer.Option(help="When the grant ends: 90d, or an ISO date such as 2027-01-31.")
    ],
    reason: Reason,
    json_out: JsonOpt = False,
) -> None:
    """Give a citizen who has an account a staff role, until --expires."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        now = c.clock()
        expires_at = parse_expiry(expires, now)
        account = c.auth.accounts.by_id_number(session, id_number)
        if account is None:
            fail("no citizen account has this ID number (the person enrols first)")
        try:
            grant = c.staff.grant(
                session,
                account.subject_id,
                role.value,
                org,
                expires_at,
                reason,
                operator_context("staff grant"),
                now,
            )
        except StaffError as exc:
            fail(str(exc))
    if json_out:
        emit_json(_public(grant, "active"))
    else:
        out.print(
            f"grant {grant.id}: {grant.role.value} for {grant.organisation} "
            f"until {grant.expires_at.isoformat()}",
            highlight=False,
        )


@staff_app.command("revoke")
def staff_revoke(
    ctx: typer.Context,
    grant_id: Annotated[str, typer.Argument(help="The grant id (see `staff list`).")],
    reason: Reason,
    json_out: JsonOpt = False,
) -> None:
    """End a grant now, and every personal token issued under it."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            grant = c.staff.revoke(
                session, grant_id, reason, operator_context("staff revoke"), c.clock()
            )
        except StaffError as exc:
            fail(str(exc))
    if json_out:
        emit_json(_public(grant, "revoked"))
    else:
        out.print(f"revoked grant {grant.id} ({grant.role.value}, {grant.organisation})")


@staff_app.command("list")
def staff_list(
    ctx: typer.Context,
    all_grants: Annotated[
        bool, typer.Option("--all", help="Also the expired and revoked grants.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Active grants (subjects by id: nothing personal is decrypted)."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        now = c.clock()
        items = [
            _public(g, g.state(now)) for g in c.staff.list_grants(session, now, ended=all_grants)
        ]
    if json_out:
        emit_json({"items": items})
        return
    for g in items:
        out.print(
            f"{g['id']}  {g['role']:<12} {g['state']:<8} until {g['expires_at'][:10]}  "
            f"{g['subject_id']}  {g['organisation']}",
            highlight=False,
        )
