"""Batch imports with the guarantees every feed gets: idempotent, resumable, rejects reported.

Pass 1 reads the file once. Worker processes validate each row and prepare the valid ones for
storage (blind indexes, sealing) and pickle them; the main process finds keys given twice with
different data and spills the pickled rows as they came, which hold no plaintext, to a private
temporary file (repeats included: pass 2 leaves out the lines withheld). Nothing is
written to the database in pass 1, so `strict` refuses a file with any rejected row with
nothing applied.

Pass 2 applies the spilled rows in chunks; each chunk commits together with the run's ledger
row (`ImportRun.next_line`), so a killed import resumes after its last committed chunk, and
applying unchanged data changes nothing.
"""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from dinhdanh.store.bulk import indexes_deferred
from dinhdanh.store.db import background_checkpoints
from dinhdanh.store.feeds import Reason, Row, as_row, check_feed, file_sha256, read_cells
from dinhdanh.store.models import ImportRun

R = TypeVar("R")
P = TypeVar("P")
T = TypeVar("T")

Progress = Callable[[str, int, int | None], None]  # (phase, rows done, rows total or None)
UnitOfWork = Callable[[], AbstractContextManager[Session]]

# Below this size the worker processes cost more to start than they save.
PARALLEL_FROM_BYTES = 4 << 20
# Rows per committed chunk. Each commit rewrites the index pages its random keys touched, so
# bigger chunks write fewer pages in all: 1 M citizens took 48.8 s at 5,000 and 39.3 s at
# 20,000 (61.3 s and 49.7 s into a registry that keeps its indexes); 30,000 gave no more.
DEFAULT_CHUNK_SIZE = 20_000
# Rows per piece of pass 1 (sent to a worker, spilled), whatever the commit size: a bigger
# commit (pass 2) costs only the prepared rows, never more raw rows in flight.
CHECK_PIECE = 20_000
# Rejected rows a report keeps (the first ones by line); the rest are only counted, or
# streamed to the caller's `on_reject` (hardening finding 4: a file of junk rows must not
# cost memory or a response in proportion to its size).
REJECTS_KEPT = 1000
_LABEL_MAX = 64  # a rejected row's key as echoed back, cut: the cell may be anything


class FeedSpec(Protocol[R, P]):
    """The pure half of an import. Picklable: it runs in worker processes."""

    columns: tuple[str, ...]  # required columns
    label: str  # the column shown beside a rejected line (e.g. id_number)

    def check(self, row: Row, today: date) -> R | list[Reason]: ...

    def key(self, record: R) -> int | str: ...  # identity within one file

    def fingerprint(self, prepared: P) -> bytes: ...  # equal for equal data

    def prepare(self, records: list[R]) -> list[P]: ...  # no plaintext in the result


@dataclass(slots=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


Apply = Callable[[Session, list[P], datetime], Counts]
OnReject = Callable[["Rejected"], None]
# Checks that need the database or the rows before them (a name another registrar holds, an
# overlapping block): given each chunk's first copies as (line, key, prepared), in file
# order, it returns the lines to reject and why. Runs in the main process during pass 1, so
# `strict` still applies nothing.
Screen = Callable[[list[tuple[int, int | str, P]]], dict[int, tuple[Reason, ...]]]


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    label: str
    reasons: tuple[Reason, ...]

    @property
    def reason(self) -> str:
        return "; ".join(str(r) for r in self.reasons)


@dataclass(slots=True)
class BatchReport:
    run_id: str | None
    total_rows: int
    rejected: list[Rejected] = field(default_factory=list)  # the first REJECTS_KEPT, by line
    counts: Counts = field(default_factory=Counts)
    resumed_from_line: int | None = None
    aborted: bool = False
    rejected_count: int = 0  # all of them

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "total_rows": self.total_rows,
            "created": self.counts.created,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "rejected": self.rejected_count,
            "resumed_from_line": self.resumed_from_line,
            "aborted": self.aborted,
        }


_CONFLICT = (Reason("duplicate_conflict", "the same key appears again with different data"),)
_MALFORMED = (Reason("malformed_row", "the line is not a record of the expected columns"),)

# Most feeds prepare named tuples. They cross from the workers and go through the spill as
# plain tuples, with the class's ``_make`` once per piece: pickle rebuilds a named tuple by
# calling its class's Python ``__new__`` row by row, several times the cost of a plain tuple
# (docs/performance.md, subscription import onto a loaded table).
Make = Callable[[Iterable[Any]], Any] | None


def _as_plain(prepared: list[Any]) -> tuple[Make, list[Any]]:
    """(the named tuple class's ``_make`` or None, the rows as plain tuples or unchanged)."""
    make = getattr(type(prepared[0]), "_make", None) if prepared else None
    if make is None or not isinstance(prepared[0], tuple):
        return None, prepared
    return make, [tuple(p) for p in prepared]


