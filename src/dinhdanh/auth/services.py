"""The auth domain's services, built together from the settings (wired by ``Container.auth``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from dinhdanh.auth.account_recovery import Recoveries
from dinhdanh.auth.accounts import Accounts
from dinhdanh.auth.challenges import Challenges, SignedChallenges
from dinhdanh.auth.clients import Clients
from dinhdanh.auth.enrolment import Enrolments
from dinhdanh.auth.login import Login
from dinhdanh.auth.oidc.provider import Provider, ProviderConfig
from dinhdanh.auth.passkeys import Passkeys, origin_of
from dinhdanh.auth.phones import PhoneDirectory
from dinhdanh.auth.sessions import DeviceCookies, Sessions
from dinhdanh.auth.sms import OutboxGateway
from dinhdanh.auth.stepup import StepUp
from dinhdanh.auth.throttle import Throttles, build_throttles
from dinhdanh.crypto import KeyRing
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.settings import Settings
from dinhdanh.store.once import Once, build_once


@dataclass
class AuthServices:
    issuer: str
    rp_id: str
    clients: Clients
    provider: Provider
    accounts: Accounts
    sessions: Sessions
    throttles: Throttles
    # One-time proofs (DPoP and client assertion jti): Redis when set, else the database.
    replay: Once
    login: Login
    outbox: OutboxGateway
    phones: PhoneDirectory
    enrolments: Enrolments
    passkeys: Passkeys
    challenges: Challenges
    devices: DeviceCookies
    recoveries: Recoveries
    step_up: StepUp


def build_auth(
    settings: Settings,
    ring: KeyRing,
    registry: Registry,
    audit: AuditLog,
    phones: PhoneDirectory,
) -> AuthServices:
    s = settings
    issuer = s.effective_issuer
    clients = Clients(cache_seconds=s.client_cache_seconds)
    provider = Provider(
        ProviderConfig(
            issuer=issuer,
            code_ttl=timedelta(seconds=s.auth_code_seconds),
            access_ttl=timedelta(seconds=s.access_token_seconds),
            id_ttl=timedelta(seconds=s.id_token_seconds),
            refresh_ttl=timedelta(days=s.refresh_token_days),
        ),
        ring,
        registry,
        audit,
        clients,
    )
    challenges = Challenges(ring)
    accounts = Accounts(ring, challenges, registry)
    sessions = Sessions(
        timedelta(minutes=s.session_idle_minutes), timedelta(hours=s.session_absolute_hours)
    )
    throttles = build_throttles(
        s.throttle_free_failures,
        timedelta(minutes=s.lockout_minutes),
        s.redis_url,
        s.redis_prefix,
    )
    outbox = OutboxGateway(ring)
    devices = DeviceCookies(ring, timedelta(days=s.device_cookie_days))
    rp_id = s.webauthn_rp_id or str(urlsplit(issuer).hostname)
    replay = build_once(s.redis_url, s.redis_prefix)
    passkeys = Passkeys(rp_id, origin_of(issuer), SignedChallenges(ring, once=replay))
    recoveries = Recoveries(
        registry, phones, outbox, sessions, audit, wait=timedelta(hours=s.recovery_wait_hours)
    )
    login = Login(accounts, sessions, throttles, audit, passkeys, devices, recoveries)
    return AuthServices(
        issuer=issuer,
        rp_id=rp_id,
        passkeys=passkeys,
        challenges=challenges,
        clients=clients,
        provider=provider,
        accounts=accounts,
        sessions=sessions,
        throttles=throttles,
        replay=replay,
        login=login,
        devices=devices,
        recoveries=recoveries,
        step_up=StepUp(timedelta(seconds=s.step_up_seconds)),
        outbox=outbox,
        phones=phones,
        enrolments=Enrolments(
            registry,
            accounts,
            phones,
            outbox,
            throttles,
            audit,
            login,
            recoveries,
            otp_ttl=timedelta(seconds=s.otp_seconds),
            max_attempts=s.otp_max_attempts,
        ),
    )
