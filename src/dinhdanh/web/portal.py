"""The portal's navigation: one list for citizen and staff pages, shown by base.html.

A new page adds one ``NavEntry`` to ``NAV`` (its label a msgid marked with ``N_``, then
``make messages``) and passes its viewer's roles to ``render(..., roles=...)``: a page shows
the entries whose ``roles`` meet the viewer's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from dinhdanh.staff import roles
from dinhdanh.staff.roles import StaffRole
from dinhdanh.web.i18n import N_

CITIZEN = frozenset({"citizen"})
STAFF = frozenset(r.value for r in StaffRole)


def _staff(roles: frozenset[StaffRole]) -> frozenset[str]:
    return frozenset(r.value for r in roles)


@dataclass(frozen=True, slots=True)
class NavEntry:
    label: str  # msgid, translated by the layout
    path: str
    roles: frozenset[str]  # who sees it: any one of these roles


NAV: tuple[NavEntry, ...] = (
    NavEntry(N_("My account"), "/account", CITIZEN),
    NavEntry(N_("My numbers"), "/account/numbers", CITIZEN),
    NavEntry(N_("Who used my data"), "/account/access-log", CITIZEN),
    NavEntry(N_("My platform accounts"), "/account/platforms", CITIZEN),
    NavEntry(N_("My internet resources"), "/account/internet", CITIZEN),
    NavEntry(N_("My family"), "/account/family", CITIZEN),
    NavEntry(N_("Staff console"), "/staff", STAFF),
    NavEntry(N_("Look a citizen up"), "/staff/lookup", _staff(roles.LOOKUP)),
    NavEntry(N_("Guardian links"), "/staff/guardians", _staff(roles.LOOKUP)),
    NavEntry(N_("Reconciliation"), "/staff/reconciliation", _staff(roles.RECONCILIATION)),
    NavEntry(N_("Audit log"), "/staff/audit", _staff(roles.AUDIT)),
    NavEntry(N_("Staff roles"), "/staff/grants", _staff(roles.GRANTS)),
    NavEntry(N_("Disclosure requests"), "/staff/disclosures", _staff(roles.DISCLOSURE_REQUEST)),
    NavEntry(
        N_("Requests to approve"), "/staff/disclosures/queue", _staff(roles.DISCLOSURE_DECIDE)
    ),
    NavEntry(
        N_("Agencies' cybersecurity"),
        "/staff/posture",
        _staff(roles.POSTURE_MANAGE | roles.POSTURE_APPROVE),
    ),
)


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    current: bool


def nav_for(roles: Collection[str], path: str) -> list[NavItem]:
    """The entries a viewer with ``roles`` sees, the one for ``path`` marked current."""
    return [NavItem(e.label, e.path, e.path == path) for e in NAV if e.roles.intersection(roles)]
