"""The in-process client cache: a revoked client stops working once its entry expires."""

from __future__ import annotations

from sqlalchemy import update

from dinhdanh.auth.clients import Clients
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
