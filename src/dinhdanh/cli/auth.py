"""`dinhdanh clients add | list | disable | enable`: relying parties of the OIDC provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dinhdanh.auth.clients import DEFAULT_GRANTS, ClientConfigError
from dinhdanh.cli.common import container_from, emit_json, fail, out
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS

clients_app = typer.Typer(no_args_is_help=True, help="OIDC clients (relying parties).")


@clients_app.command("add")
def clients_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The platform's name, shown on the consent page.")],
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Redirect URI, matched exactly (repeatable).")
    ] = None,
    post_logout_redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Where RP-initiated logout may return (repeatable).")
    ] = None,
    sector_identifier: Annotated[
        str | None, typer.Option(help="Sector of pairwise subjects (default: redirect host).")
    ] = None,
    join_sector: Annotated[
        bool,
        typer.Option(help="Share the subjects of --sector-identifier, which another client owns."),
    ] = False,
    grant: Annotated[
        list[str] | None,
        typer.Option(help="Grant type (repeatable; default authorization_code, refresh_token)."),
    ] = None,
    id_token_alg: Annotated[
        str, typer.Option(help=f"Token signature: {', '.join(SUPPORTED_ALGORITHMS)}.")
    ] = "EdDSA",  # noqa: S107  (an algorithm name)
    jwks_file: Annotated[
        Path | None, typer.Option(help="Client JWKS (JSON) for private_key_jwt; no secret then.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Register a client; its secret is printed once (only a SHA-256 of it is kept)."""
    jwks = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"{jwks_file}: {exc}")
    try:
        with container_from(ctx) as c, c.unit_of_work() as session:
            info, secret = c.auth.clients.create(
                session,
                name=name,
                redirect_uris=redirect_uri or [],
                post_logout_redirect_uris=post_logout_redirect_uri or [],
                sector_identifier=sector_identifier,
                grant_types=tuple(grant or DEFAULT_GRANTS),
                signing_alg=id_token_alg,
                jwks=jwks,
                now=c.clock(),
                join_sector=join_sector,
            )
    except ClientConfigError as exc:
        fail(str(exc))
    result = info.public() | ({"client_secret": secret} if secret else {})
    if json_out:
        emit_json(result)
    else:
        out.print(f"client {info.client_id} ({name})" + (f"\nsecret: {secret}" if secret else ""))


@clients_app.command("list")
def clients_list(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Registered clients (no secrets)."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        items = [x.public() for x in c.auth.clients.list(session)]
    if json_out:
        emit_json(items)
    else:
        for item in items:
            out.print(f"{item['client_id']}  {item['client_name']}  {item['redirect_uris']}")


def _set_disabled(ctx: typer.Context, client_id: str, disabled: bool, json_out: bool) -> None:
    with container_from(ctx) as c, c.unit_of_work() as session:
        info = c.auth.clients.set_disabled(session, client_id, disabled, c.clock())
    if info is None:
        fail(f"no client {client_id!r}")
    if json_out:
        emit_json(info.public())
    else:
        out.print(f"client {info.client_id} ({info.name}) {'disabled' if disabled else 'enabled'}")


JsonOut = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@clients_app.command("disable")
def clients_disable(ctx: typer.Context, client_id: str, json_out: JsonOut = False) -> None:
    """Disable a client: no authorization, no token; its grants are revoked for good.
    Servers notice within DINHDANH_CLIENT_CACHE_SECONDS for client_credentials."""
    _set_disabled(ctx, client_id, True, json_out)


@clients_app.command("enable")
def clients_enable(ctx: typer.Context, client_id: str, json_out: JsonOut = False) -> None:
    """Enable a disabled client again (its revoked grants stay revoked)."""
    _set_disabled(ctx, client_id, False, json_out)
