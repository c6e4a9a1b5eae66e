"""Staff use cases: grant and end roles, find who may act now, issue personal API tokens.

A grant names an existing citizen who has an account (by subject id), one role, the
organisation the person acts for (free text, as the unit names itself, e.g. "Công an tỉnh
Bắc Ninh": no register of units exists yet to draw codes from), a reason, who granted it and
an expiry no further than ``max_grant``. It works from ``granted_at`` until it expires or is
revoked, whichever comes first, and every check reads the row again: an ended grant stops
working at the next request. Every change is audited with the staff member as the subject.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.auth.accounts import Accounts
from dinhdanh.auth.models import Account, WebAuthnCredential
from dinhdanh.auth.opaque import as_utc
from dinhdanh.errors import DomainError
from dinhdanh.internet.taxcode import TaxCodeError, parse_tax_code
from dinhdanh.privacy.access import LegalGround, Principal, create_api_key
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.privacy.models import ApiKey
from dinhdanh.privacy.roles import Role
from dinhdanh.staff.models import StaffGrant
from dinhdanh.staff.roles import LOOKUP, PERSONAL_TOKENS, StaffRole
from dinhdanh.staff.rules import person_actor, same_person

MIN_TEXT, MAX_ORG, MAX_REASON = 3, 200, 500


class StaffError(DomainError):
    code, status, title = "staff_error", 400, "Invalid staff request"


class NotAPerson(StaffError):
    code, status, title = "not_a_person", 404, "No citizen account for this person"


class GrantInvalid(StaffError):
    code, status, title = "grant_invalid", 400, "Invalid staff grant"


class GrantNotFound(StaffError):
    code, status, title = "grant_not_found", 404, "No such staff grant"


class GrantEnded(StaffError):
    code, status, title = "grant_ended", 409, "The staff grant has ended"


@dataclass(frozen=True, slots=True)
class GrantInfo:
    id: str
    subject_id: str
    role: StaffRole
    organisation: str
    reason: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    @classmethod
    def of(cls, row: StaffGrant) -> GrantInfo:
        return cls(
            row.id,
            row.subject_id,
            StaffRole(row.role),
            row.organisation,
            row.reason,
            row.granted_by,
            as_utc(row.granted_at),
            as_utc(row.expires_at),
            as_utc(row.revoked_at) if row.revoked_at else None,
            row.revoked_by,
            row.revoke_reason,
        )

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.granted_at <= now < self.expires_at

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.active(now) else "expired"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A person acting under one active grant: the head of their audit entries."""

    grant: GrantInfo

    @property
    def subject_id(self) -> str:
        return self.grant.subject_id

    @property
    def actor(self) -> str:
        return person_actor(self.grant.subject_id)

    def context(self, purpose: str, ground: LegalGround | None = None) -> AccessContext:
        return AccessContext(
            self.actor,
            self.grant.role.value,
            ground.purpose if ground else purpose,
            organisation=self.grant.organisation,
            legal_basis=ground.legal_basis if ground else None,
            case_ref=ground.case_ref if ground else None,
        )


def _text(value: str, what: str, longest: int) -> str:
    text = " ".join(value.split())
    if not MIN_TEXT <= len(text) <= longest:
        raise GrantInvalid(f"the {what} must be {MIN_TEXT} to {longest} characters")
    return text


def _agency(text: str) -> str:
    """An agency_admin acts for one organisation of the business registry: its tax code
    (compact), which is what posture's scope compares."""
    try:
        return parse_tax_code(text)
    except TaxCodeError:
        raise GrantInvalid("an agency_admin's organisation is the agency's tax code") from None


