"""One page of children for many parents in a single statement (for DataLoaders)."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.keyset import Page, PageRequest, fetch_order, seek_conditions, to_page

T = TypeVar("T")


async def page_per_parent(
    conn: AsyncConnection,
    *,
    table: Table,
    columns: Sequence[Column[Any]],
    parent_column: ColumnElement[int],
    parent_ids: Sequence[int],
    descending: bool,
    request: PageRequest,
    build: Callable[[Any], T],
) -> dict[int, Page[T]]:
    sort, id_column = table.c.created_at, table.c.id
    rank = (
        func.row_number()
        .over(
            partition_by=parent_column,
            order_by=fetch_order(sort, id_column, descending, request),
        )
        .label("rank")
    )
    ranked = (
        select(*columns, parent_column.label("parent_id"), rank)
        .where(
            parent_column.in_(parent_ids), *seek_conditions(sort, id_column, descending, request)
        )
        .subquery()
    )
    stmt = (
        select(*(ranked.c[c.name] for c in columns), ranked.c.parent_id)
        .where(ranked.c.rank <= request.limit + 1)
        .order_by(ranked.c.parent_id, ranked.c.rank)
    )
    grouped: dict[int, list[T]] = defaultdict(list)
    for row in await conn.execute(stmt):
        grouped[row.parent_id].append(build(row[:-1]))
    return {pid: to_page(grouped.get(pid, []), request) for pid in parent_ids}
