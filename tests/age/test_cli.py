"""A death in the registry revokes the age credentials of the dead: at the end of
`dinhdanh import citizens`, and in `dinhdanh platforms recheck`."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dinhdanh.age.band_rules import period_end
from dinhdanh.age.credentials.errors import PresentationRejected
from dinhdanh.age.credentials.verifier import verify_presentation
from dinhdanh.age.wallet import Wallet
from dinhdanh.settings import Settings
from dinhdanh.wiring import build
from tests.age.conftest import VERIFIER, issue, local_trust, make_teen, record_death
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
            "birth_dates_corrected": 0,
            "age_bands_corrected": 0,
            "age_bands_changed": 0,
            "age_bands_through": period_end(datetime.now(UTC).date(), 1).isoformat(),
        }
        record_death(c, teen)
    assert cli_json(s, "platforms", "recheck", "--json")["age_credentials_revoked"] == 10


def test_a_death_in_the_registry_import_revokes_the_credentials(
    settings: Settings, tmp_path: Path
) -> None:
    """`dinhdanh import citizens` with a date of death: the import itself revokes, on both
    databases; the bits flip in the status list and the batch rows go."""
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    with closing(build(s)) as c:
        teen = make_teen(c, c.clock().date())
        other = make_teen(c, c.clock().date(), serial="054999")
        wallet, alive = Wallet(), Wallet()
        issue(c, teen.subject_id, wallet, 10)
        issue(c, other.subject_id, alive, 3)
        feed = tmp_path / "deaths.csv"
        row = [teen.id_number, teen.full_name, teen.date_of_birth.isoformat(), "F", ""]
        feed.write_text(
            "id_number,full_name,date_of_birth,sex,guardian_id_number,date_of_death,phone\n"
            + ",".join([*row, c.clock().date().isoformat(), teen.phone])
            + "\n",
            encoding="utf-8",
        )
    result = cli_json(s, "import", "citizens", str(feed))
    assert result["updated"] == 1
    assert result["age_credentials_revoked"] == 10
    with closing(build(s)) as c:
        trust = local_trust(c)
        with c.unit_of_work() as session:
            assert c.age_credentials.active(session, teen.subject_id, c.clock()) == 0
            assert c.age_credentials.active(session, other.subject_id, c.clock()) == 3
        shown = wallet.present("age_over_16", "n", VERIFIER, c.clock())
        with pytest.raises(PresentationRejected) as rejected:
            verify_presentation(shown, "n", VERIFIER, c.clock(), claims="age_over_16", trust=trust)
        assert rejected.value.code == "credential_revoked"
        fine = alive.present("age_over_16", "n", VERIFIER, c.clock())
        verify_presentation(fine, "n", VERIFIER, c.clock(), claims="age_over_16", trust=trust)
    # The same file again: nothing new to revoke.
    assert cli_json(s, "import", "citizens", str(feed))["age_credentials_revoked"] == 0


def test_a_corrected_birth_date_in_the_registry_import_revokes_and_rechecks(
    settings: Settings, tmp_path: Path
) -> None:
    """`dinhdanh import citizens` that changes a birth date: the import queues the citizen,
    rechecks them at once (their bands, here none bound) and revokes their credentials."""
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    with closing(build(s)) as c:
        teen = make_teen(c, c.clock().date())
        issue(c, teen.subject_id, Wallet(), 5)
        dob = teen.date_of_birth
        moved = dob.replace(day=2 if dob.day == 1 else 1)  # same year: the ID number holds
        feed = tmp_path / "correction.csv"
        feed.write_text(
            "id_number,full_name,date_of_birth,sex,guardian_id_number,date_of_death,phone\n"
            + ",".join([teen.id_number, teen.full_name, moved.isoformat(), "F", "", "", teen.phone])
            + "\n",
            encoding="utf-8",
        )
    result = cli_json(s, "import", "citizens", str(feed))
    assert result["updated"] == 1
    assert (result["birth_dates_corrected"], result["age_credentials_revoked"]) == (1, 5)
    again = cli_json(s, "import", "citizens", str(feed))  # unchanged: nothing to recheck
    assert (again["birth_dates_corrected"], again["age_credentials_revoked"]) == (0, 0)
