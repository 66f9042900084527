"""Reads and writes of `sales`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.keyset import Page, PageRequest, paginate, to_page
from db.models import Sale, table
from db.records import SaleRecord, columns_of
from domain.enums import SaleOrderField, SaleStage

sales = table(Sale)
_COLUMNS = columns_of(SaleRecord, sales)

SORT_EXPRESSIONS: dict[SaleOrderField, ColumnElement[Any]] = {
    SaleOrderField.CREATED_AT: sales.c.created_at,
    SaleOrderField.UPDATED_AT: sales.c.updated_at,
    SaleOrderField.AMOUNT: func.coalesce(sales.c.amount, -1),
}


def sort_value(record: SaleRecord, field: SaleOrderField) -> Any:
    if field is SaleOrderField.AMOUNT:
        # A Decimal, like the amounts, so the cursor of a sale without one decodes too.
        return Decimal(-1) if record.amount is None else record.amount
    return getattr(record, field.value)


@dataclass(frozen=True, slots=True)
class SaleFilter:
    stages: Sequence[SaleStage] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


async def get(
    conn: AsyncConnection, *, tenant_id: int, sale_id: int, for_update: bool = False
) -> SaleRecord | None:
    stmt = select(*_COLUMNS).where(sales.c.tenant_id == tenant_id, sales.c.id == sale_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else SaleRecord.from_row(row)


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, sale_ids: Sequence[int]
) -> list[SaleRecord]:
    stmt = select(*_COLUMNS).where(sales.c.tenant_id == tenant_id, sales.c.id.in_(sale_ids))
    return [SaleRecord.from_row(row) for row in await conn.execute(stmt)]


async def by_leads(conn: AsyncConnection, *, lead_ids: Sequence[int]) -> list[SaleRecord]:
    stmt = select(*_COLUMNS).where(sales.c.lead_id.in_(lead_ids))
    return [SaleRecord.from_row(row) for row in await conn.execute(stmt)]


async def insert_sale(conn: AsyncConnection, *, tenant_id: int, lead_id: int) -> SaleRecord:
    stmt = insert(sales).values(tenant_id=tenant_id, lead_id=lead_id).returning(*_COLUMNS)
    return SaleRecord.from_row((await conn.execute(stmt)).one())


async def update_sale(conn: AsyncConnection, *, sale_id: int, values: dict[str, Any]) -> SaleRecord:
    stmt = (
        update(sales)
        .where(sales.c.id == sale_id)
        .values(**values, version=sales.c.version + 1, updated_at=func.now())
        .returning(*_COLUMNS)
    )
    return SaleRecord.from_row((await conn.execute(stmt)).one())


def _filtered(tenant_id: int, sale_filter: SaleFilter) -> Select[Any]:
    stmt = select(*_COLUMNS).where(sales.c.tenant_id == tenant_id)
    if sale_filter.stages is not None:  # an empty list matches nothing
        stmt = stmt.where(sales.c.stage.in_(sale_filter.stages))
    if sale_filter.created_after is not None:
        stmt = stmt.where(sales.c.created_at >= sale_filter.created_after)
    if sale_filter.created_before is not None:
        stmt = stmt.where(sales.c.created_at < sale_filter.created_before)
    return stmt


async def list_page(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    sale_filter: SaleFilter,
    order: SaleOrderField,
    descending: bool,
    request: PageRequest,
) -> Page[SaleRecord]:
    stmt = paginate(
        _filtered(tenant_id, sale_filter),
        sort=SORT_EXPRESSIONS[order],
        id_column=sales.c.id,
        descending=descending,
        request=request,
    )
    return to_page([SaleRecord.from_row(row) for row in await conn.execute(stmt)], request)


async def count(conn: AsyncConnection, *, tenant_id: int, sale_filter: SaleFilter) -> int:
    inner = _filtered(tenant_id, sale_filter).with_only_columns(sales.c.id).subquery()
    return int((await conn.execute(select(func.count()).select_from(inner))).scalar_one())
