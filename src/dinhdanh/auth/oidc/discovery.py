"""Provider metadata: OpenID Connect Discovery 1.0 section 3 (and RFC 8414 names).

Served at ``/.well-known/openid-configuration``. Only what is implemented is advertised: the
code flow with PKCE S256, pairwise subjects only, EdDSA / ES256 / ML-DSA-65 signatures.
"""

from __future__ import annotations

from typing import Any

from dinhdanh.auth.oidc.claims import AGE_THRESHOLDS, SCOPES, acr_uri
from dinhdanh.auth.oidc.dpop import ALGORITHMS as DPOP_ALGORITHMS
from dinhdanh.auth.oidc.provider import Provider
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS


def metadata(provider: Provider) -> dict[str, Any]:
    algs = list(SUPPORTED_ALGORITHMS)
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    claims = sorted({c for _, released in SCOPES.values() for c in released})
    return {
        "issuer": provider.issuer,
        "authorization_endpoint": provider.url("/authorize"),
        "token_endpoint": provider.url("/token"),
        "userinfo_endpoint": provider.url("/userinfo"),
        "jwks_uri": provider.url("/jwks"),
        "pushed_authorization_request_endpoint": provider.url("/par"),
        "revocation_endpoint": provider.url("/revoke"),
        "introspection_endpoint": provider.url("/introspect"),
        "end_session_endpoint": provider.url("/logout"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            # OpenID4VCI 1.0 section 6.1: age credentials offered from the account page.
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ],
        "pre-authorized_grant_anonymous_access_supported": True,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 section 5.1
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "require_pushed_authorization_requests": False,
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": ["iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", *claims],
        "acr_values_supported": [acr_uri(n) for n in (0, 1, 2)],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "age_over_thresholds": list(AGE_THRESHOLDS),
    }
