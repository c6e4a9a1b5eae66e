"""Errors of the social domain (each a DomainError: the web layer renders them as problems)."""

from __future__ import annotations

from dinhdanh.errors import DomainError


class SocialError(DomainError):
    code, status, title = "social_error", 400, "Platform request refused"


class PlatformExists(SocialError):
    code, status, title = "platform_exists", 409, "The platform exists"


class PlatformNotFound(SocialError):
    code, status, title = "platform_not_found", 404, "No such platform"


class NotYourPlatform(SocialError):
    code, status, title = "forbidden", 403, "This key cannot act for that platform"


class BatchTooLarge(SocialError):
    code, status, title = "batch_too_large", 422, "Too many account ids"


class IdTokenRejected(SocialError):
    """An ID token offered as proof failed one check; ``code`` names which (stable)."""

    status, title = 400, "The ID token is not valid proof"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
