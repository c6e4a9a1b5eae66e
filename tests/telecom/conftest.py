"""Telecom tests that need a logged-in citizen borrow the provider tests' helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, make_citizen


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    # https: the session cookie is Secure, so the cookie jar only sends it back over https.
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        yield tc


@pytest.fixture
def citizen(container: Container) -> Citizen:
    return make_citizen(container)
