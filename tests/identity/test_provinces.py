import unicodedata

from dinhdanh.identity.provinces import Province, province, provinces


def test_there_are_63_provinces_with_unique_three_digit_codes() -> None:
    table = provinces()
    assert len(table) == 63
    codes = [p.code for p in table]
    assert len(set(codes)) == 63
    assert codes == sorted(codes)
    assert all(len(c) == 3 and c.isascii() and c.isdigit() for c in codes)


def test_well_known_codes() -> None:
    assert province("001") == Province("001", "Hà Nội")
    assert province("079") == Province("079", "Hồ Chí Minh")
    assert province("096") == Province("096", "Cà Mau")


def test_gaps_and_unknown_codes_are_none() -> None:
    for code in ("000", "003", "005", "097", "100", "1", "01", "0001", ""):
        assert province(code) is None


def test_names_are_nfc_and_non_empty() -> None:
    for p in provinces():
        assert p.name
        assert p.name == p.name.strip()
        assert unicodedata.is_normalized("NFC", p.name)


def test_table_is_loaded_once() -> None:
    assert provinces() is provinces()
    assert province("001") is province("001")
