"""What the server-rendered pages share: templates, language, cookies, CSRF, client address.

- Language: ``?lang=vi|en`` (remembered in a cookie), else the cookie, else Accept-Language;
  Vietnamese by default. Messages live in ``MESSAGES`` (one entry per text, vi and en).
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
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dinhdanh.crypto.derive import csrf_key
from dinhdanh.wiring import Container

SESSION_COOKIE = "__Host-dd_session"
CSRF_COOKIE = "__Host-dd_csrf"
ENROL_COOKIE = "__Host-dd_enrol"
LANG_COOKIE = "dd_lang"
LANGS = ("vi", "en")

templates = Jinja2Templates(directory=str(files("dinhdanh.web") / "templates"))

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"vi": "Định danh điện tử", "en": "Digital identity"},
    "login": {"vi": "Đăng nhập", "en": "Log in"},
    "logout": {"vi": "Đăng xuất", "en": "Log out"},
    "id_number": {"vi": "Số định danh cá nhân", "en": "Personal identification number"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "new_password": {"vi": "Mật khẩu mới", "en": "New password"},
    "full_name": {"vi": "Họ và tên", "en": "Full name"},
    "birth_date": {"vi": "Ngày sinh", "en": "Date of birth"},
    "code": {"vi": "Mã xác thực", "en": "Verification code"},
    "continue": {"vi": "Tiếp tục", "en": "Continue"},
    "enrol": {"vi": "Đăng ký tài khoản", "en": "Create an account"},
    "second_factor": {"vi": "Xác thực hai bước", "en": "Two-step verification"},
    "second_factor_help": {
        "vi": "Nhập mã 6 số từ ứng dụng xác thực, hoặc một mã khôi phục.",
        "en": "Enter the 6-digit code from your authenticator app, or a recovery code.",
    },
    "login_failed": {
        "vi": "Số định danh hoặc mật khẩu không đúng.",
        "en": "Wrong ID number or password.",
    },
    "code_failed": {"vi": "Mã không đúng hoặc đã hết hạn.", "en": "Wrong or expired code."},
    "throttled": {
        "vi": "Quá nhiều lần thử. Vui lòng thử lại sau.",
        "en": "Too many attempts. Please try again later.",
    },
    "code_sent": {
        "vi": "Nếu thông tin khớp với cơ sở dữ liệu, một mã đã được gửi tới số điện thoại "
        "đã đăng ký.",
        "en": "If the details match the registry, a code was sent to the registered phone number.",
    },
    "no_code_help": {
        "vi": "Mã chỉ được gửi tới số di động mà nhà mạng đã đăng ký đúng số định danh, họ tên "
        "và ngày sinh của bạn (không gửi tới số bạn đã báo không phải của mình hoặc số đang bị "
        "khóa). Nếu sau vài phút vẫn không nhận được mã, hãy kiểm tra thông tin thuê bao tại "
        "cửa hàng của nhà mạng, hoặc bắt đầu lại sau 15 phút.",
        "en": "Codes go only to mobile numbers that a carrier has registered with your ID "
        "number, full name and date of birth (never to a number you declared not yours, or "
        "one that is locked). If no code arrives within a few minutes, check your subscriber "
        "details at a carrier's store, or start again in 15 minutes.",
    },
    "outbox_open": {
        "vi": "Trang dành cho phát triển: không cần đăng nhập, ai truy cập được máy chủ đều đọc "
        "được các mã. Chỉ có khi DINHDANH_ENV=dev; không bao giờ bật ở môi trường thật.",
        "en": "Development page: it needs no login, so anyone who can reach this server reads "
        "these codes. It exists only with DINHDANH_ENV=dev; never enable that in production.",
    },
    "enrol_locked": {
        "vi": "Quá nhiều mã sai. Hãy bắt đầu lại để nhận mã mới.",
        "en": "Too many wrong codes. Start again to get a new code.",
    },
    "consent_title": {"vi": "Cho phép chia sẻ thông tin", "en": "Allow sharing"},
    "consent_intro": {
        "vi": "sẽ nhận được đúng những thông tin sau:",
        "en": "will receive exactly the following:",
    },
    "allow": {"vi": "Cho phép", "en": "Allow"},
    "deny": {"vi": "Từ chối", "en": "Deny"},
    "scope_openid": {
        "vi": "Một mã định danh riêng cho nền tảng này, và việc bạn đã được xác minh (mức độ)",
        "en": "An identifier for this platform only, and that you are verified "
        "(and at which level)",
    },
    "scope_age": {
        "vi": "Bạn đã đủ 13, 16, 18 tuổi hay chưa (không có ngày sinh)",
        "en": "Whether you are over 13, 16 and 18 (not your birth date)",
    },
    "scope_name": {"vi": "Họ và tên của bạn", "en": "Your full name"},
    "scope_birthdate": {"vi": "Ngày sinh của bạn", "en": "Your date of birth"},
    "scope_phone": {"vi": "Số điện thoại của bạn", "en": "Your phone number"},
    "scope_offline_access": {
        "vi": "Truy cập khi bạn không trực tuyến (cho tới khi bạn thu hồi)",
        "en": "Access while you are away (until you revoke it)",
    },
    "account": {"vi": "Tài khoản của tôi", "en": "My account"},
    "authenticators": {"vi": "Phương thức xác thực", "en": "Authenticators"},
    "consents": {"vi": "Các nền tảng được chia sẻ", "en": "Platforms you share with"},
    "sessions": {"vi": "Phiên đăng nhập", "en": "Sessions"},
    "sign_ins": {"vi": "Lần đăng nhập gần đây", "en": "Recent sign-ins"},
    "revoke": {"vi": "Thu hồi", "en": "Revoke"},
    "logout_everywhere": {"vi": "Đăng xuất mọi nơi", "en": "Log out everywhere"},
    "totp_setup": {"vi": "Thiết lập ứng dụng xác thực", "en": "Set up an authenticator app"},
    "totp_help": {
        "vi": "Thêm khóa này vào ứng dụng xác thực, rồi nhập mã nó hiển thị.",
        "en": "Add this key to your authenticator app, then enter the code it shows.",
    },
    "recovery_codes": {"vi": "Mã khôi phục", "en": "Recovery codes"},
    "recovery_help": {
        "vi": "Mỗi mã dùng được một lần. Hãy cất giữ ở nơi an toàn; chúng sẽ không hiện lại.",
        "en": "Each code works once. Keep them somewhere safe; they will not be shown again.",
    },
    "new_recovery_codes": {"vi": "Tạo mã khôi phục mới", "en": "New recovery codes"},
    "passkeys": {"vi": "Khóa truy cập (passkey)", "en": "Passkeys"},
    "add_passkey": {"vi": "Thêm khóa truy cập", "en": "Add a passkey"},
    "passkey_login": {"vi": "Đăng nhập bằng khóa truy cập", "en": "Log in with a passkey"},
    "confirm_logout": {"vi": "Bạn muốn đăng xuất?", "en": "Do you want to log out?"},
    "logged_out": {"vi": "Bạn đã đăng xuất.", "en": "You are logged out."},
    "error": {"vi": "Có lỗi", "en": "Something went wrong"},
    "yes": {"vi": "Có", "en": "Yes"},
    "no": {"vi": "Không", "en": "No"},
    "policy_too_short": {
        "vi": "Mật khẩu quá ngắn (ít nhất 8 ký tự).",
        "en": "Too short (8 characters at least).",
    },
    "policy_too_long": {"vi": "Mật khẩu quá dài.", "en": "Too long."},
    "policy_common": {"vi": "Mật khẩu quá phổ biến.", "en": "This password is too common."},
    "policy_contains_user_data": {
        "vi": "Mật khẩu chứa thông tin cá nhân của bạn.",
        "en": "The password contains your personal details.",
    },
    "invalid_id_number": {"vi": "Số định danh không hợp lệ.", "en": "Not a valid ID number."},
    "enrol_factor_help": {
        "vi": "Tài khoản này có xác thực hai bước. Nhập mã 6 số từ ứng dụng xác thực, hoặc một "
        "mã khôi phục, để đặt mật khẩu mới.",
        "en": "This account has two-step verification. Enter the 6-digit code from your "
        "authenticator app, or a recovery code, to set the new password.",
    },
    "no_second_factor": {
        "vi": "Không còn ứng dụng xác thực hay mã khôi phục?",
        "en": "Lost your authenticator app and recovery codes?",
    },
    "enrol_wait_help": {
        "vi": "Mật khẩu mới sẽ có hiệu lực sau {hours} giờ. Mọi số điện thoại của bạn sẽ nhận "
        "thông báo; trong thời gian chờ, mật khẩu và phương thức xác thực cũ vẫn dùng được, "
        "và một lần đăng nhập bằng chúng sẽ hủy yêu cầu. Khi hết thời gian chờ, ứng dụng xác "
        "thực, mã khôi phục và khóa truy cập cũ bị xóa.",
        "en": "The new password takes effect after {hours} hours. Every number of yours is "
        "told; until then the old password and authenticators keep working, and a login with "
        "them cancels the request. When the wait ends, the old authenticator app, recovery "
        "codes and passkeys are removed.",
    },
    "enrol_wait": {
        "vi": "Đặt lại sau thời gian chờ",
        "en": "Reset after the waiting period",
    },
    "recovery_waiting": {
        "vi": "Yêu cầu đã được ghi nhận. Mật khẩu mới có hiệu lực từ {at} UTC.",
        "en": "Request recorded. The new password takes effect on {at} UTC.",
    },
    "recovery_pending": {
        "vi": "Có yêu cầu đặt lại mật khẩu mà không có xác thực hai bước, có hiệu lực từ {at} "
        "UTC. Nếu không phải bạn, hãy xác nhận lại xác thực hai bước để hủy.",
        "en": "A password reset without your second factor was asked; it takes effect on "
        "{at} UTC. Not you? Confirm your second factor to cancel it.",
    },
    "step_up": {"vi": "Xác nhận xác thực hai bước", "en": "Confirm your second factor"},
    "step_up_help": {
        "vi": "Để thay đổi phương thức xác thực, nhập mã 6 số từ ứng dụng xác thực, hoặc một "
        "mã khôi phục.",
        "en": "To change authenticators, enter the 6-digit code from your authenticator app, "
        "or a recovery code.",
    },
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return str(asked)
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "vi"


def translator(lang: str) -> Any:
    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry[lang] if entry else key

    return t


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
) -> HTMLResponse:
    lang = language(request)
    cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    ctx = {"lang": lang, "t": translator(lang), "csrf": _csrf_for(c, cookie)} | (context or {})
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
