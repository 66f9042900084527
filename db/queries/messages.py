"""Reads and writes of `lead_messages`."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change, insert_from
from db.keyset import Page, PageRequest
from db.models import LeadMessage, table
from db.queries.windows import page_per_parent
from db.records import LeadMessageRecord, columns_of

messages = table(LeadMessage)
_COLUMNS = columns_of(LeadMessageRecord, messages)


def insert_in(change: Change, *, values: dict[str, Any]) -> None:
    """A message with the changed lead, written by the change's own statement."""
    change.record(
        insert_from(
            messages, change.row, copied={"tenant_id": "tenant_id", "lead_id": "id"}, values=values
        )
    )


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, message_ids: Sequence[int]
) -> list[LeadMessageRecord]:
    stmt = select(*_COLUMNS).where(
        messages.c.tenant_id == tenant_id, messages.c.id.in_(message_ids)
    )
    return [LeadMessageRecord.from_row(row) for row in await conn.execute(stmt)]


async def pages_by_lead(
    conn: AsyncConnection, *, lead_ids: Sequence[int], request: PageRequest
) -> dict[int, Page[LeadMessageRecord]]:
    """Oldest first (a conversation reads top to bottom), one page per lead."""
    return await page_per_parent(
        conn,
        table=messages,
        columns=_COLUMNS,
        parent_column=messages.c.lead_id,
        parent_ids=lead_ids,
        descending=False,
        request=request,
        build=LeadMessageRecord.from_row,
    )
