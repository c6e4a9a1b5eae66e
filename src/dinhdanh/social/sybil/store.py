"""A platform's interaction graph and moderation labels, kept as Parquet in the data directory.

Layout under ``DATA_DIR/social/CODE/``: ``graph`` is a symlink to ``graph-<id>/`` holding
``accounts.parquet`` (account, degree: the CSR row lengths) and ``adjacency.parquet`` (col,
weight: the CSR column indexes and weights, both directions of every edge); ``labels.parquet``
holds (account, label). Imports validate the whole file first (vectorized, with pyarrow), so a
file either replaces the stored one as a whole or changes nothing: a new graph is written to a
new directory and the symlink swapped by one ``rename``; labels are written beside and renamed.

Rows are rejected with their line (CSV: the header is line 1; Parquet: the 1-based row number)
and a reason, as the other imports do (``store.batch.Rejected``); ``strict`` refuses a file with
any rejected row. Duplicate edges (in either direction) are merged by summing their weights.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import sparse

from dinhdanh.errors import DomainError
from dinhdanh.store.batch import REJECTS_KEPT, OnReject, Rejected
from dinhdanh.store.feeds import FeedError, Reason, check_feed
from dinhdanh.store.private import private_dir

PLATFORM_CODE = re.compile(r"^[a-z0-9_-]{2,32}$")
MAX_ACCOUNT = 128  # characters of a platform account id
GRAPH_COLUMNS = ("src_account", "dst_account", "weight")
LABEL_COLUMNS = ("account", "label")
LABELS = ("benign", "sybil")
REJECTS_SHOWN = 100  # rejected rows listed in an answer; `rejected` counts them all
_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"


class SocialDataError(DomainError):
    code, status, title = "social_data_missing", 404, "No graph or labels for this platform"


class RowsRejected(DomainError):
    """``strict`` and some rows were rejected: nothing was applied."""

    code, status, title = "rows_rejected", 422, "Rows of the file were rejected"


@dataclass(frozen=True)
class Graph:
    """Accounts and their symmetric weighted adjacency (row i is ``accounts[i]``)."""

    accounts: pa.StringArray
    adj: sparse.csr_matrix


@dataclass
class ImportReport:
    total_rows: int = 0
    accepted: int = 0
    rejected_count: int = 0
    rejected: list[Rejected] = field(default_factory=list)  # the first REJECTS_KEPT
    aborted: bool = False
    stored: dict[str, int] = field(default_factory=dict)  # e.g. accounts, edges

    def rejects_shown(self, limit: int = REJECTS_SHOWN) -> dict[str, object]:
        """The first rejected rows (line, account, reason code and message) and the count,
        as an answer shows them."""
        rows = [
            {"line": r.line, "account": r.label, "reason": why.code, "message": why.message}
            for r in self.rejected[:limit]
            for why in r.reasons[:1]  # one each: a row is rejected for its first failed check
        ]
        return {
            "rejected": self.rejected_count,
            "rejected_rows": rows,
            "rejected_rows_truncated": self.rejected_count > len(rows),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "total_rows": self.total_rows,
            "accepted": self.accepted,
            "rejected": self.rejected_count,
            "aborted": self.aborted,
            **self.stored,
        }


def check_platform(code: str) -> str:
    """A platform code as a directory name (whether it is registered: ``platform_data``)."""
    if not PLATFORM_CODE.match(code):
        raise FeedError(f"platform code {code!r}: 2 to 32 of a-z, 0-9, _ and -")
    return code


def platform_dir(data_dir: Path, platform: str) -> Path:
    return private_dir(private_dir(data_dir / "social") / check_platform(platform))


# --- reading and checking a file ---------------------------------------------------------------


def _read(path: Path, columns: tuple[str, ...]) -> tuple[pa.Table, int]:
    """The required columns as trimmed strings, and the line number of the first row."""
    check_feed(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            present = pq.read_schema(path).names
            first = 1
        elif suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                present = next(csv.reader(fh), [])
            first = 2
        else:
            raise FeedError(f"{path.name}: expected a .csv or .parquet file")
        missing = [c for c in columns if c not in present]
        if missing:
            raise FeedError(f"{path.name}: missing column(s): {', '.join(missing)}")
        if suffix == ".parquet":
            table = pq.read_table(path, columns=list(columns))
        else:
            from pyarrow import csv as pacsv

            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    include_columns=list(columns),
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=False,
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise FeedError(f"{path.name}: unreadable ({exc})") from None
    cols = {c: pc.utf8_trim_whitespace(pc.cast(table[c], pa.string())) for c in columns}
    return pa.table(cols), first


def _account_problem(values: pa.ChunkedArray, name: str) -> list[tuple[pa.Array, Reason]]:
    empty = pc.or_kleene(pc.is_null(values), pc.equal(pc.utf8_length(values), 0))
    return [
        (pc.fill_null(empty, True), Reason("account_missing", f"{name} is empty")),
        (
            pc.fill_null(pc.greater(pc.utf8_length(values), MAX_ACCOUNT), False),
            Reason("account_too_long", f"{name} is over {MAX_ACCOUNT} characters"),
        ),
    ]


def _reject(
    table: pa.Table,
    first_line: int,
    label: str,
    checks: list[tuple[pa.Array, Reason]],
    report: ImportReport,
    on_reject: OnReject | None,
) -> np.ndarray:
    """Mark rows failing a check (first failing check wins); return the mask of good rows."""
    n = table.num_rows
    which = np.full(n, -1, dtype=np.int64)
    for i in reversed(range(len(checks))):
        bad = np.asarray(pc.fill_null(checks[i][0], True), dtype=np.bool_)
        which[bad] = i
    bad_rows = np.flatnonzero(which >= 0)
    keys = table[label].take(pa.array(bad_rows)).to_pylist()
    for row, key in zip(bad_rows.tolist(), keys, strict=True):  # rejected rows only
        rejected = Rejected(row + first_line, (key or "")[:64], (checks[which[row]][1],))
        if len(report.rejected) < REJECTS_KEPT:
            report.rejected.append(rejected)
        if on_reject:
            on_reject(rejected)
    report.total_rows = n
    report.rejected_count = len(bad_rows)
    report.accepted = n - len(bad_rows)
    return np.asarray(which < 0)


# --- graph ---------------------------------------------------------------------------------------


def import_graph(
    path: Path,
    data_dir: Path,
    platform: str,
    *,
    strict: bool = False,
    on_reject: OnReject | None = None,
) -> ImportReport:
    """Replace the platform's graph by the valid rows of ``path`` (all of them if ``strict``)."""
    target = platform_dir(data_dir, platform)
    table, first = _read(path, GRAPH_COLUMNS)
    src, dst, w = table["src_account"], table["dst_account"], table["weight"]
    numeric = pc.match_substring_regex(w, _NUMBER)
    weight = np.asarray(
        pc.if_else(numeric, w, pa.scalar("0")).cast(pa.float64()).to_numpy(), dtype=np.float64
    )
    checks = [
        *_account_problem(src, "src_account"),
        *_account_problem(dst, "dst_account"),
        (pc.equal(src, dst), Reason("self_loop", "src_account and dst_account are the same")),
        (pc.invert(numeric), Reason("invalid_weight", "weight is not a number")),
        (
            pa.array(~(np.isfinite(weight) & (weight > 0))),
            Reason("invalid_weight", "weight must be a positive finite number"),
        ),
    ]
    report = ImportReport()
    good = _reject(table, first, "src_account", checks, report, on_reject)
    if strict and report.rejected_count:
        report.aborted = True
        return report
    if not report.accepted:
        raise FeedError(
            f"{path.name}: no valid edge ({report.rejected_count} rejected); graph unchanged",
            **report.rejects_shown(),
        )
    keep = pa.array(good)
    ends = pa.chunked_array(src.filter(keep).chunks + dst.filter(keep).chunks, pa.string())
    encoded = pc.dictionary_encode(ends).combine_chunks()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    m = len(codes) // 2
    accounts = encoded.dictionary
    adj = _symmetric(codes[:m], codes[m:], weight[good], len(accounts))
    _write_graph(target, Graph(accounts, adj))
    report.stored = {"accounts": len(accounts), "edges": adj.nnz // 2}
    return report


def _symmetric(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    adj = sparse.coo_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n)).tocsr()
    adj.sum_duplicates()  # also sorts each row's columns
    return adj


