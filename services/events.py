"""Appending domain events: the change's transaction records what happened.

Call `record` on the connection of the change, after its last row lock is taken and
right before the transaction ends: the event takes the tenant's journal lock (held to
commit), and so the change and its event commit or roll back together. The event's
webhook deliveries (services/webhooks/deliveries.enqueue) are made on the same connection.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries import events as event_rows
from domain.events import EventType
from services.audit import Json, json_safe
from services.scope import Scope
from services.webhooks import deliveries as webhook_deliveries


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: EventType
    lead_id: int | None = None
    sale_id: int | None = None
    analysis_id: int | None = None
    data: Mapping[str, object] = field(default_factory=dict)


async def record(
    conn: AsyncConnection,
    scope: Scope,
    event_type: EventType,
    *,
    lead_id: int | None = None,
    sale_id: int | None = None,
    analysis_id: int | None = None,
    data: Mapping[str, object] | None = None,
) -> int:
    """Append one event of the scope's tenant, with its webhook deliveries; its id."""
    new = NewEvent(event_type, lead_id, sale_id, analysis_id, data or {})
    (event_id,) = await record_many(conn, scope, [new])
    return event_id


async def record_many(
    conn: AsyncConnection, scope: Scope, new_events: Sequence[NewEvent]
) -> list[int]:
    """Append events of the scope's tenant in this order, with their webhook deliveries,
    in a few statements however many there are (an import's); their ids."""
    event_ids = await event_rows.append(
        conn,
        rows=[
            {
                "tenant_id": scope.tenant_id,
                "type": new.type.value,
                "lead_id": new.lead_id,
                "sale_id": new.sale_id,
                "analysis_id": new.analysis_id,
                "data": _json(new.data),
            }
            for new in new_events
        ],
    )
    await webhook_deliveries.enqueue(
        conn,
        tenant_id=scope.tenant_id,
        events=[
            (event_id, new.type.value) for event_id, new in zip(event_ids, new_events, strict=True)
        ],
    )
    return event_ids


def _json(data: Mapping[str, object]) -> dict[str, Json | list[Json]]:
    return {name: _value(value) for name, value in data.items()}


def _value(value: object) -> Json | list[Json]:
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return json_safe(value)
