"""The pages' catalogs: every text marked in the templates and web code has a Vietnamese
translation (non-empty, not fuzzy) and an English entry; pages render in either language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.web.browser import templates
from dinhdanh.web.i18n import catalog_path
from dinhdanh.wiring import build, init_data_dir

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "dinhdanh" / "web"


def _extracted() -> dict[str, str]:
    """msgid -> where it was found, read with the same mapping as `make messages`."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB, method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found[msgid] = f"{filename}:{lineno}"
    return found


def _catalog(lang: str) -> Catalog:
    with catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def _missing(catalog: Catalog, extracted: dict[str, str], *, translated: bool) -> list[str]:
    missing = []
    for msgid, where in extracted.items():
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else None
        if entry is None:
            missing.append(f"{where}: {msgid!r} is not in the catalog (run `make messages`)")
        elif translated and (entry.fuzzy or not all(strings or (entry.string,))):
            missing.append(f"{where}: {msgid!r} has no (or a fuzzy) translation")
    return missing


def test_the_extraction_finds_the_pages_texts() -> None:
    extracted = _extracted()
    # Guards the check below against a mapping that silently extracts nothing.
    assert len(extracted) >= 70
    assert "Log in" in extracted
    assert "Wrong ID number or password." in extracted  # marked with N_() in a router


def test_every_text_has_a_vietnamese_translation() -> None:
    assert _missing(_catalog("vi"), _extracted(), translated=True) == []


def test_every_text_is_in_the_english_catalog() -> None:
    assert _missing(_catalog("en"), _extracted(), translated=False) == []


def test_an_untranslated_or_fuzzy_entry_is_reported() -> None:
    catalog = Catalog(locale="vi")
    catalog.add("Log in", "Đăng nhập")
    catalog.add("Log out", "")
    catalog.add("Continue", "Tiếp tục", flags=("fuzzy",))
    extracted = {"Log in": "a", "Log out": "b", "Continue": "c", "Allow": "d"}
    assert [m.split(":")[0] for m in _missing(catalog, extracted, translated=True)] == [
        "b",
        "c",
        "d",
    ]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            yield tc
    finally:
        c.close()


def test_a_page_renders_in_vietnamese_by_default_and_in_english_on_request(
    client: TestClient,
) -> None:
    vi = client.get("/login")
    assert '<html lang="vi">' in vi.text
    assert "<h1>Đăng nhập</h1>" in vi.text
    assert "Số định danh cá nhân" in vi.text
    en = client.get("/login?lang=en")
    assert '<html lang="en">' in en.text
    assert "<h1>Log in</h1>" in en.text
    assert "Personal identification number" in en.text
    # The choice is remembered in a cookie, and Accept-Language is read without one.
    assert "<h1>Log in</h1>" in client.get("/login").text
    client.cookies.clear()
    assert "<h1>Log in</h1>" in client.get("/login", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("vi", "Yêu cầu đã được ghi nhận. Mật khẩu mới có hiệu lực từ 2026-12-01 10:30 UTC."),
        ("en", "Request recorded. The new password takes effect on 2026-12-01 10:30 UTC."),
    ],
)
def test_placeholders_are_filled_in_both_languages(lang: str, text: str) -> None:
    """A ``{% trans %}`` text with a variable keeps its placeholder in the translation."""
    page = templates.env.get_template("enrol.html").render(
        lang=lang,
        csrf="x",
        nav=[],
        lang_links={},
        step="waiting",
        apply_after=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )
    assert text in page
