"""The one wiring point: settings in, engine, sessions, key ring and services out.

Web, CLI, tests and benchmarks all build their collaborators here; no module keeps a global.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dinhdanh.crypto import (
    CryptoError,
    KeyRing,
    generate_keyring,
    keyring_from_json,
    load_keyring,
    save_keyring,
)
from dinhdanh.identity.service import LOADED_TABLES, Registry
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.settings import Settings
from dinhdanh.store import make_engine, make_sessionmaker, revision, unit_of_work
from dinhdanh.store.bulk import ensure_indexes
from dinhdanh.telecom.rules import RuleConfig
from dinhdanh.telecom.service import SUBSCRIPTIONS, Telecom
from dinhdanh.telecom.timeline import TimelineConfig

if TYPE_CHECKING:
    from dinhdanh.age.bands import AgeBands
    from dinhdanh.age.children import Children
    from dinhdanh.age.credentials.service import AgeCredentials
    from dinhdanh.age.credentials.vci import Issuance
    from dinhdanh.age.credentials.vp import Verifier
    from dinhdanh.age.guardians import Guardians
    from dinhdanh.auth.services import AuthServices
    from dinhdanh.internet.answer_cache import AnswerCache
    from dinhdanh.internet.ratelimit import Limiter
    from dinhdanh.internet.rules import RuleConfig as InternetRules
    from dinhdanh.internet.service import Internet
    from dinhdanh.posture.service import Posture
    from dinhdanh.privacy.disclosure import Disclosures
    from dinhdanh.social.phone import PhoneChecks
    from dinhdanh.social.platform_data import PlatformData
    from dinhdanh.social.service import Social
    from dinhdanh.staff.rules import StaffPolicy
    from dinhdanh.staff.service import Staff


class NotInitialized(Exception):
    """The data directory, key ring or schema is missing: run `dinhdanh init`."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    ring: KeyRing
    audit: AuditLog
    clock: Callable[[], datetime] = utcnow

    # -- domain services: one cached property each, built on first use --
    @cached_property
    def registry(self) -> Registry:
        return Registry(self.ring, self.audit)

    @cached_property
    def telecom(self) -> Telecom:
        s = self.settings
        return Telecom(
            self.registry,
            self.audit,
            TimelineConfig(
                notice_days=s.telecom_notice_days,
                two_way_after_days=s.telecom_two_way_after_days,
                revoke_after_days=s.telecom_revoke_after_days,
            ),
        )

    @property
    def telecom_rules(self) -> RuleConfig:
        s = self.settings
        return RuleConfig(
            online_limit=s.telecom_online_limit,
            over_threshold=s.telecom_over_threshold,
            agent_burst_n=s.telecom_agent_burst_n,
            agent_burst_minutes=s.telecom_agent_burst_minutes,
            shared_imei_k=s.telecom_shared_imei_k,
            minor_age=s.telecom_minor_age,
        )

    @cached_property
    def auth(self) -> AuthServices:
        from dinhdanh.auth.phones import TelecomPhones
        from dinhdanh.auth.services import build_auth

        phones = TelecomPhones(self.registry, self.telecom, self.audit)
        services = build_auth(self.settings, self.ring, self.registry, self.audit, phones)
        # Guardian approvals live with the platform bindings (social), built after auth.
        child_age = self.settings.guardian_child_age
        services.provider.child_age = services.enrolments.child_age = child_age
        # Late-bound: building social here would need this very auth first.
        services.provider.guardian_approval = lambda s, client_id, sub: (  # noqa: PLW0108
            self.social.guardian_approved_for(s, client_id, sub)
        )
        return services

    @cached_property
    def social(self) -> Social:
        from dinhdanh.social.service import Social
        from dinhdanh.social.signals import Signals

        a = self.auth
        s = self.settings
        signals = Signals(timedelta(days=s.social_unverified_days))
        return Social(
            self.ring, self.registry, a.clients, a.provider, s.social_account_limit, signals
        )

    @cached_property
    def internet(self) -> Internet:
        from dinhdanh.internet.service import Internet

        return Internet(self.ring, self.registry, self.audit)

    @property
    def internet_rules(self) -> InternetRules:
        from dinhdanh.internet.rules import RuleConfig as InternetRules

        return InternetRules(shared_registrant_limit=self.settings.internet_shared_registrant_limit)

    @cached_property
    def rdap_limiter(self) -> Limiter:
        from dinhdanh.internet.ratelimit import Limit, build_limiter

        s = self.settings
        limit = Limit(s.rdap_rate_limit, s.rdap_rate_window_seconds)
        return build_limiter(self.engine, self.ring, limit, s.redis_url, s.rdap_rate_flush_seconds)

    @cached_property
    def rdap_answers(self) -> AnswerCache:
        from dinhdanh.internet.answer_cache import AnswerCache

        s = self.settings
        return AnswerCache(s.rdap_cache_seconds, s.rdap_cache_size, s.rdap_cache_check_seconds)

    @cached_property
    def posture(self) -> Posture:
        from dinhdanh.posture.service import build_posture

        return build_posture(self.settings, self.internet, self.staff, self.audit)

    @cached_property
    def platform_data(self) -> PlatformData:
        from dinhdanh.social.platform_data import PlatformData

        return PlatformData(self.settings.data_dir, self.ring, self.social.signals)

    @cached_property
    def phone_checks(self) -> PhoneChecks:
        from dinhdanh.social.phone import PhoneCheckConfig, PhoneChecks

        s = self.settings
        config = PhoneCheckConfig(
            ttl=timedelta(minutes=s.phone_check_minutes),
            max_attempts=s.phone_check_max_attempts,
            window=timedelta(hours=s.phone_check_window_hours),
            per_number=s.phone_checks_per_number,
            per_account=s.phone_checks_per_account,
            per_platform=s.phone_checks_per_platform,
        )
        return PhoneChecks(
            self.ring, self.social, self.registry, self.auth.outbox, self.telecom_rules, config
        )

    @cached_property
    def staff(self) -> Staff:
        from dinhdanh.staff.service import Staff

        return Staff(
            self.audit, self.auth.accounts, timedelta(days=self.settings.staff_grant_max_days)
        )

    @cached_property
    def age_credentials(self) -> AgeCredentials:
        from dinhdanh.age.credentials.service import AgeCredentials

        s = self.settings
        return AgeCredentials(
            self.ring,
            self.registry,
            s.effective_issuer,
            validity_days=s.age_credential_days,
            max_batch=s.age_batch_size,
            list_size=s.age_status_list_size,
            list_ttl=s.age_status_list_ttl_seconds,
        )

    @cached_property
    def age_issuance(self) -> Issuance:
        from dinhdanh.age.credentials.vci import Issuance

        return Issuance(self.age_credentials, self.ring)

    @cached_property
    def age_verifier(self) -> Verifier:
        from dinhdanh.age.credentials.vp import Verifier

        service = self.age_credentials
        return Verifier(service.trust(service.local_status(self.unit_of_work, self.clock)))

    @cached_property
    def guardians(self) -> Guardians:
        from dinhdanh.age.guardians import Guardians

        return Guardians(self.registry, self.audit)

    @cached_property
    def children(self) -> Children:
        from dinhdanh.age.children import Children

        return Children(
            self.guardians, self.social, self.auth.accounts, self.settings.guardian_child_age
        )

    @cached_property
    def age_bands(self) -> AgeBands:
        from dinhdanh.age.bands import AgeBands

        return AgeBands(self.registry, self.social, self.settings.age_band_refresh_months)

    @cached_property
    def disclosure(self) -> Disclosures:
        from dinhdanh.privacy.disclosure import DisclosurePolicy, Disclosures

        s, social = self.settings, self.social
        policy = DisclosurePolicy(
            legal_bases=s.legal_bases,
            delay_bases=s.audit_delay_bases,
            max_delay_days=s.audit_max_disclosure_days,
            valid_for=timedelta(days=s.disclosure_valid_days),
            pending_for=timedelta(days=s.disclosure_pending_days),
        )

        def platforms(session: Session) -> set[str]:
            return {p.code for p in social.platforms(session)}

        return Disclosures(
            self.ring, self.audit, self.registry, social.reidentify, platforms, policy
        )

    @property
    def staff_policy(self) -> StaffPolicy:
        from dinhdanh.staff.rules import StaffPolicy

        s = self.settings
        return StaffPolicy(
            idle=timedelta(minutes=s.staff_idle_minutes),
            fresh=timedelta(seconds=s.staff_fresh_seconds),
        )

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    @cached_property
    def _statement_sessions(self) -> sessionmaker[Session]:
        if self.engine.dialect.name != "postgresql":
            return self.sessions
        return make_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    def read_work(self) -> AbstractContextManager[Session]:
        """A unit of work for a hot read whose one write is its last statement (a status
        read's count): on PostgreSQL each statement commits by itself, which spares the
        BEGIN and COMMIT round trips; on SQLite, ``unit_of_work``."""
        return unit_of_work(self._statement_sessions)

    def checkpoint_audit(self) -> bool:
        """Sign the audit tip; called when a process that wrote entries shuts down."""
        with self.unit_of_work() as session:
            return self.audit.checkpoint(session, self.clock())

    def flush_status_reads(self) -> int:
        """Write the status reads this process counted and has not written yet (the HTTP
        routes count them in the process first: ``social.pending_reads``)."""
        if "social" not in self.__dict__:  # never built: nothing counted
            return 0
        return self.social.flush_reads(self.unit_of_work)

    def close(self) -> None:
        self.flush_status_reads()
        self.engine.dispose()


