"""`dinhdanh platforms recheck`, the death recheck run after registry imports, also revokes
the age credentials of the dead."""

from __future__ import annotations

from contextlib import closing

import pytest

from dinhdanh.age.wallet import Wallet
from dinhdanh.settings import Settings
from dinhdanh.wiring import build
from tests.age.conftest import issue, make_teen, record_death
from tests.cli.helpers import cli, cli_json


def test_recheck_revokes_the_credentials_of_the_dead(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    with closing(build(s)) as c:
        teen = make_teen(c, c.clock().date())
        issue(c, teen.subject_id, Wallet(), 10)
        assert cli_json(s, "platforms", "recheck", "--json") == {
            "owner_deceased": 0,
            "junk_sim_owner": 0,
            "age_credentials_revoked": 0,
            "guardian_approvals_ended": 0,
        }
        record_death(c, teen)
    assert cli_json(s, "platforms", "recheck", "--json")["age_credentials_revoked"] == 10
