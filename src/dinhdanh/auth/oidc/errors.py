"""OAuth 2.0 errors (RFC 6749 sections 4.1.2.1 and 5.2): ``{"error", "error_description"}``."""

from __future__ import annotations


class OAuthError(Exception):
    """An error the endpoint answers in the OAuth format; ``status`` is the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)
