"""The commands of the platform itself: init, serve, the audit log, the key ring, API keys.

Loaded only when one of them runs (see cli/main.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from dinhdanh.choices import LogLevel
from dinhdanh.cli.common import (
    container_from,
    emit_json,
    fail,
    operator_context,
    out,
    parse_expiry,
    settings_from,
)
from dinhdanh.privacy.roles import Role

# The key ring, the store and the access layer load in the commands that use them: `dinhdanh
# keys --help` or `apikeys --help` loads none of them.
if TYPE_CHECKING:
    from dinhdanh.crypto import KeyRing

init_app = typer.Typer(add_completion=False)
serve_app = typer.Typer(add_completion=False)
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
keys_app = typer.Typer(no_args_is_help=True, help="The key ring.")
apikeys_app = typer.Typer(
    no_args_is_help=True, help="API keys: machines' keys, and officers' personal tokens."
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@init_app.command("init")
def init(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Create the data directory, the key ring (0600) and the database schema. Idempotent."""
    from dinhdanh.crypto import CryptoError
    from dinhdanh.wiring import init_data_dir

    settings = settings_from(ctx)
    try:
        created, engine = init_data_dir(settings)
    except CryptoError as exc:
        fail(f"key ring unusable: {exc}")
    engine.dispose()
    result = {
        "data_dir": str(settings.data_dir.resolve()),
        "keyring": "environment" if settings.keyring else str(settings.keyring_path),
        "keyring_created": created,
        "database": engine.url.render_as_string(hide_password=True),
    }
    if json_out:
        emit_json(result)
    else:
        out.print(f"initialized {result['data_dir']} (database {result['database']})")


@serve_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (env DINHDANH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env DINHDANH_PORT).")] = None,
    log_level: Annotated[LogLevel | None, typer.Option(help="Log level.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (granian); default one per core. 1: uvicorn."),
    ] = None,
) -> None:
    """Serve the API (granian with N worker processes, or uvicorn in-process for --workers 1).

    The access log (uvicorn's; granian's is off) leaves out query strings and masks ID and
    phone numbers in paths.
    """
    ctx.obj.update(host=host, port=port, log_level=log_level)
    n = workers or os.cpu_count() or 1
    with container_from(ctx) as c:  # fail now, in one line, if the data dir isn't ready
        s = c.settings
        if n == 1:
            import uvicorn

            from dinhdanh.web.accesslog import uvicorn_log_config
            from dinhdanh.web.app import create_app
            from dinhdanh.web.asgi import settle

            web_app = create_app(c)
            settle()
            uvicorn.run(
                web_app,
                host=s.host,
                port=s.port,
                log_level=s.log_level.value,
                log_config=uvicorn_log_config(),  # no query strings, no ID numbers
            )
            return
    from granian import Granian
    from granian.constants import Interfaces

    # Workers rebuild the settings from the environment: pass the CLI overrides through it.
    for key, value in ctx.obj.items():
        if value is not None:
            os.environ[f"DINHDANH_{key.upper()}"] = str(getattr(value, "value", value))
    Granian(
        "dinhdanh.web.asgi:app",
        address=s.host,
        port=s.port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=n,
        log_level=s.log_level.value,  # type: ignore[arg-type]
    ).serve()


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Check every hash chain and every signed checkpoint; exit 1 at the first bad entry."""
    with container_from(ctx) as c, c.unit_of_work() as session:
        report = c.audit.verify(session)
    if json_out:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "first_bad_seq": report.first_bad_seq,
                "chain": report.chain,
                "problem": report.problem,
            }
        )
    if not report.ok:
        fail(f"audit log broken at entry {report.first_bad_seq}: {report.problem}")
    if not json_out:
        out.print(f"audit log intact: {report.entries} entries, {report.checkpoints} checkpoints")


def _change_ring(ctx: typer.Context, change: Callable[[KeyRing], KeyRing], verb: str) -> KeyRing:
    """Load the key ring file, apply ``change``, save it (0600); one clear line on failure."""
    from dinhdanh.crypto import CryptoError, load_keyring, save_keyring

    settings = settings_from(ctx)
    if settings.keyring:
        fail(f"the key ring comes from DINHDANH_KEYRING: {verb} it where that value is kept")
    try:
        ring = change(load_keyring(settings.keyring_path))
    except CryptoError as exc:
        fail(str(exc))
    save_keyring(ring, settings.keyring_path)
    return ring


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Add a new sealing and signing key version; old versions keep opening and verifying."""
    from dinhdanh.crypto import rotate

    ring = _change_ring(ctx, rotate, "rotate")
    result = {"seal_version": ring.seal_version, "sign_version": ring.sign_version}
    if json_out:
        emit_json(result)
    else:
        out.print(f"rotated: seal key v{ring.seal_version}, signing key v{ring.sign_version}")


