"""Lead and the types around it. Fields read `db.records.LeadRecord` rows directly."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.records import LeadMessageRecord, LeadRecord, StageChangeRecord
from resolvers import leads as resolve
from resolvers import outcomes as resolve_outcomes
from resolvers.pagination import total_count
from schema.enums import LeadSource, LeadStage, MessageDirection
from schema.node import Node, PageInfo, UserError

if TYPE_CHECKING:
    from schema.analyses import LeadAnalysis, LeadAnalysisConnection
    from schema.outcomes import LeadOutcome
    from schema.sales import Sale

_Sale = Annotated["Sale", strawberry.lazy("schema.sales")]
_LeadAnalysis = Annotated["LeadAnalysis", strawberry.lazy("schema.analyses")]
_LeadAnalysisConnection = Annotated["LeadAnalysisConnection", strawberry.lazy("schema.analyses")]
_LeadOutcome = Annotated["LeadOutcome", strawberry.lazy("schema.outcomes")]


@strawberry.type(description="One transition of a lead or sale: the pipeline's audit trail.")
class StageChange:
    from_stage: str | None = strawberry.field(
        description="Stage before (null when the record was created).",
        resolver=resolve.stage_change_from,
    )
    to_stage: str = strawberry.field(description="Stage after.", resolver=resolve.stage_change_to)
    actor: str | None = strawberry.field(description="Who made the change.")
    reason: str | None = strawberry.field(description="Why (required for LOST).")
    at: datetime = strawberry.field(description="When.", resolver=resolve.stage_change_at)

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, StageChangeRecord)


@strawberry.type(description="A message exchanged with a lead.")
class LeadMessage(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID.", resolver=resolve.message_global_id
    )
    direction: MessageDirection = strawberry.field(description="Who sent it.")
    channel: str = strawberry.field(description="e.g. email, telegram, call, manual.")
    text: str | None = strawberry.field(description="The message text, if recorded.")
    at: datetime = strawberry.field(description="When.", resolver=resolve.message_at)

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, LeadMessageRecord)


@strawberry.type(description="Every hard gate of transferLead, evaluated now.")
class TransferEligibility:
    eligible: bool = strawberry.field(description="True when transferLead would succeed now.")
    blockers: list[UserError] = strawberry.field(description="All unmet gates at once.")
    min_score: float = strawberry.field(description="The score a transfer needs at least.")


@strawberry.type(description="A potential customer moving through the sales pipeline.")
class Lead(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.", resolver=resolve.lead_global_id)
    name: str = strawberry.field(description="Person or deal name.")
    company: str | None = strawberry.field(description="Company name.")
    email: str | None = strawberry.field(description="E-mail address (stored lower-case).")
    phone: str | None = strawberry.field(description="Phone number.")
    source: LeadSource = strawberry.field(description="Where the lead came from.")
    business_domain: str | None = strawberry.field(description="Industry, e.g. fintech.")
    has_business_domain: bool = strawberry.field(
        description="Whether a business domain is set (a transfer gate).",
        resolver=resolve.has_business_domain,
    )
    stage: LeadStage = strawberry.field(description="Current pipeline stage.")
    lost_reason: str | None = strawberry.field(description="Why the lead was lost.")
    message_count: int = strawberry.field(description="Messages recorded with this lead.")
    version: int = strawberry.field(
        description="Optimistic-concurrency version; bumps on every change."
    )
    created_at: datetime = strawberry.field(description="When the lead was created.")
    updated_at: datetime = strawberry.field(description="When the lead last changed.")
    days_since_created: int = strawberry.field(
        description="Whole days since creation.", resolver=resolve.days_since_created
    )
    latest_analysis: _LeadAnalysis | None = strawberry.field(
        description="The newest AI analysis, if any.", resolver=resolve.latest_analysis
    )
    analyses: _LeadAnalysisConnection = strawberry.field(
        description="AI analyses, newest first.", resolver=resolve.analyses
    )
    transfer_eligibility: TransferEligibility = strawberry.field(
        description=(
            "Every hard gate of transferLead, evaluated now; blockers lists all unmet gates."
        ),
        resolver=resolve.transfer_eligibility,
    )
    sale: _Sale | None = strawberry.field(
        description="The sale created when the lead was transferred.", resolver=resolve.sale
    )
    outcome: _LeadOutcome | None = strawberry.field(
        description="How the lead ended (WIN: its sale was paid; LOSS: it was lost), if it has.",
        resolver=resolve_outcomes.lead_outcome,
    )
    stage_history: list[StageChange] = strawberry.field(
        description="Every stage change, oldest first.", resolver=resolve.stage_history
    )
    messages: "LeadMessageConnection" = strawberry.field(
        description="Messages, oldest first.", resolver=resolve.messages
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, LeadRecord)


@strawberry.type(description="A lead in a list, with its cursor.")
class LeadEdge:
    node: Lead = strawberry.field(description="The lead.")
    cursor: str = strawberry.field(description="Pass as `after`/`before` to page from here.")


@strawberry.type(description="A page of leads.")
class LeadConnection:
    edges: list[LeadEdge] = strawberry.field(description="The leads of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")

    total_count: int = strawberry.field(
        description="Leads matching the filter across all pages (counted only when asked).",
        resolver=total_count,
    )


@strawberry.type(description="A message in a list, with its cursor.")
class LeadMessageEdge:
    node: LeadMessage = strawberry.field(description="The message.")
    cursor: str = strawberry.field(description="Pass as `after` to page from here.")


@strawberry.type(description="A page of a lead's messages.")
class LeadMessageConnection:
    edges: list[LeadMessageEdge] = strawberry.field(description="The messages of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
