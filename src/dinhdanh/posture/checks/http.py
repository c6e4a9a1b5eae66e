"""HTTP checks (Mozilla Observatory's header tests, CISA BOD 18-01's HTTPS and HSTS): pure
functions of what one GET of ``/`` answered, redirects not followed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from dinhdanh.posture.checks import Found, Severity

HSTS_MIN_AGE = 31_536_000  # one year, in seconds
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# "Apache/2.4.49 (Unix)", "nginx/1.18.0", "Microsoft-IIS/10.0", "PHP/7.4.3"
PRODUCT = re.compile(r"([A-Za-z][\w.-]*?)/(\d+(?:\.\d+)+[\w.-]*)")


@dataclass(frozen=True, slots=True)
class HttpObservation:
    url: str  # the endpoint's URL
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower case, in order, repeats kept

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        return values[0].strip() if values else None


def products(obs: HttpObservation) -> list[tuple[str, str]]:
    """(product, version) pairs the server discloses in Server and X-Powered-By."""
    found: list[tuple[str, str]] = []
    for name in ("server", "x-powered-by"):
        for value in obs.all(name):
            found += [(p, v) for p, v in PRODUCT.findall(value)]
    return found


def check_redirect(obs: HttpObservation) -> list[Found]:
    """A plain-http endpoint must answer with a redirect to https."""
    location = obs.one("location") or ""
    if obs.status in REDIRECTS and location.lower().startswith("https://"):
        return []
    evidence = {"status": obs.status, "location": location or None}
    return [Found("HTTP_NO_HTTPS_REDIRECT", Severity.HIGH, obs.url, evidence)]


def _hsts(obs: HttpObservation) -> list[Found]:
    value = obs.one("strict-transport-security")
    if value is None:
        return [Found("HSTS_MISSING", Severity.MEDIUM, obs.url, {"reason": "no header"})]
    directives = {
        k.strip().lower(): v.strip().strip('"')
        for k, _, v in (d.partition("=") for d in value.split(";"))
        if k.strip()
    }
    weak = []
    try:
        age = int(directives.get("max-age", ""))
    except ValueError:
        age = -1
    if age < HSTS_MIN_AGE:
        weak.append(f"max-age {age} < {HSTS_MIN_AGE}" if age >= 0 else "no valid max-age")
    if "includesubdomains" not in directives:
        weak.append("no includeSubDomains")
    if not weak:
        return []
    evidence = {"reason": "; ".join(weak), "header": value}
    return [Found("HSTS_MISSING", Severity.LOW, obs.url, evidence)]


def _csp_directives(obs: HttpObservation) -> dict[str, str]:
    out: dict[str, str] = {}
    for policy in obs.all("content-security-policy"):
        for part in policy.split(";"):
            name, _, value = part.strip().partition(" ")
            if name:
                out.setdefault(name.lower(), value.strip())
    return out


def _cookies(obs: HttpObservation) -> list[Found]:
    found = []
    for raw in obs.all("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            continue
        for name, morsel in jar.items():
            missing = [a for a in ("secure", "httponly") if not morsel[a]]
            if missing:
                evidence = {"cookie": name, "missing": missing}
                found.append(Found("COOKIE_INSECURE", Severity.MEDIUM, obs.url, evidence))
    return found


def check_headers(obs: HttpObservation) -> list[Found]:
    """Headers of an https endpoint's answer."""
    found = _hsts(obs)
    csp = _csp_directives(obs)
    if not csp:
        found.append(Found("CSP_MISSING", Severity.MEDIUM, obs.url, {}))
    if (obs.one("x-content-type-options") or "").lower() != "nosniff":
        evidence: dict[str, object] = {"header": obs.one("x-content-type-options")}
        found.append(Found("XCTO_MISSING", Severity.LOW, obs.url, evidence))
    xfo = (obs.one("x-frame-options") or "").upper()
    if "frame-ancestors" not in csp and xfo not in ("DENY", "SAMEORIGIN"):
        found.append(Found("FRAME_ANCESTORS_MISSING", Severity.MEDIUM, obs.url, {}))
    found += _cookies(obs)
    disclosed = products(obs)
    if disclosed:
        evidence = {"products": [f"{p}/{v}" for p, v in disclosed]}
        found.append(Found("SERVER_VERSION_DISCLOSED", Severity.LOW, obs.url, evidence))
    return found
