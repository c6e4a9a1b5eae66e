"""The column-at-a-time blind indexes an import uses are the one-value functions' bytes, value
by value: a registry loaded one way and an upload prepared the other still join."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from dinhdanh.crypto import KeyRing
from dinhdanh.identity import indexes

texts = st.lists(st.text(max_size=30), max_size=12)


@settings(max_examples=50)
@given(values=texts, days=st.lists(st.dates(date(1900, 1, 1), date(2030, 1, 1)), max_size=12))
def test_columns_equal_one_by_one(ring: KeyRing, values: list[str], days: list[date]) -> None:
    assert indexes.id_indexes(ring, values) == [indexes.id_index(ring, v) for v in values]
    assert indexes.name_indexes(ring, values) == [indexes.name_index(ring, v) for v in values]
    assert indexes.dob_indexes(ring, days) == [indexes.dob_index(ring, d) for d in days]
    assert indexes.record_digests(ring, values) == [indexes.record_digest(ring, v) for v in values]


def test_names_fold_as_one_by_one(ring: KeyRing) -> None:
    # Case, spacing and composition do not matter, in both forms.
    one = indexes.name_indexes(ring, ["Nguyễn  Văn An", "NGUYỄN VĂN AN"])
    assert one[0] == one[1] == indexes.name_index(ring, "nguyễn văn an")
    assert len(one[0]) == indexes.SIZE