@keys_app.command("retire")
def keys_retire(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(help="Signing key version to retire.")],
    json_out: JsonOpt = False,
) -> None:
    """End a signing version's overlap: it leaves /jwks and its tokens stop verifying.

    Audit checkpoints it signed still verify. Restart every server afterwards.
    """
    from dinhdanh.crypto.keyring import retire_token_version

    ring = _change_ring(ctx, lambda r: retire_token_version(r, version), "retire")
    result = {"sign_version": ring.sign_version, "token_retired": sorted(ring.token_retired)}
    if json_out:
        emit_json(result)
    else:
        out.print(f"retired signing key v{version} from tokens; restart the servers")


@apikeys_app.command("add")
@apikeys_app.command("create", hidden=True)
def apikeys_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the key is for, e.g. a system's name.")],
    owner: Annotated[
        str | None,
        typer.Option(help="Organisation that holds the key (audit: machine:OWNER/KEY_ID)."),
    ] = None,
    role: Annotated[Role, typer.Option(help="Role of the key.")] = Role.OFFICER,
    staff: Annotated[
        str | None,
        typer.Option(
            help="Staff grant a personal key acts for, owned by the grant's organisation "
            "(required with --role officer, an officer's or investigator's grant, and "
            "--role agency_admin, an agency_admin's grant)."
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(help="When the key stops working: 90d, or an ISO date such as 2027-01-31."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create an API key; the token is printed once and never stored."""
    from dinhdanh.privacy.access import create_api_key
    from dinhdanh.staff.service import StaffError

    personal = role in (Role.OFFICER, Role.AGENCY_ADMIN)
    if personal != (staff is not None):
        fail(
            "officer and agency_admin keys are personal: --role officer or agency_admin goes "
            "with --staff GRANT_ID, and only they"
        )
    if staff is None and not (owner or "").strip():
        fail("--owner is required: the organisation that holds the key")
    with container_from(ctx) as c, c.unit_of_work() as session:
        now = c.clock()
        expires_at = parse_expiry(expires, now) if expires else None
        if staff is not None:
            try:
                key_id, token, grant = c.staff.issue_token(
                    session, staff, name, operator_context(f"{role.value} token"), now,
                    expires_at, role,
                )  # fmt: skip
            except StaffError as exc:
                fail(str(exc))
            owner, expires_at = (
                grant.organisation,
                min(expires_at or grant.expires_at, grant.expires_at),
            )
        else:
            assert owner is not None
            key_id, token = create_api_key(
                session, name, role, now, expires_at=expires_at, owner=owner
            )
    if json_out:
        emit_json(
            {
                "id": key_id,
                "name": name,
                "owner": owner,
                "role": role.value,
                "staff_grant": staff,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "token": token,
            }
        )
    else:
        until = f" (expires {expires_at.isoformat()})" if expires_at else ""
        out.print(f"{role.value} key {key_id} of {owner} for {name}{until}:\n{token}")


@apikeys_app.command("list")
def apikeys_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Every API key with its role, expiry and state (never the secret)."""
    from dinhdanh.privacy.access import list_api_keys

    with container_from(ctx) as c, c.unit_of_work() as session:
        keys = list_api_keys(session, c.clock())
    if json_out:
        emit_json({"items": [asdict(k) for k in keys]})
        return
    for k in keys:
        state = "active" if k.active else ("revoked" if k.revoked_at else "expired")
        until = k.expires_at.date().isoformat() if k.expires_at else "-"
        person = f"  staff grant {k.staff_grant}" if k.staff_grant else ""
        out.print(
            f"{k.id}  {k.role:<8} {state:<8} expires {until:<10}  {k.owner}: {k.name}{person}",
            highlight=False,
        )


@apikeys_app.command("revoke")
def apikeys_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key id (see `apikeys list`).")],
    json_out: JsonOpt = False,
) -> None:
    """Revoke an API key: its next request is refused."""
    from dinhdanh.privacy.access import revoke_api_key

    with container_from(ctx) as c, c.unit_of_work() as session:
        found = revoke_api_key(session, key_id, c.clock())
    if not found:
        fail(f"no API key {key_id!r}")
    if json_out:
        emit_json({"id": key_id, "revoked": True})
    else:
        out.print(f"revoked API key {key_id}")
