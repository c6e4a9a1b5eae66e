"""`dinhdanh posture agencies | systems | scan | findings`: agencies' information systems and
the perimeter checks of what they expose. The CLI is the operator: it acts for every agency."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dinhdanh.cli.common import container_from, emit_json, fail, operator_context, out
from dinhdanh.cli.imports import JsonOpt
from dinhdanh.posture.errors import PostureError
from dinhdanh.posture.register import EVERYONE, SystemView

posture_app = typer.Typer(
    no_args_is_help=True, help="Agencies' information systems, perimeter checks, findings."
)
agencies_app = typer.Typer(no_args_is_help=True, help="Agencies (organisations by tax code).")
systems_app = typer.Typer(no_args_is_help=True, help="Information systems of agencies.")
posture_app.add_typer(agencies_app, name="agencies")
posture_app.add_typer(systems_app, name="systems")


@agencies_app.command("add")
def agencies_add(
    ctx: typer.Context,
    tax_code: Annotated[str, typer.Argument(help="The organisation's tax code.")],
    json_out: JsonOpt = False,
) -> None:
    """Register an organisation of the business registry as an agency."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            agency = c.posture.register.add_agency(session, tax_code, EVERYONE, c.clock())
        except PostureError as exc:
            fail(str(exc))
    if json_out:
        emit_json({"tax_code": agency.tax_code, "name": agency.name})
    else:
        out.print(f"agency {agency.tax_code} ({agency.name}) registered")


@agencies_app.command("list")
def agencies_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List the registered agencies."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        rows = [
            {"tax_code": a.tax_code, "name": a.name} for a in c.posture.register.agencies(session)
        ]
    if json_out:
        emit_json(rows)
    else:
        for r in rows:
            out.print(f"{r['tax_code']:14} {r['name']}")


def _system(s: SystemView) -> dict[str, Any]:
    return {
        "id": s.id,
        "agency": s.agency,
        "name": s.name,
        "level": s.level,
        "responsible": s.responsible,
        "domains": list(s.domains),
        "blocks": list(s.blocks),
        "endpoints": [t.url for t in s.endpoints],
    }


@systems_app.command("add")
def systems_add(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option(help="The owner agency's tax code.")],
    name: Annotated[str, typer.Option(help="The system's name, unique in its agency.")],
    level: Annotated[int, typer.Option(help="Security level 1-5 (Decree 85/2016).")],
    endpoint: Annotated[
        list[str],
        typer.Option(help="https://host:port, http://host:port or tcp://host:port (repeat)."),
    ],
    domain: Annotated[
        list[str] | None, typer.Option(help="A domain registered to the agency (repeat).")
    ] = None,
    block: Annotated[
        list[str] | None, typer.Option(help="An IP block held by the agency (repeat).")
    ] = None,
    responsible: Annotated[
        str | None, typer.Option(help="Subject id of the responsible staff member.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Register an information system and the endpoints it exposes.

    Every endpoint's host must be under one of the system's domains or in one of its IP
    blocks, and those must be the agency's own in the internet register."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            system = c.posture.register.add_system(
                session,
                agency,
                name,
                level,
                endpoints=endpoint,
                domains=domain or (),
                blocks=block or (),
                responsible=responsible,
                scope=EVERYONE,
                by=operator_context("register an information system"),
                now=c.clock(),
            )
        except PostureError as exc:
            fail(str(exc))
    if json_out:
        emit_json(_system(system))
    else:
        out.print(f"system {system.id} ({system.name}, level {system.level}) registered")


@systems_app.command("list")
def systems_list(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option(help="Only this agency's systems.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List information systems and their endpoints."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            rows = [_system(s) for s in c.posture.register.systems(session, agency=agency)]
        except PostureError as exc:
            fail(str(exc))
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        out.print(f"{r['agency']:14} L{r['level']} {r['name']}  {' '.join(r['endpoints'])}")
