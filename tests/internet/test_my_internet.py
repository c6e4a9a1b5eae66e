""" "My internet resources" over HTTP: a citizen cannot disown a name registered to someone
else, and disowning without a recent second factor goes to the step-up page first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from dinhdanh.wiring import Container
from tests.internet.test_reconcile import AN, BINH, _as, seed
from tests.oidc.conftest import Citizen, csrf_of, log_in
from tests.support import Clock, make_citizen


def test_only_ones_own_names_and_only_with_a_fresh_factor(
    container: Container, tmp_path: Path
) -> None:
    from dinhdanh.web.app import create_app

    clock = Clock(datetime.now(UTC))
    container.clock = clock
    seed(container, tmp_path)  # an.vn is Nguyễn Văn An's, binh0.vn Trần Thị Bình's
    an: Citizen = make_citizen(container, AN["id_number"], AN["full_name"], date(1990, 5, 12))
    assert _as(BINH, "binh0.vn")["registrant_id"] != an.id_number
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        log_in(tc, an)
        page = tc.get("/account/internet")
        assert page.status_code == 200
        assert "an.vn" in page.text
        assert "binh0.vn" not in page.text
        confirm = tc.get("/account/internet/an.vn/disown")
        assert "Đúng, không phải của tôi" in confirm.text
        token = csrf_of(confirm.text)
        other = tc.post(
            "/account/internet/binh0.vn/disown", data={"csrf": token}, follow_redirects=False
        )
        assert other.headers["location"] == "/account/internet"
        assert (
            tc.get("/account/internet/binh0.vn/disown", follow_redirects=False).headers["location"]
            == "/account/internet"
        )
        clock.advance(timedelta(seconds=container.settings.step_up_seconds + 1))
        stale = tc.post(
            "/account/internet/an.vn/disown", data={"csrf": token}, follow_redirects=False
        )
        assert stale.headers["location"].startswith("/account/step-up?next=")
        assert "an.vn" in stale.headers["location"]
    with container.unit_of_work() as s:
        assert container.internet.pending_actions(s, "PAVN") == []
        assert container.internet.pending_actions(s, "MATBAO") == []
