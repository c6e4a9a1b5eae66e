"""A guardian's side of a child's accounts: "My family", the child's login, approvals.

Who may decide is settled here, from the guardian links (`age.guardians`): only a guardian
whose link to the child holds today, never the child, never a guardian of another child. The
binding rows and the platforms' events feed stay with `social`; each approval names the link
it was given under and ends with it (`release`, `sweep`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dinhdanh.age import guardian_rules as rules
from dinhdanh.age.guardians import Guardians, Link
from dinhdanh.auth.accounts import Accounts
from dinhdanh.auth.models import Account
from dinhdanh.auth.passwords import PolicyViolation
from dinhdanh.errors import DomainError
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.social.service import MyBinding, Social

SYSTEM = AccessContext("age:guardians", "system", "guardian links ending")


class NotYourChild(DomainError):
    """Also for a child deciding for themselves and for a guardian of another child: the
    answer does not say whether the account exists."""

    code, status, title = "not_your_child", 404, "No such account of your children"


class DecisionRefused(DomainError):
    code, status, title = "guardian_decision_refused", 409, "This decision is not possible now"


class FreshAuthRequired(DomainError):
    code, status, title = "step_up_required", 403, "Confirm your second factor first"


class ChildLoginRefused(DomainError):
    code, status, title = "child_login_refused", 409, "The child's login cannot be created"


@dataclass(frozen=True, slots=True)
class ChildView:
    link_id: str  # how pages name the child (never the subject id)
    subject_id: str
    has_login: bool
    name: str
    age_band: str  # never the birth date
    accounts: list[MyBinding]


def guardian_ctx(guardian: str) -> AccessContext:
    return AccessContext(f"guardian:{guardian}", "guardian", "my family")


class Children:
    def __init__(
        self, guardians: Guardians, social: Social, accounts: Accounts, child_age: int
    ) -> None:
        self.guardians = guardians
        self.social = social
        self.accounts = accounts
        self.child_age = child_age

    def _link(self, session: Session, guardian: str, child: str, now: datetime) -> Link:
        link = self.guardians.link_between(session, guardian, child, guardian_ctx(guardian), now)
        if link is None:
            raise NotYourChild("no such child")
        return link

    def child_of_link(self, session: Session, guardian: str, link_id: str, now: datetime) -> str:
        """The child of one of the guardian's active links (pages name children by link)."""
        for link in self.guardians.children_of(session, guardian, guardian_ctx(guardian), now):
            if link.id == link_id:
                return link.child
        raise NotYourChild("no such child")

    def family(self, session: Session, guardian: str, now: datetime) -> list[ChildView]:
        """The guardian's children (name, age band) with their platform accounts."""
        ctx = guardian_ctx(guardian)
        out = []
        for link in self.guardians.children_of(session, guardian, ctx, now):
            rec = self.guardians.registry.open_subject(
                session, link.child, ("full_name", "date_of_birth"), ctx, now
            )
            if rec is None:
                continue
            accounts = self.social.bindings_of(session, link.child)
            band = rules.age_band(rec.date_of_birth, now.date())
            has_login = self.has_login(session, link.child)
            out.append(ChildView(link.id, link.child, has_login, rec.full_name, band, accounts))
        return sorted(out, key=lambda v: v.name)

    def decide(
        self,
        session: Session,
        guardian: str,
        child: str,
        binding_id: str,
        decision: rules.Decision,
        *,
        fresh: bool,
        now: datetime,
    ) -> rules.Approval:
        """Approve, refuse or revoke one of the child's platform accounts. ``fresh``: the
        guardian's session proved a second factor recently (``auth.stepup``)."""
        if decision is rules.Decision.LINK_ENDED:
            raise DecisionRefused("not a guardian's decision")
        link = self._link(session, guardian, child, now)  # the child themselves: no link
        if not fresh:
            raise FreshAuthRequired("confirm your second factor, then decide again")
        after = self.social.guardian_decide(session, child, binding_id, decision, link.id, now)
        if after is None:
            if binding_id not in {b.id for b in self.social.bindings_of(session, child)}:
                raise NotYourChild("no such account")
            raise DecisionRefused(f"cannot {decision} this account now")
        return after

    def create_login(
        self, session: Session, guardian: str, child: str, password: str, now: datetime
    ) -> Account | list[PolicyViolation]:
        """The child's account with a password, made by a guardian (a child under
        ``child_age`` cannot enrol alone). The child adds a passkey on their own device after
        signing in with it (a first factor after a fresh password login, ``auth.stepup``)."""
        self._link(session, guardian, child, now)
        ctx = guardian_ctx(guardian)
        rec = self.guardians.registry.open_subject(
            session, child, ("id_number", "full_name", "date_of_birth"), ctx, now
        )
        if rec is None:
            raise NotYourChild("no such child")
        if not rules.needs_guardian(rec.date_of_birth, self.child_age, now.date()):
            raise ChildLoginRefused(f"from {self.child_age} on, children enrol by themselves")
        if self.accounts.by_subject(session, child) is not None:
            raise ChildLoginRefused("this child already has a login")
        account = self.accounts.create(session, child, 1, now)
        violations = self.accounts.set_password(
            account, password, [rec.id_number, rec.full_name], now
        )
        if violations:
            session.delete(account)
            session.flush()
            return violations
        session.flush()
        return account

    def has_login(self, session: Session, child: str) -> bool:
        return self.accounts.by_subject(session, child) is not None

    # -- links ending ------------------------------------------------------------------
    def end_link(
        self,
        session: Session,
        link_id: str,
        *,
        reason: str,
        legal_basis: str | None,
        ctx: AccessContext,
        now: datetime,
    ) -> Link:
        """End a link and the approvals given under it."""
        link = self.guardians.end(
            session, link_id, reason=reason, legal_basis=legal_basis, ctx=ctx, now=now
        )
        self.social.end_approvals(session, [link.id], now)
        return link

    def sweep(self, session: Session, now: datetime) -> int:
        """End the approvals whose link no longer holds (a validity end, an 18th birthday,
        a registry change); returns how many bindings wait for a guardian again."""
        under = self.social.approvals_under(session)
        gone = self.guardians.expired(session, sorted(under), SYSTEM, now)
        return self.social.end_approvals(session, gone, now)
