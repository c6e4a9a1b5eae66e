"""`dinhdanh posture agencies | systems | scan | findings`: agencies' information systems and
the perimeter checks of what they expose. The CLI is the operator: it acts for every agency."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
from dinhdanh.cli.imports import (
    ChunkOpt,
    JsonOpt,
    RejectsOpt,
    StrictOpt,
    batch_run,
    finish,
    run_import,
)
from dinhdanh.posture.errors import PostureError
from dinhdanh.posture.findings import FindingView, accept_risk, acknowledge, findings
from dinhdanh.posture.kev import import_catalogue
from dinhdanh.posture.register import EVERYONE, SystemView
from dinhdanh.posture.report import write_index
from dinhdanh.store.batch import DEFAULT_CHUNK_SIZE, BatchReport, OnReject
from dinhdanh.store.batch import Progress as ProgressFn
from dinhdanh.wiring import Container

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


@systems_app.command("level")
def systems_level(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="The system's id, or its name if unique.")],
    level: Annotated[int, typer.Argument(help="The new security level 1-5 (Decree 85/2016).")],
    json_out: JsonOpt = False,
) -> None:
    """Change a system's security level; the deadlines of its open findings follow it."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        found = c.posture.register.systems(session, system=system)
        if len(found) != 1:
            fail(f"{len(found)} systems have the id or name {system!r}")
        try:
            view, changed = c.posture.register.set_level(
                session, found[0].id, level, scope=EVERYONE, now=c.clock()
            )
        except PostureError as exc:
            fail(str(exc))
    if json_out:
        emit_json(_system(view) | {"deadlines_changed": changed})
    else:
        out.print(f"system {view.id} ({view.name}): level {view.level}, {changed} deadlines moved")


@systems_app.command("import")
def systems_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet.")],
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    json_out: JsonOpt = False,
) -> None:
    """Register information systems in bulk (idempotent, resumable).

    Columns: agency (tax code), name, level (1-5), endpoints, and optionally domains and
    blocks (each list separated by spaces). A row is one system by agency and name; the same
    row again changes nothing, another level or list brings the system in line with it."""
    from dinhdanh.posture.importer import import_systems

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        options = batch_run(c, progress, on_reject, strict=strict, chunk_size=chunk_size)
        by = operator_context("import information systems")
        return import_systems(file, register=c.posture.register, ctx=by, run=options)

    finish(run_import(ctx, run, rejects=rejects, label="name", quiet=json_out), json_out)


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


kev_app = typer.Typer(no_args_is_help=True, help="The known-exploited vulnerabilities catalogue.")
posture_app.add_typer(kev_app, name="kev")


@kev_app.command("import")
def kev_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A catalogue in CISA KEV's JSON format.")],
    json_out: JsonOpt = False,
) -> None:
    """Import (or update) the catalogue; idempotent."""
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{file}: {exc}")
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            created, updated = import_catalogue(session, data)
        except ValueError as exc:
            fail(f"{file}: {exc}")
    result = {"created": created, "updated": updated}
    if json_out:
        emit_json(result)
    else:
        out.print(f"{created} entries added, {updated} updated")


@posture_app.command("scan")
def scan(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option(help="Only this agency's systems.")] = None,
    system: Annotated[str | None, typer.Option(help="Only this system (id or name).")] = None,
    due: Annotated[
        bool,
        typer.Option(
            help="Only systems not checked within DINHDANH_POSTURE_SCAN_EVERY_HOURS "
            "(for a scheduler: cron runs `scan --due` often, each system is checked once "
            "per period)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check the registered endpoints and domains (and nothing else); resumes an unfinished
    run of the same scope."""
    with container_from(ctx) as c:
        try:
            scanner = c.posture.scanner()
        except (OSError, ValueError) as exc:
            fail(f"trust store: {exc}")
        try:
            every = timedelta(hours=c.settings.posture_scan_every_hours) if due else None
            report = scanner.run(
                c.unit_of_work, c.clock, agency=agency, system=system, due_every=every
            )
        except PostureError as exc:
            fail(str(exc))
    if json_out:
        emit_json(asdict(report))
        return
    verb = "resumed" if report.resumed else "ran"
    out.print(
        f"{verb} scan {report.run_id}: {report.done} of {report.items} targets checked, "
        f"{report.failed} failed; {report.opened} findings opened, {report.fixed} fixed"
    )


def _finding(v: FindingView) -> dict[str, Any]:
    return {
        "id": v.id,
        "agency": v.agency,
        "system": v.system,
        "endpoint": v.target,
        "code": v.code,
        "item": v.item or None,
        "severity": v.severity,
        "state": v.state,
        "opened": v.opened.isoformat(),
        "deadline": v.deadline.isoformat() if v.deadline else None,
        "overdue": v.overdue,
        "evidence": v.evidence,
    }


@posture_app.command("findings")
def findings_list(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option(help="Only this agency's findings.")] = None,
    system: Annotated[str | None, typer.Option(help="Only this system (id or name).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Open findings (acknowledged and accepted ones too), by agency, system and deadline."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        rows = [_finding(v) for v in findings(session, c.clock(), agency=agency, system=system)]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        late = " OVERDUE" if r["overdue"] else ""
        out.print(
            f"{r['id']} {r['system']} {r['endpoint']} {r['code']} {r['severity']} "
            f"{r['state']} opened {r['opened'][:10]} deadline {(r['deadline'] or '-')[:10]}{late}",
            highlight=False,
        )


@posture_app.command("ack")
def ack(ctx: typer.Context, finding: Annotated[str, typer.Argument(help="Finding id.")]) -> None:
    """The agency acknowledges a finding (its deadline does not change)."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            acknowledge(session, finding, operator_context("acknowledge"), EVERYONE, c.clock())
        except PostureError as exc:
            fail(str(exc))
    out.print(f"finding {finding} acknowledged")


@posture_app.command("accept")
def accept(
    ctx: typer.Context,
    finding: Annotated[str, typer.Argument(help="Finding id.")],
    until: Annotated[str, typer.Option(help="Expiry: 90d or an ISO 8601 date.")],
    reason: Annotated[str, typer.Option(help="Why the risk is accepted.")],
) -> None:
    """Accept a finding's risk until a date (the operator as approver); open again after."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        now = c.clock()
        expiry = parse_expiry(until, now, "--until")
        try:
            accept_risk(session, finding, expiry, reason, operator_context("accept risk"), now)
        except PostureError as exc:
            fail(str(exc))
    out.print(f"finding {finding} accepted until {expiry.date()}")


@posture_app.command("index")
def index(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The date (ISO 8601, UTC).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for Parquet and HTML.")],
    json_out: JsonOpt = False,
) -> None:
    """The cybersecurity index per system and agency (docs/posture.md): findings.parquet,
    scores.parquet (with 12 weeks of trend) and report.html."""
    try:
        day = datetime.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of {as_of!r}: give an ISO 8601 date")
    at = (day if day.tzinfo else day.replace(tzinfo=UTC)) + (
        timedelta(days=1) if len(as_of.strip()) == 10 else timedelta(0)
    )  # a bare date means the end of that day
    with container_from(ctx) as c, c.unit_of_work() as session:
        names = {a.tax_code: a.name for a in c.posture.register.agencies(session)}
        agencies = write_index(session, at, out_dir, names)
    if json_out:
        emit_json({"as_of": at.isoformat(), "out": str(out_dir), "agencies": agencies})
        return
    for code, score in sorted(agencies.items(), key=lambda kv: -kv[1]):
        out.print(f"{code:14} {score:6.1f} {names.get(code, '')}")
    out.print(f"written to {out_dir}")
