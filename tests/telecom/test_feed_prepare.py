"""An upload's rows are prepared a piece at a time (each digest a column at a time); the
result is what preparing each row alone gives, for every kind of synthetic row (junk, no
IMEI, agents, minors)."""

from __future__ import annotations

from datetime import date

from dinhdanh.crypto import KeyRing, keyring_to_json
from dinhdanh.synth import generate_population
from dinhdanh.synth.telecom import generate_subscriptions
from dinhdanh.telecom.feed import SubscriptionFeed, SubscriptionRecord, check_subscription

TODAY = date(2026, 12, 1)


def test_a_piece_is_its_rows_one_by_one(ring: KeyRing) -> None:
    people = generate_population(400, seed=5)
    records = []
    for sub in generate_subscriptions(people, seed=5, junk_rate=0.3):
        checked = check_subscription(sub.upload_row(), TODAY)
        if isinstance(checked, SubscriptionRecord):
            records.append(checked)
    assert len(records) > 300
    assert {r.imei is None for r in records} == {True, False}  # both kinds of row
    feed = SubscriptionFeed(keyring_to_json(ring))
    assert feed.prepare(records) == [feed.prepare_one(r) for r in records]
    assert feed.prepare([]) == []
