"""Staff roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    OFFICER = "officer"  # looks citizens up, with a legal basis and a case reference
    INVESTIGATOR = "investigator"  # the same, and will ask for re-identifications
    APPROVER = "approver"  # the second person of a two-person rule
    AUDITOR = "auditor"  # reads the audit log's state and the reconciliation runs
    ADMIN = "admin"  # grants and ends staff roles
    AGENCY_ADMIN = "agency_admin"  # registers its organisation's information systems


# Who may read a citizen's record (the officer API and the console's lookup page).
LOOKUP = frozenset({StaffRole.OFFICER, StaffRole.INVESTIGATOR})
# Who may see reconciliation runs and lock cases.
RECONCILIATION = frozenset({StaffRole.OFFICER, StaffRole.INVESTIGATOR, StaffRole.AUDITOR})
# Who may see the audit log's verification status.
AUDIT = frozenset({StaffRole.AUDITOR, StaffRole.ADMIN})
# Who may grant and end staff roles.
GRANTS = frozenset({StaffRole.ADMIN})
# Who files re-identification requests and reveals their own approved ones.
DISCLOSURE_REQUEST = frozenset({StaffRole.INVESTIGATOR})
# Who approves or refuses them (always another person than the requester).
DISCLOSURE_DECIDE = frozenset({StaffRole.APPROVER})
# Who manages an agency's information systems and findings: the grant's organisation is
# the agency's tax code, and the scope (posture.register.Scope).
POSTURE_MANAGE = frozenset({StaffRole.AGENCY_ADMIN})
# Who may hold a personal API token, and the role of that token's key: officers and
# investigators read citizens (Role.OFFICER), agency admins call the posture API.
PERSONAL_TOKENS: dict[StaffRole, str] = {
    StaffRole.OFFICER: "officer",
    StaffRole.INVESTIGATOR: "officer",
    StaffRole.AGENCY_ADMIN: "agency_admin",
}
# Who sees every agency's posture and accepts risks (never their own agency's alone).
POSTURE_APPROVE = frozenset({StaffRole.APPROVER})
