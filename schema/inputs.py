"""GraphQL input types of queries and mutations."""

from datetime import datetime
from decimal import Decimal

import strawberry

from schema.enums import (
    LeadOrderField,
    LeadSource,
    LeadStage,
    MessageDirection,
    OrderDirection,
    SaleOrderField,
    SaleStage,
)


@strawberry.input(description="Narrows `leads`; all given conditions must hold.")
class LeadFilter:
    stage: list[LeadStage] | None = strawberry.field(
        default=None, description="Any of these stages."
    )
    source: list[LeadSource] | None = strawberry.field(
        default=None, description="Any of these sources."
    )
    business_domain: str | None = strawberry.field(
        default=None, description="Exact business domain, case-insensitive."
    )
    has_business_domain: bool | None = strawberry.field(
        default=None, description="Only leads with (true) or without (false) a business domain."
    )
    min_score: float | None = strawberry.field(
        default=None, description="Latest AI score at least this (unanalyzed leads excluded)."
    )
    max_score: float | None = strawberry.field(
        default=None, description="Latest AI score at most this (unanalyzed leads excluded)."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this moment."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this moment."
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive match on name, company and email."
    )


@strawberry.input(description="Order of `leads`; ties are broken by creation order.")
class LeadOrder:
    field: LeadOrderField = strawberry.field(
        default=LeadOrderField.CREATED_AT, description="What to order by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Ascending or descending."
    )


@strawberry.input(description="Narrows `sales`; all given conditions must hold.")
class SaleFilter:
    stage: list[SaleStage] | None = strawberry.field(
        default=None, description="Any of these stages."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this moment."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this moment."
    )


@strawberry.input(description="Order of `sales`.")
class SaleOrder:
    field: SaleOrderField = strawberry.field(
        default=SaleOrderField.CREATED_AT, description="What to order by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Ascending or descending."
    )


@strawberry.input(description="A new lead; it starts in stage NEW.")
class CreateLeadInput:
    name: str = strawberry.field(description="Person or deal name, 1-200 characters.")
    source: LeadSource = strawberry.field(description="Where the lead came from.")
    business_domain: str | None = strawberry.field(
        default=strawberry.UNSET, description="Industry, e.g. fintech (required for transfer)."
    )
    company: str | None = strawberry.field(default=strawberry.UNSET, description="Company name.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="E-mail address.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone number.")
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "A retried createLead with the same key returns the first lead, never a duplicate."
        ),
    )


@strawberry.input(description="Changes to a lead's data; omitted fields stay, null clears.")
class UpdateLeadInput:
    lead_id: strawberry.ID = strawberry.field(description="The lead to change.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    business_domain: str | None = strawberry.field(
        default=strawberry.UNSET, description="New business domain; null clears it."
    )
    company: str | None = strawberry.field(default=strawberry.UNSET, description="New company.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="New e-mail.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="New phone.")
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Fail with VERSION_CONFLICT unless the lead is still at this version.",
    )


@strawberry.input(description="Move a lead to its next stage, or to LOST.")
class ChangeLeadStageInput:
    lead_id: strawberry.ID = strawberry.field(description="The lead to move.")
    stage: LeadStage = strawberry.field(description="The target stage.")
    reason: str | None = strawberry.field(
        default=strawberry.UNSET, description="Required when stage is LOST."
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Fail with VERSION_CONFLICT unless the lead is still at this version.",
    )


@strawberry.input(description="Log one message exchanged with a lead.")
class RecordLeadMessageInput:
    lead_id: strawberry.ID = strawberry.field(description="The lead the message belongs to.")
    direction: MessageDirection = strawberry.field(description="Who sent it.")
    channel: str = strawberry.field(default="manual", description="e.g. email, telegram, call.")
    text: str | None = strawberry.field(
        default=strawberry.UNSET, description="Message text, up to 10,000 characters."
    )


@strawberry.input(description="Ask the AI for advice on a lead.")
class AnalyzeLeadInput:
    lead_id: strawberry.ID = strawberry.field(description="The lead to analyze.")
    force: bool = strawberry.field(
        default=False,
        description="Skip the cache (a fresh analysis within the TTL is reused otherwise).",
    )


@strawberry.input(description="Hand a qualified lead to sales.")
class TransferLeadInput:
    lead_id: strawberry.ID = strawberry.field(description="The lead to transfer.")
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Fail with VERSION_CONFLICT unless the lead is still at this version.",
    )


@strawberry.input(description="Move a sale one stage forward.")
class ChangeSaleStageInput:
    sale_id: strawberry.ID = strawberry.field(description="The sale to move.")
    stage: SaleStage = strawberry.field(description="The next stage.")
    amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Amount, > 0, at most 2 decimals; needed for PAID."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code, e.g. EUR."
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Fail with VERSION_CONFLICT unless the sale is still at this version.",
    )
