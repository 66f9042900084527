"""One settings object, read from the environment once at start and validated.

Every environment variable the service reads is listed here (and in the README).
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent


_Num = TypeVar("_Num", int, float)
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class AISettings:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_seconds: float = 10.0
    fallback_to_heuristic: bool = True
    cache_ttl_seconds: int = 3600
    # A 429, 5xx or timeout is retried this many times; the waits double from
    # retry_base_seconds (with jitter), a Retry-After is honoured, none exceeds the max.
    max_retries: int = 2
    retry_base_seconds: float = 0.5
    retry_max_wait_seconds: float = 10.0
    # Per process: after this many failed calls in a row the model is not asked for a while.
    circuit_failures: int = 5
    circuit_open_seconds: float = 30.0
    # Per tenant, in PostgreSQL (every process shares them); 0: no limit.
    calls_per_minute: int = 60
    tokens_per_day: int = 1_000_000
    # The learned scorer trains on at least this many closed leads (outside the held-out split).
    learned_min_outcomes: int = 40
    # Background scoring by the worker (services/background_scoring.py); 0 turns each off.
    rescore_every_messages: int = 5  # re-analyse after every N-th inbound message
    rescore_after_hours: int = 24  # an active lead's analysis older than this is stale
    rescore_sweep_limit: int = 200  # stale leads queued per tenant per sweep

    @property
    def longest_call_seconds(self) -> float:
        """The most one scoring may take with every retry: how long a second request for
        the same lead waits for the first one's answer."""
        attempts = self.max_retries + 1
        return attempts * self.timeout_seconds + self.max_retries * self.retry_max_wait_seconds

    @property
    def uses_model(self) -> bool:
        return self.model is not None


@dataclass(frozen=True)
class JWTSettings:
    """Sign-in tokens from an identity provider; off unless a secret or a JWKS URL is set."""

    secret: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    tenant_claim: str = "tenant_id"
    email_claim: str = "email"
    leeway_seconds: int = 30

    @property
    def enabled(self) -> bool:
        return self.secret is not None or self.jwks_url is not None

    @property
    def algorithms(self) -> list[str]:
        """HMAC for a shared secret; asymmetric keys for a JWKS. Never `none`."""
        if self.secret is not None:
            return ["HS256", "HS384", "HS512"]
        return ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class RealtimeSettings:
    """Subscriptions over WebSocket and the per-process event listener."""

    max_subscriptions_per_connection: int = 50
    queue_size: int = 200  # events waiting per subscription before it is ended
    ping_interval_seconds: float = 20.0
    connection_init_timeout_seconds: float = 10.0
    pong_timeout_seconds: float = 10.0  # a server ping unanswered this long closes (4499)
    pipeline_interval_seconds: float = 1.0  # pipelineUpdated at most this often per tenant
    listener_retry_seconds: float = 0.5  # first wait before the listener reconnects (doubles)
    listener_keepalive_seconds: float = 15.0  # the listener checks its connection this often
    credential_recheck_seconds: float = 60.0  # a revoked key's socket closes within this (4403)


@dataclass(frozen=True)
class WebhookSettings:
    """Deliveries of events to other systems, by the worker."""

    allow_private_addresses: bool = False
    timeout_seconds: float = 10.0
    # The wait before the 2nd attempt; each later wait doubles (up to 240 times this), with
    # jitter. 60 s and 14 attempts spread a delivery over about a day.
    retry_base_seconds: float = 60.0
    max_attempts: int = 14
    # An endpoint is disabled when this many deliveries in a row failed every attempt.
    disable_after_failures: int = 5


@dataclass(frozen=True)
class WorkerSettings:
    """The worker (`python -m server worker`): webhook deliveries and journal retention."""

    run_in_server: str = "auto"  # "on", "off", or "auto": on for the embedded database only
    concurrency: int = 10
    heartbeat_seconds: float = 10.0  # a worker silent for 3 heartbeats is presumed dead

    def runs_in_server(self, *, embedded_database: bool) -> bool:
        return self.run_in_server == "on" or (self.run_in_server == "auto" and embedded_database)


