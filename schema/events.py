"""The event journal's types. Fields read `db.records.EventRecord` rows directly."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from db.records import EventRecord
from resolvers import events as resolve
from schema.enums import EventType
from schema.node import Node, PageInfo

if TYPE_CHECKING:
    from schema.analyses import LeadAnalysis
    from schema.leads import Lead
    from schema.sales import Sale

_Lead = Annotated["Lead", strawberry.lazy("schema.leads")]
_Sale = Annotated["Sale", strawberry.lazy("schema.sales")]
_Analysis = Annotated["LeadAnalysis", strawberry.lazy("schema.analyses")]


@strawberry.type(
    description=(
        "Something that happened to this tenant's leads and sales, in the order it was "
        "committed. Events are facts: applying one twice changes nothing more."
    )
)
class Event(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID; pass it as `events(after:)` to read what came later.",
        resolver=resolve.event_global_id,
    )
    type: EventType = strawberry.field(description="What happened.", resolver=resolve.event_type)
    occurred_at: datetime = strawberry.field(
        description=(
            "When it was recorded, as its change committed: a later event of the tenant "
            "never has an earlier time."
        )
    )
    lead: _Lead | None = strawberry.field(
        description="The lead it concerns, as it is now.", resolver=resolve.event_lead
    )
    sale: _Sale | None = strawberry.field(
        description="The sale it concerns, as it is now.", resolver=resolve.event_sale
    )
    analysis: _Analysis | None = strawberry.field(
        description="The stored analysis (LEAD_ANALYZED only).", resolver=resolve.event_analysis
    )
    data: JSON = strawberry.field(
        description=(
            "The facts of the change, as of then: `fromStage`/`toStage` (stored values, e.g. "
            '`"qualified"`; `fromStage` null for something new), `score`/`previousScore`/'
            "`recommendation` for LEAD_ANALYZED, `fields` (API names) for LEAD_UPDATED, "
            "`direction`/`messageCount` for LEAD_MESSAGE_RECORDED."
        )
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, EventRecord)


@strawberry.type(description="An event in the journal, with its cursor.")
class EventEdge:
    node: Event = strawberry.field(description="The event.")
    cursor: str = strawberry.field(description="The event's ID: pass as `after` to go on.")


@strawberry.type(description="A page of the event journal, oldest event first.")
class EventConnection:
    edges: list[EventEdge] = strawberry.field(description="The events of this page.")
    page_info: PageInfo = strawberry.field(
        description=(
            "Paging state. With no events after `after`, `endCursor` is `after` itself, so "
            "a poller can always pass the last `endCursor` back."
        )
    )
