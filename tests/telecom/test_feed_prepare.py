"""An upload's rows are prepared a piece at a time (each digest a column at a time); the
result is what the one-value index functions give row by row, for every kind of synthetic
row (junk, no IMEI, agents, minors)."""

from __future__ import annotations

from datetime import date

from dinhdanh.crypto import KeyRing, blind_index, keyring_to_json
from dinhdanh.identity import indexes
from dinhdanh.identity.age import is_over
from dinhdanh.synth import generate_population
from dinhdanh.synth.telecom import generate_subscriptions
from dinhdanh.telecom.feed import (
    BIDX_IMEI,
    PreparedSubscription,
    SubscriptionFeed,
    SubscriptionRecord,
    check_subscription,
)
from dinhdanh.telecom.rules import id_dob_consistent

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
    assert feed.prepare(records) == [one_by_one(ring, r) for r in records]
    assert feed.prepare([]) == []


def one_by_one(ring: KeyRing, r: SubscriptionRecord) -> PreparedSubscription:
    """A row's stored form through the one-value index functions (the registry's side)."""
    return PreparedSubscription(
        r.msisdn,
        indexes.id_index(ring, r.id_number),
        indexes.name_index(ring, r.full_name),
        indexes.dob_index(ring, r.date_of_birth),
        id_dob_consistent(r.id_number, r.date_of_birth),
        not is_over(r.date_of_birth, 14, r.activation_at),
        r.id_number[:3],
        r.activation_at,
        r.channel,
        r.agent_id,
        blind_index(ring, r.imei, BIDX_IMEI)[: indexes.SIZE] if r.imei else None,
        r.status,
        indexes.record_digest(ring, "subscription\x1f" + r.canonical()),
    )
