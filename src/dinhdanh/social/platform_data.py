"""A platform's graph and labels, from its own upload (API) or an operator's import (CLI),
and the ranking over them that the status API's ``risk`` answers.

Both import paths run the same checks and replace the stored file the same way
(``sybil.store``); then every account the stored file names is recorded as reported by the
platform (the start of its ``UNVERIFIED`` grace period), a chunk per transaction: the reports
are idempotent, so a run cut short records the rest when the file is imported again.

A ranking reads the platform's bindings in one short transaction (verified accounts are trust
seeds), ranks outside any transaction, and replaces the stored scores in one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing
from dinhdanh.social import models as m
from dinhdanh.social.errors import PlatformNotFound
from dinhdanh.social.signals import Signals, account_keys
from dinhdanh.social.sybil.service import Method, Result, rank_graph
from dinhdanh.social.sybil.store import (
    ImportReport,
    RowsRejected,
    graph_accounts,
    graph_dir,
    import_graph,
    import_labels,
    load_labels,
    read_graph,
)
from dinhdanh.store.batch import OnReject

UnitOfWork = Callable[[], AbstractContextManager[Session]]
_REPORTS_PER_COMMIT = 50_000


class Kind(StrEnum):
    GRAPH = "graph"
    LABELS = "labels"


class PlatformData:
    def __init__(self, data_dir: Path, ring: KeyRing, signals: Signals) -> None:
        self._data_dir = data_dir
        self._ring = ring
        self._signals = signals

    def import_file(
        self,
        kind: Kind,
        path: Path,
        code: str,
        unit_of_work: UnitOfWork,
        now: datetime,
        *,
        strict: bool = False,
        on_reject: OnReject | None = None,
    ) -> ImportReport:
        """Replace the platform's graph or labels by the valid rows of ``path`` (all of them
        if ``strict``: else nothing, ``aborted``), then record the accounts it names."""
        with unit_of_work() as session:
            _registered(session, code)
        importer = import_graph if kind is Kind.GRAPH else import_labels
        report = importer(path, self._data_dir, code, strict=strict, on_reject=on_reject)
        if report.aborted:
            return report
        if kind is Kind.GRAPH:
            accounts = graph_accounts(self._data_dir, code)
        else:
            accounts = load_labels(self._data_dir, code)["account"]
        keys = sorted(account_keys(self._ring, code, accounts.to_pylist()))
        for i in range(0, len(keys), _REPORTS_PER_COMMIT):
            last = i + _REPORTS_PER_COMMIT >= len(keys)
            with unit_of_work() as session:
                part = keys[i : i + _REPORTS_PER_COMMIT]
                self._signals.record_reports(session, code, part, now, bulk=last)
        return report

    def rank(
        self,
        code: str,
        method: Method,
        unit_of_work: UnitOfWork,
        spark_master: str | None = None,
    ) -> tuple[Result, int]:
        """Rank the platform's accounts and store each one's risk in place of the previous
        ranking; returns the result and how many accounts were stored. ``spark_master``:
        the method runs on Spark there (the graph directory must be reachable from it)."""
        with unit_of_work() as session:
            _registered(session, code)
            bound = self._signals.bound_keys(session, code)
        where = graph_dir(self._data_dir, code)
        graph = read_graph(where)
        keys = account_keys(self._ring, code, graph.accounts.to_pylist())
        verified = np.fromiter((k in bound for k in keys), np.bool_, len(keys))
        seeds = graph.accounts.filter(pa.array(verified)).to_pylist()
        labels = load_labels(self._data_dir, code)
        if spark_master is None:
            result = rank_graph(graph, labels, method, seeds)
        else:
            from dinhdanh.analytics.spark import running
            from dinhdanh.social.sybil.rank_spark import sparkgraph

            with running(spark_master) as spark:
                result = rank_graph(graph, labels, method, seeds, sparkgraph(spark, where))
        with unit_of_work() as session:
            stored = self._signals.store_ranking(
                session, code, keys, result.ranking.score, result.reasons
            )
        return result, stored


def refuse_aborted(report: ImportReport) -> ImportReport:
    """An upload answers a strict refusal as an error naming the rows, not as a report."""
    if report.aborted:
        raise RowsRejected(
            f"{report.rejected_count} row(s) rejected and strict: nothing was applied",
            **report.rejects_shown(),
        )
    return report


def _registered(session: Session, code: str) -> None:
    if session.get(m.Platform, code) is None:
        raise PlatformNotFound(f"no platform {code!r}")
