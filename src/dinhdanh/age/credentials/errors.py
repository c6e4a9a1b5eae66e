"""Errors of age credentials. Each refusal names its reason in ``code`` (stable)."""

from __future__ import annotations

from dinhdanh.errors import DomainError


class CredentialError(DomainError):
    code, status, title = "credential_error", 400, "Age credential request refused"


class IssuanceRefused(CredentialError):
    """A batch was not issued; ``code`` says why (``holder_key_invalid``, ...)."""

    status, title = 400, "Age credentials not issued"

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.code, self.status = code, status


class StatusListNotFound(CredentialError):
    code, status, title = "status_list_not_found", 404, "No such status list"


class StatusUnavailable(CredentialError):
    """The status of a credential could not be learned (list missing, invalid or stale)."""

    code, status, title = "status_unavailable", 400, "Credential status unavailable"


class PresentationRejected(CredentialError):
    """A presentation failed one check; ``code`` names which (one of ``REASONS``)."""

    status, title = 400, "The age presentation is not valid"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


REASONS = (
    "presentation_malformed",
    "credential_type_invalid",
    "issuer_key_unknown",
    "issuer_signature_invalid",
    "issuer_mismatch",
    "credential_expired",
    "credential_not_yet_valid",
    "credential_malformed",
    "credential_revoked",
    "status_unavailable",
    "disclosure_invalid",
    "disclosure_not_referenced",
    "disclosure_duplicate",
    "claim_missing",
    "claim_not_requested",
    "key_binding_missing",
    "holder_key_invalid",
    "key_binding_invalid",
    "nonce_mismatch",
    "audience_mismatch",
    "key_binding_stale",
    "sd_hash_mismatch",
)
