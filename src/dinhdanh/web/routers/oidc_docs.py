"""What the OpenAPI document says of the provider's endpoints, which read their parameters
themselves (``oidc._form``, ``request.query_params``): bodies, parameters and every answer."""

from __future__ import annotations

from typing import Any

from dinhdanh.web.problems import Responses, oauth_error_responses

FORM_TYPE = "application/x-www-form-urlencoded"
_STRING = {"type": "string"}
CLIENT_AUTH = ("client_id", "client_secret", "client_assertion_type", "client_assertion")
AUTHORIZE_PARAMS = (
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "acr_values",
    "request_uri",
)
LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


def form_body(required: tuple[str, ...], *optional: str) -> dict[str, Any]:
    """``openapi_extra`` of an endpoint whose form-encoded body has these string fields."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": dict.fromkeys((*required, *optional), _STRING),
    }
    if required:
        schema["required"] = list(required)
    content = {FORM_TYPE: {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def query(required: tuple[str, ...], *optional: str) -> dict[str, Any]:
    """``openapi_extra`` of an endpoint that reads these string query parameters."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": name in required, "schema": _STRING}
            for name in (*required, *optional)
        ]
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(required: tuple[str, ...], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


_INT = {"type": "integer"}
TOKEN: Responses = {
    200: _json(
        _object(
            ("access_token", "token_type", "expires_in"),
            access_token=_STRING,
            token_type=_STRING,
            expires_in=_INT,
            scope=_STRING,
            refresh_token=_STRING,
            id_token=_STRING,
        ),
        "Tokens (RFC 6749 section 5.1)",
    ),
    **oauth_error_responses(400, 401, 413),
}
PAR: Responses = {
    201: _json(
        _object(("request_uri", "expires_in"), request_uri=_STRING, expires_in=_INT),
        "The request's handle (RFC 9126 section 2.2)",
    ),
    **oauth_error_responses(400, 401, 413),
}
REVOKE: Responses = {200: {"description": "Revoked, or unknown (RFC 7009 section 2.2)"}}
REVOKE |= oauth_error_responses(400, 401, 413)
INTROSPECT: Responses = {
    200: _json(
        {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}},
        "The token's state (RFC 7662 section 2.2)",
    ),
    **oauth_error_responses(400, 401, 413),
}
USERINFO: Responses = {
    200: _json(_object(("sub",), sub=_STRING), "Claims (OpenID Connect Core 5.3.2)"),
    **oauth_error_responses(400, 401, 403, 413),
}
_HTML = {"text/html": {"schema": _STRING}}
_LOCATION = {"Location": {"description": "where the browser goes next", "schema": _STRING}}
# The OAuth format for a body that is not a form, or a value the database cannot store.
_ERROR_PAGE = {
    "description": "An error page, or an OAuth error for input that cannot be read",
    "content": _HTML | oauth_error_responses(400)[400]["content"],
}
PAGE: Responses = {
    200: {"description": "A page", "content": _HTML},
    303: {"description": "On to the next page or back to the client", "headers": _LOCATION},
    400: _ERROR_PAGE,
}
PAGE_FORM: Responses = PAGE | oauth_error_responses(413)