def _write_graph(target: Path, graph: Graph) -> None:
    new = target / f"graph-{uuid.uuid4().hex}"
    new.mkdir(mode=0o700)
    adj = graph.adj
    degree = np.diff(adj.indptr).astype(np.int32)
    pq.write_table(
        pa.table({"account": graph.accounts, "degree": degree}), new / "accounts.parquet"
    )
    pq.write_table(
        pa.table({"col": adj.indices.astype(np.int32), "weight": adj.data.astype(np.float32)}),
        new / "adjacency.parquet",
    )
    link = target / f".graph-{uuid.uuid4().hex}.link"
    os.symlink(new.name, link)
    os.replace(link, target / "graph")  # the switch: one rename
    for old in target.glob("graph-*"):
        if old != new:
            shutil.rmtree(old, ignore_errors=True)


def graph_accounts(data_dir: Path, platform: str) -> pa.Array:
    """The accounts of the platform's stored graph (not its edges)."""
    link = data_dir / "social" / check_platform(platform) / "graph"
    if not link.exists():
        raise SocialDataError(f"no graph imported for platform {platform!r}")
    return pq.read_table(link.resolve() / "accounts.parquet", columns=["account"])[
        "account"
    ].combine_chunks()


def graph_dir(data_dir: Path, platform: str) -> Path:
    """The directory of the platform's current graph version (accounts.parquet holds the CSR
    rows in order with their lengths, adjacency.parquet the cells)."""
    link = data_dir / "social" / check_platform(platform) / "graph"
    if not link.exists():
        raise SocialDataError(f"no graph imported for platform {platform!r}")
    return link.resolve()  # both files from one version, even if a new import swaps the link


