"""`dinhdanh carriers | reconcile | telecom`: carriers, junk-SIM reconciliation, lock timeline."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dinhdanh.cli.common import BatchEngine, EngineOpt, container_from, emit_json, fail, out

# The engines (SQLAlchemy, DuckDB, PyArrow) are imported by the commands that run them: the
# groups' --help, and the other modules that add commands here, need none of them.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dinhdanh.wiring import Container

carriers_app = typer.Typer(no_args_is_help=True, help="Carriers and their API keys.")
reconcile_app = typer.Typer(no_args_is_help=True, help="Reconciliation against the registry.")
telecom_app = typer.Typer(no_args_is_help=True, help="The junk-SIM lock timeline.")
ranges_app = typer.Typer(no_args_is_help=True, help="Carriers' number blocks: what each uploads.")
ports_app = typer.Typer(no_args_is_help=True, help="Numbers ported in to a carrier.")
carriers_app.add_typer(ranges_app, name="ranges")
carriers_app.add_typer(ports_app, name="ports")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
AsOfOpt = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="The day to judge as of (default: today)."),
]


def _as_of(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


@carriers_app.command("add")
def carriers_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. VTL.")],
    name: Annotated[str, typer.Option(help="The carrier's name.")],
    api_key: Annotated[bool, typer.Option(help="Also create the carrier's API key.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Register a carrier (and, with --api-key, a key that sees only its own subscribers)."""
    from dinhdanh.privacy.access import create_api_key
    from dinhdanh.privacy.roles import Role
    from dinhdanh.telecom.service import TelecomError

    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            carrier = c.telecom.add_carrier(session, code, name, c.clock())
        except TelecomError as exc:
            fail(str(exc))
        result: dict[str, object] = {"code": carrier.code, "name": carrier.name}
        if api_key:
            key_id, token = create_api_key(
                session,
                f"carrier {carrier.code}",
                Role.CARRIER,
                c.clock(),
                scope=carrier.code,
                owner=carrier.code,
            )
            result |= {"api_key_id": key_id, "api_key": token}
    if json_out:
        emit_json(result)
    else:
        out.print(f"carrier {result['code']} ({result['name']}) registered")
        if api_key:
            out.print(f"API key (shown once):\n{result['api_key']}")


@carriers_app.command("list")
def carriers_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List the registered carriers."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        rows = [{"code": x.code, "name": x.name} for x in c.telecom.carriers(session)]
    if json_out:
        emit_json(rows)
    else:
        for r in rows:
            out.print(f"{r['code']:8} {r['name']}")


@reconcile_app.command("subscriptions")
def reconcile_subscriptions(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the verdict files.")],
    as_of: AsOfOpt = None,
    carrier: Annotated[str | None, typer.Option(help="Only this carrier's verdicts.")] = None,
    memory_limit: Annotated[str | None, typer.Option(help="DuckDB memory limit, e.g. 2GB.")] = None,
    engine: EngineOpt = BatchEngine.DUCKDB,
    json_out: JsonOpt = False,
) -> None:
    """Give every active subscription a verdict (ok or junk, with reasons); open lock cases.

    Writes OUT/<carrier>.parquet, OUT/summary.json and OUT/report.html. With --engine spark
    the rules run on Spark (same rules, same files); on a cluster OUT must be storage that
    every executor reaches.
    """
    from dinhdanh.analytics.spark import SparkUnavailable
    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.social.waiting import phone_bindings_waiting
    from dinhdanh.telecom.reconciliation import reconcile_store
    from dinhdanh.telecom.service import TelecomError

    day = _as_of(as_of)
    who = f"cli:{getpass.getuser()}"
    with container_from(ctx) as c:
        try:
            outcome = reconcile_store(
                engine=c.engine,
                unit_of_work=c.unit_of_work,
                registry=c.registry,
                telecom=c.telecom,
                rules=c.telecom_rules,
                ctx=AccessContext(who, "telecom_reconciliation", "junk-SIM reconciliation"),
                clock=c.clock,
                as_of=day,
                out_dir=out_dir,
                carrier=carrier,
                memory_limit=memory_limit,
                snapshots=c.settings.snapshot_dir,
                spark_master=c.settings.spark_master if engine is BatchEngine.SPARK else None,
            )
            # Accounts bound by a number now found junk or locked: JUNK_SIM_OWNER.
            with c.unit_of_work() as session:
                numbers = (v.msisdn for v in outcome.junk)
                flagged = 0
                if phone_bindings_waiting(session):  # else the phone checks go unbuilt
                    flagged = c.phone_checks.recheck_numbers(session, c.clock(), numbers)
        except (TelecomError, SparkUnavailable) as exc:
            fail(str(exc))
        finally:
            c.checkpoint_audit()
    s = outcome.summary
    result = s.to_json() | {
        "cases_opened": outcome.cases_opened,
        "cases_resolved": outcome.cases_resolved,
        "bindings_flagged": flagged,
        "out": str(out_dir),
    }
    if json_out:
        emit_json(result)
    else:
        out.print(
            f"{s.rows} active subscriptions as of {day}: {s.ok} ok, {s.junk} junk "
            f"({outcome.cases_opened} lock cases opened, {outcome.cases_resolved} resolved) "
            f"in {s.seconds:.1f} s -> {out_dir}"
        )


