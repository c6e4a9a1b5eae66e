"""The dev-only SMS outbox says, on the page, that it needs no login."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dinhdanh.choices import Environment
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build, init_data_dir


def test_the_outbox_warns_that_it_is_open(settings: Settings) -> None:
    dev = settings.model_copy(update={"env": Environment.DEV})
    init_data_dir(dev)[1].dispose()
    c = build(dev)
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            en = tc.get("/dev/outbox", headers={"Accept-Language": "en"})
            vi = tc.get("/dev/outbox", headers={"Accept-Language": "vi"})
    finally:
        c.close()
    assert en.status_code == 200
    assert "it needs no login" in en.text
    assert "không cần đăng nhập" in vi.text


def test_there_is_no_outbox_in_production(settings: Settings) -> None:
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            assert tc.get("/dev/outbox").status_code == 404
    finally:
        c.close()