@dataclass(frozen=True)
class ImportSettings:
    """CSV imports of leads (importLeads, `python -m server import-leads`)."""

    max_bytes: int = 10_000_000  # an uploaded file; the JSON body limit stays separate
    max_rows: int = 50_000


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    app_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = PROJECT_ROOT / ".data"
    demo_data: bool = True
    log_level: str = "INFO"
    db_pool_size: int = 10
    transfer_min_score: float = 0.6
    max_query_depth: int = 12
    max_query_tokens: int = 3000
    max_aliases: int = 30
    max_body_bytes: int = 1_000_000
    max_query_cost: int = 10_000
    introspection: bool = True
    rate_limit_per_minute: int = 600  # 0: off
    rate_limit_burst: int = 100
    statement_timeout_ms: int = 5000  # 0: off
    # A checked credential is remembered this long per process (services/caller_cache.py); 0: off.
    auth_cache_seconds: int = 60
    read_plans: bool = True  # compiled reads of leads (plans/); off: the executor answers all
    cors_origins: tuple[str, ...] = ()
    ai: AISettings = field(default_factory=AISettings)
    jwt: JWTSettings = field(default_factory=JWTSettings)
    event_retention_days: int = 7
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise SettingsError naming the bad variable."""
    env = os.environ if env is None else env
    reader = _Reader(env)
    ai = AISettings(
        base_url=reader.text("CRM_AI_BASE_URL"),
        model=reader.text("CRM_AI_MODEL"),
        api_key=reader.text("OPENAI_API_KEY"),
        timeout_seconds=reader.number("CRM_AI_TIMEOUT_SECONDS", 10.0, low=0.1, high=300.0),
        fallback_to_heuristic=reader.boolean("CRM_AI_FALLBACK_TO_HEURISTIC", True),
        cache_ttl_seconds=reader.integer("CRM_AI_CACHE_TTL_SECONDS", 3600, low=0, high=10**7),
        max_retries=reader.integer("CRM_AI_MAX_RETRIES", 2, low=0, high=10),
        retry_base_seconds=reader.number("CRM_AI_RETRY_BASE_SECONDS", 0.5, low=0.0, high=60.0),
        retry_max_wait_seconds=reader.number(
            "CRM_AI_RETRY_MAX_WAIT_SECONDS", 10.0, low=0.0, high=300.0
        ),
        circuit_failures=reader.integer("CRM_AI_CIRCUIT_FAILURES", 5, low=1, high=1000),
        circuit_open_seconds=reader.number(
            "CRM_AI_CIRCUIT_OPEN_SECONDS", 30.0, low=0.1, high=86400.0
        ),
        calls_per_minute=reader.integer("CRM_AI_CALLS_PER_MINUTE", 60, low=0, high=10**6),
        tokens_per_day=reader.integer("CRM_AI_TOKENS_PER_DAY", 1_000_000, low=0, high=10**12),
        learned_min_outcomes=reader.integer(
            "CRM_AI_LEARNED_MIN_OUTCOMES", 40, low=10, high=1_000_000
        ),
        rescore_every_messages=reader.integer(
            "CRM_AI_RESCORE_EVERY_MESSAGES", 5, low=0, high=10_000
        ),
        rescore_after_hours=reader.integer("CRM_AI_RESCORE_AFTER_HOURS", 24, low=0, high=24 * 366),
        rescore_sweep_limit=reader.integer("CRM_AI_RESCORE_SWEEP_LIMIT", 200, low=1, high=100_000),
    )
    jwt = JWTSettings(
        secret=reader.text("CRM_JWT_SECRET"),
        jwks_url=reader.text("CRM_JWT_JWKS_URL"),
        issuer=reader.text("CRM_JWT_ISSUER"),
        audience=reader.text("CRM_JWT_AUDIENCE"),
        tenant_claim=reader.text("CRM_JWT_TENANT_CLAIM") or "tenant_id",
        email_claim=reader.text("CRM_JWT_EMAIL_CLAIM") or "email",
        leeway_seconds=reader.integer("CRM_JWT_LEEWAY_SECONDS", 30, low=0, high=600),
    )
    _check_jwt(jwt)
    realtime = RealtimeSettings(
        max_subscriptions_per_connection=reader.integer(
            "CRM_WS_MAX_SUBSCRIPTIONS", 50, low=1, high=10_000
        ),
        queue_size=reader.integer("CRM_WS_QUEUE_SIZE", 200, low=1, high=100_000),
        ping_interval_seconds=reader.number("CRM_WS_PING_SECONDS", 20.0, low=0.1, high=3600.0),
        connection_init_timeout_seconds=reader.number(
            "CRM_WS_INIT_TIMEOUT_SECONDS", 10.0, low=0.1, high=600.0
        ),
        pong_timeout_seconds=reader.number(
            "CRM_WS_PONG_TIMEOUT_SECONDS", 10.0, low=0.1, high=600.0
        ),
        pipeline_interval_seconds=reader.number(
            "CRM_WS_PIPELINE_INTERVAL_SECONDS", 1.0, low=0.05, high=3600.0
        ),
        listener_retry_seconds=reader.number(
            "CRM_WS_LISTENER_RETRY_SECONDS", 0.5, low=0.01, high=60.0
        ),
        listener_keepalive_seconds=reader.number(
            "CRM_WS_LISTENER_KEEPALIVE_SECONDS", 15.0, low=0.1, high=3600.0
        ),
        credential_recheck_seconds=reader.number(
            "CRM_WS_RECHECK_SECONDS", 60.0, low=0.1, high=86400.0
        ),
    )
    webhooks = WebhookSettings(
        allow_private_addresses=reader.boolean("CRM_WEBHOOK_ALLOW_PRIVATE", False),
        timeout_seconds=reader.number("CRM_WEBHOOK_TIMEOUT_SECONDS", 10.0, low=0.5, high=60.0),
        retry_base_seconds=reader.number(
            "CRM_WEBHOOK_RETRY_BASE_SECONDS", 60.0, low=0.05, high=3600.0
        ),
        max_attempts=reader.integer("CRM_WEBHOOK_MAX_ATTEMPTS", 14, low=1, high=30),
        disable_after_failures=reader.integer("CRM_WEBHOOK_DISABLE_AFTER", 5, low=1, high=1000),
    )
    worker = WorkerSettings(
        run_in_server=reader.choice("CRM_RUN_WORKER", "AUTO", {"AUTO", "ON", "OFF"}).lower(),
        concurrency=reader.integer("CRM_WORKER_CONCURRENCY", 10, low=1, high=200),
        heartbeat_seconds=reader.number("CRM_WORKER_HEARTBEAT_SECONDS", 10.0, low=0.2, high=300.0),
    )
    if ai.base_url is not None and ai.model is None:
        raise SettingsError("CRM_AI_BASE_URL is set but CRM_AI_MODEL is not: name the model too")
    return Settings(
        database_url=reader.postgres_url("DATABASE_URL"),
        app_database_url=reader.postgres_url("CRM_APP_DATABASE_URL"),
        host=reader.text("HOST") or "127.0.0.1",
        port=reader.integer("PORT", 8000, low=1, high=65535),
        data_dir=Path(reader.text("CRM_DATA_DIR") or PROJECT_ROOT / ".data"),
        demo_data=reader.boolean("CRM_DEMO_DATA", True),
        log_level=reader.choice("CRM_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
        db_pool_size=reader.integer("CRM_DB_POOL_SIZE", 10, low=1, high=200),
        transfer_min_score=reader.number("CRM_TRANSFER_MIN_SCORE", 0.6, low=0.0, high=1.0),
        max_query_depth=reader.integer("CRM_MAX_QUERY_DEPTH", 12, low=2, high=100),
        max_query_tokens=reader.integer("CRM_MAX_QUERY_TOKENS", 3000, low=50, high=100_000),
        max_aliases=reader.integer("CRM_MAX_ALIASES", 30, low=1, high=1000),
        max_body_bytes=reader.integer("CRM_MAX_BODY_BYTES", 1_000_000, low=1024, high=100_000_000),
        max_query_cost=reader.integer("CRM_MAX_QUERY_COST", 10_000, low=2000, high=10_000_000),
        introspection=reader.boolean("CRM_INTROSPECTION", True),
        rate_limit_per_minute=reader.integer("CRM_RATE_LIMIT_PER_MINUTE", 600, low=0, high=10**6),
        rate_limit_burst=reader.integer("CRM_RATE_LIMIT_BURST", 100, low=1, high=10**6),
        statement_timeout_ms=reader.integer("CRM_STATEMENT_TIMEOUT_MS", 5000, low=0, high=600_000),
        auth_cache_seconds=reader.integer("CRM_AUTH_CACHE_SECONDS", 60, low=0, high=3600),
        read_plans=reader.boolean("CRM_READ_PLANS", True),
        cors_origins=reader.origins("CRM_CORS_ORIGINS"),
        ai=ai,
        jwt=jwt,
        event_retention_days=reader.integer("CRM_EVENT_RETENTION_DAYS", 7, low=7, high=3650),
        realtime=realtime,
        webhooks=webhooks,
        worker=worker,
        imports=ImportSettings(
            max_bytes=reader.integer("CRM_IMPORT_MAX_BYTES", 10_000_000, low=1024, high=10**9),
            max_rows=reader.integer("CRM_IMPORT_MAX_ROWS", 50_000, low=1, high=10_000_000),
        ),
    )


def _check_jwt(jwt: JWTSettings) -> None:
    if jwt.secret is not None and jwt.jwks_url is not None:
        raise SettingsError("Set CRM_JWT_SECRET or CRM_JWT_JWKS_URL, not both")
    if jwt.enabled and (jwt.issuer is None or jwt.audience is None):
        raise SettingsError("JWT sign-in needs CRM_JWT_ISSUER and CRM_JWT_AUDIENCE too")
    if jwt.secret is not None and len(jwt.secret) < 32:
        raise SettingsError("CRM_JWT_SECRET must be at least 32 characters")


@dataclass(frozen=True)
class _Reader:
    env: Mapping[str, str]

    def text(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def postgres_url(self, name: str) -> str | None:
        url = self.text(name)
        if url is not None and not url.startswith(_POSTGRES_SCHEMES):
            raise SettingsError(f"{name} must be a postgresql:// URL, got {url.split(':')[0]}://…")
        return url

    def origins(self, name: str) -> tuple[str, ...]:
        """Comma-separated exact origins (`https://app.example.com`); no wildcard, no path."""
        raw = (self.text(name) or "").lower()  # browsers send scheme and host in lower case
        origins = tuple(part.strip() for part in raw.split(",") if part.strip())
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise SettingsError(
                    f"{name} takes exact origins like https://app.example.com "
                    f"(scheme, host, optional port; no wildcard or path), got {origin!r}"
                )
        return origins

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        return self._in_range(name, value, low, high)

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        return self._in_range(name, value, low, high)

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, allowed: set[str]) -> str:
        raw = (self.text(name) or default).upper()
        if raw not in allowed:
            raise SettingsError(f"{name} must be one of {sorted(allowed)}, got {raw!r}")
        return raw

    @staticmethod
    def _in_range(name: str, value: _Num, low: _Num, high: _Num) -> _Num:
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value
