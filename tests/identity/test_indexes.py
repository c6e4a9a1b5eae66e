"""The column-at-a-time blind indexes an import uses are the one-value functions' bytes, value
by value: a registry loaded one way and an upload prepared the other still join."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from dinhdanh.crypto import KeyRing
from dinhdanh.identity import indexes
from dinhdanh.identity.rules import CitizenRecord, check_citizen
from dinhdanh.identity.service import CitizenSealer
from tests.identity.factories import GOOD, row

texts = st.lists(st.text(max_size=30), max_size=12)


@settings(max_examples=50)
@given(values=texts, days=st.lists(st.dates(date(1900, 1, 1), date(2030, 1, 1)), max_size=12))
def test_columns_equal_one_by_one(ring: KeyRing, values: list[str], days: list[date]) -> None:
    assert indexes.id_indexes(ring, values) == [indexes.id_index(ring, v) for v in values]
    assert indexes.name_indexes(ring, values) == [indexes.name_index(ring, v) for v in values]
    assert indexes.dob_indexes(ring, days) == [indexes.dob_index(ring, d) for d in days]
    assert indexes.record_digests(ring, values) == [indexes.record_digest(ring, v) for v in values]
    assert indexes.phone_indexes(ring, values) == [indexes.phone_index(ring, v) for v in values]


def test_names_fold_as_one_by_one(ring: KeyRing) -> None:
    # Case, spacing and composition do not matter, in both forms.
    one = indexes.name_indexes(ring, ["Nguyễn  Văn An", "NGUYỄN VĂN AN"])
    assert one[0] == one[1] == indexes.name_index(ring, "nguyễn văn an")
    assert len(one[0]) == indexes.SIZE


def test_a_registry_piece_is_prepared_as_each_record_alone(ring: KeyRing) -> None:
    """CitizenSealer.prepare_many (an import's piece) against the one-value index functions;
    the sealed record, under a fresh nonce each time, opens to the record on its row."""
    rows = [*GOOD, row("001300000042", "Vũ Thị Hà", "2000-05-05", "F") | {"phone": "0912345678"}]
    checked = [check_citizen(r, date(2026, 6, 1)) for r in rows]
    records = [r for r in checked if isinstance(r, CitizenRecord)]
    assert len(records) == len(rows)
    sealer = CitizenSealer(ring)
    prepared = sealer.prepare_many(records)
    for rec, p in zip(records, prepared, strict=True):
        assert p.id_bidx == indexes.id_index(ring, rec.id_number)
        assert p.name_bidx == indexes.name_index(ring, rec.full_name)
        assert p.dob_bidx == indexes.dob_index(ring, rec.date_of_birth)
        guardian = rec.guardian_id_number
        assert p.guardian_bidx == (indexes.id_index(ring, guardian) if guardian else None)
        assert p.phone_bidx == (indexes.phone_index(ring, rec.phone) if rec.phone else None)
        assert p.deceased is (rec.date_of_death is not None)
        assert p.digest == indexes.record_digest(ring, rec.canonical())
        assert sealer.open_parts(p.id_bidx, p.sealed) == rec
    assert [p.guardian_bidx is not None for p in prepared].count(True) == 1
    assert prepared[-1].phone_bidx is not None
