"""`dinhdanh platforms`: register social platforms (OIDC client in its own sector + API key)."""

from __future__ import annotations

from typing import Annotated

import typer

from dinhdanh.auth.clients import ClientConfigError
from dinhdanh.cli.common import container_from, emit_json, fail, out
from dinhdanh.social.errors import SocialError

platforms_app = typer.Typer(no_args_is_help=True, help="Social platforms and their API keys.")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@platforms_app.command("add")
def platforms_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. zalo (a-z, 0-9, '-').")],
    name: Annotated[str, typer.Option(help="The platform's name.")],
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Redirect URI of its OIDC client (repeatable).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Register a platform: its OIDC client (own sector) and API key, both secrets shown once."""
    try:
        with container_from(ctx) as c, c.unit_of_work() as session:
            p = c.social.add_platform(session, code, name, list(redirect_uri or []), c.clock())
    except (SocialError, ClientConfigError) as exc:
        fail(str(exc))
    result = {
        "code": p.code,
        "name": p.name,
        "client_id": p.client.client_id,
        "client_secret": p.client_secret,
        "sector_identifier": p.client.sector_identifier,
        "api_key_id": p.api_key_id,
        "api_key": p.api_key,
    }
    if json_out:
        emit_json(result)
        return
    out.print(f"platform {p.code} ({p.name}) registered, sector {p.client.sector_identifier}")
    out.print(f"OIDC client_id {p.client.client_id}, secret (shown once): {p.client_secret}")
    out.print(f"API key (shown once):\n{p.api_key}")


@platforms_app.command("list")
def platforms_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List the registered platforms."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        rows = [
            {"code": p.code, "name": p.name, "client_id": p.client_id}
            for p in c.social.platforms(session)
        ]
    if json_out:
        emit_json(rows)
    else:
        for r in rows:
            out.print(f"{r['code']:16} {r['client_id']:24} {r['name']}")


@platforms_app.command("recheck")
def platforms_recheck(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Flag bindings whose owner has died since (OWNER_DECEASED), or whose number is now under
    a lock case (JUNK_SIM_OWNER), and tell their platforms; revoke the age credentials of the
    dead; end the guardian approvals whose link no longer holds (an 18th birthday, a validity
    end): those accounts wait for a guardian again (guardian_pending); set the age bands of
    citizens whose birth date the registry corrected (lowered too; their age credentials
    revoked) and raise the bands reached in the periods ended since the last run
    (age_band_changed)."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        n = c.social.recheck_deceased(session, c.clock())
        # Birth dates the registry corrected: bands set again (down too), credentials revoked.
        corrected = c.age_bands.recheck_corrected(session, c.clock())
        # Before the sweep: a child who turned 16 needs no guardian, so no approval to end.
        bands = c.age_bands.refresh(session, c.clock())
        junk = c.phone_checks.recheck_numbers(session, c.clock())
        revoked = c.age_credentials.revoke_deceased(session, c.clock(), also=corrected.subjects)
        ended = c.children.sweep(session, c.clock())
    if json_out:
        emit_json(
            {
                "owner_deceased": n,
                "junk_sim_owner": junk,
                "age_credentials_revoked": revoked,
                "guardian_approvals_ended": ended,
                "birth_dates_corrected": len(corrected.subjects),
                "age_bands_corrected": corrected.changed,
                "age_bands_changed": bands.changed,
                "age_bands_through": bands.through.isoformat(),
            }
        )
    else:
        out.print(f"{n} binding(s) newly flagged OWNER_DECEASED")
        out.print(f"{junk} binding(s) newly flagged JUNK_SIM_OWNER")
        out.print(f"{revoked} age credential(s) of the dead or re-dated revoked")
        out.print(f"{ended} guardian approval(s) ended with their link")
        out.print(f"{bands.changed} binding(s) with a new age band (through {bands.through})")
        out.print(
            f"{corrected.changed} binding(s) with bands set again after "
            f"{len(corrected.subjects)} corrected birth date(s)"
        )
