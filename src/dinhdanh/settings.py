"""The one settings object. Every value comes from DINHDANH_* environment variables or defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dinhdanh.choices import Environment, LogLevel


class SettingsError(Exception):
    """Invalid configuration, phrased as one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DINHDANH_", extra="ignore", frozen=True)

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite inside the data directory",
    )
    # PostgreSQL connections each process keeps open (pool_size): as many as the database
    # threads the server runs at once (web/app.py's db_limiter), so a busy route reuses
    # connections; past it, up to as many again are opened for a burst and closed after
    # use (a new connection costs the server a process fork: docs/performance.md).
    db_pool_size: int = Field(default=16, ge=1, le=200)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: LogLevel = LogLevel.INFO
    env: Environment = Environment.PROD
    keyring: str | None = Field(
        default=None,
        description="the key ring as JSON; when unset it is read from DATA_DIR/keyring.json",
        repr=False,
    )
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    # Hash chains the audit log spreads entries over (by a hash of the subject), so that
    # server nodes appending for different people do not wait on one head row
    # (privacy/audit.py, ADR 0018). Changing it later is safe: a row names its chain.
    audit_chains: int = Field(default=16, ge=1, le=1024)
    legal_bases: tuple[str, ...] = Field(
        default=(
            "criminal_investigation",
            "court_order",
            "administrative_procedure",
            "telecom_reconciliation",
            "own_request",
        ),
        min_length=1,
        description="legal-basis codes an officer may name for a lookup (JSON list)",
    )
    audit_max_disclosure_days: int = Field(
        default=90,
        ge=1,
        le=365,
        description="longest disclosure delay an officer may set on a lookup (at most a year)",
    )
    audit_delay_bases: tuple[str, ...] = Field(
        default=("criminal_investigation", "court_order"),
        description="legal bases whose lookups may delay the citizen's view of them (JSON list)",
    )
    max_upload_bytes: int = Field(
        default=2 << 30, ge=1, description="largest carrier or platform upload body (web.limits)"
    )
    upload_rejects_days: int = Field(
        default=7, ge=1, description="days an upload's rejected rows stay downloadable"
    )

    # `--engine spark` (ADR 0019): local[*] is every core of this machine; a cluster is
    # spark://HOST:7077, yarn or k8s://... (its executors must reach the --out directory).
    spark_master: str = Field(default="local[*]", min_length=1)

    # Junk-SIM rules and lock timeline (POLICY.md, "SIM subscriptions"): laws change, so
    # every number is a setting.
    telecom_online_limit: int = Field(default=3, ge=1)
    telecom_over_threshold: int = Field(default=10, ge=1)
    telecom_agent_burst_n: int = Field(default=20, ge=1)
    telecom_agent_burst_minutes: int = Field(default=60, ge=1)
    telecom_shared_imei_k: int = Field(default=3, ge=1)
    telecom_minor_age: int = Field(default=14, ge=1)
    telecom_notice_days: int = Field(default=30, ge=0)
    telecom_two_way_after_days: int = Field(default=60, ge=0)
    telecom_revoke_after_days: int = Field(default=5, ge=0)
    # Bound accounts per person per platform above which each is flagged ACCOUNT_LIMIT.
    social_account_limit: int = Field(default=5, ge=1)
    # A person registering a domain under this age is flagged (REGISTRANT_MINOR).
    internet_minor_age: int = Field(default=18, ge=1)
    # Anonymous RDAP queries a client address may make per window (internet/ratelimit.py),
    # counted in Redis when redis_url is set, else in the database.
    rdap_rate_limit: int = Field(default=300, ge=1)
    rdap_rate_window_seconds: int = Field(default=60, ge=1, le=3600)
    # Seconds between a server process's additions of its counted queries to the shared
    # count (0: each query at once); internet/ratelimit.py BatchedLimiter, ADR 0025.
    rdap_rate_flush_seconds: float = Field(default=0.1, ge=0, le=5)
    # Anonymous domain and IP answers kept by each server process (internet/answer_cache.py,
    # ADR 0025): until the registry's generation counter moves (read at most every
    # rdap_cache_check_seconds), at most rdap_cache_seconds after they were read (0: never
    # kept), at most rdap_cache_size of them (0: none), least recently used dropped first.
    rdap_cache_seconds: float = Field(default=300, ge=0, le=86_400)
    rdap_cache_size: int = Field(default=50_000, ge=0, le=10_000_000)
    rdap_cache_check_seconds: float = Field(default=1, ge=0, le=60)
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for limits shared by server processes; unset: the database",
        repr=False,
    )
    # Before every key of the login throttles in Redis: deployments (or test runs) sharing
    # one Redis keep apart.
    redis_prefix: str = Field(default="dinhdanh:", max_length=100)
    # One ID number holding more unrelated domain names than this is flagged
    # (SHARED_REGISTRANT: a proxy or a stolen identity; internet/rules.py).
    internet_shared_registrant_limit: int = Field(default=10, ge=1)
    # Days from a platform's first report of an account (status read, uploaded graph or
    # labels) after which the account, still unbound, is flagged UNVERIFIED.
    social_unverified_days: int = Field(default=90, ge=0)
    # Binding by phone (social.phone): a code's life and tries, and phone checks started per
    # window, per number (across platforms), per account and per platform.
    phone_check_minutes: int = Field(default=10, ge=1, le=60)
    phone_check_max_attempts: int = Field(default=5, ge=1, le=10)
    phone_check_window_hours: int = Field(default=24, ge=1)
    phone_checks_per_number: int = Field(default=5, ge=1)
    phone_checks_per_account: int = Field(default=5, ge=1)
    phone_checks_per_platform: int = Field(default=100_000, ge=1)

    # OpenID Connect provider and login (docs/auth.md). Durations are settings: policy changes.
    issuer: str | None = Field(
        default=None, description="OIDC issuer URL; default http://HOST:PORT of `serve`"
    )
    webauthn_rp_id: str | None = Field(
        default=None, description="WebAuthn relying-party ID; default the issuer's host"
    )
    sms_gateway: str = Field(default="outbox", pattern="^outbox$")
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    auth_code_seconds: int = Field(default=60, ge=1)
    access_token_seconds: int = Field(default=300, ge=1)
    id_token_seconds: int = Field(default=300, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    client_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="how long a process reuses a client it read (0: never); bounds how long "
        "a disabled client still gets client_credentials tokens from another process",
    )
    otp_seconds: int = Field(default=300, ge=30)
    otp_max_attempts: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1, le=15)
    throttle_free_failures: int = Field(default=3, ge=0)
    device_cookie_days: int = Field(
        default=365,
        ge=1,
        description="lifetime of the device cookie that exempts a browser "
        "from its account's lockout (OWASP device cookies)",
    )
    recovery_wait_hours: int = Field(
        default=72,
        ge=1,
        description="waiting period of a password reset asked by SMS code without the "
        "account's second factor",
    )
    step_up_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="how recent the second factor must be to change authenticators",
    )

    # Staff (docs/architecture.md, "Staff"): stricter than a citizen's session.
    staff_idle_minutes: int = Field(
        default=15, ge=1, le=60, description="staff pages: log in again after this long idle"
    )
    staff_fresh_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="staff approvals (grants included) need an authentication this recent",
    )
    staff_grant_max_days: int = Field(
        default=365, ge=1, le=1825, description="longest a staff grant may run"
    )
    disclosure_valid_days: int = Field(
        default=7,
        ge=1,
        le=30,
        description="days from its approval during which a re-identification request may "
        "reveal the person (privacy.disclosure)",
    )
    disclosure_pending_days: int = Field(
        default=30,
        ge=1,
        le=90,
        description="days from its filing after which a re-identification request no "
        "approver answered lapses (privacy.disclosure)",
    )

    # Age credentials (docs/architecture.md, "Age credentials").
    age_credential_days: int = Field(
        default=90, ge=1, le=90, description="age credential lifetime, from its day of issue"
    )
    age_batch_size: int = Field(
        default=10, ge=1, le=50, description="most credentials (holder keys) in one batch"
    )
    age_status_list_size: int = Field(
        default=131_072,
        ge=100_000,
        le=8_388_608,
        multiple_of=8,
        description="entries per status list; random indexes among this many identify no one",
    )
    age_status_list_ttl_seconds: int = Field(
        default=300, ge=1, le=86_400, description="how long verifiers may cache a status list"
    )
    # Decree 147/2024: under this age a guardian registers and approves the accounts.
    guardian_child_age: int = Field(
        default=16, ge=1, le=18, description="children under this age need a guardian"
    )
    # Platforms learn a new age band after the period of the birthday ends, never on the day:
    # calendar blocks of this many months (1: monthly), so at most the month is revealed.
    age_band_refresh_months: int = Field(
        default=1, ge=1, le=12, description="age bands refresh per period of this many months"
    )

    # Posture (docs/posture.md): perimeter checks of agencies' registered systems.
    posture_trust_store: Path | None = Field(
        default=None, description="PEM bundle of trusted roots; default the system's"
    )
    posture_sslyze_python: str = Field(
        default=".venv-sslyze/bin/python",
        description="interpreter of sslyze's own environment (ADR 0013)",
    )
    posture_resolver: str | None = Field(
        default=None, description="DNS resolver for the email and DNSSEC checks: IP or IP:PORT"
    )
    posture_kev_versions: Path | None = Field(
        default=None,
        description="CSV of KEV entries' affected version ranges (cveID, product, "
        "versionStartIncluding/Excluding, versionEndIncluding/Excluding); docs/posture.md",
    )
    posture_risky_ports: tuple[int, ...] = (
        23,
        445,
        3389,
        1433,
        3306,
        5432,
        6379,
        9200,
        11211,
        27017,
    )
    posture_concurrency: int = Field(default=32, ge=1, le=1024)
    posture_per_host: int = Field(default=2, ge=1, le=16, description="connections per host")
    posture_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    posture_retries: int = Field(default=1, ge=0, le=5)
    posture_cert_warn_days: int = Field(default=30, ge=1)
    posture_scan_every_hours: int = Field(
        default=24, ge=1, description="`posture scan --due` skips systems checked this recently"
    )
    # Days to fix a finding by severity, halved (rounded up) for systems of level 4 and 5.
    posture_deadline_critical_days: int = Field(default=2, ge=1)
    posture_deadline_high_days: int = Field(default=15, ge=1)
    posture_deadline_medium_days: int = Field(default=30, ge=1)
    posture_deadline_low_days: int = Field(default=90, ge=1)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @field_validator("audit_delay_bases")
    @classmethod
    def _delay_bases_are_legal_bases(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        unknown = set(value) - set(info.data.get("legal_bases", ()))
        if unknown:
            raise ValueError(f"not in DINHDANH_LEGAL_BASES: {', '.join(sorted(unknown))}")
        return value

    @property
    def keyring_path(self) -> Path:
        return self.data_dir / "keyring.json"

    @property
    def snapshot_dir(self) -> Path:
        """Parquet snapshots of the reconciliation's inputs (store.snapshots, ADR 0020)."""
        return self.data_dir / "snapshots"

    @property
    def effective_issuer(self) -> str:
        return (self.issuer or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dinhdanh.db').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus explicit overrides (CLI options).

    Raises SettingsError with one line naming the bad setting, so start-up fails clearly.
    """
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        env_name = f"DINHDANH_{name.upper()}"
        raise SettingsError(f"invalid configuration {env_name}: {first['msg']}") from None
