"""Seeded synthetic citizens, streamed, for demos, tests and benchmarks.

Everything random comes from one ``random.Random(seed)``, and "today" is a parameter, so a
seed always yields the same population. Memory stays flat in ``n``: uniqueness of ID numbers
and phone numbers comes from per-prefix affine counters (start + k * stride modulo the serial
space, with the stride coprime to it, visits every serial once), not from a set of issued
values; guardians come from a bounded pool of recent adults.
"""

from __future__ import annotations

import csv
import json
import math
import random
from bisect import bisect_right
from calendar import isleap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from itertools import accumulate, repeat
from operator import mod
from pathlib import Path

from dinhdanh.identity.age import latest_birth
from dinhdanh.identity.idnumber import Sex, make
from dinhdanh.synth import names

__all__ = [
    "CITIZEN_FIELDS",
    "SynthCitizen",
    "generate_population",
    "write_citizens_csv",
    "write_citizens_jsonl",
]


@dataclass(frozen=True, slots=True)
class SynthCitizen:
    id_number: str
    full_name: str
    date_of_birth: date
    sex: Sex
    guardian_id_number: str | None
    date_of_death: date | None
    phone: str  # E.164, "+84" and 9 digits


# Columns of the population-registry feed; the phone belongs to subscriber data, not here.
CITIZEN_FIELDS = (
    "id_number",
    "full_name",
    "date_of_birth",
    "sex",
    "guardian_id_number",
    "date_of_death",
)

# Population by province of birth registration, thousands (2019 census, rounded).
PROVINCE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("001", 8054), ("002", 855), ("004", 530), ("006", 314), ("008", 785), ("010", 731),
    ("011", 599), ("012", 461), ("014", 1248), ("015", 822), ("017", 854), ("019", 1287),
    ("020", 782), ("022", 1320), ("024", 1804), ("025", 1464), ("026", 1152), ("027", 1369),
    ("030", 1893), ("031", 2028), ("033", 1252), ("034", 1860), ("035", 853), ("036", 1780),
    ("037", 982), ("038", 3640), ("040", 3327), ("042", 1289), ("044", 896), ("045", 633),
    ("046", 1129), ("048", 1134), ("049", 1496), ("051", 1231), ("052", 1487), ("054", 873),
    ("056", 1232), ("058", 591), ("060", 1231), ("062", 540), ("064", 1514), ("066", 1869),
    ("067", 623), ("068", 1297), ("070", 995), ("072", 1169), ("074", 2426), ("075", 3097),
    ("077", 1148), ("079", 8993), ("080", 1689), ("082", 1765), ("083", 1289), ("084", 1009),
    ("086", 1022), ("087", 1600), ("089", 1908), ("091", 1723), ("092", 1236), ("093", 733),
    ("094", 1200), ("095", 908), ("096", 1194),
)  # fmt: skip

# Population by five-year age group 0-4, 5-9, ..., 95-99, millions (Vietnam, mid-2020s).
AGE_GROUP_WEIGHTS: tuple[float, ...] = (
    7.4, 8.1, 8.0, 7.0, 6.6, 7.2, 8.0, 7.9, 7.3, 6.6,
    5.9, 5.3, 4.6, 3.6, 2.4, 1.4, 1.0, 0.6, 0.3, 0.1,
)  # fmt: skip

# Mobile prefixes after the trunk 0 (E.164 drops it), weighted by rough subscriber share:
# older 09x ranges are fuller than the 03x/05x/07x/08x ranges opened in 2018.
PHONE_PREFIXES: tuple[tuple[str, float], ...] = (
    # Viettel
    ("86", 4.0), ("96", 6.0), ("97", 6.0), ("98", 6.0), ("32", 4.0), ("33", 4.0),
    ("34", 4.0), ("35", 4.0), ("36", 4.0), ("37", 4.0), ("38", 4.0), ("39", 4.0),
    # Vinaphone
    ("88", 3.0), ("91", 4.5), ("94", 4.5), ("81", 2.0), ("82", 2.0), ("83", 2.0),
    ("84", 2.0), ("85", 2.0),
    # MobiFone (089 and 099: only the sub-ranges libphonenumber knows as mobile)
    ("896", 0.625), ("897", 0.625), ("898", 0.625), ("899", 0.625), ("90", 4.5), ("93", 4.0),
    ("70", 2.0), ("76", 1.5), ("77", 1.5), ("78", 1.5), ("79", 1.5),
    # Vietnamobile
    ("92", 2.0), ("56", 1.0), ("58", 1.0),
    # Gmobile
    ("990", 0.075), ("991", 0.075), ("993", 0.075), ("994", 0.075), ("995", 0.075),
    ("996", 0.075), ("997", 0.075), ("998", 0.075), ("999", 0.075), ("59", 0.4),
)  # fmt: skip

