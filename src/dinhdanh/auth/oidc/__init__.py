"""The OpenID Connect provider, one module per endpoint, each citing what it implements.

- ``discovery``: OpenID Connect Discovery 1.0 section 3 (provider metadata).
- ``keys``: the JWK Set (RFC 7517 section 5) of token keys derived from the key ring.
- ``authorize``: OIDC Core 3.1.2 and RFC 6749 4.1.1, PKCE (RFC 7636), PAR (RFC 9126).
- ``token``: RFC 6749 sections 4.1.3, 4.4, 6; OIDC Core 3.1.3; RFC 9068 access tokens.
- ``userinfo``: OIDC Core 5.3.
- ``revocation``: RFC 7009. ``introspection``: RFC 7662.
- ``logout``: OpenID Connect RP-Initiated Logout 1.0.
- ``claims``: which claims each scope releases (OIDC Core 5.4), computed at issue time.
- ``pairwise``: pairwise subject identifiers (OIDC Core 8.1).
- ``client_auth``: client_secret_basic (RFC 6749 2.3.1), private_key_jwt (OIDC Core 9).
"""