def _made(make: Make, rows: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    return rows if make is None else [(line, make(p)) for line, p in rows]


# -- work done in worker processes (or in-process for small files) --
_worker_spec: Any = None


def _init_worker(spec: Any) -> None:
    global _worker_spec  # noqa: PLW0603 - one spec per worker process, set once at start
    _worker_spec = spec
    gc.disable()  # see _gc_paused; a worker's rows are freed by reference counting


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a batch.

    A batch allocates millions of tuples, which trigger collections that walk every live
    object again and again (a tenth of the import's time); its rows hold no reference cycles,
    so reference counting frees them anyway. Collected once at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


gc_paused = _gc_paused  # for other bulk paths (social rankings)


def _in_worker(fn: Callable[..., T], *args: Any) -> T:
    return fn(_worker_spec, *args)


@dataclass(slots=True)
class _Piece:
    """One checked piece of pass 1, as a worker sends it back: the rejected rows, and of the
    valid ones their lines, keys and fingerprints (as ints) in file order, and the prepared
    rows already pickled as the spill stores them. The main process writes ``spilled`` as it
    is: it unpickled and pickled again every prepared row before (docs/performance.md)."""

    rejected: list[Rejected]
    lines: list[int]
    keys: list[int | str]
    fingerprints: list[int]
    spilled: bytes

    def prepared(self) -> list[tuple[int, Any]]:
        """(line, prepared row) of each valid row, as pass 2 will read them."""
        make, rows = pickle.loads(self.spilled)  # noqa: S301 - made by our own worker
        return _made(make, rows)


def _spilled(make: Make, rows: list[tuple[int, Any]]) -> bytes:
    return pickle.dumps((make, rows), protocol=pickle.HIGHEST_PROTOCOL)


def _check_chunk(
    spec: FeedSpec[Any, Any],
    chunk: list[tuple[int, Any]],
    today: date,
    header: list[str] | None = None,
) -> _Piece:
    """Pass 1 on a piece: rows, or with a ``header`` a CSV file's cells (feeds.read_cells)."""
    rejected: list[Rejected] = []
    lines: list[int] = []
    records = []
    for line, cells in chunk:
        row: Row | None = cells if header is None else as_row(header, cells)
        if row is None:
            rejected.append(Rejected(line, "", _MALFORMED))
            continue
        result = spec.check(row, today)
        if isinstance(result, list):
            label = (row.get(spec.label) or "").strip()[:_LABEL_MAX]
            rejected.append(Rejected(line, label, tuple(result)))
        else:
            lines.append(line)
            records.append(result)
    prepared = spec.prepare(records)
    make, plain = _as_plain(prepared)
    return _Piece(
        rejected,
        lines,
        [spec.key(rec) for rec in records],
        [int.from_bytes(spec.fingerprint(p)[:8], "big") for p in prepared],
        _spilled(make, list(zip(lines, plain, strict=True))),
    )


class _Mapper:
    """Maps chunks through a function, in order, in a bounded number of worker processes."""

    def __init__(self, spec: FeedSpec[Any, Any], workers: int) -> None:
        self._spec = spec
        self._pool = (
            ProcessPoolExecutor(
                workers,
                mp_context=get_context("spawn"),  # no fork: the parent holds threads and DB handles
                initializer=_init_worker,
                initargs=(spec,),
            )
            if workers > 1
            else None
        )
        self._depth = 2 * workers

    def map(self, fn: Callable[..., T], chunks: Iterable[Any], *args: Any) -> Iterator[T]:
        if self._pool is None:
            for chunk in chunks:
                yield fn(self._spec, chunk, *args)
            return
        pending: deque[Future[T]] = deque()
        task = partial(_in_worker, fn)
        for chunk in chunks:
            pending.append(self._pool.submit(task, chunk, *args))
            if len(pending) >= self._depth:  # bounded: never the whole file in flight
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Spill(Generic[P]):
    """Prepared rows parked between the passes: ciphertexts and blind indexes, no plaintext."""

    def __init__(self, directory: Path | None) -> None:
        fd, name = tempfile.mkstemp(prefix="dinhdanh-import-", suffix=".spill", dir=directory)
        self.path = Path(name)  # mkstemp creates it 0600
        self._fh: IO[bytes] = os.fdopen(fd, "w+b")

    def write(self, spilled: bytes) -> None:
        """A piece of (line, prepared) rows as ``_spilled`` pickled it."""
        self._fh.write(spilled)

    def read(self) -> Iterator[list[tuple[int, P]]]:
        self._fh.flush()
        self._fh.seek(0)
        while True:
            try:
                make, rows = pickle.load(self._fh)  # noqa: S301 - our own 0600 file from this run
            except EOFError:
                return
            yield _made(make, rows)

    def close(self) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)


@dataclass(slots=True)
class _Plan:
    keep: int
    on_reject: OnReject | None
    total: int = 0
    rejected_count: int = 0
    first: list[Rejected] = field(default_factory=list)  # at most `keep`, by line, once sorted
    conflicts: set[int] = field(default_factory=set)  # every copy of a conflicting key
    skip: set[int] = field(default_factory=set)  # repeats of an identical row
    refused: set[int] = field(default_factory=set)  # lines the screen rejected

    def withheld(self) -> set[int]:
        """Lines spilled but not to be applied (pass 2 leaves them out)."""
        return self.skip | self.conflicts | self.refused

    def reject(self, item: Rejected) -> None:
        self.rejected_count += 1
        if self.on_reject is not None:
            self.on_reject(item)
        self.first.append(item)
        if len(self.first) >= 2 * self.keep + 1:
            self._trim()

    def kept(self) -> list[Rejected]:
        self._trim()
        return self.first

    def _trim(self) -> None:
        self.first.sort(key=lambda r: r.line)
        del self.first[self.keep :]


def _validate(
    path: Path,
    spec: FeedSpec[Any, P],
    mapper: _Mapper,
    spill: _Spill[P],
    today: date,
    chunk_size: int,
    progress: Progress | None,
    plan: _Plan,
    screen: Screen[P] | None = None,
) -> _Plan:
    seen: dict[int | str, tuple[int, int]] = {}  # key -> (fingerprint as int, first line)
    lines_of: dict[int | str, list[int]] = {}  # only keys seen more than once
    conflicted: set[int | str] = set()
    header, rows = read_cells(path, spec.columns)
    for piece in mapper.map(_check_chunk, _chunked(rows, chunk_size), today, header):
        plan.total += len(piece.rejected) + len(piece.lines)
        for item in piece.rejected:
            plan.reject(item)
        keys = piece.keys
        if seen.keys().isdisjoint(keys) and len(set(keys)) == len(keys):  # the usual case
            seen.update(zip(keys, zip(piece.fingerprints, piece.lines, strict=True), strict=True))
        else:
            _repeats(piece, seen, lines_of, conflicted, plan)
        if screen is not None and keys:
            key_of = dict(zip(piece.lines, keys, strict=True))
            first = [(line, p) for line, p in piece.prepared() if line not in plan.skip]
            refused = screen([(line, key_of[line], p) for line, p in first])
            for line in refused:
                plan.reject(Rejected(line, _label(key_of[line]), refused[line]))
            plan.refused.update(refused)
        if piece.lines:
            spill.write(piece.spilled)
        if progress:
            progress("validating", plan.total, None)
    # No copy of a conflicting key is applied: nothing tells which one is right.
    for key in conflicted:
        for line in lines_of[key]:
            plan.skip.discard(line)
            plan.conflicts.add(line)
            if line in plan.refused:
                continue
            plan.reject(Rejected(line, _label(key), _CONFLICT))
    return plan


def _repeats(
    piece: _Piece,
    seen: dict[int | str, tuple[int, int]],
    lines_of: dict[int | str, list[int]],
    conflicted: set[int | str],
    plan: _Plan,
) -> None:
    """A piece that gives a key again (within itself or after an earlier piece), row by row:
    only the first copy is applied, and none of a key given with different data."""
    for key, fp, line in zip(piece.keys, piece.fingerprints, piece.lines, strict=True):
        first = seen.setdefault(key, (fp, line))
        if first[1] != line:
            lines_of.setdefault(key, [first[1]]).append(line)
            if first[0] != fp:
                conflicted.add(key)
            plan.skip.add(line)


def _label(key: int | str) -> str:
    return f"{key:012d}" if isinstance(key, int) else key[:_LABEL_MAX]


def default_workers(path: Path) -> int:
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 1
    return max(1, os.cpu_count() or 1)


@_gc_paused()
def run_batch(
    path: Path,
    *,
    spec: FeedSpec[R, P],
    apply: Apply[P],
    unit_of_work: UnitOfWork,
    clock: Callable[[], datetime],
    today: date,
    kind: str,
    scope: str = "",
    strict: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    spill_dir: Path | None = None,
    progress: Progress | None = None,
    table: Table | None = None,
    on_reject: OnReject | None = None,
    keep_rejects: int = REJECTS_KEPT,
    on_finish: Callable[[Session], None] | None = None,
    screen: Screen[P] | None = None,
) -> BatchReport:
    """Import one feed file. Raises FeedError when the file as a whole cannot be read.

    `table`, the table `apply` fills, has its secondary indexes built after the rows when
    the import starts on it empty (`bulk.indexes_deferred`). Every rejected row goes to
    `on_reject` as it is found (rows in file order, then keys given twice with different
    data); the report keeps the first `keep_rejects` by line and the count. `on_finish`
    runs in the transaction that marks the run done (or, when `strict` aborts, in one of its
    own), so what it writes is committed with the run's end or not at all. `screen`
    (pass 1, main process) rejects rows by what is stored or came earlier in the file.
    """
    check_feed(path)
    mapper = _Mapper(spec, default_workers(path) if workers is None else workers)
    spill: _Spill[P] = _Spill(spill_dir)
    try:
        plan = _validate(
            path,
            spec,
            mapper,
            spill,
            today,
            min(chunk_size, CHECK_PIECE),
            progress,
            _Plan(keep_rejects, on_reject),
            screen,
        )
        mapper.close()
        report = BatchReport(
            run_id=None,
            total_rows=plan.total,
            rejected=plan.kept(),
            rejected_count=plan.rejected_count,
        )
        if strict and plan.rejected_count:
            report.aborted = True
            if on_finish is not None:
                with unit_of_work() as session:
                    on_finish(session)
            return report
        run_id, start, engine = _open_run(path, unit_of_work, clock, kind, scope, plan)
        report.run_id, report.resumed_from_line = run_id, (start or None)

        def commit(prepared: list[P], next_line: int, done: bool) -> None:
            with unit_of_work() as session:
                now = clock()
                counts = apply(session, prepared, now)
                run = session.get(ImportRun, run_id)
                assert run is not None
                run.next_line = next_line
                run.created += counts.created
                run.updated += counts.updated
                run.unchanged += counts.unchanged
                if done:
                    run.status, run.finished_at = "done", now
                    report.counts = Counts(run.created, run.updated, run.unchanged)
                    if on_finish is not None:
                        on_finish(session)

        todo = plan.total - plan.rejected_count - len(plan.skip)
        with ExitStack() as stack:
            stack.enter_context(background_checkpoints(engine))
            deferred = table is not None and stack.enter_context(
                indexes_deferred(unit_of_work, table)
            )
            if deferred and progress:  # runs before the indexes are rebuilt (last in, first out)
                stack.callback(progress, "indexing", todo, todo)
            withheld = plan.withheld()
            for wanted, next_line, done_rows in _commits(spill, start, withheld, chunk_size):
                if wanted:
                    commit(wanted, next_line, done=False)
                if progress:
                    progress("importing", done_rows, todo)
        # Done only once the indexes are back: a run killed while rebuilding them resumes.
        commit([], 0, done=True)
        return report
    finally:
        mapper.close()
        spill.close()


def _commits(
    spill: _Spill[P], start: int, withheld: set[int], size: int
) -> Iterator[tuple[list[P], int, int]]:
    """Pass 2's commits: the spilled pieces gathered into lists of at least `size` rows to
    apply (the last one shorter), each with the line a resumed run starts at once it is
    committed and the rows read so far; lines before `start` and withheld ones left out."""
    wanted: list[P] = []
    done = 0
    next_line = start
    for piece in spill.read():
        kept = [(line, p) for line, p in piece if line not in withheld]
        wanted += [p for line, p in kept if line >= start]
        done += len(kept)
        next_line = piece[-1][0] + 1
        if len(wanted) >= size:
            yield wanted, next_line, done
            wanted = []
    yield wanted, next_line, done


def _open_run(
    path: Path,
    unit_of_work: UnitOfWork,
    clock: Callable[[], datetime],
    kind: str,
    scope: str,
    plan: _Plan,
) -> tuple[str, int, Engine]:
    """Find the unfinished run of this very file, or start one.

    Returns (run id, first line, the engine the unit of work writes to).
    """
    digest = file_sha256(path)
    with unit_of_work() as session:
        engine = session.get_bind().engine
        run = session.scalars(
            select(ImportRun).where(
                ImportRun.kind == kind,
                ImportRun.scope == scope,
                ImportRun.source_sha256 == digest,
                ImportRun.status == "running",
            )
        ).first()
        if run is not None:
            return run.id, run.next_line, engine
        run = ImportRun(
            id=str(uuid.uuid4()),
            kind=kind,
            scope=scope,
            source_sha256=digest,
            source_name=path.name[:500],
            status="running",
            next_line=0,
            total_rows=plan.total,
            created=0,
            updated=0,
            unchanged=0,
            rejected=plan.rejected_count,
            started_at=clock(),
            finished_at=None,
        )
        session.add(run)
        return run.id, 0, engine
