"""Plain-language names for the internal values the pages show (msgids, translated by the
templates with ``_()``): a scope, a declaration, a password rule, a level, a sign-in, a device."""

from __future__ import annotations

from ua_parser import parse

from dinhdanh.auth.passwords import PolicyViolation
from dinhdanh.web.i18n import N_

SCOPES = {
    "openid": N_(
        "An identifier for this platform only, and that you are verified (and at which level)"
    ),
    "age": N_(
        "Whether you are over 13, 16 and 18 (not your birth date); under 16, whether a guardian"
        " approved your account here (not who)"
    ),
    "name": N_("Your full name"),
    "birthdate": N_("Your date of birth"),
    "phone": N_("Your phone number"),
    "offline_access": N_("Access while you are away (until you revoke it)"),
}

DECLARATIONS = {
    None: N_("Not confirmed"),
    "confirmed": N_("Confirmed"),
    "disowned": N_("Reported as not mine"),
}

PASSWORD_RULES = {
    PolicyViolation.TOO_SHORT: N_("Too short (8 characters at least)."),
    PolicyViolation.TOO_LONG: N_("Too long."),
    PolicyViolation.COMMON: N_("This password is too common."),
    PolicyViolation.CONTAINS_USER_DATA: N_("The password contains your personal details."),
}

# Levels of assurance (DESIGN.md): what each proves, not its acr URN.
LEVELS = {
    0: N_("Not verified (self-asserted)"),
    1: N_("Level 1: your ID details and a phone number registered to you"),
    2: N_("Level 2: your chip ID card"),
}

SIGN_IN_METHODS = {
    "password": N_("Password"),
    "otp": N_("Authenticator app code"),
    "recovery": N_("Recovery code"),
    "passkey": N_("Passkey"),
    "totp": N_("Authenticator app"),
    "reset": N_("Password reset"),
    "logout": N_("Log out"),
}

SIGN_IN_OUTCOMES = {
    "ok": N_("Succeeded"),
    "failed": N_("Failed"),
    "throttled": N_("Blocked: too many attempts"),
    "mfa_pending": N_("Waiting for the second step"),
    "step_up": N_("Second factor confirmed"),
    "requested": N_("Reset asked for"),
    "applied": N_("Reset done"),
    "cancelled": N_("Reset cancelled"),
    "enrolled": N_("Set up"),
    "registered": N_("Added"),
    "revoked": N_("Revoked"),
    "everywhere": N_("Everywhere"),
}


def session_state(mfa_pending: bool) -> str:
    return N_("Waiting for the second step") if mfa_pending else N_("Logged in")


def device_name(user_agent: str) -> str | None:
    """ "Chrome 131, Android 14 (Pixel 8)" from a User-Agent header (ua-parser's bundled
    regexes, nothing downloaded); None when it names no known browser or system."""
    parsed = parse(user_agent[:300])
    parts = []
    if parsed.user_agent is not None:
        parts.append(_versioned(parsed.user_agent.family, parsed.user_agent.major))
    if parsed.os is not None:
        parts.append(_versioned(parsed.os.family, parsed.os.major))
    if not parts:
        return None
    name = ", ".join(parts)
    device = parsed.device
    if device is not None and device.family not in ("Other", "Spider"):
        name += f" ({device.family})"
    return name


def _versioned(family: str, major: str | None) -> str:
    return f"{family} {major}" if major else family
