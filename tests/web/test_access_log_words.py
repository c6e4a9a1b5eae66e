"""Each access is told as one plain sentence in the citizen's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dinhdanh.privacy.access_log import AccessItem
from dinhdanh.web.routers.access_log import describe

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _item(
    role: str,
    action: str,
    fields: tuple[str, ...] = (),
    organisation: str | None = None,
    legal_basis: str | None = None,
) -> AccessItem:
    return AccessItem(1, AT, organisation, role, legal_basis, action, fields)


POLICE = _item(
    "officer", "read", ("full_name", "date_of_birth"), "Công an TP Hà Nội", "criminal_investigation"
)


@pytest.mark.parametrize(
    ("item", "vi", "en"),
    [
        (
            POLICE,
            "Công an TP Hà Nội, cán bộ, điều tra hình sự, đã xem họ tên và ngày sinh của bạn",
            "Công an TP Hà Nội, officer, criminal investigation, read your name and date of birth",
        ),
        (
            _item("registry_import", "update", ("full_name", "phone", "sex")),
            "Hệ thống định danh, cập nhật từ cơ sở dữ liệu dân cư, đã cập nhật họ tên, số điện"
            " thoại và giới tính của bạn",
            "The identification system, population registry update, updated your name, phone"
            " number, and sex",
        ),
        (
            _item("citizen", "password:ok"),
            "Bạn, đăng nhập: Mật khẩu, Thành công",
            "You, signing in: Password, Succeeded",
        ),
        (
            _item("carrier", "number_disowned", organisation="Viettel"),
            "Viettel, nhà mạng di động, đã báo một số di động không phải của bạn",
            "Viettel, mobile carrier, reported a mobile number as not yours",
        ),
        (
            _item("citizen", "consent:granted:c_demo"),
            "Bạn, đã chia sẻ dữ liệu với một dịch vụ, theo sự đồng ý của bạn",
            "You, shared data with a service, with your consent",
        ),
        (
            _item("investigator", "disclosure_reveal", (), "Công an TP Hà Nội", "court_order"),
            "Công an TP Hà Nội, điều tra viên, quyết định của tòa án, đã xác định bạn là chủ một"
            " tài khoản trên nền tảng mạng xã hội",
            "Công an TP Hà Nội, investigator, court order, identified you as the holder of an"
            " account at a social platform",
        ),
        # Codes nobody named yet show as they are, rather than vanish.
        (
            _item("auditor", "export", ("tax_code",), "Thanh tra", "new_law_2027"),
            "Thanh tra, auditor, new_law_2027, đã sử dụng tax_code của bạn",
            "Thanh tra, auditor, new_law_2027, used your tax_code",
        ),
        (
            _item("system", "purge"),
            "Hệ thống định danh, bước tự động, purge",
            "The identification system, automatic step, purge",
        ),
    ],
)
def test_an_access_in_plain_words(item: AccessItem, vi: str, en: str) -> None:
    assert describe(item, "vi") == vi
    assert describe(item, "en") == en
