"""`dinhdanh import citizens | subscriptions`: feeds with a progress bar and a rejects file."""

from __future__ import annotations

import getpass
import signal
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from dinhdanh.cli.common import container_from, emit_json, err, fail, out

# The importers (SQLAlchemy, PyArrow, the domains' models) are imported by the commands that
# run them: this module loads with every `dinhdanh import` and `dinhdanh reconcile`.
if TYPE_CHECKING:
    from dinhdanh.internet.importer import Run as Options
    from dinhdanh.store.batch import BatchReport, OnReject
    from dinhdanh.store.batch import Progress as ProgressFn
    from dinhdanh.wiring import Container

    Run = Callable[[Container, ProgressFn, OnReject | None], BatchReport]

# store.batch.DEFAULT_CHUNK_SIZE, the options' default (a test holds them equal): importing
# store.batch for it would load SQLAlchemy with every --help.
DEFAULT_CHUNK_SIZE = 20_000
UPLOAD_CHUNK_SIZE = 100_000  # telecom.importer.UPLOAD_CHUNK_SIZE, held equal the same way

import_app = typer.Typer(no_args_is_help=True, help="Batch imports (idempotent, resumable).")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
RejectsOpt = Annotated[
    Path | None, typer.Option(help="Write rejected rows here (CSV: line, key, reason).")
]
StrictOpt = Annotated[
    bool, typer.Option(help="Any rejected row aborts the whole file; nothing is applied.")
]
ChunkOpt = Annotated[int, typer.Option(min=1, help="Rows per committed chunk.")]
ActorOpt = Annotated[str | None, typer.Option(help="Who runs the import (audit log).")]


def _unwind(signum: int, _frame: FrameType | None) -> NoReturn:
    # A plain SIGTERM would kill this process only: its worker processes would run on and the
    # spill file would stay. Unwinding stops them and deletes it; committed chunks stay, and
    # running the same file again resumes after them.
    raise SystemExit(128 + signum)


def run_import(
    ctx: typer.Context,
    run: Run,
    *,
    rejects: Path | None,
    label: str,
    quiet: bool,
) -> dict[str, object]:
    """Run one import with a Rich progress bar on stderr; sign the audit tip at the end.
    Rejected rows stream to ``rejects`` (mode 0600) as they are found, however many."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from dinhdanh.errors import DomainError
    from dinhdanh.store.private import RejectsFile

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    with container_from(ctx) as c, bar, ExitStack() as stack:
        sink = stack.enter_context(RejectsFile(rejects, label)) if rejects else None
        task = bar.add_task("validating", total=None, visible=not quiet)

        def progress(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        previous = signal.signal(signal.SIGTERM, _unwind)
        try:
            report = run(c, progress, sink.write if sink else None)
        except DomainError as exc:  # an unreadable file, an unknown carrier or registrar
            fail(str(exc))
        finally:
            signal.signal(signal.SIGTERM, previous)
            c.checkpoint_audit()
    return report.as_dict()


def batch_run(
    c: Container, progress: ProgressFn, on_reject: OnReject | None, *, strict: bool, chunk_size: int
) -> Options:
    """The options of an import that takes them as one ``Run`` (internet, posture)."""
    from dinhdanh.internet.importer import Run as Options
    from dinhdanh.store.private import spill_dir

    return Options(
        unit_of_work=c.unit_of_work,
        clock=c.clock,
        today=c.clock().date(),
        strict=strict,
        chunk_size=chunk_size,
        spill_dir=spill_dir(c.settings.data_dir),
        progress=progress,
        on_reject=on_reject,
    )


def finish(result: dict[str, object], json_out: bool) -> None:
    if json_out:
        emit_json(result)
    else:
        resumed = result["resumed_from_line"]
        out.print(
            f"{result['total_rows']} rows: {result['created']} created, {result['updated']} "
            f"updated, {result['unchanged']} unchanged, {result['rejected']} rejected"
            + (f" (resumed at line {resumed})" if resumed else "")
        )
    if result["aborted"]:
        fail(f"--strict: {result['rejected']} rejected row(s); nothing was applied")


def run_citizen_import(
    ctx: typer.Context,
    file: Path,
    *,
    rejects: Path | None,
    strict: bool,
    chunk_size: int,
    actor: str,
    quiet: bool,
) -> dict[str, object]:
    after: dict[str, object] = {"age_credentials_revoked": 0}
    from dinhdanh.identity.importer import import_citizens
    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.store.private import spill_dir

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        report = import_citizens(
            file,
            registry=c.registry,
            unit_of_work=c.unit_of_work,
            ctx=AccessContext(actor, "registry_import", "population registry import"),
            clock=c.clock,
            today=c.clock().date(),
            strict=strict,
            chunk_size=chunk_size,
            spill_dir=spill_dir(c.settings.data_dir),
            progress=progress,
            on_reject=on_reject,
        )
        if not report.aborted:
            after.update(
                _after_citizens(
                    c, actor, changed=bool(report.counts.created or report.counts.updated)
                )
            )
        return report

    result = run_import(ctx, run, rejects=rejects, label="id_number", quiet=quiet)
    return result | after


def _after_citizens(c: Container, actor: str, *, changed: bool) -> dict[str, object]:
    """What a registry import changes elsewhere, each in its own transaction after the
    import's: a killed run re-run resumes the import and then does these again, which
    changes nothing the second time."""
    from dinhdanh.privacy.audit import AccessContext

    done: dict[str, object] = {}
    # A corrected birth date: the bands platforms hold set again at once (a child is not left
    # "over 16"). A death in the feed revokes the age credentials of the dead at once (issue
    # 11, point 6), a correction those of the re-dated citizen.
    with c.unit_of_work() as session:
        corrected = c.age_bands.recheck_corrected(session, c.clock())
        revoked = c.age_credentials.revoke_deceased(session, c.clock(), also=corrected.subjects)
    done["age_credentials_revoked"] = revoked
    done["birth_dates_corrected"] = len(corrected.subjects)
    done["age_bands_corrected"] = corrected.changed
    # The reconciliation's copy of the registry (store.snapshots), when stale.
    from dinhdanh.identity.service import SNAPSHOT
    from dinhdanh.telecom.store_inputs import refresh_snapshots

    refresh_snapshots(c.engine, c.unit_of_work, c.settings.snapshot_dir, [SNAPSHOT])
    if changed:  # nothing changed in the registry: its guardian links have not either
        why = AccessContext(actor, "registry_import", "guardian links of the registry")
        with c.unit_of_work() as session:
            added, ended, refused = c.guardians.sync_registry(session, why, c.clock())
        done["guardian_links"] = {"added": len(added), "ended": len(ended), "refused": refused}
    return done


@import_app.command("citizens")
def citizens(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet feed of the registry.")],
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import citizens.

    Columns: id_number, full_name, date_of_birth, sex, guardian_id_number, date_of_death
    (and optionally phone). Re-importing a file changes nothing; a killed import resumes.
    """
    who = actor or f"cli:{getpass.getuser()}"
    result = run_citizen_import(
        ctx, file, rejects=rejects, strict=strict, chunk_size=chunk_size, actor=who, quiet=json_out
    )
    if not json_out and result["age_credentials_revoked"]:
        out.print(f"{result['age_credentials_revoked']} age credential(s) of the dead revoked")
    finish(result, json_out)


