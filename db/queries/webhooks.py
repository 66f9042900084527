"""Reads and writes of `webhooks` and `webhook_deliveries`, and deferring their attempts.

Deferring goes through `crm_defer_webhook_attempts` (migration 0009) on the caller's own
connection, so a delivery and the job that will attempt it commit together.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import BigInteger

from db.keyset import Page, PageRequest, paginate, to_page
from db.models import Webhook, WebhookDelivery, table
from db.records import WebhookDeliveryRecord, WebhookRecord, columns_of
from domain.webhooks import DeliveryStatus

webhooks = table(Webhook)
deliveries = table(WebhookDelivery)
_WEBHOOK = columns_of(WebhookRecord, webhooks)
_DELIVERY = columns_of(WebhookDeliveryRecord, deliveries)

_DEFER = text(
    "SELECT crm_defer_webhook_attempts(:tenant_id, :delivery_ids, :attempt, :run_at)"
).bindparams(bindparam("delivery_ids", type_=ARRAY(BigInteger)))
# The class of the per-tenant advisory locks on creating endpoints ("WHKS"); the events
# journal's class is another ("EVNT"), so the two never wait for each other.
_CREATION_LOCK = 1464355667
_LOCK_CREATION = text(
    "SELECT pg_advisory_xact_lock(:lock_class, (CAST(:tenant_id AS bigint) % 2147483647)::int)"
)


# ---------------------------------------------------------------- endpoints


async def insert_webhook(conn: AsyncConnection, *, values: dict[str, Any]) -> WebhookRecord:
    stmt = insert(webhooks).values(**values).returning(*_WEBHOOK)
    return WebhookRecord.from_row((await conn.execute(stmt)).one())


async def get_webhook(
    conn: AsyncConnection, *, tenant_id: int, webhook_id: int, for_update: bool = False
) -> WebhookRecord | None:
    stmt = select(*_WEBHOOK).where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == webhook_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else WebhookRecord.from_row(row)


async def get_webhooks(
    conn: AsyncConnection, *, tenant_id: int, webhook_ids: Sequence[int]
) -> list[WebhookRecord]:
    stmt = select(*_WEBHOOK).where(
        webhooks.c.tenant_id == tenant_id, webhooks.c.id.in_(webhook_ids)
    )
    return [WebhookRecord.from_row(row) for row in await conn.execute(stmt)]


async def list_webhooks(conn: AsyncConnection, *, tenant_id: int) -> list[WebhookRecord]:
    stmt = select(*_WEBHOOK).where(webhooks.c.tenant_id == tenant_id).order_by(webhooks.c.id)
    return [WebhookRecord.from_row(row) for row in await conn.execute(stmt)]


async def lock_creation(conn: AsyncConnection, *, tenant_id: int) -> None:
    """Wait until no other transaction is creating an endpoint of the tenant, and keep
    it so until this transaction ends: a count taken now stays true until the insert."""
    await conn.execute(_LOCK_CREATION, {"lock_class": _CREATION_LOCK, "tenant_id": tenant_id})


async def count_webhooks(conn: AsyncConnection, *, tenant_id: int) -> int:
    stmt = select(func.count()).select_from(webhooks).where(webhooks.c.tenant_id == tenant_id)
    return int((await conn.execute(stmt)).scalar_one())


async def update_webhook(
    conn: AsyncConnection, *, tenant_id: int, webhook_id: int, values: dict[str, Any]
) -> WebhookRecord | None:
    stmt = (
        update(webhooks)
        .where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == webhook_id)
        .values(**values, updated_at=func.now())
        .returning(*_WEBHOOK)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else WebhookRecord.from_row(row)


async def delete_webhook(conn: AsyncConnection, *, tenant_id: int, webhook_id: int) -> None:
    """Delete an endpoint; its deliveries go with it (ON DELETE CASCADE)."""
    await conn.execute(
        delete(webhooks).where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == webhook_id)
    )


async def count_failed_delivery(
    conn: AsyncConnection, *, tenant_id: int, webhook_id: int
) -> WebhookRecord | None:
    """One more delivery in a row that failed every attempt."""
    return await update_webhook(
        conn,
        tenant_id=tenant_id,
        webhook_id=webhook_id,
        values={"consecutive_failures": webhooks.c.consecutive_failures + 1},
    )


async def reset_failures(conn: AsyncConnection, *, tenant_id: int, webhook_id: int) -> None:
    """A delivery got through: the endpoint's failures in a row start again from 0."""
    await conn.execute(
        update(webhooks)
        .where(
            webhooks.c.tenant_id == tenant_id,
            webhooks.c.id == webhook_id,
            webhooks.c.consecutive_failures != 0,
        )
        .values(consecutive_failures=0)
    )


# ---------------------------------------------------------------- deliveries


async def defer_attempts(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    delivery_ids: Sequence[int],
    attempt: int,
    run_at: datetime | None = None,
) -> int:
    """Defer attempt number `attempt` of each delivery (at `run_at`, or at once), in the
    caller's transaction; how many jobs were deferred."""
    params = {
        "tenant_id": tenant_id,
        "delivery_ids": list(delivery_ids),
        "attempt": attempt,
        "run_at": run_at,
    }
    return int((await conn.execute(_DEFER, params)).scalar_one())