DECEASED_SHARE = 0.005
MINOR_AGE = 18
# Age of a parent at the child's birth, in whole birth years.
PARENT_GAPS = tuple(range(20, 46))
# A few adults per province and birth year are enough to pick plausible guardians from.
GUARDIAN_POOL_SIZE = 8
# After each child, the chance a parent leaves the pool: keeps families small.
PARENT_RETIRE_CHANCE = 0.4

_ID_SERIALS = 1_000_000
_DAYS_PER_YEAR = 365.2425
_MAX_AGE = 5 * len(AGE_GROUP_WEIGHTS) - 1


def _male_share(age: int) -> float:
    # Sex ratio at birth has been about 111 boys to 100 girls since the 2000s;
    # women outlive men.
    if age < 20:
        return 0.525
    if age < 60:
        return 0.5
    if age < 80:
        return 0.45
    return 0.37


def _death_rates(age_weights: Sequence[float]) -> list[float]:
    """Per-age probability of being recorded deceased, rising steeply with age, scaled so
    the population share is DECEASED_SHARE."""
    shape = [1.0 + (age / 35.0) ** 4 for age in range(len(age_weights))]
    mean = sum(w * s for w, s in zip(age_weights, shape, strict=True)) / sum(age_weights)
    scale = DECEASED_SHARE / mean
    return [min(scale * s, 0.5) for s in shape]


def _coprime_stride(rng: random.Random, modulus: int) -> int:
    # Moduli here are powers of ten: coprime means odd and not a multiple of 5.
    while True:
        stride = rng.randrange(1, modulus)
        if math.gcd(stride, modulus) == 1:
            return stride


