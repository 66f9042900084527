"""Appending domain events: the change's transaction records what happened.

Call `record` on the connection of the change, after its last row lock is taken and
right before the transaction ends: the event takes the tenant's journal lock (held to
commit), and so the change and its event commit or roll back together. The append itself
makes the event's webhook deliveries (migration 0020), in the same transaction.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
from db.queries import events as event_rows
from domain.events import EventType
from services.audit import Json, json_safe
from services.scope import Scope


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
    """Append one event of the scope's tenant; its id."""
    new = NewEvent(event_type, lead_id, sale_id, analysis_id, data or {})
    (event_id,) = await record_many(conn, scope, [new])
    return event_id


def record_about_lead_in(
    change: Change, event_type: EventType, *, data: Mapping[str, object]
) -> None:
    """An event about the lead `change` writes (of its tenant), appended by the change's
    own statement once the lead row is written: the journal lock comes last."""
    event_rows.append_in(
        change, about="lead_id", values={"type": event_type.value, "data": _json(data)}
    )


async def record_many(
    conn: AsyncConnection, scope: Scope, new_events: Sequence[NewEvent]
) -> list[int]:
    """Append events of the scope's tenant in this order, in a few statements however
    many there are (an import's); their ids."""
    return await event_rows.append(
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


def _json(data: Mapping[str, object]) -> dict[str, Json | list[Json]]:
    return {name: _value(value) for name, value in data.items()}


def _value(value: object) -> Json | list[Json]:
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return json_safe(value)
