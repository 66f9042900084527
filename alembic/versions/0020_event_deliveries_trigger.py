"""An event's webhook deliveries are made by the statement that appends it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

Until now services/events.py made each event's deliveries with two more statements after
the append. A change that records itself in one statement (db/change.py) cannot do that:
its event is appended inside the statement. So the journal does it: an AFTER INSERT
statement trigger on `events` reads the rows just appended (a transition table) and makes
a pending delivery of each to each enabled endpoint of its tenant that wants its type,
with the job of its first attempt. Every append, however it is written, gets them in its
own transaction; an append of no rows does nothing.

The trigger runs as the role that appends: Row Level Security keeps an app session to
the endpoints of its own tenant, and the jobs are deferred through
crm_defer_webhook_attempts (migration 0009), which checks the tenant again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELIVER = """
CREATE FUNCTION public.crm_events_deliveries() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  made record;
BEGIN
  FOR made IN
    WITH delivery AS (
      INSERT INTO public.webhook_deliveries (tenant_id, webhook_id, event_id, event_type)
      SELECT w.tenant_id, w.id, e.id, e.type
        FROM appended AS e
        JOIN public.webhooks AS w
          ON w.tenant_id = e.tenant_id AND w.enabled AND e.type = ANY (w.event_types)
       ORDER BY e.id, w.id
      RETURNING id, tenant_id
    )
    SELECT tenant_id, array_agg(id ORDER BY id) AS ids FROM delivery GROUP BY tenant_id
  LOOP
    PERFORM public.crm_defer_webhook_attempts(made.tenant_id, made.ids, 1, NULL);
  END LOOP;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(DELIVER)
    op.execute(
        "CREATE TRIGGER deliveries AFTER INSERT ON events "
        "REFERENCING NEW TABLE AS appended "
        "FOR EACH STATEMENT EXECUTE FUNCTION public.crm_events_deliveries()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER deliveries ON events")
    op.execute("DROP FUNCTION public.crm_events_deliveries()")
