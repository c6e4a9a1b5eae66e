"""phone_number_verified is true only for the number an SMS code proved at enrolment (issue 8,
finding 11). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from dinhdanh.auth import totp
from dinhdanh.auth.enrolment import Completed, FactorDue
from dinhdanh.auth.oidc.provider import Authentication
from dinhdanh.wiring import Container
from tests.auth.factories import subscribe
from tests.auth.test_enrolment import NEW_PASSWORD, T0, _last_code, _start, _verify
from tests.oidc.conftest import TOTP_SECRET, Citizen, make_citizen
from tests.oidc.test_flow import register


def _phone_claims(c: Container, who: Citizen, account_id: str) -> dict[str, object]:
    info, _ = register(c)
    authn = Authentication(account_id, who.subject_id, 1, T0, ("pwd",))
    with c.unit_of_work() as s:
        return c.auth.provider.claims_for(s, info, authn, ["openid", "phone"], T0)


def _enrol(c: Container, who: Citizen) -> str:
    token = _start(c, who)
    assert _verify(c, token, _last_code(c), T0 + timedelta(seconds=30)) is None
    with c.unit_of_work() as s:
        done = c.auth.enrolments.complete(s, token, NEW_PASSWORD, T0 + timedelta(minutes=1))
        assert isinstance(done, Completed)
        return done.account.id


def test_a_number_no_code_proved_is_not_verified(container: Container, citizen: Citizen) -> None:
    claims = _phone_claims(container, citizen, citizen.account_id)  # account made without SMS
    assert claims["phone_number"] == citizen.phone
    assert claims["phone_number_verified"] is False


def test_the_number_enrolment_proved_is_verified(container: Container) -> None:
    who = make_citizen(container, with_account=False)
    subscribe(container, who, who.phone, "VNP")
    claims = _phone_claims(container, who, _enrol(container, who))
    assert claims["phone_number_verified"] is True


def test_a_code_sent_to_several_numbers_proves_none(container: Container) -> None:
    who = make_citizen(container, with_account=False)
    subscribe(container, who, who.phone, "VNP")
    subscribe(container, who, "+84987654321", "VTL")
    claims = _phone_claims(container, who, _enrol(container, who))
    assert claims["phone_number_verified"] is False


def test_a_re_enrolment_completed_with_the_second_factor_proves_the_number(
    container: Container,
) -> None:
    """An account made without SMS (so not verified), enrolled again: the SMS code and then
    the account's TOTP; the number the code went to is now the verified one."""
    who = make_citizen(container)  # password and TOTP, no number proved
    subscribe(container, who, who.phone, "VNP")
    token = _start(container, who)
    assert _verify(container, token, _last_code(container), T0 + timedelta(seconds=30)) is None
    now = T0 + timedelta(minutes=1)
    with container.unit_of_work() as s:
        due = container.auth.enrolments.complete(s, token, NEW_PASSWORD, now)
        assert isinstance(due, FactorDue)
        code = totp.totp_at(TOTP_SECRET, int(now.timestamp()))
        done = container.auth.enrolments.prove_factor(
            s, token, code, ip="192.0.2.1", device=None, now=now
        )
        assert done.account.id == who.account_id
    assert _phone_claims(container, who, who.account_id)["phone_number_verified"] is True