class Staff:
    def __init__(self, audit: AuditLog, accounts: Accounts, max_grant: timedelta) -> None:
        self._audit = audit
        self._accounts = accounts
        self.max_grant = max_grant

    def grant(
        self,
        session: Session,
        subject_id: str,
        role: str,
        organisation: str,
        expires_at: datetime,
        reason: str,
        by: AccessContext,
        now: datetime,
    ) -> GrantInfo:
        """Give ``role`` to the citizen ``subject_id``; ``by`` is who grants it."""
        if self._accounts.by_subject(session, subject_id) is None:
            raise NotAPerson("staff roles go to citizens who have an account")
        try:
            staff_role = StaffRole(role)
        except ValueError:
            known = ", ".join(r.value for r in StaffRole)
            raise GrantInvalid(f"the role must be one of {known}") from None
        org = _text(organisation, "organisation", MAX_ORG)
        if staff_role is StaffRole.AGENCY_ADMIN:
            org = _agency(org)
        why = _text(reason, "reason", MAX_REASON)
        if expires_at <= now:
            raise GrantInvalid("the expiry must be in the future")
        if expires_at - now > self.max_grant:
            raise GrantInvalid(f"a grant lasts at most {self.max_grant.days} days")
        if same_person(by.actor, person_actor(subject_id)):
            raise GrantInvalid("nobody grants a staff role to themselves")
        row = StaffGrant(
            id=secrets.token_hex(8),
            subject_id=subject_id,
            role=staff_role.value,
            organisation=org,
            reason=why,
            granted_by=by.actor,
            granted_at=now,
            expires_at=expires_at,
            revoked_at=None,
            revoked_by=None,
            revoke_reason=None,
        )
        session.add(row)
        session.flush()
        purpose = f"grant {staff_role.value} for {org} until {expires_at.date()}: {why}"
        self._audit_change(session, by, purpose, "staff_grant", subject_id, now)
        return GrantInfo.of(row)

    def revoke(
        self, session: Session, grant_id: str, reason: str, by: AccessContext, now: datetime
    ) -> GrantInfo:
        """End a grant now, and the personal tokens issued under it."""
        why = _text(reason, "reason", MAX_REASON)
        row = session.get(StaffGrant, grant_id, with_for_update=True)
        if row is None:
            raise GrantNotFound(f"no staff grant {grant_id!r}")
        if row.revoked_at is not None:
            raise GrantEnded(f"staff grant {grant_id} was already revoked")
        row.revoked_at, row.revoked_by, row.revoke_reason = now, by.actor, why
        session.execute(
            update(ApiKey)
            .where(ApiKey.staff_grant_id == grant_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        purpose = f"revoke {row.role} for {row.organisation}: {why}"
        self._audit_change(session, by, purpose, "staff_revoke", row.subject_id, now)
        return GrantInfo.of(row)

    def _audit_change(
        self,
        session: Session,
        by: AccessContext,
        purpose: str,
        action: str,
        subject_id: str,
        now: datetime,
    ) -> None:
        ctx = dataclasses.replace(by, purpose=purpose)
        self._audit.append(session, [ctx.event(action, subject_id, ("staff_role",))], now)

    def list_grants(
        self, session: Session, now: datetime, *, ended: bool = False
    ) -> list[GrantInfo]:
        """Grants, oldest first: the active ones, or (``ended``) all of them."""
        rows = session.scalars(select(StaffGrant).order_by(StaffGrant.granted_at, StaffGrant.id))
        grants = [GrantInfo.of(r) for r in rows]
        return grants if ended else [g for g in grants if g.active(now)]

    def get(self, session: Session, grant_id: str) -> GrantInfo | None:
        row = session.get(StaffGrant, grant_id)
        return GrantInfo.of(row) if row else None

    def active_grants(self, session: Session, subject_id: str, now: datetime) -> list[GrantInfo]:
        rows = session.scalars(select(StaffGrant).where(StaffGrant.subject_id == subject_id))
        return [g for g in map(GrantInfo.of, rows) if g.active(now)]

    def member(
        self,
        session: Session,
        subject_id: str,
        roles: Collection[StaffRole],
        now: datetime,
    ) -> StaffMember | None:
        """The person acting under one of their active grants of ``roles`` (the one that
        lasts longest), or None."""
        fitting = [g for g in self.active_grants(session, subject_id, now) if g.role in roles]
        if not fitting:
            return None
        return StaffMember(max(fitting, key=lambda g: (g.expires_at, g.id)))

    def has_second_factor(self, session: Session, account: Account) -> bool:
        """What a staff session needs: TOTP or an active passkey (recovery codes do not count)."""
        if account.totp_sealed is not None:
            return True
        stmt = select(WebAuthnCredential.id).where(
            WebAuthnCredential.account_id == account.id, WebAuthnCredential.revoked_at.is_(None)
        )
        return session.scalar(stmt.limit(1)) is not None

    # -- personal officer tokens --
    def issue_token(
        self,
        session: Session,
        grant_id: str,
        name: str,
        by: AccessContext,
        now: datetime,
        expires_at: datetime | None = None,
        role: Role = Role.OFFICER,
    ) -> tuple[str, str, GrantInfo]:
        """A personal API token for the person of ``grant_id`` (key id, token, grant): an
        officer token (``role`` officer) for an officer's or investigator's grant, an
        agency_admin token for an agency_admin's. It is owned by the grant's organisation,
        expires with the grant at the latest, and acts only while the grant does."""
        grant = self.get(session, grant_id)
        if grant is None:
            raise GrantNotFound(f"no staff grant {grant_id!r}")
        if not grant.active(now):
            raise GrantEnded(f"staff grant {grant_id} is {grant.state(now)}")
        if PERSONAL_TOKENS.get(grant.role) != role.value:
            if role is Role.OFFICER:
                raise GrantInvalid(f"a {grant.role.value} grant does not read citizens' records")
            raise GrantInvalid(f"a {grant.role.value} grant gets no {role.value} token")
        until = min(expires_at or grant.expires_at, grant.expires_at)
        key_id, token = create_api_key(
            session,
            name,
            role,
            now,
            expires_at=until,
            owner=grant.organisation,
            staff_grant=grant.id,
        )
        purpose = f"{role.value} API token {key_id} for grant {grant.id}"
        self._audit_change(session, by, purpose, "staff_token", grant.subject_id, now)
        return key_id, token, grant

    def person_of_key(
        self,
        session: Session,
        who: Principal,
        now: datetime,
        roles: Collection[StaffRole] = LOOKUP,
    ) -> StaffMember | None:
        """The person an API key acts for: its grant, if the key is personal, the grant
        still active and of one of ``roles`` (default: those who read citizens); None for
        a machine key or an ended grant."""
        if who.staff_grant is None:
            return None
        grant = self.get(session, who.staff_grant)
        if grant is None or not grant.active(now) or grant.role not in roles:
            return None
        if PERSONAL_TOKENS.get(grant.role) != who.role.value:
            return None
        return StaffMember(grant)
