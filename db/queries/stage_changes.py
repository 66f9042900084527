"""The stage history of leads and sales."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change, insert_from
from db.models import StageChange, table
from db.records import StageChangeRecord, columns_of

stage_changes = table(StageChange)
_COLUMNS = columns_of(StageChangeRecord, stage_changes)


async def record(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    to_stage: str,
    from_stage: str | None,
    actor: str | None,
    reason: str | None = None,
    lead_id: int | None = None,
    sale_id: int | None = None,
) -> None:
    await conn.execute(
        insert(stage_changes).values(
            tenant_id=tenant_id,
            lead_id=lead_id,
            sale_id=sale_id,
            from_stage=from_stage,
            to_stage=to_stage,
            actor=actor,
            reason=reason,
        )
    )


def record_in(
    change: Change,
    *,
    to_stage: str,
    from_stage: str | None,
    actor: str | None,
    reason: str | None,
) -> None:
    """The changed lead's step, written by the change's own statement."""
    change.record(
        insert_from(
            stage_changes,
            change.row,
            copied={"tenant_id": "tenant_id", "lead_id": "id"},
            values={
                "from_stage": from_stage,
                "to_stage": to_stage,
                "actor": actor,
                "reason": reason,
            },
        )
    )


async def by_leads(
    conn: AsyncConnection, *, lead_ids: Sequence[int]
) -> dict[int, list[StageChangeRecord]]:
    return await _grouped(conn, stage_changes.c.lead_id, lead_ids)


async def by_sales(
    conn: AsyncConnection, *, sale_ids: Sequence[int]
) -> dict[int, list[StageChangeRecord]]:
    return await _grouped(conn, stage_changes.c.sale_id, sale_ids)


async def _grouped(
    conn: AsyncConnection, subject: ColumnElement[int | None], ids: Sequence[int]
) -> dict[int, list[StageChangeRecord]]:
    stmt = select(*_COLUMNS, subject.label("subject")).where(subject.in_(ids))
    grouped: dict[int, list[StageChangeRecord]] = defaultdict(list)
    for row in await conn.execute(stmt.order_by(stage_changes.c.id)):
        grouped[row.subject].append(StageChangeRecord.from_row(row[:-1]))
    return grouped
