"""What the server-rendered pages share: templates, language, cookies, CSRF, client address.

- Language: ``?lang=vi|en`` (remembered in a cookie), else the cookie, else Accept-Language;
  Vietnamese by default. The texts are gettext catalogs (``web/i18n.py``).
- Cookies: ``__Host-`` prefix, Secure, HttpOnly, SameSite=Lax, Path=/ (RFC 6265bis 4.1.3.2):
  no subdomain can set or read them. Browsers accept Secure cookies over plain HTTP on
  ``localhost`` only, which is what local runs and browser tests use.
- CSRF: double submit, signed (OWASP CSRF Cheat Sheet): a random ``__Host-dd_csrf`` cookie and
  a form field carrying HMAC(key, cookie); every POST form checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Collection
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dinhdanh.crypto.derive import csrf_key
from dinhdanh.web import i18n, labels, portal
from dinhdanh.web.i18n import LANGS
from dinhdanh.wiring import Container

SESSION_COOKIE = "__Host-dd_session"
CSRF_COOKIE = "__Host-dd_csrf"
ENROL_COOKIE = "__Host-dd_enrol"
LANG_COOKIE = "dd_lang"

templates = Jinja2Templates(directory=str(files("dinhdanh.web") / "templates"))
i18n.install(templates.env)
templates.env.globals["labels"] = labels  # plain-language names of internal values


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return str(asked)
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else i18n.DEFAULT_LANG


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


def _csrf_for(c: Container, cookie: str) -> str:
    mac = hmac.digest(csrf_key(c.ring), cookie.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def check_csrf(c: Container, request: Request, form_value: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not form_value:
        return False
    # Bytes: compare_digest raises on a str with non-ASCII characters (a 500 on any form).
    return hmac.compare_digest(_csrf_for(c, cookie).encode(), form_value.encode())


def render(
    c: Container,
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    roles: Collection[str] = (),
) -> HTMLResponse:
    """The page ``name`` in the request's language; ``roles`` (the viewer's, e.g.
    ``portal.CITIZEN``) choose the navigation entries the layout shows."""
    lang = language(request)
    cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    ctx = {
        "lang": lang,
        "csrf": _csrf_for(c, cookie),
        "nav": portal.nav_for(roles, request.url.path),
        "lang_links": _lang_links(request),
    } | (context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != cookie:
        set_cookie(response, CSRF_COOKIE, cookie)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, path="/", samesite="lax", secure=True)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:"
    )
    return response


def _lang_links(request: Request) -> dict[str, str]:
    """The page itself in each language: its query kept (a login's ``next``), ``lang`` set."""
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return {lang: "?" + urlencode(query | {"lang": lang}) for lang in LANGS}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/account") -> str:
    """A path on our own origin, rebuilt from its parts: ``next`` must not become an open
    redirect. Browsers (WHATWG URL) drop tabs and newlines and read a backslash as a slash,
    so ``/\\t/evil.com`` is ``//evil.com`` to them: control characters and backslashes are
    refused outright rather than cleaned."""
    if not value or not value.startswith("/") or "\\" in value:
        return default
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return default
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. a netloc that NFKC turns into "/" ("//\uff0f"): not a path
        return default
    path = parts.path  # "//" splits into an empty netloc and an empty path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return default
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