async def insert_delivery(
    conn: AsyncConnection, *, values: dict[str, Any]
) -> WebhookDeliveryRecord:
    stmt = insert(deliveries).values(**values).returning(*_DELIVERY)
    return WebhookDeliveryRecord.from_row((await conn.execute(stmt)).one())


async def get_delivery(
    conn: AsyncConnection, *, tenant_id: int, delivery_id: int
) -> WebhookDeliveryRecord | None:
    found = await get_deliveries(conn, tenant_id=tenant_id, delivery_ids=[delivery_id])
    return found[0] if found else None


async def get_deliveries(
    conn: AsyncConnection, *, tenant_id: int, delivery_ids: Sequence[int]
) -> list[WebhookDeliveryRecord]:
    stmt = select(*_DELIVERY).where(
        deliveries.c.tenant_id == tenant_id, deliveries.c.id.in_(delivery_ids)
    )
    return [WebhookDeliveryRecord.from_row(row) for row in await conn.execute(stmt)]


async def record_attempt(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    delivery_id: int,
    attempt: int,
    values: dict[str, Any],
) -> WebhookDeliveryRecord | None:
    """Write the outcome of attempt number `attempt`, only if the delivery is pending and
    this is the attempt it waits for; None when another run got there first."""
    stmt = (
        update(deliveries)
        .where(
            deliveries.c.tenant_id == tenant_id,
            deliveries.c.id == delivery_id,
            deliveries.c.attempts == attempt - 1,
            deliveries.c.status == DeliveryStatus.PENDING,
        )
        .values(**values, attempts=attempt, last_attempt_at=func.now(), updated_at=func.now())
        .returning(*_DELIVERY)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else WebhookDeliveryRecord.from_row(row)


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    webhook_id: int | None = None
    status: DeliveryStatus | None = None


def _filtered(tenant_id: int, delivery_filter: DeliveryFilter) -> Select[Any]:
    stmt = select(*_DELIVERY).where(deliveries.c.tenant_id == tenant_id)
    if delivery_filter.webhook_id is not None:
        stmt = stmt.where(deliveries.c.webhook_id == delivery_filter.webhook_id)
    if delivery_filter.status is not None:
        stmt = stmt.where(deliveries.c.status == delivery_filter.status)
    return stmt


async def list_deliveries_page(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    delivery_filter: DeliveryFilter,
    request: PageRequest,
) -> Page[WebhookDeliveryRecord]:
    """Newest first."""
    stmt = paginate(
        _filtered(tenant_id, delivery_filter),
        sort=deliveries.c.created_at,
        id_column=deliveries.c.id,
        descending=True,
        request=request,
    )
    rows = [WebhookDeliveryRecord.from_row(row) for row in await conn.execute(stmt)]
    return to_page(rows, request)


async def count_deliveries(
    conn: AsyncConnection, *, tenant_id: int, delivery_filter: DeliveryFilter
) -> int:
    inner = _filtered(tenant_id, delivery_filter).with_only_columns(deliveries.c.id).subquery()
    return int((await conn.execute(select(func.count()).select_from(inner))).scalar_one())


async def prune_deliveries(conn: AsyncConnection, *, older_than: datetime, batch: int) -> int:
    """Delete up to `batch` finished deliveries created before `older_than` (as the owner,
    for retention); how many went. Pending ones stay until they finish."""
    doomed = (
        select(deliveries.c.id)
        .where(
            deliveries.c.created_at < older_than,
            deliveries.c.status != DeliveryStatus.PENDING,
        )
        .limit(batch)
        .scalar_subquery()
    )
    result = await conn.execute(
        delete(deliveries).where(deliveries.c.id.in_(doomed)).returning(deliveries.c.id)
    )
    return len(result.scalars().all())


async def give_up(
    conn: AsyncConnection, *, tenant_id: int, delivery_id: int, attempt: int, reason: str
) -> WebhookDeliveryRecord | None:
    """Fail a pending delivery without sending it (its endpoint is disabled, or its event
    is gone), if attempt number `attempt` is the one it waits for."""
    stmt = (
        update(deliveries)
        .where(
            deliveries.c.tenant_id == tenant_id,
            deliveries.c.id == delivery_id,
            deliveries.c.attempts == attempt - 1,
            deliveries.c.status == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error=reason,
            updated_at=func.now(),
        )
        .returning(*_DELIVERY)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else WebhookDeliveryRecord.from_row(row)


_STRANDED = text(
    """
    SELECT d.tenant_id, d.id, d.attempts
      FROM webhook_deliveries d
     WHERE d.status = 'pending'
       AND coalesce(d.next_attempt_at, d.created_at) < :older_than
       AND NOT EXISTS (
             SELECT 1 FROM procrastinate.procrastinate_jobs j
              WHERE j.task_name = :task AND j.status IN ('todo', 'doing')
                AND (j.args ->> 'delivery_id')::bigint = d.id)
     ORDER BY d.id
     LIMIT :batch
    """
)


async def stranded_deliveries(
    conn: AsyncConnection, *, older_than: datetime, task_name: str, batch: int
) -> list[tuple[int, int, int]]:
    """(tenant, delivery, attempts made) of pending deliveries overdue since `older_than`
    that no job will attempt any more (as the owner: it reads the job queue)."""
    params = {"older_than": older_than, "task": task_name, "batch": batch}
    rows = await conn.execute(_STRANDED, params)
    return [(int(row.tenant_id), int(row.id), int(row.attempts)) for row in rows]