def generate_population(
    n: int, *, seed: int = 20250101, today: date = date(2026, 1, 1)
) -> Iterator[SynthCitizen]:
    """Stream ``n`` synthetic citizens, the same ones for the same ``seed`` and ``today``.

    Ages follow Vietnam's pyramid (0-99 as of ``today``), provinces their population, ID
    numbers encode birth year and sex, minors carry the ID number of a living adult who
    appeared earlier in the stream, about 0.5 % are deceased.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if today.year - (_MAX_AGE + 1) < 1900 or today.year > 2399:
        raise ValueError("today must leave every birth year within 1900..2399")
    return _generate(n, random.Random(seed), today)


def _cumulative(rows: Iterable[tuple[str, float]]) -> tuple[list[str], list[float], float]:
    """Values, cumulative weights and total, for weighted picks with one bisect."""
    pairs = list(rows)
    cum = list(accumulate(w for _, w in pairs))
    return [v for v, _ in pairs], cum, cum[-1]


# The frozen dataclass __init__ sets each field through object.__setattr__; with a million
# citizens per benchmark, the slot descriptors' own setters are worth the indirection.
(
    _set_id_number,
    _set_full_name,
    _set_date_of_birth,
    _set_sex,
    _set_guardian_id_number,
    _set_date_of_death,
    _set_phone,
) = (SynthCitizen.__dict__[f.name].__set__ for f in fields(SynthCitizen))


def _new_citizen(
    id_number: str,
    full_name: str,
    date_of_birth: date,
    sex: Sex,
    guardian_id_number: str | None,
    date_of_death: date | None,
    phone: str,
) -> SynthCitizen:
    citizen: SynthCitizen = object.__new__(SynthCitizen)
    _set_id_number(citizen, id_number)
    _set_full_name(citizen, full_name)
    _set_date_of_birth(citizen, date_of_birth)
    _set_sex(citizen, sex)
    _set_guardian_id_number(citizen, guardian_id_number)
    _set_date_of_death(citizen, date_of_death)
    _set_phone(citizen, phone)
    return citizen


def _serials(rng: random.Random, modulus: int, prefix: str, width: int) -> Iterator[str]:
    """``prefix`` + each of ``modulus`` serials exactly once, in a scrambled order.

    start + k * stride (mod modulus), stride coprime to the modulus, visits every residue
    once per ``modulus`` steps; the iterator ends rather than repeat. Built from C-level
    ``map`` and ``range`` because it runs for every generated person.
    """
    start = rng.randrange(modulus)
    stride = _coprime_stride(rng, modulus)
    steps = range(start, start + stride * modulus, stride)
    return map(prefix.__add__, map(f"{{:0{width}d}}".format, map(mod, steps, repeat(modulus))))


def _generate(n: int, rng: random.Random, today: date) -> Iterator[SynthCitizen]:  # noqa: PLR0915
    # One function with everything bound to locals and no helper calls per person: the loop
    # runs a million times per benchmark, and lookup and call overhead is most of its cost.
    rand = rng.random
    fromordinal = date.fromordinal
    today_ord = today.toordinal()
    today_year = today.year
    # Born after this day means under MINOR_AGE today (the one age rule, identity.age).
    adult_until = latest_birth(MINOR_AGE, today).toordinal()
    male, female = Sex.MALE, Sex.FEMALE

    prov_codes, prov_cum, prov_total = _cumulative(PROVINCE_WEIGHTS)
    ages = range(_MAX_AGE + 1)
    age_weights = [AGE_GROUP_WEIGHTS[age // 5] for age in ages]
    age_cum = list(accumulate(age_weights))
    age_total = age_cum[-1]
    male_share = [_male_share(age) for age in ages]
    death_rate = _death_rates(age_weights)

    family_names, family_cum, family_total = _cumulative(names.FAMILY_NAMES)
    # Indexed by 2 * (is female) + (born in the modern era).
    middles = [
        _cumulative((row[0], row[2] if modern else row[1]) for row in table)
        for table in (names.MALE_MIDDLE_NAMES, names.FEMALE_MIDDLE_NAMES)
        for modern in (False, True)
    ]
    # Indexed by (is female); enum members hash in Python code, so they are not dict keys here.
    given_by_sex = (names.MALE_GIVEN_NAMES, names.FEMALE_GIVEN_NAMES)
    modern_from = names.MODERN_FROM_YEAR

    phone_prefixes, phone_cum, phone_total = _cumulative(PHONE_PREFIXES)
    phones = [
        _serials(rng, 10 ** (9 - len(prefix)), "+84" + prefix, 9 - len(prefix))
        for prefix in phone_prefixes
    ]
    # (province, birth year, is female) -> its ID numbers.
    id_numbers: dict[tuple[str, int, bool], Iterator[str]] = {}

    gap_weights = [math.exp(-0.5 * ((gap - 28) / 5.5) ** 2) for gap in PARENT_GAPS]
    gap_cum = list(accumulate(gap_weights))
    gap_total = gap_cum[-1]
    # When the drawn gap has nobody in the pool, try the others, most likely first.
    gap_order = sorted(PARENT_GAPS, key=lambda gap: -gap_weights[gap - PARENT_GAPS[0]])
    # Guardian candidates: province -> birth year -> [(id number, family name, sex)].
    pool: dict[str, dict[int, list[tuple[str, str, Sex]]]] = {code: {} for code in prov_codes}
    pool_first_year = today_year - (MINOR_AGE + PARENT_GAPS[-1])
    pool_last_year = today_year - PARENT_GAPS[0]

    # A minor waiting for the parent being emitted first, and that parent once built.
    waiting: tuple[str, date, int, Sex] | None = None
    parent: tuple[str, str, Sex] = ("", "", male)
    emitted = 0
    while emitted < n:
        family: str | None = None
        guardian: str | None = None
        if waiting is not None:
            prov, dob, age, sex = waiting
            dob_ord = dob.toordinal()
            waiting = None
            guardian, guardian_family, guardian_sex = parent
            # Children usually carry their father's family name.
            if guardian_sex is male:
                family = guardian_family
        else:
            prov = prov_codes[bisect_right(prov_cum, rand() * prov_total)]
            age = bisect_right(age_cum, rand() * age_total)
            sex = male if rand() < male_share[age] else female
            # A uniformly random day within the year of life that makes the person ``age``
            # (give or take a day, which only the minor test below needs exactly).
            dob_ord = today_ord - int((age + rand()) * _DAYS_PER_YEAR)
            dob = fromordinal(dob_ord)
            if dob_ord > adult_until:
                by_year = pool[prov]
                gap = PARENT_GAPS[bisect_right(gap_cum, rand() * gap_total)]
                slot = by_year.get(dob.year - gap)
                if not slot:
                    for other in gap_order:
                        slot = by_year.get(dob.year - other)
                        if slot:
                            break
                if slot:
                    i = int(rand() * len(slot))
                    guardian, guardian_family, guardian_sex = slot[i]
                    if rand() < PARENT_RETIRE_CHANCE:
                        slot[i] = slot[-1]
                        slot.pop()
                    if guardian_sex is male:
                        family = guardian_family
                else:
                    # Nobody suitable yet (start of the stream, small province): emit a
                    # parent now and the minor on the next turn.
                    waiting = (prov, dob, age, sex)
                    parent_year = dob.year - gap
                    days = 366 if isleap(parent_year) else 365
                    dob_ord = date(parent_year, 1, 1).toordinal() + int(rand() * days)
                    dob = fromordinal(dob_ord)
                    age = today_year - parent_year
                    sex = male if rand() < 0.5 else female

        year = dob.year
        is_female = sex is female
        ids = id_numbers.get((prov, year, is_female))
        if ids is None:
            # make() owns the encoding of province, century, sex and year.
            prefix = make(prov, sex, year, 0)[:6]
            ids = id_numbers[prov, year, is_female] = _serials(rng, _ID_SERIALS, prefix, 6)
        id_number = next(ids, None)
        if id_number is None:
            raise RuntimeError("ID serials exhausted for one province, birth year and sex")
        if family is None:
            family = family_names[bisect_right(family_cum, rand() * family_total)]
        mid_names, mid_cum, mid_total = middles[2 * is_female + (year >= modern_from)]
        middle = mid_names[bisect_right(mid_cum, rand() * mid_total)]
        given_choices = given_by_sex[is_female]
        g = int(rand() * len(given_choices))
        given = given_choices[g]
        if given == middle:  # "Minh Minh" is not a name
            given = given_choices[(g + 1) % len(given_choices)]
        phone = next(phones[bisect_right(phone_cum, rand() * phone_total)], None)
        if phone is None:
            raise RuntimeError("phone serials exhausted for one prefix")

        death: date | None = None
        if waiting is not None:
            parent = (id_number, family, sex)  # alive, and kept out of the pool's churn
        elif rand() < death_rate[age] and dob_ord < today_ord:
            # Squared uniform: deaths cluster in recent years; never before birth + 1 day.
            death = fromordinal(today_ord - int(rand() ** 2 * (today_ord - dob_ord)))
        elif pool_first_year <= year <= pool_last_year:  # all adults
            by_year = pool[prov]
            slot = by_year.get(year)
            entry = (id_number, family, sex)
            if slot is None:
                by_year[year] = [entry]
            elif len(slot) < GUARDIAN_POOL_SIZE:
                slot.append(entry)
            else:
                slot[int(rand() * GUARDIAN_POOL_SIZE)] = entry

        yield _new_citizen(
            id_number, f"{family} {middle} {given}", dob, sex, guardian, death, phone
        )
        emitted += 1


def _row(citizen: SynthCitizen) -> dict[str, str | None]:
    death = citizen.date_of_death
    return {
        "id_number": citizen.id_number,
        "full_name": citizen.full_name,
        "date_of_birth": citizen.date_of_birth.isoformat(),
        "sex": citizen.sex.value,
        "guardian_id_number": citizen.guardian_id_number,
        "date_of_death": death.isoformat() if death is not None else None,
    }


def write_citizens_csv(citizens: Iterable[SynthCitizen], path: Path) -> int:
    """Write the registry feed as UTF-8 CSV (empty cell for none); return the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CITIZEN_FIELDS)
        for c in citizens:
            death = c.date_of_death
            writer.writerow(
                (
                    c.id_number,
                    c.full_name,
                    c.date_of_birth.isoformat(),
                    c.sex.value,
                    c.guardian_id_number or "",
                    death.isoformat() if death is not None else "",
                )
            )
            count += 1
    return count


def write_citizens_jsonl(citizens: Iterable[SynthCitizen], path: Path) -> int:
    """Write the registry feed as UTF-8 JSON lines (null for none); return the row count."""
    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for c in citizens:
            handle.write(dumps(_row(c)))
            handle.write("\n")
            count += 1
    return count
