"""dinhdanh: identification and authentication for a nation's cyberspace."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Annotated, NamedTuple

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command, get_group

__all__ = ["COMMANDS", "app"]


class Lazy(NamedTuple):
    """Where a top-level command lives, and the help `dinhdanh --help` lists for it."""

    module: str
    attribute: str  # a typer.Typer
    help: str
    # Modules that add commands to the group when imported (`import social-graph` lives with
    # the social commands).
    extends: tuple[str, ...] = ()
    single: bool = False  # the Typer holds one command that runs as `dinhdanh NAME`


# Commands are loaded when they run, not at start-up: the web, auth, analytics and scientific
# stacks cost over a second to import, and most commands use one of them or none. The help
# here is what the group says of itself (a test holds them equal).
COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        "dinhdanh.cli.core",
        "init_app",
        "Create the data directory, the key ring (0600) and the database schema. Idempotent.",
        single=True,
    ),
    "serve": Lazy(
        "dinhdanh.cli.core",
        "serve_app",
        "Serve the API (granian with N worker processes, or uvicorn in-process for --workers 1).",
        single=True,
    ),
    "demo": Lazy(
        "dinhdanh.cli.demo",
        "demo_app",
        "Seed a demo population, officer key, platform client and citizens (re-running changes "
        "nothing).",
        single=True,
    ),
    "import": Lazy(
        "dinhdanh.cli.imports",
        "import_app",
        "Batch imports (idempotent, resumable).",
        extends=("dinhdanh.cli.social", "dinhdanh.cli.internet"),
    ),
    "audit": Lazy("dinhdanh.cli.core", "audit_app", "The tamper-evident audit log."),
    "keys": Lazy("dinhdanh.cli.core", "keys_app", "The key ring."),
    "apikeys": Lazy(
        "dinhdanh.cli.core",
        "apikeys_app",
        "API keys: machines' keys, and officers' personal tokens.",
    ),
    "carriers": Lazy("dinhdanh.cli.telecom", "carriers_app", "Carriers and their API keys."),
    "reconcile": Lazy(
        "dinhdanh.cli.telecom",
        "reconcile_app",
        "Reconciliation against the registry.",
        extends=("dinhdanh.cli.internet",),
    ),
    "telecom": Lazy("dinhdanh.cli.telecom", "telecom_app", "The junk-SIM lock timeline."),
    "clients": Lazy("dinhdanh.cli.auth", "clients_app", "OIDC clients (relying parties)."),
    "staff": Lazy("dinhdanh.cli.staff", "staff_app", "Staff roles of citizens (grants)."),
    "social": Lazy("dinhdanh.cli.social", "social_app", "Platform accounts: fake-account ranking."),
    "platforms": Lazy(
        "dinhdanh.cli.platforms", "platforms_app", "Social platforms and their API keys."
    ),
    "registrars": Lazy(
        "dinhdanh.cli.internet", "registrars_app", "Domain registrars and their API keys."
    ),
    "posture": Lazy(
        "dinhdanh.cli.posture",
        "posture_app",
        "Agencies' information systems, perimeter checks, findings.",
    ),
}


def load(name: str) -> click.Command:
    """The click command of a top-level command, importing its module (and extensions)."""
    spec = COMMANDS[name]
    module = import_module(spec.module)
    for extension in spec.extends:
        import_module(extension)
    typer_app = getattr(module, spec.attribute)
    command = get_command(typer_app) if spec.single else get_group(typer_app)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: lists every command from COMMANDS, imports one only to run it."""

    listing = False  # while help is formatted, commands stand in by their help alone

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in COMMANDS:
            return found
        if self.listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
        self.commands[cmd_name] = command = load(cmd_name)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, help=__doc__)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (env DINHDANH_DATA_DIR; default ./var).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL (env DINHDANH_DATABASE_URL; default SQLite in the data directory)."
        ),
    ] = None,
) -> None:
    """dinhdanh: identification and authentication for a nation's cyberspace."""
    ctx.obj = {"data_dir": data_dir, "database_url": database_url}
