"""`auditLog`: the tenant's change history, newest first, and the fields of its entries."""

import functools
from datetime import datetime

from db.queries import audit as audit_rows
from db.records import AuditRecord
from domain.global_ids import to_global_id
from resolvers.context import Info
from resolvers.datetimes import as_utc
from resolvers.errors import BadRequest
from resolvers.ids import InvalidId, parse_global_id
from resolvers.pagination import Connection, PageArgs, list_connection
from schema import audit_inputs as inputs

ORDERING = "audit:newest"


def audit_entry_global_id(root: AuditRecord) -> str:
    return to_global_id("AuditEntry", root.id)


def entity_global_id(root: AuditRecord) -> str:
    return to_global_id(root.entity_type, root.entity_id)


async def audit_log(
    info: Info, *, where: inputs.AuditLogFilter | None, page: PageArgs
) -> Connection[AuditRecord]:
    audit_filter = _audit_filter(where or inputs.AuditLogFilter())
    tenant_id = info.context.scope.tenant_id
    return await list_connection(
        info.context.app.db,
        ordering=ORDERING,
        sort_type=datetime,
        args=page,
        fetch_page=functools.partial(
            audit_rows.list_page, tenant_id=tenant_id, audit_filter=audit_filter
        ),
        fetch_count=functools.partial(
            audit_rows.count, tenant_id=tenant_id, audit_filter=audit_filter
        ),
        sort_value=lambda row: row.created_at,
    )


def _audit_filter(where: inputs.AuditLogFilter) -> audit_rows.AuditFilter:
    return audit_rows.AuditFilter(
        entity_type=where.entity_type,
        entity=None if where.entity_id is None else _entity(where.entity_id),
        action=where.action,
        actor=where.actor,
        since=as_utc(where.since, "filter.since"),
        until=as_utc(where.until, "filter.until"),
    )


def _entity(global_id: str) -> tuple[str, int]:
    try:
        return parse_global_id(global_id)
    except InvalidId as exc:
        raise BadRequest(str(exc)) from None
