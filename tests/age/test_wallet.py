"""The test wallet: asks for a batch through the issuance function, presents each credential
once with only the requested claim, then forgets it."""

from __future__ import annotations

import pytest

from dinhdanh.age.credentials.sdjwt import join, parse_disclosure, split
from dinhdanh.age.wallet import Wallet, WalletError
from dinhdanh.crypto.compact import decode
from dinhdanh.wiring import Container
from tests.age.conftest import CTX, VERIFIER, issue, make_teen


def test_a_batch_is_requested_presented_once_each_then_gone(sqlite_container: Container) -> None:
    c = sqlite_container
    teen = make_teen(c, c.clock().date(), serial="054321")
    wallet = Wallet()
    seen_keys: list[list[dict[str, str]]] = []

    def issue_batch(keys: list[dict[str, str]]) -> list[str]:
        seen_keys.append(keys)
        with c.unit_of_work() as s:
            return c.age_credentials.issue_batch(s, teen.subject_id, keys, CTX, c.clock())

    assert wallet.request(issue_batch, 10) == 10
    assert len(wallet) == 10
    assert len(seen_keys[0]) == 10
    assert all("d" not in k for k in seen_keys[0])  # only public keys leave the wallet
    shown = []
    for n in range(10):
        p = wallet.present("age_over_16", f"nonce-{n}", VERIFIER, c.clock())
        parts = split(p)
        assert [parse_disclosure(d).name for d in parts.disclosures] == ["age_over_16"]
        assert decode(parts.kb_jwt).claims()["nonce"] == f"nonce-{n}"
        shown.append(parts.jwt)
    assert len(set(shown)) == 10  # every credential once
    assert len(wallet) == 0
    with pytest.raises(WalletError, match="no unused credential"):
        wallet.present("age_over_16", "n", VERIFIER, c.clock())


def test_credentials_for_keys_the_wallet_did_not_make_are_refused(
    sqlite_container: Container,
) -> None:
    c = sqlite_container
    teen = make_teen(c, c.clock().date(), serial="054322")
    (credential,) = issue(c, teen.subject_id, Wallet(), 1)
    with pytest.raises(WalletError, match="key of this wallet"):
        Wallet().store([credential])


def test_a_credential_with_a_foreign_disclosure_is_refused(sqlite_container: Container) -> None:
    c = sqlite_container
    teen = make_teen(c, c.clock().date(), serial="054323")
    wallet = Wallet()
    other = split(issue(c, teen.subject_id, Wallet(), 1)[0])
    keys = wallet.holder_keys(1)
    with c.unit_of_work() as s:
        (mine,) = c.age_credentials.issue_batch(s, teen.subject_id, keys, CTX, c.clock())
    parts = split(mine)
    with pytest.raises(WalletError, match="not in it"):
        wallet.store([join(parts.jwt, [*parts.disclosures[:2], other.disclosures[2]])])
    wallet.store([mine])  # the key is still waiting for its own credential
    assert len(wallet) == 1
