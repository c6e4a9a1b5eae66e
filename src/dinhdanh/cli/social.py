"""`dinhdanh import social-graph | social-labels` and `dinhdanh social rank`: fake accounts."""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dinhdanh.cli.common import container_from, emit_json, fail, out
from dinhdanh.cli.imports import JsonOpt, RejectsOpt, StrictOpt, import_app

# The module loads with every `dinhdanh import` (its two commands join that group): the
# ranking's and the stores' modules (NumPy, SciPy, PyArrow, SQLAlchemy) load in the commands.
if TYPE_CHECKING:
    from dinhdanh.store.batch import OnReject

social_app = typer.Typer(no_args_is_help=True, help="Platform accounts: fake-account ranking.")

PlatformOpt = Annotated[str, typer.Option(help="Code of a registered platform.")]


class RankMethod(StrEnum):
    """The ranking methods (``social.sybil.Method``'s values; a test holds them equal)."""

    SYBILRANK = "sybilrank"
    SYBILSCAR = "sybilscar"


class RankEngine(StrEnum):
    """Where the ranking method runs (ADR 0019)."""

    SCIPY = "scipy"
    SPARK = "spark"


def _run_import(
    ctx: typer.Context,
    kind: str,
    file: Path,
    platform: str,
    *,
    rejects: Path | None,
    label: str,
    strict: bool,
    json_out: bool,
) -> None:
    from dinhdanh.social.errors import SocialError
    from dinhdanh.social.platform_data import Kind
    from dinhdanh.store.feeds import FeedError
    from dinhdanh.store.private import RejectsFile

    with container_from(ctx) as c, ExitStack() as stack:
        sink = stack.enter_context(RejectsFile(rejects, label)) if rejects else None
        on_reject: OnReject | None = sink.write if sink else None
        try:
            report = c.platform_data.import_file(
                Kind(kind),
                file,
                platform,
                c.unit_of_work,
                c.clock(),
                strict=strict,
                on_reject=on_reject,
            )
        except (FeedError, SocialError) as exc:
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
        "graph",
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
        "labels",
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
    method: Annotated[RankMethod, typer.Option(help="Ranking method.")] = RankMethod.SYBILSCAR,
    engine: Annotated[
        RankEngine,
        typer.Option(
            help="scipy (this machine) or spark (on DINHDANH_SPARK_MASTER, default local[*]; "
            "needs a Java runtime)."
        ),
    ] = RankEngine.SCIPY,
    json_out: JsonOpt = False,
) -> None:
    """Score every account of a platform: scores.parquet, summary.json, report.html; and
    store each account's score and reasons as the risk the status API answers (replacing
    the previous ranking). Verified (bound) accounts are trust seeds. --engine spark runs
    the method on Spark."""
    from dinhdanh.analytics.spark import SparkUnavailable
    from dinhdanh.social.errors import SocialError
    from dinhdanh.social.sybil import Method, SocialDataError, write_outputs
    from dinhdanh.store.feeds import FeedError

    with container_from(ctx) as c:
        master = c.settings.spark_master if engine is RankEngine.SPARK else None
        try:
            result, stored = c.platform_data.rank(platform, Method(method), c.unit_of_work, master)
        except (SocialDataError, SocialError, FeedError, SparkUnavailable) as exc:
            fail(str(exc))
    info = write_outputs(result, platform, out_dir) | {"risk_stored": stored}
    if json_out:
        emit_json(info)
    else:
        auc = info["auc_on_labels"]
        out.print(
            f"{info['accounts']} accounts ranked by {info['method']} in {info['steps']} steps"
            + (f", AUC on labels {auc:.4f}" if auc is not None else "")
            + f"; wrote {out_dir}/scores.parquet, summary.json, report.html"
            + f"; stored the risk of {stored} accounts",
            highlight=False,
        )
