"""Plain-language names for the internal values the pages show (msgids, translated by the
templates with ``_()``): a consent scope, a number's declaration, a password rule."""

from __future__ import annotations

from dinhdanh.auth.passwords import PolicyViolation
from dinhdanh.web.i18n import N_

SCOPES = {
    "openid": N_(
        "An identifier for this platform only, and that you are verified (and at which level)"
    ),
    "age": N_("Whether you are over 13, 16 and 18 (not your birth date)"),
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
