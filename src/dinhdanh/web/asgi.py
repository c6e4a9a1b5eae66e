"""ASGI factory for `dinhdanh serve --workers N` (granian imports it in every worker process).

Each worker builds its own container from the settings in the environment (DINHDANH_*): no
state is shared between workers but the database. The app's lifespan signs the audit tip at
shutdown in each worker.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from dinhdanh.settings import load_settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build


def app() -> FastAPI:
    built = create_app(build(load_settings()))
    settle()
    return built


def settle() -> None:
    """Leave what start-up built (about 250,000 objects: modules, the app, schemas) out of
    the collector's full passes: each took about 100 ms, a pause every few hundred batch
    status reads and the whole p99 of them (docs/performance.md, status API). Reference
    counting still frees anything of it that is dropped; only cycles among it stay."""
    gc.collect()
    gc.freeze()
