"""FastAPI app factory. All state comes from the container built by `dinhdanh.wiring`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from dinhdanh import __version__
from dinhdanh.choices import Environment
from dinhdanh.store.private import clear_stale_spills
from dinhdanh.web import problems
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.limits import BodyLimit
from dinhdanh.web.rdap_fast import RdapFastPath
from dinhdanh.web.routers import (
    access_log,
    age_account,
    age_credentials,
    auth,
    clients,
    demo_wallet,
    dev,
    disclosure,
    family,
    guardians,
    identity,
    internet,
    my_internet,
    numbers,
    oidc,
    platforms,
    posture,
    rdap,
    staff,
    staff_guardians,
    staff_posture,
    telecom,
)
from dinhdanh.web.status_fast import StatusFastPath
from dinhdanh.wiring import Container

_HOME = """<!doctype html><html lang="en"><meta charset="utf-8"><title>dinhdanh</title>
<h1>dinhdanh</h1><p>National identification and authentication platform.</p>
<ul><li><a href="/docs">API documentation</a></li><li><a href="/openapi.json">OpenAPI</a></li>
<li><a href="/healthz">Health</a></li></ul></html>"""


def create_app(
    container: Container, *, rdap_fast_path: bool = True, status_fast_path: bool = True
) -> FastAPI:
    """The app. ``rdap_fast_path``: anonymous RDAP lookups answered ahead of FastAPI
    (``web/rdap_fast.py``); ``status_fast_path``: the platforms' status reads too
    (``web/status_fast.py``); either off only to compare the two paths."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Upload bodies a killed server left in the spill are plaintext: gone before serving.
        clear_stale_spills(container.settings.data_dir)
        yield
        container.flush_status_reads()  # the status reads counted and not yet written
        container.checkpoint_audit()  # sign the audit tip at shutdown

    app = FastAPI(title="dinhdanh", version=__version__, lifespan=lifespan)
    app.state.container = container
    # SQLite writes one transaction at a time for the whole file: threads beyond one per
    # process only add to its busy-wait back-off. PostgreSQL locks rows, not the database:
    # as many threads as pooled connections (more would open and close a connection each).
    sqlite = container.engine.dialect.name == "sqlite"
    app.state.db_limiter = CapacityLimiter(1 if sqlite else container.settings.db_pool_size)
    problems.install(app)
    if status_fast_path:  # inside the body limit: a batch body is counted as it comes in
        app.add_middleware(StatusFastPath, container=container, db_limiter=app.state.db_limiter)
    app.add_middleware(BodyLimit, upload_bytes=container.settings.max_upload_bytes)
    if rdap_fast_path:  # outermost: an anonymous lookup passes nothing else
        app.add_middleware(RdapFastPath, container=container, db_limiter=app.state.db_limiter)
    # Routes are tried in order, each a cost on every request that passes it: the busiest
    # first (the provider's token endpoint, the platforms' status reads, RDAP lookups).
    app.include_router(oidc.oauth)
    app.include_router(platforms.router)
    app.include_router(rdap.router)
    rdap.install(app)
    app.include_router(oidc.router)
    app.include_router(identity.router)
    app.include_router(telecom.router)
    app.include_router(internet.router)
    app.include_router(numbers.router)
    app.include_router(my_internet.router)
    app.include_router(access_log.router)
    app.include_router(staff.router)
    app.include_router(disclosure.router)
    app.include_router(disclosure.api)
    app.include_router(age_credentials.router)
    app.include_router(age_credentials.vci)
    app.include_router(auth.router)
    app.include_router(clients.router)
    app.include_router(age_account.router)
    app.include_router(family.router)
    app.include_router(guardians.router)
    app.include_router(staff_guardians.router)
    app.include_router(staff_posture.router)
    app.include_router(posture.router)
    app.mount("/static", StaticFiles(packages=[("dinhdanh.web", "static")]), name="static")
    if container.settings.env is Environment.DEV:
        app.include_router(dev.router)
        app.include_router(demo_wallet.router)

    @app.get("/healthz", tags=["ops"])
    def healthz(c: ContainerDep) -> dict[str, str]:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return _HOME

    return app
