"""Queueing leads for background scoring (migration 0014's `crm_defer_rescoring`).

The app role reaches the job queue only through that function; each statement here is
one round trip, in the caller's transaction, under Row Level Security.
"""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.enums import MessageDirection

# Counted under the lead's row lock (recordLeadMessage holds it), so two messages never
# see the same count. `ix_lead_messages_lead` finds the lead's messages.
_AFTER_INBOUND_MESSAGE = text(
    """
    SELECT public.crm_defer_rescoring(:tenant_id, ARRAY[:lead_id]::bigint[])
      FROM (SELECT count(*) AS inbound FROM lead_messages
             WHERE tenant_id = :tenant_id AND lead_id = :lead_id AND direction = :inbound)
           AS counted
     WHERE counted.inbound % :every = 0
    """
)

# Active leads whose latest analysis is older than :before (or, never analysed, that were
# created before it), oldest first, handed to the queueing function in one statement.
# The predicate and the ordering are `ix_leads_rescore_queue`'s (db/models.py; the
# planner uses a partial index only for a query that repeats its WHERE). Analysis ids
# grow with time, so a lead whose latest analysis id is above that of the tenant's newest
# analysis older than :before (`ix_lead_analyses_tenant_created`) is fresh: the index
# scan stops there rather than read every active lead. The join checks the time exactly.
QUEUE_STALE = text(
    """
    SELECT public.crm_defer_rescoring(:tenant_id, ARRAY(
        SELECT l.id
          FROM leads AS l
          LEFT JOIN lead_analyses AS a ON a.id = l.latest_analysis_id
         WHERE l.tenant_id = :tenant_id
           AND l.stage IN ('new', 'contacted', 'qualified')
           AND coalesce(l.latest_analysis_id, 0) <= coalesce(
                 (SELECT newest.id FROM lead_analyses AS newest
                   WHERE newest.tenant_id = :tenant_id AND newest.created_at < :before
                   ORDER BY newest.created_at DESC, newest.id DESC
                   LIMIT 1),
                 0)
           AND coalesce(a.created_at, l.created_at) < :before
         ORDER BY coalesce(l.latest_analysis_id, 0), l.id
         LIMIT :limit))
    """
)


async def queue_after_inbound_message(
    conn: AsyncConnection, *, tenant_id: int, lead_id: int, every: int
) -> bool:
    """Queue the lead when its inbound messages are now a multiple of `every`; whether a
    new job was queued (False too when one was already waiting)."""
    queued = await conn.scalar(
        _AFTER_INBOUND_MESSAGE,
        {
            "tenant_id": tenant_id,
            "lead_id": lead_id,
            "inbound": MessageDirection.INBOUND.value,
            "every": every,
        },
    )
    return bool(queued)


async def queue_stale(
    conn: AsyncConnection, *, tenant_id: int, analyzed_before: datetime, limit: int
) -> int:
    """Queue up to `limit` of the tenant's stale active leads; how many were queued (the
    others of those found are waiting already)."""
    queued = await conn.scalar(
        QUEUE_STALE, {"tenant_id": tenant_id, "before": analyzed_before, "limit": limit}
    )
    return int(queued or 0)
