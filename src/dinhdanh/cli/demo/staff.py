"""Demo officer: the last demo citizen is an officer of "Demo provincial police", with a staff
grant and a personal API token kept in ``demo-officer.key``. Runs after the auth seeder (the
grant needs the citizen's account)."""

from __future__ import annotations

import json

from dinhdanh.cli.common import container_from, fail
from dinhdanh.cli.demo.base import Demo, Seeded, write_private
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.staff.roles import StaffRole

DEMO_ORGANISATION = "Demo provincial police"


def seed(demo: Demo) -> Seeded:
    token_file = demo.settings.data_dir / "demo-officer.key"
    people = json.loads((demo.settings.data_dir / "demo-citizens.json").read_text("utf-8"))
    officer = people[-1]["id_number"]
    if not token_file.exists():
        by = AccessContext("cli:demo", "system", "demo officer")
        with container_from(demo.ctx) as c, c.unit_of_work() as session:
            now = c.clock()
            account = c.auth.accounts.by_id_number(session, officer)
            if account is None:
                fail(f"demo citizen {officer} has no account")
            grant = c.staff.grant(
                session,
                account.subject_id,
                StaffRole.OFFICER,
                DEMO_ORGANISATION,
                now + c.staff.max_grant,
                "demo officer",
                by,
                now,
            )
            _, token, _ = c.staff.issue_token(session, grant.id, "demo officer", by, now)
        write_private(token_file, token + "\n")
    token = token_file.read_text().strip()
    return Seeded(
        {"officer_api_key": token, "officer_api_key_file": str(token_file)},
        [
            f"officer API key of demo citizen {officer}, {DEMO_ORGANISATION} "
            f"(also in {token_file}):\n{token}"
        ],
    )
