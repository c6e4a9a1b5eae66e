"""`dinhdanh import social-graph | social-labels` and `dinhdanh social rank`, as a process."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyarrow.parquet as pq

from dinhdanh.settings import Settings
from dinhdanh.synth.social import edges_table, generate_social, labels_table, write_table
from tests.cli.helpers import cli, cli_json, env_of
from tests.oidc.conftest import REDIRECT
from tests.support import require_java


def _registered(tmp_path: Path, *codes: str) -> Settings:
    settings = Settings(data_dir=tmp_path / "var")
    cli(settings, "init")
    for code in codes:
        cli(settings, "platforms", "add", code, "--name", code.title(), "--redirect-uri", REDIRECT)
    return settings


def test_import_then_rank_writes_scores_summary_and_report(tmp_path: Path) -> None:
    settings = _registered(tmp_path, "zalo")
    s = generate_social(2000, 20_000, attack_edges=20, seed=5)
    write_table(edges_table(s), tmp_path / "g.parquet")
    write_table(labels_table(s), tmp_path / "l.csv")
    graph = cli_json(
        settings, "import", "social-graph", str(tmp_path / "g.parquet"), "--platform", "zalo"
    )
    assert graph["accepted"] == s.edges
    assert graph["accounts"] == 2000
    cli(settings, "import", "social-labels", str(tmp_path / "l.csv"), "--platform", "zalo")
    for method in ("sybilscar", "sybilrank"):
        out = tmp_path / method
        info = cli_json(
            settings, "social", "rank", "--platform", "zalo", "--out", str(out), "--method", method
        )
        assert info["method"] == method
        assert info["accounts"] == 2000
        assert info["auc_on_labels"] > 0.8
        assert info["risk_stored"] == 2000  # what the status API's risk answers
        assert stat.S_IMODE(out.stat().st_mode) == 0o700
        for name in ("scores.parquet", "summary.json", "report.html"):
            assert stat.S_IMODE((out / name).stat().st_mode) == 0o600  # they name accounts
        scores = pq.read_table(out / "scores.parquet")
        assert scores.column_names == ["account", "score", "reasons"]
        assert scores.num_rows == 2000
        html = (out / "report.html").read_text()
        assert "<svg" in html
        assert "ROC" in html
        assert "http" not in html.replace("http-equiv", "")


def test_rejects_are_reported_with_lines_and_strict_applies_nothing(tmp_path: Path) -> None:
    settings = _registered(tmp_path, "fb", "tw")
    feed = tmp_path / "g.csv"
    feed.write_text("src_account,dst_account,weight\na,b,1\nc,c,1\n", encoding="utf-8")
    strict = cli(
        settings, "import", "social-graph", str(feed), "--platform", "fb", "--strict", check=False
    )
    assert strict.returncode == 1
    assert "line 3: self_loop" in strict.stdout
    assert not (tmp_path / "var" / "social" / "fb" / "graph").exists()
    rejects = tmp_path / "rejects.csv"
    cli(
        settings, "import", "social-graph", str(feed), "--platform", "fb", "--rejects", str(rejects)
    )
    assert rejects.read_text().splitlines()[1].startswith("3,c,self_loop")
    missing = cli(
        settings, "social", "rank", "--platform", "tw", "--out", str(tmp_path / "o"), check=False
    )
    assert missing.returncode == 1
    assert "no graph" in missing.stderr
    for command in (
        ["import", "social-graph", str(feed)],
        ["social", "rank", "--out", str(tmp_path / "o")],
    ):
        unknown = cli(settings, *command, "--platform", "xx", check=False)
        assert unknown.returncode == 1
        assert "no platform 'xx'" in unknown.stderr


def test_rank_on_spark_writes_the_same_scores(tmp_path: Path) -> None:
    """--engine spark (local mode, DINHDANH_SPARK_MASTER) as a process: the scores file
    holds scipy's scores within 1e-6 (the methods' equivalence: tests/social/
    test_sybil_spark.py)."""
    require_java()
    settings = _registered(tmp_path, "zalo")
    s = generate_social(500, 3_000, attack_edges=10, seed=9)
    write_table(edges_table(s), tmp_path / "g.parquet")
    write_table(labels_table(s), tmp_path / "l.csv")
    cli(settings, "import", "social-graph", str(tmp_path / "g.parquet"), "--platform", "zalo")
    cli(settings, "import", "social-labels", str(tmp_path / "l.csv"), "--platform", "zalo")
    scores = {}
    for engine in ("scipy", "spark"):
        out = tmp_path / engine
        args = ("social", "rank", "--platform", "zalo", "--out", str(out))
        env = env_of(settings) | {"DINHDANH_SPARK_MASTER": "local[1]"}
        info = json.loads(cli(settings, *args, "--method", "sybilrank", "--engine", engine,
                              "--json", env=env).stdout)  # fmt: skip
        assert info["risk_stored"] == 500
        table = pq.read_table(out / "scores.parquet").sort_by("account")
        scores[engine] = table
    assert scores["spark"]["account"] == scores["scipy"]["account"]
    here, there = (scores[e]["score"].to_numpy() for e in ("scipy", "spark"))
    assert abs(here - there).max() <= 1e-6
    assert scores["spark"]["reasons"] == scores["scipy"]["reasons"]
