"""ASGI factory for `dinhdanh serve --workers N` (granian imports it in every worker process).

Each worker builds its own container from the settings in the environment (DINHDANH_*): no
state is shared between workers but the database. The app's lifespan signs the audit tip at
shutdown in each worker.
"""

from __future__ import annotations

from fastapi import FastAPI

from dinhdanh.settings import load_settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build


def app() -> FastAPI:
    return create_app(build(load_settings()))
