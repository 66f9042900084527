"""Appending domain events: the change's transaction records what happened.

Call `record` on the connection of the change, after its last row lock is taken and
right before the transaction ends: the event takes the tenant's journal lock (held to
commit), and so the change and its event commit or roll back together. The event's
webhook deliveries (services/webhooks/deliveries.enqueue) are made on the same connection.
"""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries import events as event_rows
from domain.events import EventType
from services.audit import Json, json_safe
from services.scope import Scope
from services.webhooks import deliveries as webhook_deliveries


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
    event_id = await event_rows.append(
        conn,
        values={
            "tenant_id": scope.tenant_id,
            "type": event_type.value,
            "lead_id": lead_id,
            "sale_id": sale_id,
            "analysis_id": analysis_id,
            "data": _json(data or {}),
        },
    )
    await webhook_deliveries.enqueue(
        conn, tenant_id=scope.tenant_id, event_id=event_id, event_type=event_type.value
    )
    return event_id


def _json(data: Mapping[str, object]) -> dict[str, Json | list[Json]]:
    return {name: _value(value) for name, value in data.items()}


def _value(value: object) -> Json | list[Json]:
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return json_safe(value)
