"""Auth test helpers: SIM subscriptions stored through the telecom service's real upload path."""

from __future__ import annotations

from datetime import UTC, datetime

from dinhdanh.auth.models import WebAuthnCredential
from dinhdanh.crypto import keyring_to_json
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.feed import SubscriptionFeed, SubscriptionRecord, check_subscription
from dinhdanh.wiring import Container
from tests.support import Citizen
from tests.telecom.factories import sub

CTX = AccessContext("test", "carrier_upload", "test upload")
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def subscribe(
    c: Container, citizen: Citizen, msisdn: str, carrier: str = "VTL", **fields: str
) -> None:
    """Store one subscription of ``citizen`` (their stated identity unless ``fields`` say
    otherwise) at ``carrier``, registering the carrier first if needed."""
    row = sub(msisdn, citizen.id_number, citizen.full_name, citizen.date_of_birth.isoformat())
    row |= fields
    record = check_subscription(row, NOW.date())
    assert isinstance(record, SubscriptionRecord), record
    prepared = SubscriptionFeed(keyring_to_json(c.ring)).prepare_one(record)
    with c.unit_of_work() as s:
        if carrier not in {x.code for x in c.telecom.carriers(s)}:
            c.telecom.add_carrier(s, carrier, carrier, NOW)
    with c.unit_of_work() as s:
        c.telecom.apply_upload(s, carrier, [prepared], CTX, NOW)


def add_passkey(
    c: Container,
    account_id: str,
    cred_id: str = "cred-1",
    *,
    public_key: bytes = b"\x00",  # no ceremony will use it unless a real key is given
    name: str = "Laptop",
    created_at: datetime = NOW,
) -> None:
    """A passkey row as a finished registration stores it."""
    with c.unit_of_work() as s:
        s.add(
            WebAuthnCredential(
                id=cred_id,
                account_id=account_id,
                public_key=public_key,
                sign_count=0,
                name=name,
                transports="internal",
                user_verified=True,
                created_at=created_at,
                last_used_at=None,
                revoked_at=None,
            )
        )
