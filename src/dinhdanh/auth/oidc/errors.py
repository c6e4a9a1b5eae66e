"""OAuth 2.0 errors (RFC 6749 sections 4.1.2.1 and 5.2): ``{"error", "error_description"}``."""

from __future__ import annotations

from dinhdanh.errors import DomainError


class OAuthError(DomainError):
    """An error the endpoint answers in the OAuth format; ``status`` is the HTTP status.

    ``scheme`` names the ``WWW-Authenticate`` scheme of a 401 when the endpoint knows it
    (``DPoP`` at userinfo when the token came that way); otherwise it follows from ``error``.
    """

    title = "OAuth error"
    wire_format = "oauth"

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = self.code = error
        self.description = description
        self.status = status
        self.scheme: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)
