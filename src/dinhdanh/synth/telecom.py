"""Seeded synthetic SIM subscriptions with planted junk of every kind (issue 4, "Proof it works").

``generate_subscriptions`` walks a synthetic population once and streams subscriptions in the
carriers' upload format (``UPLOAD_FIELDS``). Most are clean by construction: the owner's true
name and birth date (sometimes respelled in case, spacing or Unicode composition, which must
not matter), activated after the owner turned 14 and while alive, fewer numbers than the
review threshold, at most 3 of them online, numbers and IMEIs from counters that never
repeat, agents far too quiet to burst. A share of citizens instead carries one planted case,
and every planted subscription knows the reasons the rules of Decree 163/2024/ND-CP
(``telecom.rules``) must give it in ``expected``; boundary cases that must stay clean (exactly
3 online, 9 numbers, 20 IDs in an agent's hour, 3 IDs on one IMEI, a recycled number) are
planted too.

``engine_inputs`` and ``write_engine_inputs`` turn the population and the subscriptions into
the reconciliation engine's inputs (``telecom.reconcile``): the same blind indexes the
platform computes (``identity.indexes``), and the two flags the upload derives from plaintext.

Everything random comes from one ``random.Random(seed)``; time is the ``as_of`` parameter.
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq

from dinhdanh.crypto import KeyRing, keyring_from_json, keyring_to_json
from dinhdanh.identity.age import birthday, is_over
from dinhdanh.identity.idnumber import Sex, make
from dinhdanh.identity.indexes import dob_index, id_index, name_index
from dinhdanh.identity.provinces import province
from dinhdanh.synth.population import SynthCitizen, _coprime_stride, _serials
from dinhdanh.telecom.feed import COLUMNS as FEED_COLUMNS
from dinhdanh.telecom.msisdn import CARRIERS, home_carrier
from dinhdanh.telecom.rules import Reason, RuleConfig, id_dob_consistent

__all__ = [
    "REGISTRY_SCHEMA",
    "SUBSCRIPTION_SCHEMA",
    "UPLOAD_FIELDS",
    "EngineFiles",
    "EngineInputs",
    "SynthSubscription",
    "engine_inputs",
    "generate_subscriptions",
    "ground_truth",
    "registry_table",
    "subscriptions_table",
    "write_engine_inputs",
    "write_subscriptions_csv",
]

# The carrier's upload (issue 4, item 2), with the carrier the upload is made under first.
UPLOAD_FIELDS = ("carrier", *FEED_COLUMNS)

SUBSCRIPTION_SCHEMA = pa.schema(
    [
        ("carrier", pa.string()),
        ("msisdn", pa.string()),
        ("id_bidx", pa.binary()),
        ("name_bidx", pa.binary()),
        ("dob_bidx", pa.binary()),
        ("id_dob_consistent", pa.bool_()),
        ("under_minor_age_at_activation", pa.bool_()),
        ("activation_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("agent_id", pa.string()),
        ("imei", pa.string()),
        ("status", pa.string()),
    ]
)
REGISTRY_SCHEMA = pa.schema(
    [
        ("id_bidx", pa.binary()),
        ("name_bidx", pa.binary()),
        ("dob_bidx", pa.binary()),
        ("has_guardian", pa.bool_()),
        ("date_of_death", pa.date32()),
    ]
)

# Mobile SIM registration in its current form dates from the 2000s; nothing is older.
EARLIEST = date(2008, 1, 1)
# Share of clean subscriptions that were terminated since (no verdict, must not count).
TERMINATED_SHARE = 0.08
CHANNEL_WEIGHTS = (("online", 0.30), ("store", 0.45), ("agent", 0.25))
IMEI_SHARE = 0.92  # carriers do not record a handset for every activation
DUAL_SIM_SHARE = 0.2  # a second number in the same handset: one IMEI, one owner, clean
RESPELL_SHARE = 0.05  # a name in other case, spacing or composition, which must not matter
# The fabricated owners of ID_NOT_FOUND plants are born in 1900-1905: a population generated
# with today in 2006 or later has nobody born then, so the number cannot exist.
FABRICATED_YEARS = (1900, 1905)

_CLEAN_CAP = 6  # most numbers one clean owner holds


class SynthSubscription(NamedTuple):
    """One upload row, plus what the reconciliation must say about it.

    ``expected`` is empty for clean subscriptions and for terminated ones (they get no
    verdict); ``disowned`` marks a number its owner declared "not mine".
    """

    carrier: str
    msisdn: str
    id_number: str
    full_name: str
    date_of_birth: date
    activation_date: datetime
    channel: str
    agent_id: str | None
    imei: str | None
    status: str
    expected: frozenset[Reason] = frozenset()
    disowned: bool = False

    def upload_row(self) -> dict[str, str]:
        """The row as a carrier uploads it: ISO dates, empty cells for none."""
        return {
            "carrier": self.carrier,
            "msisdn": self.msisdn,
            "id_number": self.id_number,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "activation_date": self.activation_date.isoformat(),
            "channel": self.channel,
            "agent_id": self.agent_id or "",
            "imei": self.imei or "",
            "status": self.status,
        }


def ground_truth(
    subscriptions: Iterable[SynthSubscription],
) -> dict[tuple[str, str], frozenset[Reason]]:
    """(carrier, msisdn) -> expected reasons, for every active subscription (clean: empty)."""
    return {(s.carrier, s.msisdn): s.expected for s in subscriptions if s.status == "active"}


def ported(sub: SynthSubscription) -> bool:
    """Whether the generator moved this number to a carrier other than its block's holder
    (a recycled or duplicated number): that carrier must declare it ported in to upload it."""
    return home_carrier(sub.msisdn) != sub.carrier


def write_subscriptions_csv(subscriptions: Iterable[SynthSubscription], path: Path) -> int:
    """Write the upload as UTF-8 CSV with ``UPLOAD_FIELDS``; return the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=UPLOAD_FIELDS)
        writer.writeheader()
        for s in subscriptions:
            writer.writerow(s.upload_row())
            count += 1
    return count


