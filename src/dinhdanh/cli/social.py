"""`dinhdanh import social-graph | social-labels` and `dinhdanh social rank`: fake accounts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from dinhdanh.cli.common import emit_json, fail, out, settings_from
from dinhdanh.cli.imports import JsonOpt, RejectsOpt, StrictOpt, import_app
from dinhdanh.social.sybil import (
    ImportReport,
    Method,
    SocialDataError,
    import_graph,
    import_labels,
    rank_platform,
    write_outputs,
)
from dinhdanh.store.batch import OnReject
from dinhdanh.store.feeds import FeedError
from dinhdanh.store.private import RejectsFile

social_app = typer.Typer(no_args_is_help=True, help="Platform accounts: fake-account ranking.")

PlatformOpt = Annotated[
    str, typer.Option(help="Platform code (a-z, 0-9, _ and -, 2 to 32 characters).")
]
Importer = Callable[..., ImportReport]


def _run_import(
    ctx: typer.Context,
    importer: Importer,
    file: Path,
    platform: str,
    *,
    rejects: Path | None,
    label: str,
    strict: bool,
    json_out: bool,
) -> None:
    data_dir = settings_from(ctx).data_dir
    with ExitStack() as stack:
        sink = stack.enter_context(RejectsFile(rejects, label)) if rejects else None
        on_reject: OnReject | None = sink.write if sink else None
        try:
            report = importer(file, data_dir, platform, strict=strict, on_reject=on_reject)
        except FeedError as exc:
            fail(str(exc))
    shown = [{"line": r.line, "key": r.label, "reason": r.reason} for r in report.rejected[:20]]
    if json_out:
        emit_json(report.as_dict() | {"first_rejects": shown})
    else:
        stored = ", ".join(f"{v} {k}" for k, v in report.stored.items()) or "nothing"
        out.print(
            f"{report.total_rows} rows: {report.accepted} accepted, "
            f"{report.rejected_count} rejected; stored {stored}",
            highlight=False,
        )
        for r in shown:
            out.print(f"  line {r['line']}: {r['reason']}", highlight=False)
    if report.aborted:
        fail(f"--strict: {report.rejected_count} rejected row(s); nothing was applied")


@import_app.command("social-graph")
def social_graph(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: src_account,dst_account,weight.")],
    platform: PlatformOpt,
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Replace a platform's interaction graph (undirected; repeated edges add their weights).

    The file is checked as a whole first: it replaces the stored graph in one step or not at
    all.
    """
    _run_import(
        ctx,
        import_graph,
        file,
        platform,
        rejects=rejects,
        label="src_account",
        strict=strict,
        json_out=json_out,
    )


@import_app.command("social-labels")
def social_labels(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: account,label (benign|sybil).")],
    platform: PlatformOpt,
    rejects: RejectsOpt = None,
    strict: StrictOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Replace a platform's moderation labels (benign labels are trust seeds)."""
    _run_import(
        ctx,
        import_labels,
        file,
        platform,
        rejects=rejects,
        label="account",
        strict=strict,
        json_out=json_out,
    )


@social_app.command("rank")
def rank(
    ctx: typer.Context,
    platform: PlatformOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the results.")],
    method: Annotated[Method, typer.Option(help="Ranking method.")] = Method.SYBILSCAR,
    json_out: JsonOpt = False,
) -> None:
    """Score every account of a platform: scores.parquet, summary.json, report.html."""
    data_dir = settings_from(ctx).data_dir
    try:
        result = rank_platform(data_dir, platform, method)
    except (SocialDataError, FeedError) as exc:
        fail(str(exc))
    info = write_outputs(result, platform, out_dir)
    if json_out:
        emit_json(info)
    else:
        auc = info["auc_on_labels"]
        out.print(
            f"{info['accounts']} accounts ranked by {info['method']} in {info['steps']} steps"
            + (f", AUC on labels {auc:.4f}" if auc is not None else "")
            + f"; wrote {out_dir}/scores.parquet, summary.json, report.html",
            highlight=False,
        )