def load_graph(data_dir: Path, platform: str) -> Graph:
    """The platform's stored graph as CSR (no sorting: the file holds CSR order)."""
    return read_graph(graph_dir(data_dir, platform))


def read_graph(where: Path) -> Graph:
    """The graph stored in the directory ``where`` (see ``graph_dir``)."""
    acc = pq.read_table(where / "accounts.parquet")
    cells = pq.read_table(where / "adjacency.parquet")
    degree = np.asarray(acc["degree"].to_numpy(), dtype=np.int64)
    indptr = np.zeros(len(degree) + 1, dtype=np.int64)
    np.cumsum(degree, out=indptr[1:])
    n = len(degree)
    indices = np.asarray(cells["col"].to_numpy(), dtype=np.int32)
    data = np.asarray(cells["weight"].to_numpy(), dtype=np.float64)
    adj = sparse.csr_matrix((data, indices, indptr.astype(np.int32)), shape=(n, n))
    adj.has_sorted_indices = True
    return Graph(acc["account"].combine_chunks(), adj)


# --- labels --------------------------------------------------------------------------------------


def import_labels(
    path: Path,
    data_dir: Path,
    platform: str,
    *,
    strict: bool = False,
    on_reject: OnReject | None = None,
) -> ImportReport:
    """Replace the platform's labels by the valid rows of ``path`` (all of them if ``strict``)."""
    target = platform_dir(data_dir, platform)
    table, first = _read(path, LABEL_COLUMNS)
    label = pc.utf8_lower(table["label"])
    account = table["account"]
    known = pc.is_in(label, value_set=pa.array(LABELS))
    pairs = pa.table({"account": account, "label": label}).filter(known)
    counts = pairs.group_by("account").aggregate([("label", "count_distinct")])
    torn = counts.filter(pc.greater(counts["label_count_distinct"], 1))["account"]
    checks = [
        *_account_problem(account, "account"),
        (pc.invert(known), Reason("invalid_label", "label must be benign or sybil")),
        (
            pc.is_in(account, value_set=torn.combine_chunks()),
            Reason("duplicate_conflict", "the account is labelled both benign and sybil"),
        ),
    ]
    report = ImportReport()
    good = _reject(table, first, "account", checks, report, on_reject)
    if strict and report.rejected_count:
        report.aborted = True
        return report
    kept = pa.table({"account": account, "label": label}).filter(pa.array(good))
    kept = kept.group_by(["account", "label"]).aggregate([]).sort_by("account")
    partial = target / f".labels-{uuid.uuid4().hex}.parquet"
    pq.write_table(kept, partial)
    os.replace(partial, target / "labels.parquet")
    report.stored = {"labelled_accounts": kept.num_rows}
    return report


def load_labels(data_dir: Path, platform: str) -> pa.Table:
    """(account, label) rows; empty if the platform imported none."""
    path = data_dir / "social" / check_platform(platform) / "labels.parquet"
    if not path.exists():
        return pa.table({"account": pa.array([], pa.string()), "label": pa.array([], pa.string())})
    return pq.read_table(path)


def indexes_of(graph: Graph, accounts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Row indexes in ``graph`` of ``accounts`` (accounts not in the graph are left out)."""
    found = pc.index_in(accounts, value_set=graph.accounts)
    found = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
    idx = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.float64)
    return idx[~np.isnan(idx)].astype(np.int64)
