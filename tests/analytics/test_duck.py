"""The DuckDB front: offline by construction, scanners loaded from their wheels."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from dinhdanh.analytics import connect, extension_path, load_extension, quote_identifier, stage


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    assert row is not None
    return row[0]


def _sqlite_file(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, token BLOB)")
    db.executemany(
        "INSERT INTO people VALUES (?, ?, ?)",
        [(1, "An", b"\x00\x01"), (2, "Bình", b"\xff" * 16)],
    )
    db.commit()
    db.close()
    return path


def test_connect_turns_off_every_download_path() -> None:
    con = connect()
    assert _setting(con, "autoinstall_known_extensions") is False
    assert _setting(con, "autoload_known_extensions") is False
    assert _setting(con, "allow_community_extensions") is False
    assert not str(_setting(con, "custom_extension_repository")).startswith("http")
    assert not str(_setting(con, "autoinstall_extension_repository")).startswith("http")


def test_connect_applies_limits() -> None:
    con = connect(memory_limit="512MB", threads=1)
    assert _setting(con, "threads") == 1
    assert _setting(con, "memory_limit") in {"488.2 MiB", "512.0 MB"}


def test_a_query_needing_a_missing_extension_fails_instead_of_downloading() -> None:
    con = connect()
    with pytest.raises(duckdb.Error, match="httpfs"):
        con.execute("SELECT * FROM read_parquet('https://example.invalid/x.parquet')")


def test_explicit_install_fails_locally() -> None:
    con = connect()
    with pytest.raises(duckdb.IOException, match="nonexistent"):
        con.execute("INSTALL spatial")


@pytest.mark.parametrize("name", ["sqlite_scanner", "postgres_scanner"])
def test_extension_path_is_the_wheel_file_for_this_duckdb(name: str) -> None:
    path = extension_path(name)  # type: ignore[arg-type]
    assert path.is_file()
    assert path.name == f"{name}.duckdb_extension"
    assert path.parent.name == f"v{duckdb.__version__}"


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown extension"):
        extension_path("httpfs")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["sqlite_scanner", "postgres_scanner"])
def test_load_extension_loads_it(name: str) -> None:
    con = connect()
    load_extension(con, name)  # type: ignore[arg-type]
    row = con.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [name]
    ).fetchone()
    assert row == (True,)


def test_sqlite_scan_reads_a_sqlite_file(tmp_path: Path) -> None:
    db = _sqlite_file(tmp_path / "small.db")
    con = connect()
    load_extension(con, "sqlite_scanner")
    rows = con.execute(
        "SELECT id, name, token FROM sqlite_scan(?, 'people') ORDER BY id", [str(db)]
    ).fetchall()
    assert rows == [(1, "An", b"\x00\x01"), (2, "Bình", b"\xff" * 16)]


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import sys
    from dinhdanh.analytics import connect, load_extension
    con = connect()
    load_extension(con, "sqlite_scanner")
    load_extension(con, "postgres_scanner")
    print(con.execute("SELECT count(*) FROM sqlite_scan(?, 'people')", [sys.argv[1]]).fetchone()[0])
    """
)


def _network_namespace_works() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        done = subprocess.run(
            [unshare, "-rn", "true"], check=False, capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.skipif(not _network_namespace_works(), reason="needs `unshare -rn` (no netns here)")
def test_loading_works_with_no_network_at_all(tmp_path: Path) -> None:
    # A fresh network namespace has no interface but a downed loopback: any download fails.
    db = _sqlite_file(tmp_path / "small.db")
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", _OFFLINE_SCRIPT, str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


def test_stage_copies_a_query_to_parquet_and_names_it(tmp_path: Path) -> None:
    db = _sqlite_file(tmp_path / "small.db")
    con = connect()
    load_extension(con, "sqlite_scanner")
    target = tmp_path / "people.parquet"
    name = stage(con, f"SELECT id, name FROM sqlite_scan('{db}', 'people')", target, "people")
    assert name == "people"
    assert target.is_file()
    assert con.execute("SELECT name FROM people ORDER BY id").fetchall() == [("An",), ("Bình",)]


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("subs", '"subs"'), ("db.main.subs", '"db"."main"."subs"'), ('we"ird', '"we""ird"')],
)
def test_quote_identifier(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted


@pytest.mark.parametrize("name", ["", "a..b", ".a"])
def test_quote_identifier_refuses_empty_parts(name: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        quote_identifier(name)
