"""`dinhdanh demo`: one seeder per domain, run in order, so a newcomer can try the API, log in
and enrol at once: a synthetic population, its SIM subscriptions at three demo carriers, a
demo platform (OIDC client), a few demo citizens with an account, the last of them an officer
with a personal API token.

Idempotent: secrets are generated once and kept in the data directory (mode 0600):
``demo-officer.key``, ``demo-client.json`` (client id and secret) and ``demo-citizens.json``
(ID numbers, passwords, TOTP secrets). A re-run re-imports nothing, creates nothing and prints
the same credentials (the current TOTP code aside).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dinhdanh.cli.common import container_from, emit_json, out, settings_from
from dinhdanh.cli.demo import auth, identity, oidc, social, staff, telecom
from dinhdanh.cli.demo.base import DEMO_SEED, Demo, Seeder
from dinhdanh.wiring import init_data_dir

# In order: a seeder may use what the ones before it made (auth picks citizens from the
# registry's feed who have a number in the telecom registry). A new domain adds one line.
SEEDERS: tuple[Seeder, ...] = (
    identity.seed,
    telecom.seed,
    oidc.seed,
    auth.seed,
    staff.seed,
    social.seed,
)


def demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, help="Citizens to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population.")] = DEMO_SEED,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seed a demo population, officer key, platform client and citizens (re-running changes
    nothing)."""
    settings = settings_from(ctx)
    init_data_dir(settings)[1].dispose()
    run = Demo(ctx, settings, count, seed, quiet=json_out)
    result: dict[str, Any] = {}
    lines: list[str] = []
    for seeder in SEEDERS:
        seeded = seeder(run)
        result |= seeded.result
        lines += seeded.lines
    with container_from(ctx) as c:
        c.checkpoint_audit()
    if json_out:
        emit_json(result)
        return
    out.print("\n".join(lines), highlight=False)


demo_app = typer.Typer(add_completion=False)
demo_app.command("demo")(demo)
