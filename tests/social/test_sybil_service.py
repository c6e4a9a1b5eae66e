"""Ranking a stored platform: seeds from labels and the verified hook, outputs, escaping."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from dinhdanh.social.sybil import Method, import_graph, import_labels, rank_platform, write_outputs

EVIL = "<script>alert(1)</script>"


def _platform(tmp_path: Path) -> Path:
    # An honest square a-b-c-d and a sybil triangle x-y-EVIL, joined by one attack edge d-x.
    edges = ["a,b", "b,c", "c,d", "d,a", "a,c", "d,x", "x,y", f"y,{EVIL}", f"{EVIL},x"]
    graph = tmp_path / "g.csv"
    graph.write_text(
        "src_account,dst_account,weight\n" + "".join(f"{e},1\n" for e in edges), encoding="utf-8"
    )
    labels = tmp_path / "l.csv"
    labels.write_text("account,label\nb,benign\ny,sybil\n", encoding="utf-8")
    import_graph(graph, tmp_path, "fb")
    import_labels(labels, tmp_path, "fb")
    return tmp_path


def test_extra_seeds_are_trust_seeds(tmp_path: Path) -> None:
    _platform(tmp_path)
    plain = rank_platform(tmp_path, "fb", Method.SYBILRANK)
    seeded = rank_platform(tmp_path, "fb", Method.SYBILRANK, extra_seeds=["d", "unknown"])
    assert len(plain.seeds) == 1
    assert len(seeded.seeds) == 2  # "unknown" is not in the graph: left out


def test_outputs_rank_the_sybil_triangle_first_and_escape_account_ids(tmp_path: Path) -> None:
    _platform(tmp_path)
    result = rank_platform(tmp_path, "fb", Method.SYBILSCAR)
    info = write_outputs(result, "fb", tmp_path / "out")
    scores = {
        r["account"]: (r["score"], r["reasons"])
        for r in pq.read_table(tmp_path / "out" / "scores.parquet").to_pylist()
    }
    assert min(scores[s][0] for s in ("x", "y", EVIL)) > max(scores[h][0] for h in "abcd")
    assert scores["y"][1] == ["LOW_TRUST", "LABELLED_SYBIL"]
    assert "LABELLED_SYBIL_NEIGHBOURHOOD" in scores[EVIL][1]
    assert info["auc_on_labels"] == 1.0
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == info
    html = (tmp_path / "out" / "report.html").read_text()
    assert EVIL not in html
    assert "&lt;script&gt;" in html
