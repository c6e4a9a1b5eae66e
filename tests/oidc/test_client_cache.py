"""Clients: the in-process lookup cache, and the redirect URIs a client may register."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from dinhdanh.auth.clients import ClientConfigError, Clients
from dinhdanh.auth.models import Client
from dinhdanh.wiring import Container


def test_a_revoked_client_is_refused_once_the_cache_expires(container: Container) -> None:
    tick = [0.0]
    clients = Clients(cache_seconds=10, monotonic=lambda: tick[0])
    now = container.clock()
    with container.unit_of_work() as s:
        assert clients.get(s, "not-yet") is None
        info, _ = clients.create(
            s, name="Cached", redirect_uris=[], grant_types=("client_credentials",), now=now
        )
        # A miss is not remembered: the client registered after it is found at once.
        assert clients.get(s, info.client_id) == info
    with container.unit_of_work() as s:
        s.execute(update(Client).where(Client.client_id == info.client_id).values(revoked_at=now))
    with container.unit_of_work() as s:
        tick[0] = 9.9
        assert clients.get(s, info.client_id) == info  # another process's change: not yet seen
        tick[0] = 10.1
        assert clients.get(s, info.client_id) is None


def test_no_cache_reads_every_time(container: Container) -> None:
    clients = Clients(cache_seconds=0)
    now = container.clock()
    with container.unit_of_work() as s:
        info, _ = clients.create(
            s, name="Uncached", redirect_uris=[], grant_types=("client_credentials",), now=now
        )
    with container.unit_of_work() as s:
        s.execute(update(Client).where(Client.client_id == info.client_id).values(revoked_at=now))
        assert clients.get(s, info.client_id) is None


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://rp.example/cb", True),
        ("http://127.0.0.1:8080/callback", True),
        ("http://localhost/cb", True),
        ("http://[::1]:9000/cb", True),
        ("http://rp.example/cb", False),  # codes in clear over the network
        ("https://rp.example/cb#frag", False),
        ("ftp://rp.example/cb", False),
        ("/cb", False),
    ],
)
def test_redirect_uris_are_https_or_loopback(container: Container, uri: str, ok: bool) -> None:
    clients = container.auth.clients
    with container.unit_of_work() as s:
        if ok:
            info, _ = clients.create(s, name="RP", redirect_uris=[uri], now=container.clock())
            assert info.redirect_uris == (uri,)
        else:
            with pytest.raises(ClientConfigError):
                clients.create(s, name="RP", redirect_uris=[uri], now=container.clock())