@telecom_app.command("advance")
def advance(ctx: typer.Context, as_of: AsOfOpt = None, json_out: JsonOpt = False) -> None:
    """Apply every lock-timeline transition due by the end of AS_OF."""
    day = _as_of(as_of)
    now = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    with container_from(ctx) as c, c.unit_of_work() as session:
        entered = c.telecom.advance(session, now)
    if json_out:
        emit_json({"as_of": day.isoformat(), "entered": entered})
    else:
        out.print(
            f"as of {day}: "
            + (", ".join(f"{n} {state}" for state, n in sorted(entered.items())) or "nothing due")
        )


CodeArg = Annotated[str, typer.Argument(help="The carrier's code, e.g. VTL.")]


def _code(c: Container, session: Session, code: str) -> str:
    """The registered carrier's code, or a one-line failure."""
    from dinhdanh.telecom.service import TelecomError

    try:
        return c.telecom.carrier(session, code).code
    except TelecomError as exc:
        fail(str(exc))


@ranges_app.command("add")
def ranges_add(
    ctx: typer.Context,
    code: CodeArg,
    prefixes: Annotated[list[str], typer.Argument(help="Blocks: leading digits, e.g. 96 or 0962.")],
    json_out: JsonOpt = False,
) -> None:
    """Give a carrier number blocks (a block another carrier holds is refused)."""
    from dinhdanh.telecom import blocks

    with container_from(ctx) as c, c.unit_of_work() as session:
        carrier = _code(c, session, code)
        try:
            added = blocks.add_blocks(session, carrier, prefixes, c.clock())
        except blocks.BlockError as exc:
            fail(str(exc))
    if json_out:
        emit_json({"carrier": carrier, "added": added})
    else:
        out.print(f"{carrier}: {len(added)} block(s) added")


@ranges_app.command("remove")
def ranges_remove(
    ctx: typer.Context,
    code: CodeArg,
    prefixes: Annotated[list[str], typer.Argument(help="Blocks to take from the carrier.")],
    json_out: JsonOpt = False,
) -> None:
    """Take number blocks from a carrier."""
    from dinhdanh.telecom import blocks

    with container_from(ctx) as c, c.unit_of_work() as session:
        carrier = _code(c, session, code)
        removed = blocks.remove_blocks(session, carrier, prefixes)
    if json_out:
        emit_json({"carrier": carrier, "removed": removed})
    else:
        out.print(f"{carrier}: {removed} block(s) removed")


@ranges_app.command("list")
def ranges_list(
    ctx: typer.Context,
    code: Annotated[str | None, typer.Argument(help="Only this carrier's blocks.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List number blocks (national digits after +84), by carrier."""
    from dinhdanh.telecom import blocks

    with container_from(ctx) as c, c.unit_of_work() as session:
        carrier = _code(c, session, code) if code else None
        rows = [{"carrier": k, "prefix": p} for p, k in blocks.blocks(session, carrier)]
    if json_out:
        emit_json(rows)
    else:
        for r in rows:
            out.print(f"{r['carrier']:8} {r['prefix']}")


@ports_app.command("add")
def ports_add(
    ctx: typer.Context,
    code: CodeArg,
    numbers: Annotated[list[str] | None, typer.Argument(help="Ported-in numbers.")] = None,
    file: Annotated[
        Path | None, typer.Option(help="A feed of ported-in numbers, one a line.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Declare numbers ported in to a carrier: it may then upload them outside its blocks."""
    from dinhdanh.telecom import blocks

    given = list(numbers or [])
    if file is not None:
        given += [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
    given = [n for n in given if n and n != "msisdn"]
    with container_from(ctx) as c, c.unit_of_work() as session:
        carrier = _code(c, session, code)
        try:
            changed = blocks.declare_ports(session, carrier, given, c.clock())
        except blocks.BlockError as exc:
            fail(str(exc))
    if json_out:
        emit_json({"carrier": carrier, "declared": changed})
    else:
        out.print(f"{carrier}: {changed} ported number(s) declared")


@ports_app.command("list")
def ports_list(ctx: typer.Context, code: CodeArg, json_out: JsonOpt = False) -> None:
    """Numbers declared ported in to a carrier."""
    from dinhdanh.telecom import blocks

    with container_from(ctx) as c, c.unit_of_work() as session:
        carrier = _code(c, session, code)
        numbers = blocks.ports(session, carrier)
    if json_out:
        emit_json({"carrier": carrier, "ported_in": numbers})
    else:
        for n in numbers:
            out.print(n)
