"""Signing keys: tokens keep verifying across a rotation (the overlap) until the old version
is retired; then it leaves the JWK Set and its tokens are refused."""

from __future__ import annotations

import pytest

from dinhdanh.auth.oidc.keys import TokenKeys
from dinhdanh.crypto import KeyRing, rotate
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS, JoseError, sign_jwt, verify_jwt
from dinhdanh.crypto.keyring import retire_token_version

CLAIMS = {"iss": "https://id.example", "sub": "s", "aud": "a", "iat": 1, "exp": 2}


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_overlap_then_retirement(ring: KeyRing, alg: str) -> None:
    before = TokenKeys(ring)
    old_token = sign_jwt(CLAIMS, before.signer(alg))  # type: ignore[arg-type]
    old_kids = {k["kid"] for k in before.jwks["keys"]}

    ring2 = rotate(ring)
    rotated = TokenKeys(ring2)
    assert old_kids < {k["kid"] for k in rotated.jwks["keys"]}  # both versions published
    assert verify_jwt(old_token, rotated.public, algorithms=[alg]) == CLAIMS
    new_token = sign_jwt(CLAIMS, rotated.signer(alg))  # type: ignore[arg-type]

    retired = TokenKeys(retire_token_version(ring2, 1))
    assert not old_kids & {k["kid"] for k in retired.jwks["keys"]}
    assert len(retired.jwks["keys"]) == len(before.jwks["keys"])  # only version 2's keys
    with pytest.raises(JoseError):
        verify_jwt(old_token, retired.public, algorithms=[alg])
    assert verify_jwt(new_token, retired.public, algorithms=[alg]) == CLAIMS
