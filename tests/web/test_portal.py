"""The portal's navigation entries and the plain-language names of internal values."""

from __future__ import annotations

import pytest

from dinhdanh.web.labels import device_name
from dinhdanh.web.portal import CITIZEN, nav_for


def test_a_citizen_sees_the_citizen_entries_and_the_current_one_is_marked() -> None:
    nav = nav_for(CITIZEN, "/account/numbers")
    assert [(i.label, i.path, i.current) for i in nav] == [
        ("My account", "/account", False),
        ("My numbers", "/account/numbers", True),
        ("Who used my data", "/account/access-log", False),
        ("My platform accounts", "/account/platforms", False),
        ("My internet resources", "/account/internet", False),
        ("My family", "/account/family", False),
    ]


def test_nobody_logged_in_and_other_roles_see_no_citizen_entry() -> None:
    assert nav_for((), "/account") == []
    assert [i.path for i in nav_for({"auditor"}, "/account")] == [
        "/staff",
        "/staff/reconciliation",
        "/staff/audit",
    ]


def test_staff_see_the_console_pages_of_their_roles() -> None:
    officer = [i.path for i in nav_for({*CITIZEN, "officer"}, "/staff/lookup")]
    assert officer == [
        "/account",
        "/account/numbers",
        "/account/access-log",
        "/account/platforms",
        "/account/internet",
        "/account/family",
        "/staff",
        "/staff/lookup",
        "/staff/guardians",
        "/staff/reconciliation",
    ]
    assert [i.path for i in nav_for({"admin"}, "/staff")] == [
        "/staff",
        "/staff/audit",
        "/staff/grants",
    ]


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile 131, Android 14 (Pixel 8)",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17, iOS 17 (iPhone)",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge 120, Windows 10",
        ),
        ("testclient", None),
        ("", None),
    ],
)
def test_a_device_is_named_from_its_user_agent(user_agent: str, name: str | None) -> None:
    assert device_name(user_agent) == name
