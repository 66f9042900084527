"""Lean, read-only rows handed to services and the API: no ORM state, no lazy loads."""

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from sqlalchemy import Column, Row, Table

from domain.access import Role
from domain.enums import LeadSource, LeadStage, MessageDirection, Recommendation, SaleStage
from domain.outcomes import OutcomeOrigin, OutcomeResult
from domain.webhooks import DeliveryStatus


class _Record:
    """Built from a row whose columns were selected with `columns_of(cls, table)`."""

    @classmethod
    def from_row(cls, row: Row[Any] | tuple[Any, ...]) -> Self:
        return cls(*row)


def columns_of(record: type[_Record], table: Table) -> list[Column[Any]]:
    """The table's columns in the record's field order, for `select(*columns_of(...))`."""
    return [table.c[f.name] for f in fields(record)]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LeadRecord(_Record):
    id: int
    tenant_id: int
    name: str
    company: str | None
    email: str | None
    phone: str | None
    source: LeadSource
    business_domain: str | None
    stage: LeadStage
    lost_reason: str | None
    message_count: int
    version: int
    latest_analysis_id: int | None
    latest_score: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LeadMessageRecord(_Record):
    id: int
    lead_id: int
    direction: MessageDirection
    channel: str
    text: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AnalysisRecord(_Record):
    id: int
    tenant_id: int
    lead_id: int
    score: float
    recommendation: Recommendation
    reason: str
    factors: list[dict[str, Any]]
    input: dict[str, Any]
    scorer: str
    prompt_version: str | None
    latency_ms: int
    created_at: datetime
    tokens_in: int | None
    tokens_out: int | None


@dataclass(frozen=True, slots=True)
class OutcomeRecord(_Record):
    id: int
    tenant_id: int
    lead_id: int
    sale_id: int | None
    result: OutcomeResult
    occurred_at: datetime
    origin: OutcomeOrigin
    features: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ScoredOutcomeRecord(_Record):
    """One scorer's last score of a lead before its outcome, and the outcome."""

    lead_id: int
    scorer: str
    score: float
    result: OutcomeResult


@dataclass(frozen=True, slots=True)
class SaleRecord(_Record):
    id: int
    tenant_id: int
    lead_id: int
    stage: SaleStage
    amount: Decimal | None
    currency: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StageChangeRecord(_Record):
    id: int
    lead_id: int | None
    sale_id: int | None
    from_stage: str | None
    to_stage: str
    actor: str | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserRecord(_Record):
    id: int
    tenant_id: int
    email: str
    name: str | None
    role: Role
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRecord(_Record):
    id: int
    tenant_id: int
    user_id: int
    name: str
    prefix: str
    secret_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord(_Record):
    id: int
    tenant_id: int
    action: str
    entity_type: str
    entity_id: int
    actor: str | None
    user_id: int | None
    api_key_prefix: str | None
    request_id: str | None
    changes: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord(_Record):
    id: int
    tenant_id: int
    type: str
    lead_id: int | None
    sale_id: int | None
    analysis_id: int | None
    data: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookRecord(_Record):
    id: int
    tenant_id: int
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    secret: str  # never shown by the API after createWebhook / rotateWebhookSecret
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookDeliveryRecord(_Record):
    id: int
    tenant_id: int
    webhook_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScorerModelRecord(_Record):
    id: int
    tenant_id: int
    version: int
    algorithm: str
    examples: int
    outcomes: int
    wins: int
    parameters: dict[str, Any]
    held_out: dict[str, Any] | None
    trained_by: str | None
    trained_at: datetime


@dataclass(frozen=True, slots=True)
class DecidedOutcomeRecord(_Record):
    """An outcome with the lead's scoring input it was decided on."""

    lead_id: int
    result: OutcomeResult
    features: dict[str, Any]
