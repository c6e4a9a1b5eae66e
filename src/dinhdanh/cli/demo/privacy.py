"""Demo officer: an API key with the officer role, kept in ``demo-officer.key``."""

from __future__ import annotations

from dinhdanh.cli.common import container_from
from dinhdanh.cli.demo.base import Demo, Seeded, write_private
from dinhdanh.privacy.access import Role, create_api_key


def seed(demo: Demo) -> Seeded:
    token_file = demo.settings.data_dir / "demo-officer.key"
    if not token_file.exists():
        with container_from(demo.ctx) as c, c.unit_of_work() as session:
            _, token = create_api_key(session, "demo officer", Role.OFFICER, c.clock())
        write_private(token_file, token + "\n")
    token = token_file.read_text().strip()
    return Seeded(
        {"officer_api_key": token, "officer_api_key_file": str(token_file)},
        [f"officer API key (also in {token_file}):\n{token}"],
    )