@import_app.command("guardians")
def guardians(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet feed of guardian links.")],
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK_SIZE,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import guardian links.

    Columns: child_id_number, guardian_id_number, relation (mother|father|guardian),
    valid_from, valid_to (empty: open-ended). At most two active guardians per child, each
    an adult; links end on the child's 18th birthday.
    """
    from dinhdanh.age.guardian_import import import_guardians
    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.store.private import spill_dir

    who = actor or f"cli:{getpass.getuser()}"

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        return import_guardians(
            file,
            guardians=c.guardians,
            unit_of_work=c.unit_of_work,
            ctx=AccessContext(who, "registry_import", "guardian feed import"),
            clock=c.clock,
            today=c.clock().date(),
            strict=strict,
            chunk_size=chunk_size,
            spill_dir=spill_dir(c.settings.data_dir),
            progress=progress,
            on_reject=on_reject,
        )

    label = "child_id_number"
    finish(run_import(ctx, run, rejects=rejects, label=label, quiet=json_out), json_out)


@import_app.command("subscriptions")
def subscriptions(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet upload of a carrier.")],
    carrier: Annotated[str, typer.Option(help="Code of the carrier the subscribers belong to.")],
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    chunk_size: ChunkOpt = UPLOAD_CHUNK_SIZE,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a carrier's subscribers.

    Columns: msisdn, id_number, full_name, date_of_birth, activation_date, channel
    (online|store|agent), agent_id, imei, status (active|terminated).
    """
    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.store.private import spill_dir
    from dinhdanh.telecom.importer import import_subscriptions

    who = actor or f"cli:{getpass.getuser()}"

    def run(c: Container, progress: ProgressFn, on_reject: OnReject | None) -> BatchReport:
        return import_subscriptions(
            file,
            carrier=carrier,
            telecom=c.telecom,
            ring=c.ring,
            unit_of_work=c.unit_of_work,
            ctx=AccessContext(who, "carrier_upload", f"subscriber upload of {carrier}"),
            clock=c.clock,
            today=c.clock().date(),
            minor_age=c.settings.telecom_minor_age,
            strict=strict,
            chunk_size=chunk_size,
            spill_dir=spill_dir(c.settings.data_dir),
            progress=progress,
            on_reject=on_reject,
            snapshots=c.settings.snapshot_dir,
        )

    finish(run_import(ctx, run, rejects=rejects, label="msisdn", quiet=json_out), json_out)