# --- generation ------------------------------------------------------------------------------


def _luhn_sum(digits: str, doubled_first: bool) -> int:
    """Luhn sum of ``digits``, doubling every other digit starting with the first or not."""
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch)
        if (i % 2 == 0) == doubled_first:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total


def luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit pass the Luhn test (IMEI, ISO/IEC 7812)."""
    # The rightmost body digit is doubled: with an even length that is every odd position.
    return str(-_luhn_sum(body, len(body) % 2 == 1) % 10)


def _imeis(rng: random.Random, tac: str) -> Iterator[str]:
    """Every 15-digit IMEI with this 8-digit type allocation code, once each, scrambled.

    Check digits come from two tables over the serial's halves: IMEIs are drawn once per
    subscription, and a digit-by-digit Luhn loop was most of the generator's time.
    """
    # In a 14-digit body the odd positions (0-based) are doubled: the code's 1, 3, 5, 7,
    # the serial's first half at 9 and its second half at 11 and 13.
    base = _luhn_sum(tac, False)
    high = [_luhn_sum(f"{h:03d}", False) for h in range(1000)]
    low = [_luhn_sum(f"{h:03d}", True) for h in range(1000)]
    start = rng.randrange(1_000_000)
    stride = _coprime_stride(rng, 1_000_000)
    for k in range(1_000_000):
        serial = (start + k * stride) % 1_000_000
        hi, lo = divmod(serial, 1000)
        yield f"{tac}{serial:06d}{-(base + high[hi] + low[lo]) % 10}"


def _mobile_ranges(prefix: str) -> list[str]:
    """Three-digit ranges under ``prefix`` that libphonenumber accepts as VN mobile."""
    found = []
    for third in "0123456789":
        ok = True
        for rest in ("000000", "999999"):
            number = phonenumbers.parse(f"+84{prefix}{third}{rest}")
            if not (
                phonenumbers.is_valid_number(number)
                and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
            ):
                ok = False
        if ok:
            found.append(prefix + third)
    return found


@dataclass(frozen=True, slots=True)
class _Person:
    """Who a subscription is registered to: a citizen, or a fabricated identity."""

    id_number: str
    full_name: str
    date_of_birth: date
    guardian: bool
    death: date | None


# Weights of the planted cases among citizens that carry one; each needs the citizen to fit
# (alive adult, deceased, young enough for a SIM before 14...), checked when it is drawn.
_PLANTS: tuple[tuple[str, float], ...] = (
    ("name", 8),
    ("dob", 6),
    ("id_format", 4),
    ("not_found", 6),
    ("not_found_format", 2),
    ("minor", 4),
    ("minor_guardian_ok", 3),
    ("online", 5),
    ("online_ok", 3),
    ("threshold", 3),
    ("threshold_online", 2),
    ("threshold_ok", 2),
    ("disowned", 5),
    ("dup_self", 3),
    ("dup_pair", 3),
    ("recycled_ok", 3),
    ("burst", 2),
    ("burst_terminated", 1),
    ("burst_ok_exact", 1),
    ("burst_ok_spread", 1),
    ("imei", 3),
    ("imei_ok", 2),
)
_GROUP_PLANTS = frozenset(
    {
        "dup_pair",
        "burst",
        "burst_terminated",
        "burst_ok_exact",
        "burst_ok_spread",
        "imei",
        "imei_ok",
    }
)


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        carriers: Sequence[str],
        as_of: date,
        config: RuleConfig,
        mean: float,
        junk_rate: float,
        deceased_rate: float,
        agents_per_carrier: int,
    ) -> None:
        self.rng = rng
        self.rand = rng.random
        self.carriers = tuple(carriers)
        self.as_of = as_of
        self.config = config
        self.junk_rate = junk_rate
        self.deceased_rate = deceased_rate
        self.agents = agents_per_carrier
        self.cap = max(1, min(_CLEAN_CAP, config.over_threshold - 2))
        # P(k numbers) for a clean owner, Poisson(mean) cut at the cap.
        weights, p = [], math.exp(-mean)
        for k in range(self.cap + 1):
            weights.append(p)
            p *= mean / (k + 1)
        self.count_cum = _cumulative(weights)
        self.channel_names = [c for c, _ in CHANNEL_WEIGHTS]
        self.channel_cum = _cumulative([w for _, w in CHANNEL_WEIGHTS])
        self.plant_names = [p for p, _ in _PLANTS]
        self.plant_cum = _cumulative([w for _, w in _PLANTS])
        self.ranges: dict[str, list[str]] = {}
        self.numbers: dict[str, Iterator[str]] = {}
        for code in self.carriers:
            ranges = [r for prefix in CARRIERS[code].prefixes for r in _mobile_ranges(prefix)]
            self.ranges[code] = ranges
            for r in ranges:
                self.numbers[r] = _serials(rng, 1_000_000, "+84" + r, 6)
        # IMEI = 8-digit type allocation code + 6-digit serial + Luhn digit; each code's
        # serials come from a counter, so IMEIs never repeat by accident.
        self.tac_count = 0
        self.imeis = self._next_tac()
        self.fabricated = 0
        self.rogue = 0
        self.groups: dict[str, list[_Person]] = {kind: [] for kind in _GROUP_PLANTS}

    # -- small draws ---------------------------------------------------------------------

    def carrier(self) -> str:
        return self.carriers[int(self.rand() * len(self.carriers))]

    def msisdn(self, carrier: str) -> str:
        ranges = self.ranges[carrier]
        number = next(self.numbers[ranges[int(self.rand() * len(ranges))]], None)
        if number is None:
            raise RuntimeError("a number range is exhausted")
        return number

    def _next_tac(self) -> Iterator[str]:
        self.tac_count += 1
        return _imeis(self.rng, f"35{self.tac_count:06d}")

    def imei(self) -> str:
        found = next(self.imeis, None)
        if found is None:
            self.imeis = self._next_tac()
            found = next(self.imeis)
        return found

    def agent(self, carrier: str) -> str:
        return f"{carrier}-A{int(self.rand() * self.agents):05d}"

    def rogue_agent(self, carrier: str) -> str:
        self.rogue += 1
        return f"{carrier}-R{self.rogue:05d}"

    def channel(self) -> str:
        return self.channel_names[_pick(self.channel_cum, self.rand())]

    def moment(self, lo: date, hi: date) -> datetime:
        """A random second in [lo, hi), naive local time as carriers record it."""
        span = (hi.toordinal() - lo.toordinal()) * 86_400
        return datetime.combine(lo, time.min) + timedelta(seconds=int(self.rand() * max(span, 1)))

    def respell(self, name: str) -> str:
        """The same name as the registry folds it (rules.fold_name), written differently."""
        choice = int(self.rand() * 3)
        if choice == 0:
            return name.upper()
        if choice == 1:
            return "  " + name.replace(" ", "   ") + " "
        return unicodedata.normalize("NFD", name)

    def other_name(self, name: str) -> str:
        parts = name.split(" ")
        given = parts[-1]
        pool = ("An", "Bình", "Cường", "Dũng", "Hà", "Lan", "Minh", "Nga", "Phúc", "Thảo")
        options = [g for g in pool if g != given]
        parts[-1] = options[int(self.rand() * len(options))]
        return " ".join(parts)

    # -- windows ---------------------------------------------------------------------------

    def window(self, person: _Person) -> tuple[date, date] | None:
        """When a clean subscription of ``person`` can be activated: [adult, end)."""
        lo = max(EARLIEST, birthday(person.date_of_birth, self.config.minor_age))
        hi = person.death or self.as_of
        if (hi - lo).days < 30:
            return None
        return lo, hi

    def sub(
        self,
        person: _Person,
        *,
        when: datetime,
        channel: str | None = None,
        carrier: str | None = None,
        msisdn: str | None = None,
        name: str | None = None,
        dob: date | None = None,
        agent: str | None = None,
        imei: str | None = None,
        status: str = "active",
        expected: Iterable[Reason] = (),
        disowned: bool = False,
    ) -> SynthSubscription:
        carrier = carrier or self.carrier()
        channel = channel or self.channel()
        if channel == "agent" and agent is None:
            agent = self.agent(carrier)
        if imei is None and self.rand() < IMEI_SHARE:
            imei = self.imei()
        if name is None:
            name = person.full_name
            if self.rand() < RESPELL_SHARE:
                name = self.respell(name)
        return SynthSubscription(
            carrier,
            msisdn or self.msisdn(carrier),
            person.id_number,
            name,
            dob or person.date_of_birth,
            when,
            channel,
            agent if channel == "agent" else None,
            imei,
            status,
            frozenset(expected) if status == "active" else frozenset(),
            disowned,
        )

    # -- clean subscriptions ---------------------------------------------------------------

    def clean(self, person: _Person, lo: date, hi: date) -> list[SynthSubscription]:
        k = _pick(self.count_cum, self.rand())
        out: list[SynthSubscription] = []
        online = 0
        handset: str | None = None
        for _ in range(k):
            status = "terminated" if self.rand() < TERMINATED_SHARE else "active"
            channel = self.channel()
            if channel == "online" and status == "active":
                if online >= self.config.online_limit:
                    channel = "store"
                else:
                    online += 1
            imei = handset if handset is not None and self.rand() < DUAL_SIM_SHARE else None
            s = self.sub(
                person, when=self.moment(lo, hi), channel=channel, status=status, imei=imei
            )
            handset = handset or s.imei
            out.append(s)
        return out

    # -- planted cases ---------------------------------------------------------------------

    def plant(self, kind: str, person: _Person, lo: date, hi: date) -> list[SynthSubscription]:
        """Subscriptions of one planted case for an alive adult, or [] if it does not fit."""
        cfg = self.config
        if kind == "name":
            return [
                self.sub(
                    person,
                    when=self.moment(lo, hi),
                    channel="store",
                    name=self.other_name(person.full_name),
                    expected={Reason.NAME_MISMATCH},
                )
            ]
        if kind == "dob":
            # Same year (no ID_FORMAT), and the owner well past 14 either way.
            born = person.date_of_birth
            shifted = born + timedelta(days=1 + int(self.rand() * 20))
            if shifted.year != born.year:
                shifted = born - timedelta(days=1 + int(self.rand() * 20))
            if shifted.year != born.year:
                return []
            lo2 = max(lo, birthday(born, cfg.minor_age + 1))
            if lo2 >= hi:
                return []
            return [
                self.sub(
                    person,
                    when=self.moment(lo2, hi),
                    channel="store",
                    dob=shifted,
                    expected={Reason.DOB_MISMATCH},
                )
            ]
        if kind == "id_format":
            born = person.date_of_birth
            years = 1 + int(self.rand() * 3)
            try:
                stated = born.replace(year=born.year - years)
            except ValueError:
                stated = date(born.year - years, 2, 28)
            return [
                self.sub(
                    person,
                    when=self.moment(lo, hi),
                    channel="store",
                    dob=stated,
                    expected={Reason.ID_FORMAT, Reason.DOB_MISMATCH},
                )
            ]
        if kind in ("not_found", "not_found_format"):
            fake = self.fabricate()
            dob = fake.date_of_birth
            expected = {Reason.ID_NOT_FOUND}
            if kind == "not_found_format":
                dob = dob.replace(year=1950, day=min(dob.day, 28))  # 29 Feb 1904
                expected.add(Reason.ID_FORMAT)
            return [
                self.sub(fake, when=self.moment(lo, hi), channel="store", dob=dob,
                         expected=expected)
            ]  # fmt: skip
        if kind == "minor":
            return self.minor_plant(person, expected={Reason.OWNER_MINOR})
        if kind == "online":
            return self.online_plant(person, lo, hi, cfg.online_limit + 2, extra=1)
        if kind == "online_ok":
            return self.online_plant(person, lo, hi, cfg.online_limit, extra=1)
        if kind == "threshold":
            return self.holder_plant(person, lo, hi, cfg.over_threshold + 2, online=2)
        if kind == "threshold_online":
            return self.holder_plant(
                person, lo, hi, cfg.over_threshold, online=cfg.online_limit + 1
            )
        if kind == "threshold_ok":
            subs = self.holder_plant(person, lo, hi, cfg.over_threshold - 1, online=1)
            subs += [
                self.sub(person, when=self.moment(lo, hi), channel="store", status="terminated")
                for _ in range(3)
            ]
            return subs
        if kind == "disowned":
            return [
                self.sub(
                    person,
                    when=self.moment(lo, hi),
                    channel="store",
                    expected={Reason.DISOWNED},
                    disowned=True,
                )
            ]
        if kind == "dup_self":
            if len(self.carriers) < 2:
                return []
            a, b = self.two_carriers()
            number = self.msisdn(a)
            return [
                self.sub(
                    person,
                    when=self.moment(lo, hi),
                    channel="store",
                    carrier=c,
                    msisdn=number,
                    expected={Reason.DUPLICATE_MSISDN},
                )
                for c in (a, b)
            ]
        if kind == "recycled_ok":
            # Terminated at one carrier, active at another (ported): an upload holds one row
            # per number, so the same carrier cannot list it twice.
            if len(self.carriers) < 2:
                return []
            a, b = self.two_carriers()
            number = self.msisdn(a)
            first = self.moment(lo, hi)
            return [
                self.sub(person, when=first, channel="store", carrier=a, msisdn=number,
                         status="terminated"),
                self.sub(person, when=self.moment(lo, hi), channel="store",
                         carrier=b, msisdn=number),
            ]  # fmt: skip
        raise AssertionError(kind)

    def two_carriers(self) -> tuple[str, str]:
        a = self.carrier()
        b = a
        while b == a:
            b = self.carrier()
        return a, b

    def fabricate(self) -> _Person:
        """An identity that is not in any population made with today in 2006 or later."""
        self.fabricated += 1
        year = FABRICATED_YEARS[0] + int(
            self.rand() * (FABRICATED_YEARS[1] - FABRICATED_YEARS[0] + 1)
        )
        sex = Sex.MALE if self.rand() < 0.5 else Sex.FEMALE
        serial = self.fabricated % 1_000_000
        id_number = make("001", sex, year, serial)
        dob = date(year, 1, 1) + timedelta(days=int(self.rand() * 364))
        return _Person(id_number, "Nguyễn Văn Khống", dob, guardian=False, death=None)

    def minor_plant(
        self, person: _Person, *, expected: Iterable[Reason]
    ) -> list[SynthSubscription]:
        """A number activated before the owner turned 14 (at 10 or later, since 2008)."""
        born = person.date_of_birth
        lo = max(EARLIEST, birthday(born, 10))
        hi = min(self.as_of, birthday(born, self.config.minor_age))
        if (hi - lo).days < 2:
            return []
        return [self.sub(person, when=self.moment(lo, hi), channel="store", expected=expected)]

    def online_plant(
        self, person: _Person, lo: date, hi: date, n_online: int, extra: int
    ) -> list[SynthSubscription]:
        subs = [
            self.sub(person, when=self.moment(lo, hi), channel="online") for _ in range(n_online)
        ]
        subs += [self.sub(person, when=self.moment(lo, hi), channel="store") for _ in range(extra)]
        return _mark_online(subs, self.config.online_limit, set())

    def holder_plant(
        self, person: _Person, lo: date, hi: date, total: int, online: int
    ) -> list[SynthSubscription]:
        subs = [
            self.sub(person, when=self.moment(lo, hi), channel="online" if i < online else None)
            for i in range(total)
        ]
        # A holder drawn "online" by chance above would break the count of online ones.
        subs = [
            s._replace(channel="store", agent_id=None)
            if i >= online and s.channel == "online"
            else s
            for i, s in enumerate(subs)
        ]
        base: set[Reason] = set()
        if len({s.msisdn for s in subs}) >= self.config.over_threshold:
            base.add(Reason.OVER_THRESHOLD)
        return _mark_online(subs, self.config.online_limit, base)

    def deceased(self, person: _Person) -> list[SynthSubscription]:
        """A deceased citizen: a planted case, or terminated numbers (no verdict), or none."""
        assert person.death is not None
        born = person.date_of_birth
        adult = max(EARLIEST, birthday(born, self.config.minor_age))
        death = person.death
        if self.rand() >= self.deceased_rate:
            if (death - adult).days < 30:
                return []
            return [
                self.sub(person, when=self.moment(adult, death), channel="store",
                         status="terminated")
            ]  # fmt: skip
        subs: list[SynthSubscription] = []
        if (death - adult).days >= 30:
            # Activated while alive, never terminated.
            subs.append(
                self.sub(
                    person,
                    when=self.moment(adult, death),
                    channel="store",
                    expected={Reason.OWNER_DECEASED},
                )
            )
        after = max(EARLIEST, death + timedelta(days=1))
        if (self.as_of - after).days >= 1 and death > birthday(born, self.config.minor_age):
            # Activated after the death, on the dead person's papers.
            name = person.full_name
            expected = {Reason.OWNER_DECEASED}
            if self.rand() < 0.3:
                name = self.other_name(name)
                expected.add(Reason.NAME_MISMATCH)
            subs.append(
                self.sub(
                    person,
                    when=self.moment(after, self.as_of),
                    channel="store",
                    name=name,
                    expected=expected,
                )
            )
        return subs

    # -- groups ----------------------------------------------------------------------------

    def group_size(self, kind: str) -> int:
        cfg = self.config
        return {
            "dup_pair": 2,
            "burst": cfg.agent_burst_n + 5,
            "burst_terminated": cfg.agent_burst_n + 3,
            "burst_ok_exact": cfg.agent_burst_n,
            "burst_ok_spread": cfg.agent_burst_n + 10,
            "imei": cfg.shared_imei_k + 2,
            "imei_ok": cfg.shared_imei_k,
        }[kind]

    def join_group(self, kind: str, person: _Person) -> list[SynthSubscription]:
        members = self.groups[kind]
        members.append(person)
        if len(members) < self.group_size(kind):
            return []
        self.groups[kind] = []
        return self.group(kind, members)

    def group(self, kind: str, members: list[_Person]) -> list[SynthSubscription]:
        cfg = self.config
        # Everyone in a group is an alive adult whose window includes the last year.
        hi = min(m.death or self.as_of for m in members)
        lo = max(max(EARLIEST, birthday(m.date_of_birth, cfg.minor_age)) for m in members)
        start = self.moment(lo, hi - timedelta(days=1))
        if kind == "dup_pair":
            a, b = self.two_carriers()
            number = self.msisdn(a)
            return [
                self.sub(m, when=self.moment(lo, hi), channel="store", carrier=c, msisdn=number,
                         expected={Reason.DUPLICATE_MSISDN})
                for m, c in zip(members, (a, b), strict=True)
            ]  # fmt: skip
        if kind in ("imei", "imei_ok"):
            handset = self.imei()
            expected = {Reason.SHARED_IMEI} if kind == "imei" else set()
            return [
                self.sub(m, when=self.moment(lo, hi), channel="store", imei=handset,
                         expected=expected)
                for m in members
            ]  # fmt: skip
        carrier = self.carrier()
        agent = self.rogue_agent(carrier)
        span = cfg.agent_burst_minutes * 60
        out = []
        for i, m in enumerate(members):
            status, expected = "active", {Reason.AGENT_BURST}
            if kind == "burst":
                offset = int(self.rand() * span * 2 // 3)
            elif kind == "burst_terminated":
                offset = int(self.rand() * span * 2 // 3)
                if i < 5:
                    status = "terminated"
            elif kind == "burst_ok_exact":
                offset, expected = int(self.rand() * (span - 60)), set()
            else:  # burst_ok_spread: one every 2M/N minutes, never more than N/2 + 1 per M
                offset, expected = i * (2 * span // cfg.agent_burst_n), set()
            out.append(
                self.sub(m, when=start + timedelta(seconds=offset), channel="agent",
                         carrier=carrier, agent=agent, status=status, expected=expected)
            )  # fmt: skip
        return out

    # -- the walk --------------------------------------------------------------------------

    def run(self, population: Iterable[SynthCitizen]) -> Iterator[SynthSubscription]:
        rand = self.rand
        plant_at = self.junk_rate
        for citizen in population:
            if citizen.date_of_birth.year <= FABRICATED_YEARS[1]:
                raise ValueError("the population is too old: generate it with today >= 2006")
            person = _Person(
                citizen.id_number,
                citizen.full_name,
                citizen.date_of_birth,
                citizen.guardian_id_number is not None,
                citizen.date_of_death,
            )
            if person.death is not None:
                yield from self.deceased(person)
                continue
            window = self.window(person)
            if window is None:
                # Under 14 today: a child's SIM, legal only with a guardian on file.
                if person.guardian and rand() < plant_at:
                    yield from self.minor_plant(person, expected=())
                continue
            lo, hi = window
            if rand() >= plant_at:
                yield from self.clean(person, lo, hi)
                continue
            kind = self.plant_names[_pick(self.plant_cum, rand())]
            if kind == "minor" and person.guardian:
                kind = "minor_guardian_ok"
            if kind == "minor_guardian_ok" and not person.guardian:
                kind = "minor"
            if kind in _GROUP_PLANTS:
                if (hi - lo).days < 400 or (kind == "dup_pair" and len(self.carriers) < 2):
                    yield from self.clean(person, lo, hi)
                    continue
                yield from self.clean(person, lo, hi)
                yield from self.join_group(kind, person)
                continue
            if kind == "minor_guardian_ok":
                yield from self.minor_plant(person, expected=())
                continue
            planted = self.plant(kind, person, lo, hi)
            if kind not in ("online", "online_ok", "threshold", "threshold_online",
                            "threshold_ok"):  # fmt: skip
                # Owners of the counted cases hold exactly what was planted.
                yield from self.clean(person, lo, hi)
            yield from planted


def _mark_online(
    subs: list[SynthSubscription], limit: int, base: set[Reason]
) -> list[SynthSubscription]:
    """Give the online ones past the first ``limit`` ONLINE_OVER_LIMIT (the rule's order)."""
    ranked = sorted(
        (s for s in subs if s.channel == "online" and s.status == "active"),
        key=lambda s: (s.activation_date, s.msisdn, s.carrier),
    )
    late = {s.msisdn for s in ranked[limit:]}
    return [
        s._replace(
            expected=frozenset(base | ({Reason.ONLINE_OVER_LIMIT} if s.msisdn in late else set()))
        )
        for s in subs
    ]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


def _pick(cumulative: Sequence[float], u: float) -> int:
    return min(bisect_right(cumulative, u), len(cumulative) - 1)


def generate_subscriptions(
    population: Iterable[SynthCitizen],
    *,
    seed: int = 20260101,
    carriers: Sequence[str] = ("VTL", "VNP", "MBF"),
    as_of: date = date(2026, 1, 1),
    config: RuleConfig | None = None,
    mean_per_adult: float = 1.6,
    junk_rate: float = 0.02,
    deceased_rate: float = 0.5,
    agents_per_carrier: int = 5000,
) -> Iterator[SynthSubscription]:
    """Stream subscriptions for ``population``, the same ones for the same arguments.

    Alive citizens aged 14 or more hold Poisson(``mean_per_adult``) numbers (at most 6, some
    terminated); ``junk_rate`` of them carry one planted case instead (some clean boundary
    cases among them); ``deceased_rate`` of the deceased still have a number active. Group
    cases (agent bursts, shared handsets, a number at two carriers) gather members as the
    walk goes; a group the walk ends before completing is never emitted. ``carriers`` are
    codes of ``telecom.msisdn.CARRIERS``: numbers come from their own ranges.
    """
    unknown = [c for c in carriers if c not in CARRIERS]
    if unknown or not carriers:
        raise ValueError(f"carriers must be codes of telecom.msisdn.CARRIERS, not {unknown}")
    if not 0 <= junk_rate <= 1 or not 0 <= deceased_rate <= 1 or mean_per_adult < 0:
        raise ValueError("rates must be in [0, 1] and the mean non-negative")
    generator = _Generator(
        random.Random(seed),
        carriers,
        as_of,
        config or RuleConfig(),
        mean_per_adult,
        junk_rate,
        deceased_rate,
        agents_per_carrier,
    )
    return generator.run(population)


# --- engine inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineInputs:
    """The engine's relations as Arrow tables (register them on a DuckDB connection)."""

    subscriptions: pa.Table
    registry: pa.Table
    disowned: pa.Table
    provinces: pa.Table


class _Indexer:
    """Blind indexes with caches where values repeat (names, birth dates)."""

    def __init__(self, ring: KeyRing, cache_limit: int = 2_000_000) -> None:
        self.ring = ring
        self.ids: dict[str, bytes] = {}
        self.names: dict[str, bytes] = {}
        self.dobs: dict[date, bytes] = {}
        self.limit = cache_limit

    def id(self, id_number: str) -> bytes:
        # A citizen's numbers are converted soon after the citizen: a bounded cache hits.
        found = self.ids.get(id_number)
        if found is None:
            if len(self.ids) >= self.limit:
                self.ids.clear()
            found = self.ids[id_number] = id_index(self.ring, id_number)
        return found

    def name(self, full_name: str) -> bytes:
        found = self.names.get(full_name)
        if found is None:
            if len(self.names) >= self.limit:
                self.names.clear()
            found = self.names[full_name] = name_index(self.ring, full_name)
        return found

    def dob(self, born: date) -> bytes:
        found = self.dobs.get(born)
        if found is None:
            found = self.dobs[born] = dob_index(self.ring, born)
        return found


def registry_table(
    population: Iterable[SynthCitizen], ring: KeyRing, *, indexer: Any = None
) -> pa.Table:
    """The ``registry`` relation: blind indexes, guardian on file, date of death."""
    ix: _Indexer = indexer or _Indexer(ring)
    ids, names, dobs, guardians, deaths = [], [], [], [], []
    for c in population:
        ids.append(ix.id(c.id_number))
        names.append(ix.name(c.full_name))
        dobs.append(ix.dob(c.date_of_birth))
        guardians.append(c.guardian_id_number is not None)
        deaths.append(c.date_of_death)
    return pa.table([ids, names, dobs, guardians, deaths], schema=REGISTRY_SCHEMA)


def subscriptions_table(
    subscriptions: Iterable[SynthSubscription],
    ring: KeyRing,
    *,
    config: RuleConfig | None = None,
    indexer: Any = None,
) -> pa.Table:
    """The ``subscriptions`` relation, computed from upload rows as the platform does."""
    cfg = config or RuleConfig()
    ix: _Indexer = indexer or _Indexer(ring)
    cols: list[list[Any]] = [[] for _ in SUBSCRIPTION_SCHEMA]
    (carrier, msisdn, ids, names, dobs, consistent, minor, at, channel, agent, imei, status) = cols
    for s in subscriptions:
        carrier.append(s.carrier)
        msisdn.append(s.msisdn)
        ids.append(ix.id(s.id_number))
        names.append(ix.name(s.full_name))
        dobs.append(ix.dob(s.date_of_birth))
        consistent.append(id_dob_consistent(s.id_number, s.date_of_birth))
        minor.append(not is_over(s.date_of_birth, cfg.minor_age, s.activation_date))
        at.append(s.activation_date)
        channel.append(s.channel)
        agent.append(s.agent_id)
        imei.append(s.imei)
        status.append(s.status)
    return pa.table(cols, schema=SUBSCRIPTION_SCHEMA)


def _province_name(id_number: str) -> str:
    found = province(id_number[:3])
    return found.name if found is not None else "?"


def engine_inputs(
    subscriptions: Iterable[SynthSubscription],
    population: Iterable[SynthCitizen],
    ring: KeyRing,
    *,
    config: RuleConfig | None = None,
) -> EngineInputs:
    """All four relations in memory, for tests and small runs."""
    subs = list(subscriptions)
    ix = _Indexer(ring)
    return EngineInputs(
        subscriptions=subscriptions_table(subs, ring, config=config, indexer=ix),
        registry=registry_table(population, ring, indexer=ix),
        disowned=pa.table(
            {"msisdn": pa.array([s.msisdn for s in subs if s.disowned], pa.string())}
        ),
        provinces=pa.table(
            {
                "msisdn": pa.array([s.msisdn for s in subs], pa.string()),
                "province": pa.array([_province_name(s.id_number) for s in subs], pa.string()),
            }
        ),
    )


@dataclass(frozen=True)
class EngineFiles:
    """Parquet files of the engine's inputs, as written by ``write_engine_inputs``."""

    subscriptions: Path  # a directory of parts
    registry: Path  # a directory of parts
    disowned: Path
    provinces: Path  # a directory of parts
    citizens: int
    rows: int


_CitizenRow = tuple[str, str, date, bool, date | None]


class _PartWriter:
    """Converts chunks to the engine's relations and writes them as numbered Parquet parts.

    One instance sees both the registry and the subscriptions, in order, so the id cache of
    its indexer hits for a citizen's numbers.
    """

    def __init__(self, out_dir: Path, ring: KeyRing, config: RuleConfig) -> None:
        self.out_dir = out_dir
        self.ring = ring
        self.config = config
        self.indexer = _Indexer(ring)

    def registry(self, part: int, rows: list[_CitizenRow]) -> None:
        ix = self.indexer
        table = pa.table(
            [
                [ix.id(r[0]) for r in rows],
                [ix.name(r[1]) for r in rows],
                [ix.dob(r[2]) for r in rows],
                [r[3] for r in rows],
                [r[4] for r in rows],
            ],
            schema=REGISTRY_SCHEMA,
        )
        pq.write_table(table, self.out_dir / "registry" / f"part-{part:05d}.parquet")

    def subscriptions(self, part: int, rows: list[SynthSubscription]) -> None:
        table = subscriptions_table(rows, self.ring, config=self.config, indexer=self.indexer)
        pq.write_table(table, self.out_dir / "subscriptions" / f"part-{part:05d}.parquet")
        provinces = pa.table(
            {
                "msisdn": pa.array([s.msisdn for s in rows], pa.string()),
                "province": pa.array([_province_name(s.id_number) for s in rows], pa.string()),
            }
        )
        pq.write_table(provinces, self.out_dir / "provinces" / f"part-{part:05d}.parquet")


_WORKER: _PartWriter | None = None


def _start_worker(out_dir: Path, ring_json: str, config: RuleConfig) -> None:
    global _WORKER  # noqa: PLW0603 (one writer per worker process, built once)
    _WORKER = _PartWriter(out_dir, keyring_from_json(ring_json), config)


def _run_job(kind: str, part: int, rows: list[Any]) -> None:
    assert _WORKER is not None
    getattr(_WORKER, kind)(part, rows)


class _Sink:
    """Numbered parts to a ``_PartWriter``: here, or in one background process, in order."""

    def __init__(self, out_dir: Path, ring: KeyRing, config: RuleConfig, background: bool) -> None:
        self.parts = {"registry": 0, "subscriptions": 0}
        self.local = _PartWriter(out_dir, ring, config)
        self.pending: list[Future[None]] = []
        self.pool = (
            ProcessPoolExecutor(
                max_workers=1,
                initializer=_start_worker,
                initargs=(out_dir, keyring_to_json(ring), config),
            )
            if background
            else None
        )

    def submit(self, kind: str, rows: list[Any]) -> None:
        part = self.parts[kind]
        self.parts[kind] += 1
        if self.pool is None:
            getattr(self.local, kind)(part, rows)
            return
        self.pending.append(self.pool.submit(_run_job, kind, part, rows))
        while len(self.pending) > 2:  # bounded: a slow writer holds the generator back
            self.pending.pop(0).result()

    def close(self) -> None:
        try:
            for future in self.pending:
                future.result()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)


