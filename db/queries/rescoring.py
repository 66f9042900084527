"""Queueing leads for background scoring (migration 0014's `crm_defer_rescoring`).

The app role reaches the job queue only through that function, under Row Level Security.
"""

from datetime import datetime

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
from db.queries.messages import messages
from domain.enums import MessageDirection

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


def queue_after_inbound_message_in(change: Change, *, every: int) -> None:
    """Queue the changed lead, by the change's own statement, when the inbound message
    it records makes the lead's inbound count a multiple of `every`.

    The statement does not see the message it inserts, so the count is of the earlier
    ones, plus this one. The change is guarded by the lead's version, so no other message
    can have been recorded for the lead since it was read (`ix_lead_messages_lead`)."""
    lead = change.row
    earlier = (
        select(func.count())
        .where(
            messages.c.tenant_id == lead.c.tenant_id,
            messages.c.lead_id == lead.c.id,
            messages.c.direction == MessageDirection.INBOUND,
        )
        .scalar_subquery()
    )
    due = (earlier + 1) % every == 0
    queue = func.public.crm_defer_rescoring(lead.c.tenant_id, array([lead.c.id]))
    change.answer(case((due, queue), else_=0).label("rescoring_queued"))


async def queue_stale(
    conn: AsyncConnection, *, tenant_id: int, analyzed_before: datetime, limit: int
) -> int:
    """Queue up to `limit` of the tenant's stale active leads; how many were queued (the
    others of those found are waiting already)."""
    queued = await conn.scalar(
        QUEUE_STALE, {"tenant_id": tenant_id, "before": analyzed_before, "limit": limit}
    )
    return int(queued or 0)
