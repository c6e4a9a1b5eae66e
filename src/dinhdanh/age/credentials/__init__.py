"""Age credentials: SD-JWT VCs whose only selectively disclosable claims are age_over_13/16/18.

What other code calls (the OpenID4VCI and OpenID4VP endpoints, the wallet, the CLI):

- ``service.AgeCredentials``: ``issue_batch(session, subject_id, holder_keys, ctx, now,
  alg=...)``, ``revoke_all``, ``revoke_deceased``, ``metadata()``, ``lists`` (the status
  lists, ``age.statuslist``), ``local_status`` and ``trust`` (to verify our own credentials);
- ``verifier.verify_presentation(presentation, nonce, audience, now, claims=..., trust=...)``,
  ``verifier.Trust``, ``verifier.AgeProof``; a failure is ``errors.PresentationRejected``
  whose ``code`` is one of ``errors.REASONS``;
- ``issuer``: the format (``VCT``, ``TYP``, ``AGE_CLAIMS``); ``sdjwt``: RFC 9901 encoding.

This package imports nothing itself, so ``age.statuslist`` can use its tables and errors.
Formats, keys and what is kept: docs/architecture.md, "Age credentials".
"""
