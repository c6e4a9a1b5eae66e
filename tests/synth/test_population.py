import csv
import json
import random
import re
import unicodedata
from collections import Counter
from datetime import date
from itertools import islice
from pathlib import Path

import pytest

from dinhdanh.identity.idnumber import Sex, validate_against
from dinhdanh.identity.provinces import provinces
from dinhdanh.synth import (
    CITIZEN_FIELDS,
    SynthCitizen,
    generate_population,
    names,
    write_citizens_csv,
    write_citizens_jsonl,
)
from dinhdanh.synth.population import PHONE_PREFIXES, PROVINCE_WEIGHTS, _serials
from dinhdanh.telecom.msisdn import normalize_msisdn

TODAY = date(2026, 1, 1)
N = 50_000
PHONE = re.compile(r"\+84\d{9}")


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def population() -> list[SynthCitizen]:
    return list(generate_population(N, seed=7, today=TODAY))


# -- determinism and streaming ---------------------------------------------------------------


def test_same_seed_same_output_other_seed_differs() -> None:
    first = list(generate_population(3_000, seed=1))
    assert first == list(generate_population(3_000, seed=1))
    assert first != list(generate_population(3_000, seed=2))
    assert first != list(generate_population(3_000, seed=1, today=date(2030, 6, 1)))


def test_does_not_touch_the_global_random() -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    list(generate_population(1_000))
    assert random.random() == expected


def test_streams_lazily() -> None:
    stream = generate_population(10**12)
    assert len(list(islice(stream, 10))) == 10


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 13])
def test_yields_exactly_n(n: int) -> None:
    for seed in range(20):  # some seeds start with a minor, whose parent is emitted first
        assert len(list(generate_population(n, seed=seed))) == n


def test_rejects_bad_arguments_eagerly() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        generate_population(-1)
    with pytest.raises(ValueError, match="1900"):
        generate_population(10, today=date(1990, 1, 1))
    with pytest.raises(ValueError, match="2399"):
        generate_population(10, today=date(2400, 1, 1))


def test_a_leap_day_today_works() -> None:
    leap = date(2028, 2, 29)
    for c in generate_population(5_000, seed=3, today=leap):
        assert (c.guardian_id_number is not None) == (age_on(c.date_of_birth, leap) < 18)


# -- the people ------------------------------------------------------------------------------


def test_every_id_number_parses_and_matches_birth_date_and_sex(
    population: list[SynthCitizen],
) -> None:
    for c in population:
        assert validate_against(c.id_number, c.date_of_birth, c.sex) == []
        assert isinstance(c.sex, Sex)


def test_id_numbers_and_phones_are_unique(population: list[SynthCitizen]) -> None:
    assert len({c.id_number for c in population}) == N
    assert len({c.phone for c in population}) == N


def test_phones_are_e164_on_real_mobile_prefixes(population: list[SynthCitizen]) -> None:
    allowed = {prefix for prefix, _ in PHONE_PREFIXES}
    used: Counter[str] = Counter()
    for c in population:
        assert PHONE.fullmatch(c.phone), c.phone
        # The carriers' importer normalizes with libphonenumber: every synthetic number passes.
        assert normalize_msisdn(c.phone) == c.phone
        prefix = next(p for p in allowed if c.phone[3:].startswith(p))
        used[prefix] += 1
    assert set(used) == allowed
    viettel = sum(used[p] for p in ("86", "96", "97", "98", *map(str, range(32, 40))))
    assert 0.4 < viettel / N < 0.65


def test_birth_dates_and_ages(population: list[SynthCitizen]) -> None:
    ages = [age_on(c.date_of_birth, TODAY) for c in population]
    assert min(ages) == 0
    assert 90 <= max(ages) <= 100
    minors = sum(a < 18 for a in ages) / N
    elderly = sum(a >= 60 for a in ages) / N
    assert 0.24 < minors < 0.32
    assert 0.10 < elderly < 0.20
    assert all(c.date_of_birth <= TODAY for c in population)


def test_minors_have_a_living_adult_guardian_earlier_in_the_stream(
    population: list[SynthCitizen],
) -> None:
    seen: dict[str, SynthCitizen] = {}
    for c in population:
        if age_on(c.date_of_birth, TODAY) < 18:
            assert c.guardian_id_number is not None
            guardian = seen[c.guardian_id_number]
            assert guardian.date_of_death is None
            assert age_on(guardian.date_of_birth, TODAY) >= 18
            assert age_on(guardian.date_of_birth, c.date_of_birth) >= 18
            assert age_on(guardian.date_of_birth, c.date_of_birth) <= 50
        else:
            assert c.guardian_id_number is None
        seen[c.id_number] = c


