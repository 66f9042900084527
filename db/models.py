"""SQLAlchemy models: the one description of the schema that alembic migrations follow.

Every table carries `tenant_id`. Stages and enums are stored as short strings with CHECK
constraints (not native PostgreSQL enums) so adding a value is a plain migration.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    Enum,
    FetchedValue,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.access import Role
from domain.enums import LeadSource, LeadStage, MessageDirection, Recommendation, SaleStage
from domain.outcomes import OutcomeOrigin, OutcomeResult
from domain.scorers import ScorerKind
from domain.webhooks import DeliveryStatus

DEFAULT_TENANT_ID = 1

# What `search` matches: one text of name, company and e-mail (db/queries/leads.py builds
# the same expression, so the index below serves it).
SEARCH_TEXT = "coalesce(name, '') || ' ' || coalesce(company, '') || ' ' || coalesce(email, '')"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table(model: type[Base]) -> Table:
    """The Core table of a model (mapped classes type `__table__` only as a FromClause)."""
    return cast(Table, model.__table__)


def _enum(enum_class: type[Any], name: str, length: int = 20) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _tenant_id() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("tenants.id"), nullable=False)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[LeadSource] = mapped_column(_enum(LeadSource, "lead_source"), nullable=False)
    business_domain: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[LeadStage] = mapped_column(
        _enum(LeadStage, "lead_stage"), nullable=False, server_default=LeadStage.NEW.value
    )
    lost_reason: Mapped[str | None] = mapped_column(String(1000))
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # Newest analysis, kept here so score filters and ordering are one indexed read.
    # It is advisory data: storing an analysis never bumps `version` or `updated_at`.
    latest_analysis_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("lead_analyses.id", use_alter=True)
    )
    latest_score: Mapped[float | None] = mapped_column(Double)
    # The score order's key and the domain filter's, as columns: under Row Level Security
    # only conditions on plain columns can use an index (migration 0018).
    score_key: Mapped[float] = mapped_column(
        Double, Computed("coalesce(latest_score, -1)", persisted=True)
    )
    domain_key: Mapped[str | None] = mapped_column(
        String(100), Computed("lower(business_domain)", persisted=True)
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(
            "(stage = 'lost') = (lost_reason IS NOT NULL)", name="lost_reason_iff_lost"
        ),
        CheckConstraint("message_count >= 0", name="message_count_not_negative"),
        Index(
            "uq_leads_tenant_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_leads_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_leads_tenant_updated", "tenant_id", "updated_at", "id"),
        Index("ix_leads_tenant_message_count", "tenant_id", "message_count", "id"),
        Index("ix_leads_tenant_score", "tenant_id", "score_key", "id"),
        Index("ix_leads_tenant_stage_created", "tenant_id", "stage", "created_at", "id"),
        Index("ix_leads_tenant_source_created", "tenant_id", "source", "created_at", "id"),
        Index("ix_leads_tenant_domain", "tenant_id", "domain_key"),
        # Trigram search within one tenant; btree_gin lets tenant_id join the GIN index.
        Index(
            "ix_leads_search",
            "tenant_id",
            text(f"({SEARCH_TEXT}) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )


class LeadMessage(Base):
    __tablename__ = "lead_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id"), nullable=False)
    direction: Mapped[MessageDirection] = mapped_column(
        _enum(MessageDirection, "message_direction"), nullable=False
    )
    channel: Mapped[str] = mapped_column(String(50), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_lead_messages_lead", "lead_id", "created_at", "id"),)


class LeadAnalysis(Base):
    __tablename__ = "lead_analyses"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id"), nullable=False)
    score: Mapped[float] = mapped_column(Double, nullable=False)
    recommendation: Mapped[Recommendation] = mapped_column(
        _enum(Recommendation, "recommendation"), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    scorer: Mapped[str] = mapped_column(String(100), nullable=False)
    prompt_version: Mapped[str | None] = mapped_column(String(50))
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    tokens_in: Mapped[int | None] = mapped_column(Integer)  # None: no model, or none reported
    tokens_out: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 1", name="score_in_unit_range"),
        Index("ix_lead_analyses_lead", "lead_id", "created_at", "id"),
    )


class AIUsage(Base):
    """Per tenant, UTC day and answering scorer: scorings made, analyses reused from the
    cache, tokens used. What `aiUsage` sums."""

    __tablename__ = "ai_usage"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    scorer: Mapped[str] = mapped_column(String(100), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    cache_hits: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tokens_in: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    tokens_out: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class AIBudget(Base):
    """Per tenant and UTC day: model calls in the current minute and tokens of the day,
    checked and counted in one statement (db/queries/ai_usage.py)."""

    __tablename__ = "ai_budgets"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    minute_calls: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class LeadOutcome(Base):
    """How a lead ended (a WIN when its sale was paid, a LOSS when it was marked LOST),
    written in the transaction of that change; at most one per lead (domain/outcomes.py).
    The app role may only SELECT and INSERT."""

    __tablename__ = "lead_outcomes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    lead_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leads.id"), nullable=False, unique=True
    )
    sale_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sales.id"))
    result: Mapped[OutcomeResult] = mapped_column(
        _enum(OutcomeResult, "outcome_result"), nullable=False
    )
    occurred_at: Mapped[datetime] = _created_at()
    # The lead's scoring input just before the deciding change: what a learned scorer
    # learns from (domain/outcomes.py). NULL only for outcomes nothing is known about.
    features: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    origin: Mapped[OutcomeOrigin] = mapped_column(
        _enum(OutcomeOrigin, "outcome_origin"),
        nullable=False,
        server_default=OutcomeOrigin.RECORDED.value,
    )

    __table_args__ = (Index("ix_lead_outcomes_tenant_occurred", "tenant_id", "occurred_at", "id"),)


class LeadOutcomeAnalysis(Base):
    """An analysis of the lead that had been made when its outcome was recorded: the
    (score, scorer, outcome) pairs the learned scorer and the scorer report learn from."""

    __tablename__ = "lead_outcome_analyses"

    outcome_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("lead_outcomes.id"), primary_key=True
    )
    analysis_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("lead_analyses.id"), primary_key=True
    )
    tenant_id: Mapped[int] = _tenant_id()


class Sale(Base):
    __tablename__ = "sales"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    lead_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leads.id"), nullable=False, unique=True
    )
    stage: Mapped[SaleStage] = mapped_column(
        _enum(SaleStage, "sale_stage"), nullable=False, server_default=SaleStage.NEW.value
    )
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("stage <> 'paid' OR amount > 0", name="paid_needs_amount"),
        Index("ix_sales_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_sales_tenant_updated", "tenant_id", "updated_at", "id"),
        Index("ix_sales_tenant_amount", "tenant_id", text("coalesce(amount, -1)"), "id"),
        Index("ix_sales_tenant_stage_created", "tenant_id", "stage", "created_at", "id"),
    )


class StageChange(Base):
    """One transition of a lead or a sale: the audit trail of the pipeline."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    lead_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("leads.id"))
    sale_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sales.id"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("(lead_id IS NULL) <> (sale_id IS NULL)", name="one_subject"),
        Index(
            "ix_stage_changes_lead", "lead_id", "id", postgresql_where=text("lead_id IS NOT NULL")
        ),
        Index(
            "ix_stage_changes_sale", "sale_id", "id", postgresql_where=text("sale_id IS NOT NULL")
        ),
    )


