"""The Subscription root and its event types (served over WebSocket: web/graphql_ws.py).

Event types read `db.records.EventRecord` rows; `eventId` (an addition to the contract)
is the event's global ID, where `events(after:)` resumes after a disconnect.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.access import Permission
from resolvers import subscriptions as resolve
from resolvers.context import Info
from resolvers.events import event_global_id
from schema.enums import LeadStage, SaleStage
from schema.permissions import needs
from schema.pipeline import PipelineStats

if TYPE_CHECKING:
    from schema.analyses import LeadAnalysis
    from schema.leads import Lead
    from schema.sales import Sale

_Lead = Annotated["Lead", strawberry.lazy("schema.leads")]
_Sale = Annotated["Sale", strawberry.lazy("schema.sales")]
_Analysis = Annotated["LeadAnalysis", strawberry.lazy("schema.analyses")]

_EVENT_ID = "The event's global ID: resume with `after: eventId`, or `events(after:)`."
_AT = "When the change was committed."


@strawberry.type(description="A new AI analysis of a lead was stored.")
class LeadScoreEvent:
    lead: _Lead = strawberry.field(
        description="The lead, as it is now.", resolver=resolve.event_lead
    )
    analysis: _Analysis = strawberry.field(
        description="The analysis that was stored.", resolver=resolve.event_analysis
    )
    previous_score: float | None = strawberry.field(
        description="The lead's latest score before this analysis; null for its first.",
        resolver=resolve.previous_score,
    )
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID, resolver=event_global_id)


@strawberry.type(
    description="A lead moved to a stage: created (fromStage null), changed or transferred."
)
class LeadStageEvent:
    lead: _Lead = strawberry.field(
        description="The lead, as it is now.", resolver=resolve.event_lead
    )
    from_stage: LeadStage | None = strawberry.field(
        description="The stage before; null when the lead was just created.",
        resolver=resolve.lead_from_stage,
    )
    to_stage: LeadStage = strawberry.field(
        description="The stage it moved to.", resolver=resolve.lead_to_stage
    )
    at: datetime = strawberry.field(description=_AT, resolver=resolve.event_at)
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID, resolver=event_global_id)


@strawberry.type(description="A sale moved to a stage: created (fromStage null) or changed.")
class SaleStageEvent:
    sale: _Sale = strawberry.field(
        description="The sale, as it is now.", resolver=resolve.event_sale
    )
    from_stage: SaleStage | None = strawberry.field(
        description="The stage before; null when the sale was just created.",
        resolver=resolve.sale_from_stage,
    )
    to_stage: SaleStage = strawberry.field(
        description="The stage it moved to.", resolver=resolve.sale_to_stage
    )
    at: datetime = strawberry.field(description=_AT, resolver=resolve.event_at)
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID, resolver=event_global_id)


_LEAD_ID = strawberry.argument(description="Only this lead (its global ID); omit: every lead.")
_SALE_ID = strawberry.argument(description="Only this sale (its global ID); omit: every sale.")
_AFTER = strawberry.argument(
    description=(
        "Resume after this event (an `eventId` you received): first every matching event "
        "since, from the journal, then live ones; omit: from now."
    )
)


@strawberry.type(
    description=(
        "Live updates of the caller's tenant, over WebSocket (graphql-transport-ws) at "
        "/graphql. Each event reaches every subscriber once, on every server process."
    )
)
class Subscription:
    @strawberry.subscription(
        permission_classes=needs(Permission.READ),
        description="A new analysis was stored; all leads when leadId is omitted.",
        graphql_type=LeadScoreEvent,
    )
    async def lead_score_updated(
        self,
        info: Info,
        lead_id: Annotated[strawberry.ID | None, _LEAD_ID] = None,
        after: Annotated[strawberry.ID | None, _AFTER] = None,
    ) -> Any:
        return await resolve.lead_score_updated(info, lead_id, after)

    @strawberry.subscription(
        permission_classes=needs(Permission.READ),
        description="A lead was created, moved to a stage or transferred.",
        graphql_type=LeadStageEvent,
    )
    async def lead_stage_changed(
        self,
        info: Info,
        lead_id: Annotated[strawberry.ID | None, _LEAD_ID] = None,
        after: Annotated[strawberry.ID | None, _AFTER] = None,
    ) -> Any:
        return await resolve.lead_stage_changed(info, lead_id, after)

    @strawberry.subscription(
        permission_classes=needs(Permission.READ),
        description="A sale was created or moved to a stage.",
        graphql_type=SaleStageEvent,
    )
    async def sale_stage_changed(
        self,
        info: Info,
        sale_id: Annotated[strawberry.ID | None, _SALE_ID] = None,
        after: Annotated[strawberry.ID | None, _AFTER] = None,
    ) -> Any:
        return await resolve.sale_stage_changed(info, sale_id, after)

    @strawberry.subscription(
        permission_classes=needs(Permission.READ),
        description=(
            "The current pipeline figures at once, then fresh ones after changes, at most "
            "about once a second."
        ),
        graphql_type=PipelineStats,
    )
    async def pipeline_updated(self, info: Info) -> Any:
        return await resolve.pipeline_updated(info)
