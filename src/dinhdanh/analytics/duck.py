"""DuckDB connections that never reach the network (issue 4, "DuckDB must never try to
download anything at run time").

By default DuckDB installs and loads known extensions from its HTTP repository the first time
a query needs one. On a host holding personal data that is an unaudited outbound connection
and unsigned-by-us code, so here:

- autoinstall and autoload of known extensions are off, community extensions are refused;
- both extension repositories point at a directory that does not exist, so even an explicit
  ``INSTALL`` fails locally instead of downloading;
- the two scanners we need (``sqlite_scanner``, ``postgres_scanner``) come from the PyPI
  wheels ``duckdb-extension-sqlite-scanner`` / ``-postgres-scanner``, pinned to duckdb's own
  version, and are ``LOAD``-ed by file path. DuckDB still checks their signatures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

import duckdb

__all__ = [
    "EXTENSIONS",
    "Extension",
    "connect",
    "extension_path",
    "load_extension",
    "quote_identifier",
    "stage",
]

Extension = Literal["sqlite_scanner", "postgres_scanner"]

# Extension name -> the Python package (a wheel) that ships it.
EXTENSIONS: dict[str, str] = {
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}

# Any INSTALL resolves here and fails: no such directory, and never a URL.
OFFLINE_REPOSITORY = "/nonexistent/dinhdanh-offline-extensions"


def connect(
    memory_limit: str | None = None,
    threads: int | None = None,
    *,
    database: str = ":memory:",
    temp_directory: str | Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every download path closed.

    ``memory_limit`` ("2GB") and ``threads`` default to DuckDB's own (80 % of RAM, all
    cores). ``temp_directory`` is where operators spill when over the limit; DuckDB's
    default is ``.tmp`` under the working directory.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "custom_extension_repository": OFFLINE_REPOSITORY,
        "autoinstall_extension_repository": OFFLINE_REPOSITORY,
        # Batch jobs order their output explicitly; keeping scan order costs memory.
        "preserve_insertion_order": False,
    }
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    return duckdb.connect(database, config=config)


def extension_path(name: Extension) -> Path:
    """The ``.duckdb_extension`` file inside the wheel that ships ``name``.

    The wheels lay it out as ``<package>/extensions/v<duckdb version>/<name>.duckdb_extension``;
    a file built for another duckdb version would not load, so only ours is accepted.
    """
    package = EXTENSIONS.get(name)
    if package is None:
        raise ValueError(f"unknown extension {name!r}; known: {', '.join(sorted(EXTENSIONS))}")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"extension package {package} is not installed")
    version = duckdb.__version__
    for root in spec.submodule_search_locations:
        path = Path(root) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
        if path.is_file():
            return path
    raise RuntimeError(f"{package} has no {name} build for duckdb {version}; pin both equal")


def load_extension(con: duckdb.DuckDBPyConnection, name: Extension) -> None:
    """LOAD ``name`` from its wheel by file path (no repository, no network)."""
    path = extension_path(name)
    con.execute(f"LOAD '{_quote_literal(str(path))}'")


def stage(con: duckdb.DuckDBPyConnection, query: str, path: Path, view: str) -> str:
    """Copy ``query`` to the Parquet file ``path`` and create ``view`` over it; return ``view``.

    Batch rules scan their inputs several times; scanning SQLite or PostgreSQL through the
    scanners each time is far slower than one copy to Parquet.
    """
    con.execute(f"COPY ({query}) TO '{_quote_literal(str(path))}' (FORMAT parquet)")
    con.execute(
        f"CREATE OR REPLACE VIEW {quote_identifier(view)} AS "  # noqa: S608 (quoted)
        f"SELECT * FROM read_parquet('{_quote_literal(str(path))}')"
    )
    return view


def quote_identifier(name: str) -> str:
    """``schema.table`` -> ``"schema"."table"``, each part quoted."""
    if not name or any(not part for part in name.split(".")):
        raise ValueError("empty relation name")
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _quote_literal(text: str) -> str:
    # store.snapshots.quoted does the same; each module keeps its own so that this one
    # loads no SQLAlchemy (the engines on Parquet) and that one no DuckDB (the upload path).
    return text.replace("'", "''")