def read_keyring(settings: Settings) -> KeyRing:
    if settings.keyring:
        return keyring_from_json(settings.keyring)
    if not settings.keyring_path.exists():
        raise NotInitialized(f"no key ring at {settings.keyring_path}: run `dinhdanh init`")
    return load_keyring(settings.keyring_path)


def init_data_dir(settings: Settings) -> tuple[bool, Engine]:
    """Create the data directory, a key ring (unless given by env) and the schema.

    Idempotent. Returns (whether a key ring was created, the engine).
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = False
    if not settings.keyring and not settings.keyring_path.exists():
        save_keyring(generate_keyring(), settings.keyring_path)
        created = True
    read_keyring(settings)  # fail now, not at the first request, on a broken key ring
    from dinhdanh.store.migrate import upgrade

    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    # A load killed mid-way builds them after the rows.
    from dinhdanh.internet.service import LOADED_TABLES as INTERNET_TABLES

    ensure_indexes(engine, [*LOADED_TABLES, SUBSCRIPTIONS, *INTERNET_TABLES])
    return created, engine


def build(settings: Settings, *, check_schema: bool = True) -> Container:
    try:
        ring = read_keyring(settings)
    except CryptoError as exc:
        raise NotInitialized(f"key ring unusable: {exc}") from None
    engine = make_engine(settings.effective_database_url, pool_size=settings.db_pool_size)
    if check_schema and revision.stamped(engine) != revision.head():
        engine.dispose()
        raise NotInitialized("the database schema is not up to date: run `dinhdanh init`")
    return Container(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        ring=ring,
        audit=AuditLog(ring, settings.audit_checkpoint_every, settings.audit_chains),
    )
