"""Appends to and reads of `audit_log` (the app role can do nothing else with it)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change, insert_from
from db.keyset import Page, PageRequest, paginate, to_page
from db.models import AuditEntry, table
from db.records import AuditRecord, columns_of

audit_log = table(AuditEntry)
_COLUMNS = columns_of(AuditRecord, audit_log)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    entity_type: str | None = None
    entity: tuple[str, int] | None = None  # (type, id): one entity's history
    action: str | None = None
    actor: str | None = None  # case-insensitive
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


async def append(conn: AsyncConnection, *, values: dict[str, Any]) -> None:
    await conn.execute(insert(audit_log).values(**values))


def append_in(change: Change, *, values: dict[str, Any]) -> None:
    """An entry about the changed row (its tenant and id), written by the change's own
    statement."""
    change.record(
        insert_from(
            audit_log,
            change.row,
            copied={"tenant_id": "tenant_id", "entity_id": "id"},
            values=values,
        )
    )


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, entry_ids: Sequence[int]
) -> list[AuditRecord]:
    stmt = select(*_COLUMNS).where(
        audit_log.c.tenant_id == tenant_id, audit_log.c.id.in_(entry_ids)
    )
    return [AuditRecord.from_row(row) for row in await conn.execute(stmt)]


def _filtered(tenant_id: int, audit_filter: AuditFilter) -> Select[Any]:
    f = audit_filter
    stmt = select(*_COLUMNS).where(audit_log.c.tenant_id == tenant_id)
    if f.entity_type is not None:
        stmt = stmt.where(audit_log.c.entity_type == f.entity_type)
    if f.entity is not None:
        entity_type, entity_id = f.entity
        stmt = stmt.where(
            audit_log.c.entity_type == entity_type, audit_log.c.entity_id == entity_id
        )
    if f.action is not None:
        stmt = stmt.where(audit_log.c.action == f.action)
    if f.actor is not None:
        stmt = stmt.where(func.lower(audit_log.c.actor) == f.actor.lower())
    if f.since is not None:
        stmt = stmt.where(audit_log.c.created_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(audit_log.c.created_at < f.until)
    return stmt


async def list_page(
    conn: AsyncConnection, *, tenant_id: int, audit_filter: AuditFilter, request: PageRequest
) -> Page[AuditRecord]:
    """Newest first: by the time of the change's transaction, then by id."""
    stmt = paginate(
        _filtered(tenant_id, audit_filter),
        sort=audit_log.c.created_at,
        id_column=audit_log.c.id,
        descending=True,
        request=request,
    )
    return to_page([AuditRecord.from_row(row) for row in await conn.execute(stmt)], request)


async def count(conn: AsyncConnection, *, tenant_id: int, audit_filter: AuditFilter) -> int:
    inner = _filtered(tenant_id, audit_filter).with_only_columns(audit_log.c.id).subquery()
    return int((await conn.execute(select(func.count()).select_from(inner))).scalar_one())
