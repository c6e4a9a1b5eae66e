"""The CLI loads a command's module only to run it: `dinhdanh --help` imports no stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup

from dinhdanh.cli.main import COMMANDS, load
from tests.cli.helpers import EXE
from tests.support import require_java

# What `dinhdanh --help` must not pull in: each costs tenths of a second to import.
HEAVY = (
    "sqlalchemy",
    "fastapi",
    "scipy",
    "duckdb",
    "pyarrow",
    "pydantic",
    "cryptography",
    "dinhdanh.wiring",
    "dinhdanh.cli.common",
    "pyspark",
)

PROBE = """
import json, sys
from dinhdanh.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str, env: dict[str, str] | None = None, timeout: int = 120) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"} | (env or {}),
    )
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_help_imports_no_stack() -> None:
    loaded = modules_after("--help")
    assert not {m for m in HEAVY if m in loaded}
    # ...and still lists every command with its help.
    proc = subprocess.run(
        [EXE, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    for name, spec in COMMANDS.items():
        assert f" {name} " in proc.stdout
        assert spec.help.split()[0] in proc.stdout


def test_a_command_loads_only_its_own_stack() -> None:
    loaded = modules_after("keys", "--help")
    assert "dinhdanh.cli.core" in loaded
    assert not {m for m in ("dinhdanh.cli.social", "scipy", "dinhdanh.cli.demo") if m in loaded}


@pytest.mark.parametrize("group", ["keys", "apikeys", "serve", "init"])
def test_the_core_commands_help_loads_no_store(group: str) -> None:
    # cli.core's commands load the key ring, the store and the access layer when they run.
    loaded = modules_after(group, "--help")
    assert "dinhdanh.cli.core" in loaded
    assert not ({*HEAVY, "dinhdanh.privacy.access"} - {"pydantic", "dinhdanh.cli.common"}) & loaded


def test_a_groups_help_imports_no_engine() -> None:
    # `dinhdanh reconcile --help` loads the reconcile commands' modules, not what they run.
    loaded = modules_after("reconcile", "--help")
    assert {"dinhdanh.cli.telecom", "dinhdanh.cli.internet"} <= loaded
    # typer itself imports pydantic to coerce the commands' options.
    engines = {*HEAVY, "alembic", "pandas", "dinhdanh.settings"} - {
        "pydantic",
        "dinhdanh.cli.common",
    }
    assert not engines & loaded


def test_the_import_groups_help_imports_no_engine() -> None:
    # `dinhdanh import --help` loads every module that adds an import command (cli.social's
    # graph and labels among them), none of the importers, stores or ranking they run.
    loaded = modules_after("import", "--help")
    assert {"dinhdanh.cli.imports", "dinhdanh.cli.social", "dinhdanh.cli.internet"} <= loaded
    engines = {*HEAVY, "numpy", "alembic", "pandas", "dinhdanh.store.private"} - {
        "pydantic",
        "dinhdanh.cli.common",
    }
    assert not engines & loaded


def test_the_rank_commands_methods_are_the_rankings() -> None:
    from dinhdanh.cli.social import RankMethod
    from dinhdanh.social.sybil import Method

    assert {m.value for m in RankMethod} == {m.value for m in Method}


@pytest.mark.parametrize("command", ["subscriptions", "internet"])
def test_a_commands_help_imports_no_engine(command: str) -> None:
    loaded = modules_after("reconcile", command, "--help")
    stacks = ("fastapi", "scipy", "dinhdanh.auth", "dinhdanh.web", "duckdb", "sqlalchemy")
    assert not {m for m in stacks if m in loaded}


@pytest.mark.parametrize("command", ["subscriptions", "internet"])
def test_a_reconciliation_loads_only_its_own_stack(command: str, tmp_path: Path) -> None:
    """A run on an initialised store with no phone binding to flag: the store and DuckDB, but
    no migration tool, sign-in, web or scientific stack; the subscriptions' run binds no
    Python value in DuckDB, so not pandas either (half a second of start-up)."""
    env = {"DINHDANH_DATA_DIR": str(tmp_path / "var")}
    subprocess.run([EXE, "init"], env=env | {"PATH": "/usr/bin:/bin"}, check=True, timeout=120)
    loaded = modules_after("reconcile", command, "--out", str(tmp_path / "out"), env=env)
    assert {"sqlalchemy", "duckdb"} <= loaded
    assert (tmp_path / "out" / "summary.json").exists()  # it ran
    stacks = ("alembic", "dinhdanh.auth", "dinhdanh.web", "fastapi", "scipy", "webauthn")
    if command == "subscriptions":
        stacks += ("pandas",)
    assert not {m for m in stacks if m in loaded}
    assert "pyspark" not in loaded  # only --engine spark loads it


def test_a_spark_reconciliation_runs_from_the_command(tmp_path: Path) -> None:
    """--engine spark starts Spark (local mode: DINHDANH_SPARK_MASTER) and writes the same
    files; the equivalence of the verdicts is tests/telecom/test_reconcile_spark.py's."""
    require_java()
    env = {"DINHDANH_DATA_DIR": str(tmp_path / "var"), "DINHDANH_SPARK_MASTER": "local[1]"}
    path = {"PATH": "/usr/bin:/bin"}
    subprocess.run([EXE, "init"], env=env | path, check=True, timeout=120)
    args = ("reconcile", "subscriptions", "--engine", "spark", "--out", str(tmp_path / "out"))
    loaded = modules_after(*args, env=env, timeout=600)  # a JVM starts: slow on a busy host
    assert "pyspark" in loaded
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == 0
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_the_import_commands_default_chunk_is_the_stores() -> None:
    from dinhdanh.cli import imports
    from dinhdanh.store import batch

    assert imports.DEFAULT_CHUNK_SIZE == batch.DEFAULT_CHUNK_SIZE


def test_the_upload_commands_default_chunk_is_the_importers() -> None:
    from dinhdanh.cli import imports
    from dinhdanh.telecom import importer

    assert imports.UPLOAD_CHUNK_SIZE == importer.UPLOAD_CHUNK_SIZE


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    spec = COMMANDS[name]
    command = load(name)
    assert command.name == name
    assert isinstance(command, TyperGroup) is not spec.single
    own = " ".join((command.help or "").split("\n\n")[0].split())
    assert own == spec.help


SUBCOMMANDS = """
import json, sys
from importlib import import_module
from pkgutil import walk_packages
import dinhdanh.cli
from dinhdanh.cli.main import COMMANDS, load
if sys.argv[1] == "all":  # every CLI module imported first: whatever registers anywhere
    for info in walk_packages(dinhdanh.cli.__path__, "dinhdanh.cli."):
        import_module(info.name)
print(json.dumps({n: sorted(getattr(load(n), "commands", {})) for n in COMMANDS}))
"""


def test_a_group_loads_every_subcommand_registered_anywhere() -> None:
    """A module that adds commands to a group must be in the group's ``extends``."""

    def subcommands(mode: str) -> dict[str, list[str]]:
        proc = subprocess.run(
            [sys.executable, "-c", SUBCOMMANDS, mode],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return dict(json.loads(proc.stdout.splitlines()[-1]))

    alone = subcommands("lazy")
    assert alone == subcommands("all")
    assert "internet" in alone["reconcile"]
    assert "subscriptions" in alone["import"]
