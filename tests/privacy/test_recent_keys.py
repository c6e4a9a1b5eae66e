"""The status API's memory of checked platform keys (privacy.access.RecentKeys): a revoked
key stops at once in the revoking process and within RECHECK_SECONDS elsewhere, expiry holds
at every call, a wrong secret never rides on a remembered key, and other roles always ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dinhdanh.privacy.access import RecentKeys, create_api_key, revoke_api_key
from dinhdanh.privacy.models import ApiKey
from dinhdanh.privacy.roles import Role
from dinhdanh.wiring import Container

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _key(c: Container, role: Role = Role.PLATFORM, **kw: object) -> tuple[str, str]:
    with c.unit_of_work() as s:
        return create_api_key(s, "k", role, NOW, scope="zalo", owner="org", **kw)  # type: ignore[arg-type]


def _revoke_elsewhere(c: Container, key_id: str) -> None:
    # As another process would (the CLI, another worker): straight in the database.
    with c.unit_of_work() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=NOW))


def test_a_key_revoked_elsewhere_stops_within_the_recheck_bound(container: Container) -> None:
    key_id, token = _key(container)
    ticks = Ticks()
    recent = RecentKeys(recheck_seconds=1.0, monotonic=ticks)
    with container.unit_of_work() as s:
        assert recent.authenticate(s, token, NOW) is not None
    _revoke_elsewhere(container, key_id)
    ticks.now += 0.5
    with container.unit_of_work() as s:
        assert recent.authenticate(s, token, NOW) is not None  # the documented bound
        ticks.now += 0.5
        assert recent.authenticate(s, token, NOW) is None
        ticks.now -= 0.9  # refused once: not remembered again
        assert recent.authenticate(s, token, NOW) is None


def test_a_key_revoked_in_this_process_stops_at_once(container: Container) -> None:
    key_id, token = _key(container)
    from dinhdanh.privacy.access import RECENT_KEYS

    with container.unit_of_work() as s:
        assert RECENT_KEYS.authenticate(s, token, NOW) is not None
    with container.unit_of_work() as s:
        assert revoke_api_key(s, key_id, NOW)
    with container.unit_of_work() as s:
        assert RECENT_KEYS.authenticate(s, token, NOW) is None


def test_expiry_and_the_secret_are_checked_at_every_call(container: Container) -> None:
    _, token = _key(container, expires_at=NOW + timedelta(minutes=1))
    recent = RecentKeys(recheck_seconds=3600, monotonic=Ticks())
    with container.unit_of_work() as s:
        assert recent.authenticate(s, token, NOW) is not None
        assert recent.authenticate(s, token, NOW + timedelta(minutes=1)) is None
        assert recent.authenticate(s, token[:-1] + ("A" if token[-1] != "A" else "B"), NOW) is None


def test_other_roles_are_always_checked_in_the_database(container: Container) -> None:
    key_id, token = _key(container, Role.OFFICER)
    recent = RecentKeys(recheck_seconds=3600, monotonic=Ticks())
    with container.unit_of_work() as s:
        assert recent.authenticate(s, token, NOW) is not None
    _revoke_elsewhere(container, key_id)
    with container.unit_of_work() as s:
        assert recent.authenticate(s, token, NOW) is None
