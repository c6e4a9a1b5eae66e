"""The sd-jwt reference implementation (0.10, on jwcrypto) as an independent verifier of our
presentations, for tests/age and benchmarks/age.py."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from typing import Any

from dinhdanh.crypto.compact import decode


@functools.lru_cache(maxsize=16)
def _jwk(text: str) -> Any:
    from jwcrypto.jwk import JWK

    return JWK.from_json(text)


def reference_verify(
    presentation: str,
    issuer_jwks: dict[str, Any],
    nonce: str,
    audience: str,
    now: datetime,
    kb_max_age: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """The claims the ``sd-jwt`` reference verifier accepts, with the checks it lacks added.

    Adapted here, and only here, for how sd-jwt 0.10 differs from RFC 9901:
    - its KB-JWT check verifies with ``alg`` ES256 unless told otherwise (it does not read the
      KB-JWT header), so an EdDSA holder key fails: we build it without ``expected_aud`` and
      ``expected_nonce`` (no KB check) and call its KB check with the header's ``alg``;
    - it checks no ``exp``, ``nbf`` or ``iat`` (its own TODO) and no KB-JWT ``iat``: checked
      below, as RFC 9901 sections 7.1 and 7.3 ask;
    - it ignores Disclosures whose digest the credential does not contain (RFC 9901 section
      7.1 says reject): not adapted; tests/age/test_verify.py shows it.
    Issuer keys are parsed once per key (``_jwk``), as a verifier would keep them.
    """
    from sd_jwt.verifier import SDJWTVerifier

    keys = {k["kid"]: k for k in issuer_jwks["keys"]}

    def issuer_key(_iss: str, header: dict[str, Any]) -> Any:
        return _jwk(json.dumps(keys[header["kid"]], sort_keys=True))

    verifier = SDJWTVerifier(presentation, issuer_key)
    kb_jwt = presentation.rsplit("~", 1)[1]
    verifier._verify_key_binding_jwt(audience, nonce, sign_alg=decode(kb_jwt).header["alg"])
    claims: dict[str, Any] = verifier.get_verified_payload()
    t = now.timestamp()
    if not t < claims["exp"]:
        raise ValueError("expired")
    kb_iat = decode(kb_jwt).claims()["iat"]
    if not t - kb_max_age.total_seconds() <= kb_iat <= t + 60:
        raise ValueError("stale key binding")
    return claims