class User(Base):
    """A person (or an integration) acting in one tenant, with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        Index("uq_users_tenant_email", "tenant_id", text("lower(email)"), unique=True),
    )


class ApiKey(Base):
    """A secret for integrations: shown once, stored as a hash, found by its prefix."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_api_keys_tenant_created", "tenant_id", "created_at", "id"),)


class AuditEntry(Base):
    """One state change: who made it, to what, and each changed field before and after.

    Append-only: the app role may not UPDATE or DELETE (migration 0005). Who acted is
    kept as text and plain ids, without foreign keys, so an entry outlives them.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(50), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    api_key_prefix: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # {field: {"before": ..., "after": ...}} for the fields that changed, in API names.
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        Index("ix_audit_log_tenant_created", "tenant_id", "created_at", "id"),
        Index(
            "ix_audit_log_tenant_entity",
            "tenant_id",
            "entity_type",
            "entity_id",
            "created_at",
            "id",
        ),
    )


class Event(Base):
    """One domain event, appended in the transaction of its change (services/events.py).

    Ids are handed out under a per-tenant lock held to commit (migration 0007), so within
    a tenant, id order is commit order: a reader that has seen event N will never later
    find a new event below N. The app role may only SELECT and INSERT; retention removes
    old events as the owner.
    """

    __tablename__ = "events"

    # Drawn by the BEFORE INSERT trigger, under the tenant's journal lock.
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=FetchedValue()
    )
    tenant_id: Mapped[int] = _tenant_id()
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    lead_id: Mapped[int | None] = mapped_column(BigInteger)
    sale_id: Mapped[int | None] = mapped_column(BigInteger)
    analysis_id: Mapped[int | None] = mapped_column(BigInteger)
    # A few facts of the change (stages, score), in API names; never personal data.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    occurred_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        Index("ix_events_tenant_id", "tenant_id", "id"),
        Index("ix_events_occurred_at", "occurred_at"),
    )


class EventRetention(Base):
    """One row: the highest event id retention has removed, so a reader whose cursor
    is older learns that it missed events instead of silently skipping them."""

    __tablename__ = "event_retention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pruned_through: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Webhook(Base):
    """An endpoint of a tenant that receives its events, each delivery signed with the
    endpoint's secret.

    Signing needs the secret itself, so it is stored as it is: only the app role reads it,
    within its tenant, and the API shows it once (createWebhook, rotateWebhookSecret).
    After a rotation the previous secret signs too, until `previous_secret_expires_at`.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    # EventType values (`lead.created`, ...); never empty.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(50)), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Deliveries in a row that failed every attempt; a success resets it.
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("cardinality(event_types) > 0", name="some_event_types"),
        Index("ix_webhooks_tenant_created", "tenant_id", "created_at", "id"),
    )


