"""Subscriptions: check the filter, open a mailbox of the caller's tenant; and the event fields.

A subscription's source is a `realtime.hub.Mailbox` of `Delivery` objects; the WebSocket
transport (web/graphql_ws.py) executes each delivery's `root` (an `EventRecord`, or the
pipeline figures) against the subscriber's selection. Event types read `EventRecord`
rows; the lead, sale and analysis they name are loaded as they are now.
"""

from collections.abc import Collection
from datetime import datetime

from db.records import AnalysisRecord, EventRecord, LeadRecord, SaleRecord
from domain.enums import LeadStage, SaleStage
from domain.events import LEAD_STAGE_EVENTS, SALE_STAGE_EVENTS, EventType
from realtime.hub import Mailbox
from realtime.live import LiveUpdates
from resolvers.context import Info
from resolvers.errors import BadRequest
from resolvers.events import ensure_followable
from resolvers.ids import InvalidId, decode_id

SCORE_EVENTS = frozenset({EventType.LEAD_ANALYZED})


async def lead_score_updated(info: Info, lead_id: str | None, after: str | None) -> Mailbox:
    lead = _wanted(lead_id, "leadId", "Lead")
    return await _events(info, SCORE_EVENTS, after, lead=lead)


async def lead_stage_changed(info: Info, lead_id: str | None, after: str | None) -> Mailbox:
    lead = _wanted(lead_id, "leadId", "Lead")
    return await _events(info, LEAD_STAGE_EVENTS, after, lead=lead)


async def sale_stage_changed(info: Info, sale_id: str | None, after: str | None) -> Mailbox:
    sale = _wanted(sale_id, "saleId", "Sale")
    return await _events(info, SALE_STAGE_EVENTS, after, sale=sale)


async def pipeline_updated(info: Info) -> Mailbox:
    return _live(info).figures_of(info.context.scope.tenant_id)


def _wanted(global_id: str | None, argument: str, type_name: str) -> int | None:
    """The filter's database id. Another tenant's ID is well-formed and simply never
    matches; a malformed one, or one of another type, is refused before anything starts."""
    if global_id is None:
        return None
    try:
        return decode_id(global_id, type_name)
    except InvalidId as exc:
        raise BadRequest(f"`{argument}`: {exc}") from None


async def _events(
    info: Info,
    types: Collection[str],
    after: str | None,
    *,
    lead: int | None = None,
    sale: int | None = None,
) -> Mailbox:
    def accepts(event: EventRecord) -> bool:
        return (
            event.type in types
            and (lead is None or event.lead_id == lead)
            and (sale is None or event.sale_id == sale)
        )

    after_id = None if after is None else await _resumable(info, after)
    return await _live(info).events(
        info.context.scope.tenant_id, accepts, types=types, after_id=after_id
    )


async def _resumable(info: Info, after: str) -> int:
    """The event id to resume after (see resolvers/events.ensure_followable)."""
    after_id = _wanted(after, "after", "Event")
    assert after_id is not None
    await ensure_followable(info, after, after_id)
    return after_id


def _live(info: Info) -> LiveUpdates:
    live = info.context.app.live
    if live is None:
        raise BadRequest("This server process serves no subscriptions.")
    return live


def event_at(root: EventRecord) -> datetime:
    return root.occurred_at


async def event_lead(root: EventRecord, info: Info) -> LeadRecord:
    assert root.lead_id is not None, "every lead and sale event names its lead"
    lead = await info.context.loaders.lead_by_id.load(root.lead_id)
    assert lead is not None, "an event's lead is of its tenant and never deleted"
    return lead


async def event_sale(root: EventRecord, info: Info) -> SaleRecord:
    assert root.sale_id is not None, "every sale event names its sale"
    sale = await info.context.loaders.sale_by_id.load(root.sale_id)
    assert sale is not None, "an event's sale is of its tenant and never deleted"
    return sale


async def event_analysis(root: EventRecord, info: Info) -> AnalysisRecord:
    assert root.analysis_id is not None, "lead.analyzed names its analysis"
    analysis = await info.context.loaders.analysis_by_id.load(root.analysis_id)
    assert analysis is not None, "an event's analysis is of its tenant and never deleted"
    return analysis


def previous_score(root: EventRecord) -> float | None:
    previous = root.data.get("previousScore")
    return None if previous is None else float(previous)


def lead_from_stage(root: EventRecord) -> LeadStage | None:
    stage = root.data.get("fromStage")
    return None if stage is None else LeadStage(stage)


def lead_to_stage(root: EventRecord) -> LeadStage:
    return LeadStage(root.data["toStage"])


def sale_from_stage(root: EventRecord) -> SaleStage | None:
    stage = root.data.get("fromStage")
    return None if stage is None else SaleStage(stage)


def sale_to_stage(root: EventRecord) -> SaleStage:
    return SaleStage(root.data["toStage"])
