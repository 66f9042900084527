"""`events` and `latestEventId`: the journal a client catches up from, oldest first.

The cursor of an event is its global ID, so the `eventId` a subscription delivered, or
any event's `id`, is where the next page starts.
"""

from collections.abc import Collection

from db.queries import events as event_rows
from db.records import AnalysisRecord, EventRecord, LeadRecord, SaleRecord
from domain.events import EventType
from domain.global_ids import to_global_id
from resolvers.context import Info
from resolvers.errors import BadRequest, ClientError
from resolvers.ids import InvalidId, decode_id
from resolvers.pagination import MAX_PAGE_SIZE, Connection, Edge, PageInfo

DEFAULT_EVENTS_PAGE = MAX_PAGE_SIZE  # catching up wants big pages; the API's limit holds


class EventsExpired(ClientError):
    code = "EVENTS_EXPIRED"


def event_global_id(root: EventRecord) -> str:
    return to_global_id("Event", root.id)


async def events(
    info: Info, *, after: str | None, first: int | None, types: Collection[EventType] | None
) -> Connection[EventRecord]:
    """Up to `first` events after the `after` event (from the oldest kept when omitted)."""
    limit = DEFAULT_EVENTS_PAGE if first is None else first
    if not 0 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"`first` must be between 0 and {MAX_PAGE_SIZE}.")
    after_id = 0 if after is None else _event_id(after)
    if types is not None and not types:
        raise BadRequest("`types` is empty: omit it for every type, or name at least one.")
    if after is not None:
        await ensure_followable(info, after, after_id)
    async with info.context.app.db.read() as conn:
        rows = await event_rows.after(
            conn,
            tenant_id=info.context.scope.tenant_id,
            after_id=after_id,
            limit=limit + 1,
            types=None if types is None else [t.value for t in types],
        )
    edges = [Edge(row, event_global_id(row)) for row in rows[:limit]]
    end = edges[-1].cursor if edges else after
    page_info = PageInfo(
        has_next_page=len(rows) > limit,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=end,
    )
    return Connection(edges=edges, page_info=page_info)


async def latest_event_id(info: Info) -> str | None:
    async with info.context.app.db.read() as conn:
        newest = await event_rows.newest_id(conn, tenant_id=info.context.scope.tenant_id)
    return None if newest == 0 else to_global_id("Event", newest)


def _event_id(global_id: str) -> int:
    try:
        return decode_id(global_id, "Event")
    except InvalidId as exc:
        raise BadRequest(f"after: {exc}") from None


async def ensure_followable(info: Info, after: str, after_id: int) -> None:
    """A client may follow the journal from an event it saw: EVENTS_EXPIRED when retention
    may have removed what came next, BAD_REQUEST when the tenant has no such event yet
    (following from there would silently skip every event up to it)."""
    async with info.context.app.db.read() as conn:
        if after_id < await event_rows.pruned_through(conn):
            raise EventsExpired(
                f"Events after {after} may have been removed by retention: reload what you "
                "show, then follow from `latestEventId`."
            )
        newest = await event_rows.newest_id(conn, tenant_id=info.context.scope.tenant_id)
    if after_id > newest:
        raise BadRequest(
            f"`after`: {after} is past your newest event; pass an event ID you received, "
            "or `latestEventId`."
        )


def event_type(root: EventRecord) -> EventType:
    return EventType(root.type)


async def event_lead(root: EventRecord, info: Info) -> LeadRecord | None:
    return (
        None if root.lead_id is None else await info.context.loaders.lead_by_id.load(root.lead_id)
    )


async def event_sale(root: EventRecord, info: Info) -> SaleRecord | None:
    return (
        None if root.sale_id is None else await info.context.loaders.sale_by_id.load(root.sale_id)
    )


async def event_analysis(root: EventRecord, info: Info) -> AnalysisRecord | None:
    if root.analysis_id is None:
        return None
    return await info.context.loaders.analysis_by_id.load(root.analysis_id)
