"""RDAP answers (RFC 9083) built from the registry's views, with RFC 9537 redaction.

Pure: views in, JSON-ready dicts out; the web layer only reads and sends them. Why this is
our own code and not a library: docs/adr/0009-rdap-json.md.

A person (a domain's registrant) is shown to an anonymous client without their name, ID
number, birth date, address, phone or email: each is removed and named under ``redacted``
with the JSONPath it had in the full answer. Organisations are public and shown in full. A
staff member's answer carries what the registrar stated (the caller opened it, audited).

Handles: a domain's is its row id; an organisation's its tax code; a registrar's its code;
a person registrant's ``P-`` and the domain's id, so one person's names cannot be linked
through a shared handle.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import idna

from dinhdanh.internet.names import DomainNameError, to_ascii
from dinhdanh.internet.service import (
    AsnView,
    DomainView,
    IpBlockView,
    OrganisationView,
    PersonRegistrant,
)

MEDIA_TYPE = "application/rdap+json"
LEVEL = "rdap_level_0"
REDACTED = "redacted"  # RFC 9537
PAGING = "paging"  # RFC 8977
PERSON_PREFIX = "P-"
COUNTRY = "VN"
MAX_COUNT = 100
DEFAULT_COUNT = 50

TERMS = {
    "title": "Terms of use",
    "description": [
        "Registration data of .vn names and Vietnamese number resources.",
        "Personal data of registrants is withheld from anonymous queries (RFC 9537).",
    ],
}
REDACTION_NOTICE = {
    "title": "Redacted for privacy",
    "description": ["Some personal data of this answer was removed: see 'redacted'."],
}
STAFF_NOTICE = {
    "title": "Full record",
    "description": ["Answered to an authorised officer; this access is recorded."],
}

DOMAIN_STATUS = {
    "active": ["active"],
    "suspended": ["server hold"],
    "expired": ["inactive"],
    "deleted": ["removed"],
}
ORG_STATUS = {
    "active": ["active"],
    "suspended": ["inactive"],
    "dissolving": ["pending delete"],
    "dissolved": ["removed"],
}
NUMBER_STATUS = {
    "allocated": ["active"],
    "assigned": ["active"],
    "reserved": ["reserved"],
    "returned": ["inactive"],
}


@dataclass(frozen=True, slots=True)
class Redaction:
    """One member withheld (RFC 9537 section 4.2, method ``removal``)."""

    name: str
    member: str  # JSONPath below the person's entity


# What an anonymous client does not see of a person, and where it would have been.
PERSON_REDACTIONS = (
    Redaction("Registrant Name", "vcardArray[1][?(@[0]=='fn')]"),
    Redaction("Registrant ID Number", "publicIds"),
    Redaction("Registrant Birth Date", "vcardArray[1][?(@[0]=='bday')]"),
    Redaction("Registrant Street", "vcardArray[1][?(@[0]=='adr')]"),
    Redaction("Registrant Phone", "vcardArray[1][?(@[0]=='tel')]"),
    Redaction("Registrant Email", "vcardArray[1][?(@[0]=='email')]"),
)
IN_DOMAIN = "$.entities[?(@.roles[0]=='registrant')]"


def redacted(entity_path: str) -> list[dict[str, Any]]:
    """The ``redacted`` members of one person entity at ``entity_path`` (``$`` at the top)."""
    return [
        {
            "name": {"type": r.name},
            "prePath": f"{entity_path}.{r.member}",
            "pathLang": "jsonpath",
            "method": "removal",
            "reason": {"type": "Server policy"},
        }
        for r in PERSON_REDACTIONS
    ]


def _stamp(at: date | datetime) -> str:
    if isinstance(at, datetime):
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{at.isoformat()}T00:00:00Z"


def _event(action: str, at: date | datetime | None) -> list[dict[str, str]]:
    return [] if at is None else [{"eventAction": action, "eventDate": _stamp(at)}]


def _self(base: str, path: str) -> list[dict[str, str]]:
    href = f"{base}/rdap/{path}"
    return [{"value": href, "rel": "self", "href": href, "type": MEDIA_TYPE}]


def _vcard(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def top(body: dict[str, Any], *, staff: bool = False, paging: bool = False) -> dict[str, Any]:
    """A whole answer: the conformance list and notices in front of ``body``."""
    conformance = [LEVEL]
    notices: list[dict[str, Any]] = [TERMS]
    if body.get("redacted") or any(e.get("redacted") for e in body.get("domainSearchResults", [])):
        conformance.append(REDACTED)
        notices.append(REDACTION_NOTICE)
    if paging:
        conformance.append(PAGING)
    if staff:
        notices.append(STAFF_NOTICE)
    return {"rdapConformance": conformance, **body, "notices": notices}


def error(status: int, title: str, description: str | None = None) -> dict[str, Any]:
    """An RDAP error object (RFC 9083 section 6)."""
    return {
        "rdapConformance": [LEVEL],
        "errorCode": status,
        "title": title,
        "description": [description or title],
    }


def help_answer() -> dict[str, Any]:
    return {
        "rdapConformance": [LEVEL, REDACTED, PAGING],
        "notices": [
            TERMS,
            {
                "title": "Queries",
                "description": [
                    "domain/NAME (U-label or A-label), ip/ADDRESS or ip/CIDR, autnum/NUMBER, "
                    "entity/HANDLE (tax code, registrar code, P-id of a person registrant), "
                    "domains?name=PATTERN ('*' matches the rest of a label; count=1..100, "
                    "cursor=the next link's).",
                    "Anonymous queries are rate-limited per client address (429, Retry-After).",
                ],
            },
        ],
    }


def organisation_entity(
    org: OrganisationView, base: str, roles: Sequence[str] = ()
) -> dict[str, Any]:
    props: list[list[Any]] = [["kind", {}, "text", "org"], ["fn", {}, "text", org.name]]
    if org.address:
        props.append(["adr", {"label": org.address}, "text", ["", "", "", "", "", "", ""]])
    entity: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": org.tax_code,
        "vcardArray": _vcard(*props),
        "publicIds": [{"type": "tax code", "identifier": org.tax_code}],
        "status": ORG_STATUS.get(org.status, ["active"]),
        "events": [
            *_event("registration", org.established),
            *_event("deletion", org.dissolved),
            *_event("last changed", org.updated_at),
        ],
        "links": _self(base, f"entity/{org.tax_code}"),
    }
    if roles:
        entity["roles"] = list(roles)
    return entity


def stated_organisation(tax_code: str, name: str | None) -> dict[str, Any]:
    """An organisation a registration names that the business registry does not list."""
    return {
        "objectClassName": "entity",
        "handle": tax_code,
        "roles": ["registrant"],
        "vcardArray": _vcard(["kind", {}, "text", "org"], ["fn", {}, "text", name or ""]),
        "publicIds": [{"type": "tax code", "identifier": tax_code}],
        "remarks": [{"title": "Not in the business registry", "description": ["as stated"]}],
    }


def registrar_entity(code: str, name: str, base: str) -> dict[str, Any]:
    return {
        "objectClassName": "entity",
        "handle": code,
        "roles": ["registrar"],
        "vcardArray": _vcard(["kind", {}, "text", "org"], ["fn", {}, "text", name]),
        "links": _self(base, f"entity/{code}"),
    }


def person_handle(domain_id: str) -> str:
    return PERSON_PREFIX + domain_id


def person_entity(domain: DomainView, person: PersonRegistrant | None, base: str) -> dict[str, Any]:
    """A person registrant: in full when ``person`` is given (staff), else with only what
    says it is a person (the caller adds ``redacted``)."""
    props: list[list[Any]] = [["kind", {}, "text", "individual"]]
    handle = person_handle(domain.id)
    entity: dict[str, Any] = {"objectClassName": "entity", "handle": handle}
    if person is not None:
        props += [
            ["fn", {}, "text", person.full_name],
            ["bday", {}, "date-and-or-time", person.date_of_birth.isoformat()],
        ]
        entity["publicIds"] = [{"type": "national ID number", "identifier": person.id_number}]
    entity["roles"] = ["registrant"]
    entity["vcardArray"] = _vcard(*props)
    entity["links"] = _self(base, f"entity/{handle}")
    return entity


def domain_answer(
    domain: DomainView,
    *,
    registrant: dict[str, Any],
    registrar_name: str,
    base: str,
    now: datetime,
) -> dict[str, Any]:
    """One domain; ``registrant`` is its registrant entity (person or organisation)."""
    body: dict[str, Any] = {
        "objectClassName": "domain",
        "handle": domain.id,
        "ldhName": domain.ascii_name,
        "unicodeName": domain.unicode_name,
        "status": DOMAIN_STATUS.get(domain.status, ["active"]),
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": ns} for ns in domain.nameservers
        ],
        "entities": [registrant, registrar_entity(domain.registrar, registrar_name, base)],
        "events": [
            *_event("registration", domain.created),
            *_event("expiration", domain.expires),
            *_event("last changed", domain.updated_at),
            *_event("last update of RDAP database", now),
        ],
        "links": _self(base, f"domain/{domain.ascii_name}"),
    }
    return body


def domain_summary(domain: DomainView, base: str) -> dict[str, Any]:
    """A domain in search results: no entities, so no personal data, for anyone."""
    return {
        "objectClassName": "domain",
        "handle": domain.id,
        "ldhName": domain.ascii_name,
        "unicodeName": domain.unicode_name,
        "status": DOMAIN_STATUS.get(domain.status, ["active"]),
        "links": _self(base, f"domain/{domain.ascii_name}"),
    }


def ip_answer(
    block: IpBlockView, holder: dict[str, Any], base: str, parent: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "objectClassName": "ip network",
        "handle": block.cidr,
        "startAddress": block.first_address,
        "endAddress": block.last_address,
        "ipVersion": f"v{block.family}",
        "name": block.cidr,
        "type": block.status.upper(),
        "country": COUNTRY,
        "status": NUMBER_STATUS.get(block.status, ["active"]),
        "cidr0_cidrs": [
            {
                ("v4prefix" if block.family == 4 else "v6prefix"): block.first_address,
                "length": block.prefixlen,
            }
        ],
        "entities": [holder],
        "events": [
            *_event("registration", block.allocated),
            *_event("last changed", block.updated_at),
        ],
        "links": _self(base, f"ip/{block.cidr}"),
    }
    if parent:
        body["parentHandle"] = parent
    return body


def autnum_answer(asn: AsnView, holder: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "objectClassName": "autnum",
        "handle": f"AS{asn.asn}",
        "startAutnum": asn.asn,
        "endAutnum": asn.asn,
        "name": asn.name,
        "type": asn.status.upper(),
        "country": COUNTRY,
        "status": NUMBER_STATUS.get(asn.status, ["active"]),
        "entities": [holder],
        "events": [
            *_event("registration", asn.allocated),
            *_event("last changed", asn.updated_at),
        ],
        "links": _self(base, f"autnum/{asn.asn}"),
    }


# -- searches ---------------------------------------------------------------------------


class PatternError(ValueError):
    status, code, title = 400, "bad_query", "Bad query"


class TooBroad(PatternError):
    """A valid pattern this server will not run: it would list most names."""

    status, code, title = 422, "search_too_broad", "Search too broad"


@dataclass(frozen=True, slots=True)
class Pattern:
    """A domain search (RFC 9082 section 4.1). Exact: ``prefix`` is the name. Else names
    whose U-label form starts with ``prefix`` and, when ``suffix`` is set, whose public
    suffix it is (A-labels): a registered name is one label and its suffix."""

    prefix: str
    suffix: str
    exact: bool


_NO_WILDCARDS = re.compile(r"[^\s*/\\%_]*")
MIN_PREFIX = 2


def parse_pattern(raw: str) -> Pattern:
    """``exam*``, ``exam*.com.vn``, ``phở*.vn`` or an exact name; the text is mapped as UTS 46
    does (lower case, NFC) to compare with stored U-labels. Raises PatternError: one ``*``,
    ending the first label; TooBroad: fewer than two characters before it."""
    text = raw.strip()
    if not text or len(text) > 253:
        raise PatternError("give a name or a pattern of at most 253 characters")
    if text.count("*") > 1:
        raise PatternError("at most one '*'")
    if "*" not in text:
        try:
            return Pattern(to_ascii(text)[0], "", True)
        except DomainNameError as exc:
            raise PatternError(str(exc)) from None
    head, _, tail = text.partition("*")
    if tail and not tail.startswith("."):
        raise PatternError("'*' must end a label: 'exam*' or 'exam*.com.vn'")
    if "." in head or not _NO_WILDCARDS.fullmatch(head):
        raise PatternError("'*' completes the first label only")
    try:
        prefix = idna.uts46_remap(head, std3_rules=False, transitional=False)
        suffix = to_ascii(tail[1:])[0] if tail else ""
    except (idna.IDNAError, DomainNameError) as exc:
        raise PatternError(str(exc)) from None
    if len(prefix) < MIN_PREFIX:
        raise TooBroad(f"give at least {MIN_PREFIX} characters before '*'")
    return Pattern(prefix, suffix, False)


def encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The A-label the page starts after. Raises PatternError when it is not one of ours."""
    try:
        last = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise PatternError("the cursor is not one this server gave") from None
    if not re.fullmatch(r"[a-z0-9.-]{1,253}", last):
        raise PatternError("the cursor is not one this server gave")
    return last


def search_answer(
    found: Sequence[DomainView], *, base: str, query: str, count: int, more: bool
) -> dict[str, Any]:
    """One page of a domain search, with an RFC 8977 ``paging_metadata`` next link."""
    paging: dict[str, Any] = {"pageSize": len(found)}
    if more and found:
        cursor = encode_cursor(found[-1].ascii_name)
        href = f"{base}/rdap/domains?{query}&count={count}&cursor={cursor}"
        paging["links"] = [{"value": href, "rel": "next", "href": href, "type": MEDIA_TYPE}]
    return top(
        {
            "domainSearchResults": [domain_summary(d, base) for d in found],
            "paging_metadata": paging,
        },
        paging=True,
    )
