"""Accounts and login: authenticators, sessions and the OpenID Connect provider.

Storage-free building blocks, each citing the specification it implements:

- ``passwords``: Argon2id hashing (RFC 9106) and the NIST SP 800-63B password policy.
- ``totp``: time-based one-time passwords (RFC 6238 over RFC 4226 HOTP).
- ``recovery``: single-use recovery codes, stored as SHA-256 digests.

Token signing and verification (JWS, JWK, JWKS) live in ``dinhdanh.crypto.jose``.
"""