def write_engine_inputs(
    population: Iterable[SynthCitizen],
    out_dir: Path,
    ring: KeyRing,
    *,
    subscriptions: int | None = None,
    seed: int = 20260101,
    carriers: Sequence[str] = ("VTL", "VNP", "MBF"),
    as_of: date = date(2026, 1, 1),
    config: RuleConfig | None = None,
    chunk_rows: int = 500_000,
    background: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> EngineFiles:
    """Stream the engine inputs for ``population`` to Parquet in chunks; memory stays flat.

    The population is walked once: each citizen goes to the registry as the subscription
    generator consumes it. ``subscriptions`` stops the upload at that many rows (the rest
    of the population still goes to the registry). With ``background``, blind indexes and
    Parquet writing run in a second process while this one generates. ``progress(citizens,
    rows)`` is called after each chunk; ``options`` go to ``generate_subscriptions``.
    """
    for name in ("subscriptions", "registry", "provinces"):
        (out_dir / name).mkdir(parents=True, exist_ok=True)
        for old in (out_dir / name).glob("part-*.parquet"):
            old.unlink()
    cfg = config or RuleConfig()
    sink = _Sink(out_dir, ring, cfg, background)
    seen: list[_CitizenRow] = []
    citizens = rows = 0

    def tee(source: Iterator[SynthCitizen]) -> Iterator[SynthCitizen]:
        nonlocal citizens
        for c in source:
            seen.append(
                (c.id_number, c.full_name, c.date_of_birth, c.guardian_id_number is not None,
                 c.date_of_death)
            )  # fmt: skip
            citizens += 1
            if len(seen) >= chunk_rows:
                sink.submit("registry", seen.copy())
                seen.clear()
            yield c

    remaining = iter(population)
    stream = generate_subscriptions(
        tee(remaining), seed=seed, carriers=carriers, as_of=as_of, config=cfg, **options
    )
    disowned: list[str] = []
    try:
        for chunk in _chunks(islice(stream, subscriptions), chunk_rows):
            sink.submit("subscriptions", chunk)
            rows += len(chunk)
            disowned.extend(s.msisdn for s in chunk if s.disowned)
            if progress is not None:
                progress(citizens, rows)
        # Citizens the upload never reached still belong in the registry.
        for _ in tee(remaining):
            pass
        if seen:
            sink.submit("registry", seen.copy())
    finally:
        sink.close()
    if progress is not None:
        progress(citizens, rows)
    disowned_path = out_dir / "disowned.parquet"
    pq.write_table(pa.table({"msisdn": pa.array(disowned, pa.string())}), disowned_path)
    return EngineFiles(
        subscriptions=out_dir / "subscriptions",
        registry=out_dir / "registry",
        disowned=disowned_path,
        provinces=out_dir / "provinces",
        citizens=citizens,
        rows=rows,
    )


def _chunks(items: Iterable[SynthSubscription], size: int) -> Iterator[list[SynthSubscription]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