class WebhookDelivery(Base):
    """One event on its way to one endpoint: its attempts so far and how the last went.

    `event_id` has no foreign key: retention removes old events, and a delivery's record
    outlives its event (it is then no longer re-deliverable).
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    webhook_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"),
        nullable=False,
        server_default=DeliveryStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        Index("ix_webhook_deliveries_tenant_created", "tenant_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_tenant_webhook",
            "tenant_id",
            "webhook_id",
            "created_at",
            "id",
        ),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )


class ScorerModel(Base):
    """One trained version of a tenant's learned scorer; never rewritten. `parameters`
    are plain numbers (services/ai/learned/model.py), so loading one runs no code."""

    __tablename__ = "scorer_models"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    algorithm: Mapped[str] = mapped_column(String(60), nullable=False)
    examples: Mapped[int] = mapped_column(Integer, nullable=False)
    outcomes: Mapped[int] = mapped_column(Integer, nullable=False)
    wins: Mapped[int] = mapped_column(Integer, nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    held_out: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    trained_by: Mapped[str | None] = mapped_column(String(254))
    trained_at: Mapped[datetime] = _created_at()

    __table_args__ = (UniqueConstraint("tenant_id", "version"),)


class TenantAISettings(Base):
    """The scorer a tenant chose; no row: the server's configured scorer."""

    __tablename__ = "tenant_ai_settings"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True)
    scorer: Mapped[ScorerKind] = mapped_column(_enum(ScorerKind, "scorer_kind", 40), nullable=False)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = _created_at()


# ---------------------------------------------------------------- background scoring
# What the stale sweep reads (services/background_scoring.py, migration 0014): each
# tenant's active leads in the order of their latest analysis (ids grow with time; never
# analysed first), and each tenant's analyses by time, to bound that scan.
ACTIVE_LEAD_STAGES_SQL = "stage IN ('new', 'contacted', 'qualified')"

Index(
    "ix_leads_rescore_queue",
    Lead.tenant_id,
    text("coalesce(latest_analysis_id, 0)"),
    Lead.id,
    postgresql_where=text(ACTIVE_LEAD_STAGES_SQL),
)
Index(
    "ix_lead_analyses_tenant_created",
    LeadAnalysis.tenant_id,
    LeadAnalysis.created_at,
    LeadAnalysis.id,
)


# ---------------------------------------------------------------- lead imports
# CSV imports of leads (services/imports/, migration 0015). Only real runs are kept; a
# dry run writes nothing.


class LeadImport(Base):
    """One import run: who ran it, which file (its SHA-256), and what came of its rows."""

    __tablename__ = "lead_imports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = _tenant_id()
    actor: Mapped[str | None] = mapped_column(String(254))
    file_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False)
    created: Mapped[int] = mapped_column(Integer, nullable=False)
    updated: Mapped[int] = mapped_column(Integer, nullable=False)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False)
    invalid: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_lead_imports_tenant_created", "tenant_id", "created_at", "id"),)


class LeadImportRow(Base):
    """A row some import brought in, by the fingerprint of its mapped values: the same
    row imported again is recognised (UNCHANGED) and creates nothing."""

    __tablename__ = "lead_import_rows"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id"), nullable=False)
    import_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("lead_imports.id"), nullable=False
    )
