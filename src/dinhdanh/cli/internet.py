"""`dinhdanh registrars` and `dinhdanh import organisations | domains | ipblocks | asns`."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dinhdanh.cli.common import container_from, emit_json, err, fail, operator, out
from dinhdanh.cli.imports import (
    DEFAULT_CHUNK_SIZE,
    ActorOpt,
    ChunkOpt,
    JsonOpt,
    RejectsOpt,
    StrictOpt,
    batch_run,
    finish,
    import_app,
    run_import,
)
from dinhdanh.cli.telecom import AsOfOpt, reconcile_app

# The importers and the reconciliation (SQLAlchemy, DuckDB, PyArrow) are imported by the
# commands that run them: this module loads with `dinhdanh reconcile` and `dinhdanh import`.
if TYPE_CHECKING:
    from dinhdanh.store.batch import BatchReport, OnReject
    from dinhdanh.store.batch import Progress as ProgressFn
    from dinhdanh.wiring import Container

registrars_app = typer.Typer(no_args_is_help=True, help="Domain registrars and their API keys.")
FileArg = Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet feed.")]
# What the progress line says during each phase of a reconciliation.
PHASES = {
    "staging": "reading the store",
    "flags": "applying the rules",
    "write": "writing verdicts",
    "summary": "summary and report",
    "feed": "updating the registrars' feed",
}


@registrars_app.command("add")
def registrars_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. PAVN.")],
    name: Annotated[str, typer.Option(help="The registrar's name.")],
    api_key: Annotated[bool, typer.Option(help="Also create the registrar's API key.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Register a registrar (and, with --api-key, a key that uploads only its own names)."""
    from dinhdanh.internet.errors import InternetError

    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            registrar = c.internet.add_registrar(session, code, name, c.clock())
        except InternetError as exc:
            fail(str(exc))
        result: dict[str, object] = {"code": registrar.code, "name": registrar.name}
        if api_key:
            key_id, token = c.internet.issue_key(session, registrar.code, c.clock())
            result |= {"api_key_id": key_id, "api_key": token}
    if json_out:
        emit_json(result)
        return
    out.print(f"registrar {result['code']} ({result['name']}) registered")
    if api_key:
        out.print(f"API key (shown once):\n{result['api_key']}")


@registrars_app.command("list")
def registrars_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List the registered registrars."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        rows = [{"code": r.code, "name": r.name} for r in c.internet.registrars(session)]
    if json_out:
        emit_json(rows)
    else:
        for r in rows:
            out.print(f"{r['code']:16} {r['name']}")


@import_app.command("organisations")
def organisations(
    ctx: typer.Context,
    file: FileArg,
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import the business registry.

    Columns: tax_code, name, address, status (active|suspended|dissolving|dissolved),
    established, dissolved, legal_rep_id_number.
    """
    from dinhdanh.internet.importer import import_organisations
    from dinhdanh.privacy.audit import AccessContext

    who = actor or operator()

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        return import_organisations(
            file,
            internet=c.internet,
            ring=c.ring,
            ctx=AccessContext(who, "business_registry_import", "business registry import"),
            run=batch_run(c, progress, on_reject, strict=strict, chunk_size=chunk_size),
        )

    finish(run_import(ctx, run, rejects=rejects, label="tax_code", quiet=json_out), json_out)


@import_app.command("domains")
def domains(
    ctx: typer.Context,
    file: FileArg,
    registrar: Annotated[str, typer.Option(help="Code of the registrar the names are held at.")],
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a registrar's domain names.

    Columns: domain, registrant_type (person|organisation), registrant_id (ID number or tax
    code), registrant_name, registrant_dob (persons), created, expires, nameservers
    (space-separated), status (active|suspended|expired|deleted).
    """
    from dinhdanh.internet.importer import import_domains
    from dinhdanh.privacy.audit import AccessContext

    who = actor or operator()

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        return import_domains(
            file,
            registrar=registrar,
            internet=c.internet,
            ring=c.ring,
            ctx=AccessContext(who, "registrar_upload", f"domain upload of {registrar}"),
            run=batch_run(c, progress, on_reject, strict=strict, chunk_size=chunk_size),
            minor_age=c.settings.internet_minor_age,
        )

    finish(run_import(ctx, run, rejects=rejects, label="domain", quiet=json_out), json_out)


@import_app.command("ipblocks")
def ipblocks(
    ctx: typer.Context,
    file: FileArg,
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    json_out: JsonOpt = False,
) -> None:
    """Import IP blocks (IPv4 and IPv6).

    Columns: cidr (strict: no host bits), holder_tax_code, asn, allocated, status
    (allocated|assigned|reserved|returned). A block overlapping another holder's is rejected.
    """
    from dinhdanh.internet.importer import import_ip_blocks

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        options = batch_run(c, progress, on_reject, strict=strict, chunk_size=chunk_size)
        return import_ip_blocks(file, internet=c.internet, run=options)

    finish(run_import(ctx, run, rejects=rejects, label="cidr", quiet=json_out), json_out)


@import_app.command("asns")
def asns(
    ctx: typer.Context,
    file: FileArg,
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    json_out: JsonOpt = False,
) -> None:
    """Import AS numbers.

    Columns: asn (64500 or AS64500), holder_tax_code, name, allocated, status
    (allocated|reserved|returned). Special-purpose numbers (private, documentation) are
    rejected.
    """
    from dinhdanh.internet.importer import import_asns

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        options = batch_run(c, progress, on_reject, strict=strict, chunk_size=chunk_size)
        return import_asns(file, internet=c.internet, run=options)

    finish(run_import(ctx, run, rejects=rejects, label="asn", quiet=json_out), json_out)


@reconcile_app.command("internet")
def reconcile_internet(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the verdict files.")],
    as_of: AsOfOpt = None,
    memory_limit: Annotated[str | None, typer.Option(help="DuckDB memory limit, e.g. 2GB.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Give every domain name and IP block a verdict (ok or flagged, with reasons) and send
    the registrars their actions.

    Writes OUT/<registrar>.parquet, OUT/ipblocks.parquet, OUT/summary.json, OUT/report.html.
    """
    from dinhdanh.internet.reconciliation import reconcile_store

    day = as_of.date() if as_of else datetime.now(UTC).date()
    with container_from(ctx) as c, err.status("reconciling internet resources") as status:

        def progress(phase: str) -> None:
            status.update(f"reconciling internet resources: {PHASES.get(phase, phase)}")

        outcome = reconcile_store(
            engine=c.engine,
            unit_of_work=c.unit_of_work,
            internet=c.internet,
            rules=c.internet_rules,
            actor=f"cli:{getpass.getuser()}",
            clock=c.clock,
            as_of=day,
            out_dir=out_dir,
            memory_limit=memory_limit,
            progress=None if json_out else progress,
        )
    s, d = outcome.summary, outcome.summary.domains
    if json_out:
        emit_json(
            s.to_json()
            | {
                "flags_opened": outcome.flags_opened,
                "flags_cleared": outcome.flags_cleared,
                "out": str(out_dir),
            }
        )
        return
    out.print(
        f"{d.rows} domain names as of {day}: {d.rows - d.flagged} ok, {d.flagged} flagged; "
        f"{s.ipblocks.rows} IP blocks, {s.ipblocks.flagged} flagged "
        f"({outcome.flags_opened} newly flagged, {outcome.flags_cleared} cleared) "
        f"in {s.seconds:.1f} s -> {out_dir}"
    )