def test_about_half_a_percent_are_deceased(population: list[SynthCitizen]) -> None:
    dead = [c for c in population if c.date_of_death is not None]
    assert 0.0035 < len(dead) / N < 0.0065
    for c in dead:
        assert c.date_of_birth < c.date_of_death <= TODAY  # type: ignore[operator]
    # The old die more often than the young.
    assert sum(age_on(c.date_of_birth, TODAY) >= 60 for c in dead) > len(dead) / 2


def test_names_are_nfc_vietnamese(population: list[SynthCitizen]) -> None:
    with_diacritics = 0
    for c in population:
        assert unicodedata.is_normalized("NFC", c.full_name)
        parts = c.full_name.split(" ")
        assert len(parts) == 3
        assert parts[1] != parts[2]
        with_diacritics += not c.full_name.isascii()
    assert with_diacritics / N > 0.9
    families = Counter(c.full_name.split(" ")[0] for c in population)
    assert families.most_common(1)[0][0] == "Nguyễn"
    assert 0.33 < families["Nguyễn"] / N < 0.45
    middles = Counter(c.full_name.split(" ")[1] for c in population if c.sex is Sex.FEMALE)
    assert middles.most_common(1)[0][0] == "Thị"


def test_sex_ratio(population: list[SynthCitizen]) -> None:
    males = sum(c.sex is Sex.MALE for c in population) / N
    assert 0.46 < males < 0.54


def test_province_distribution(population: list[SynthCitizen]) -> None:
    counts = Counter(c.id_number[:3] for c in population)
    assert {code for code, _ in counts.most_common(2)} == {"079", "001"}
    assert set(counts) == {p.code for p in provinces()}
    assert counts["038"] > counts["006"] * 5  # Thanh Hóa against Bắc Kạn
    assert counts["079"] > 2 * counts["038"]


# -- writers ---------------------------------------------------------------------------------


def expected_row(c: SynthCitizen) -> dict[str, str | None]:
    return {
        "id_number": c.id_number,
        "full_name": c.full_name,
        "date_of_birth": c.date_of_birth.isoformat(),
        "sex": c.sex.value,
        "guardian_id_number": c.guardian_id_number,
        "date_of_death": c.date_of_death.isoformat() if c.date_of_death else None,
    }


@pytest.fixture(scope="module")
def sample() -> list[SynthCitizen]:
    citizens = list(generate_population(3_000, seed=11))
    assert any(c.date_of_death for c in citizens)
    assert any(c.guardian_id_number for c in citizens)
    return citizens


def test_csv_round_trip(sample: list[SynthCitizen], tmp_path: Path) -> None:
    path = tmp_path / "citizens.csv"
    assert write_citizens_csv(iter(sample), path) == len(sample)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CITIZEN_FIELDS
        rows = list(reader)
    assert rows == [{k: v or "" for k, v in expected_row(c).items()} for c in sample]


def test_jsonl_round_trip(sample: list[SynthCitizen], tmp_path: Path) -> None:
    path = tmp_path / "citizens.jsonl"
    assert write_citizens_jsonl(iter(sample), path) == len(sample)
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert all(tuple(row) == CITIZEN_FIELDS for row in rows)
    assert rows == [expected_row(c) for c in sample]
    assert "Nguyễn" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_writers_handle_empty_input(tmp_path: Path) -> None:
    assert write_citizens_csv([], tmp_path / "empty.csv") == 0
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8").strip() == ",".join(CITIZEN_FIELDS)
    assert write_citizens_jsonl([], tmp_path / "empty.jsonl") == 0
    assert (tmp_path / "empty.jsonl").read_text(encoding="utf-8") == ""


# -- data tables -----------------------------------------------------------------------------


def test_province_weights_cover_the_official_table() -> None:
    assert [code for code, _ in PROVINCE_WEIGHTS] == [p.code for p in provinces()]


def test_name_tables() -> None:
    assert len(names.FAMILY_NAMES) >= 40
    assert len(names.MALE_GIVEN_NAMES) >= 60
    assert len(names.FEMALE_GIVEN_NAMES) >= 60
    every = [
        *(n for n, _ in names.FAMILY_NAMES),
        *(n for n, _, _ in names.MALE_MIDDLE_NAMES),
        *(n for n, _, _ in names.FEMALE_MIDDLE_NAMES),
        *names.MALE_GIVEN_NAMES,
        *names.FEMALE_GIVEN_NAMES,
    ]
    for name in every:
        assert unicodedata.is_normalized("NFC", name)
        assert name == name.strip()
        assert " " not in name
    for table in (names.MALE_GIVEN_NAMES, names.FEMALE_GIVEN_NAMES, names.FAMILY_NAMES):
        assert len(set(table)) == len(table)


def test_serials_visit_every_value_once() -> None:
    values = list(_serials(random.Random(5), 1000, "x", 3))
    assert len(values) == 1000
    assert sorted(values) == [f"x{i:03d}" for i in range(1000)]
    assert values != sorted(values)
