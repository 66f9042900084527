"""Appends to and reads of the event journal (`events`), and its retention.

Within a tenant, event ids follow commit order (migration 0007), so "every event after
id N" is a complete answer whenever it is asked: nothing can later appear below the
newest id a reader has seen.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change, insert_from
from db.models import Event, EventRetention, table
from db.records import EventRecord, columns_of

events = table(Event)
retention = table(EventRetention)
_COLUMNS = columns_of(EventRecord, events)


# Rows per INSERT: each row binds 6 parameters, and a statement may bind 32,767 at most.
APPEND_BATCH: Final = 4_000


async def append(conn: AsyncConnection, *, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert events, APPEND_BATCH rows per statement (the database draws their ids in the
    rows' order, migration 0007); their ids, in that order."""
    event_ids: list[int] = []
    for start in range(0, len(rows), APPEND_BATCH):
        batch = list(rows[start : start + APPEND_BATCH])
        stmt = insert(events).values(batch).returning(events.c.id)
        event_ids += sorted(int(event_id) for event_id in (await conn.execute(stmt)).scalars())
    return event_ids


def append_in(change: Change, *, about: str, values: dict[str, Any]) -> None:
    """An event about the changed row (its tenant, and its id as the column `about`),
    appended by the change's own statement."""
    change.record(
        insert_from(
            events, change.row, copied={"tenant_id": "tenant_id", about: "id"}, values=values
        )
    )


async def after(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    after_id: int,
    limit: int,
    types: Collection[str] | None = None,
) -> list[EventRecord]:
    """The tenant's events with an id above `after_id`, oldest first."""
    stmt = select(*_COLUMNS).where(events.c.tenant_id == tenant_id, events.c.id > after_id)
    if types is not None:
        stmt = stmt.where(events.c.type.in_(list(types)))
    stmt = stmt.order_by(events.c.id).limit(limit)
    return [EventRecord.from_row(row) for row in await conn.execute(stmt)]


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, event_ids: Sequence[int]
) -> list[EventRecord]:
    stmt = (
        select(*_COLUMNS)
        .where(events.c.tenant_id == tenant_id, events.c.id.in_(event_ids))
        .order_by(events.c.id)
    )
    return [EventRecord.from_row(row) for row in await conn.execute(stmt)]


async def newest_id(conn: AsyncConnection, *, tenant_id: int) -> int:
    """The id of the tenant's newest event; 0 when it has none."""
    stmt = select(func.coalesce(func.max(events.c.id), 0)).where(events.c.tenant_id == tenant_id)
    return int((await conn.execute(stmt)).scalar_one())


async def pruned_through(conn: AsyncConnection) -> int:
    """The highest event id retention has removed (0: none yet)."""
    stmt = select(retention.c.pruned_through).where(retention.c.id == 1)
    return int((await conn.execute(stmt)).scalar_one())


async def prune(conn: AsyncConnection, *, older_than: datetime, batch: int) -> int:
    """Delete up to `batch` events that occurred before `older_than` (as the owner: the
    app role cannot delete); how many went. Records the highest id removed."""
    doomed = (
        select(events.c.id)
        .where(events.c.occurred_at < older_than)
        .order_by(events.c.id)
        .limit(batch)
        .scalar_subquery()
    )
    removed = list(
        (await conn.execute(delete(events).where(events.c.id.in_(doomed)).returning(events.c.id)))
        .scalars()
        .all()
    )
    if removed:
        await conn.execute(
            update(retention)
            .where(retention.c.id == 1)
            .values(pruned_through=func.greatest(retention.c.pruned_through, max(removed)))
        )
    return len(removed)
