"""Graph and label imports: rejects with line and reason, whole-file replacement, round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dinhdanh.social.sybil import import_graph, import_labels, load_graph, load_labels
from dinhdanh.social.sybil.store import indexes_of
from dinhdanh.store.batch import Rejected
from dinhdanh.store.feeds import FeedError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def weights(tmp_path: Path, platform: str = "fb") -> dict[tuple[str, str], float]:
    g = load_graph(tmp_path, platform)
    names = g.accounts.to_pylist()
    coo = g.adj.tocoo()
    return {(names[i], names[j]): w for i, j, w in zip(coo.row, coo.col, coo.data, strict=True)}


def test_graph_rows_are_checked_and_duplicate_edges_merge(tmp_path: Path) -> None:
    feed = write(
        tmp_path / "g.csv",
        "src_account,dst_account,weight\n"
        "a,b,1\n"
        "b,a,2\n"  # the same undirected edge: weights add
        ",c,1\n"
        "c,c,1\n"
        "d,a,x\n"
        "a,c,-1\n"
        "a,c,inf\n"
        f"{'z' * 129},a,1\n"
        "c,d,0.5\n",
    )
    seen: list[Rejected] = []
    report = import_graph(feed, tmp_path, "fb", on_reject=seen.append)
    assert [(r.line, r.reasons[0].code) for r in seen] == [
        (4, "account_missing"),
        (5, "self_loop"),
        (6, "invalid_weight"),
        (7, "invalid_weight"),
        (8, "invalid_weight"),
        (9, "account_too_long"),
    ]
    assert (report.total_rows, report.accepted, report.rejected_count) == (9, 3, 6)
    assert weights(tmp_path) == {
        ("a", "b"): 3.0,
        ("b", "a"): 3.0,
        ("c", "d"): 0.5,
        ("d", "c"): 0.5,
    }


def test_strict_refuses_the_file_and_keeps_the_stored_graph(tmp_path: Path) -> None:
    import_graph(
        write(tmp_path / "a.csv", "src_account,dst_account,weight\np,q,1\n"), tmp_path, "fb"
    )
    bad = write(tmp_path / "b.csv", "src_account,dst_account,weight\nx,y,1\nx,x,1\n")
    report = import_graph(bad, tmp_path, "fb", strict=True)
    assert report.aborted
    assert report.rejected_count == 1
    assert weights(tmp_path) == {("p", "q"): 1.0, ("q", "p"): 1.0}


def test_reimport_replaces_the_graph_in_one_switch(tmp_path: Path) -> None:
    import_graph(
        write(tmp_path / "a.csv", "src_account,dst_account,weight\np,q,1\n"), tmp_path, "fb"
    )
    table = pa.table({"src_account": ["x"], "dst_account": ["y"], "weight": [2]})
    pq.write_table(table, tmp_path / "b.parquet")
    report = import_graph(tmp_path / "b.parquet", tmp_path, "fb")
    assert report.stored == {"accounts": 2, "edges": 1}
    assert weights(tmp_path) == {("x", "y"): 2.0, ("y", "x"): 2.0}
    versions = list((tmp_path / "social" / "fb").glob("graph-*"))
    assert len(versions) == 1
    assert (tmp_path / "social" / "fb" / "graph").resolve() == versions[0]


def test_platforms_are_kept_apart(tmp_path: Path) -> None:
    import_graph(
        write(tmp_path / "a.csv", "src_account,dst_account,weight\np,q,1\n"), tmp_path, "aa"
    )
    import_graph(
        write(tmp_path / "b.csv", "src_account,dst_account,weight\nx,y,1\n"), tmp_path, "bb"
    )
    assert load_graph(tmp_path, "aa").accounts.to_pylist() == ["p", "q"]


@pytest.mark.parametrize("code", ["F", "a", "x" * 33, "../etc", "a b"])
def test_bad_platform_codes_are_refused(tmp_path: Path, code: str) -> None:
    feed = write(tmp_path / "g.csv", "src_account,dst_account,weight\np,q,1\n")
    with pytest.raises(FeedError):
        import_graph(feed, tmp_path, code)


@pytest.mark.parametrize("rows", ["", "x,x,1\n"])
def test_a_file_without_a_valid_edge_changes_nothing(tmp_path: Path, rows: str) -> None:
    import_graph(
        write(tmp_path / "a.csv", "src_account,dst_account,weight\np,q,1\n"), tmp_path, "fb"
    )
    feed = write(tmp_path / "g.csv", "src_account,dst_account,weight\n" + rows)
    with pytest.raises(FeedError, match="no valid edge"):
        import_graph(feed, tmp_path, "fb")
    assert weights(tmp_path) == {("p", "q"): 1.0, ("q", "p"): 1.0}


def test_missing_columns_refuse_the_file(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="weight"):
        import_graph(write(tmp_path / "g.csv", "src_account,dst_account\np,q\n"), tmp_path, "fb")
    assert not (tmp_path / "social" / "fb" / "graph").exists()


def test_labels_are_checked_and_conflicts_rejected(tmp_path: Path) -> None:
    feed = write(
        tmp_path / "l.csv",
        "account,label\na,benign\nb, Sybil \nc,spam\n,benign\nd,benign\nd,sybil\na,benign\n",
    )
    seen: list[Rejected] = []
    report = import_labels(feed, tmp_path, "fb", on_reject=seen.append)
    assert [(r.line, r.reasons[0].code) for r in seen] == [
        (4, "invalid_label"),
        (5, "account_missing"),
        (6, "duplicate_conflict"),
        (7, "duplicate_conflict"),
    ]
    assert report.stored == {"labelled_accounts": 2}
    assert load_labels(tmp_path, "fb").to_pylist() == [
        {"account": "a", "label": "benign"},
        {"account": "b", "label": "sybil"},
    ]


def test_no_labels_is_an_empty_table(tmp_path: Path) -> None:
    assert load_labels(tmp_path, "fb").num_rows == 0


def test_indexes_of_skips_unknown_accounts(tmp_path: Path) -> None:
    import_graph(
        write(tmp_path / "a.csv", "src_account,dst_account,weight\np,q,1\n"), tmp_path, "fb"
    )
    g = load_graph(tmp_path, "fb")
    assert indexes_of(g, pa.array(["q", "nope", "p"])).tolist() == [1, 0]
    assert np.array_equal(g.adj.toarray(), [[0, 1], [1, 0]])
