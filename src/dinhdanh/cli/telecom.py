"""`dinhdanh carriers | reconcile | telecom`: carriers, junk-SIM reconciliation, lock timeline."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from dinhdanh.cli.common import container_from, emit_json, fail, out
from dinhdanh.privacy.access import Role, create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.reconciliation import reconcile_store
from dinhdanh.telecom.service import TelecomError

carriers_app = typer.Typer(no_args_is_help=True, help="Carriers and their API keys.")
reconcile_app = typer.Typer(no_args_is_help=True, help="Reconciliation against the registry.")
telecom_app = typer.Typer(no_args_is_help=True, help="The junk-SIM lock timeline.")

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
    with container_from(ctx) as c, c.unit_of_work() as session:
        try:
            carrier = c.telecom.add_carrier(session, code, name, c.clock())
        except TelecomError as exc:
            fail(str(exc))
        result: dict[str, object] = {"code": carrier.code, "name": carrier.name}
        if api_key:
            key_id, token = create_api_key(
                session, f"carrier {carrier.code}", Role.CARRIER, c.clock(), scope=carrier.code
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
    json_out: JsonOpt = False,
) -> None:
    """Give every active subscription a verdict (ok or junk, with reasons); open lock cases.

    Writes OUT/<carrier>.parquet, OUT/summary.json and OUT/report.html.
    """
    day = _as_of(as_of)
    who = f"cli:{getpass.getuser()}"
    with container_from(ctx) as c:
        try:
            outcome = reconcile_store(
                engine=c.engine,
                unit_of_work=c.unit_of_work,
                sealer=c.registry.sealer,
                audit=c.audit,
                telecom=c.telecom,
                rules=c.telecom_rules,
                ctx=AccessContext(who, "telecom_reconciliation", "junk-SIM reconciliation"),
                clock=c.clock,
                as_of=day,
                out_dir=out_dir,
                carrier=carrier,
                memory_limit=memory_limit,
            )
        except TelecomError as exc:
            fail(str(exc))
        finally:
            c.checkpoint_audit()
    s = outcome.summary
    result = s.to_json() | {
        "cases_opened": outcome.cases_opened,
        "cases_resolved": outcome.cases_resolved,
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
