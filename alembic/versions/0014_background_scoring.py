"""Background scoring: the app role's way to queue a re-analysis, and the sweep's indexes

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25

`crm_defer_rescoring(tenant, lead_ids)` queues one `ai.rescore_lead` job per lead of the
tenant, in the transaction of the caller (a message, or the worker's stale sweep), and
returns how many it queued. Like 0009's function it is SECURITY DEFINER (the app role has
no rights on the queue schema) and refuses a tenant other than the acting one. Each job
carries the queueing lock `rescore:<lead id>`: while one waits for a worker, queueing the
lead again adds nothing (ON CONFLICT on procrastinate's unique index of waiting queueing
locks; procrastinate's own defer function would raise instead and end the caller's
transaction). It inserts into `procrastinate_jobs` itself, so a procrastinate upgrade must
check the columns named here (worker/queue_schema.py). Rescoring jobs rank below webhook
deliveries (priority -1 against 0): a worker busy with a sweep still takes deliveries first.

`ix_leads_rescore_queue` holds the active leads of each tenant in the order of their
latest analysis's id (never analysed first): ids grow with time, so the stale ones come
first and the sweep reads about as many entries as it queues. `ix_lead_analyses_tenant_
created` finds the newest analysis of a tenant older than the age, which bounds that scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
DEFER = "public.crm_defer_rescoring(bigint, bigint[])"
ACTIVE_STAGES = "stage IN ('new', 'contacted', 'qualified')"

DEFER_FUNCTION = f"""
CREATE FUNCTION public.crm_defer_rescoring(p_tenant_id bigint, p_lead_ids bigint[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, pg_temp AS $$
DECLARE
  queued integer;
BEGIN
  IF {CURRENT_TENANT} IS NOT NULL AND {CURRENT_TENANT} <> p_tenant_id THEN
    RAISE EXCEPTION 'leads of tenant % cannot be queued for scoring while acting for another',
      p_tenant_id;
  END IF;
  INSERT INTO procrastinate_jobs (queue_name, task_name, priority, queueing_lock, args)
  SELECT 'ai', 'ai.rescore_lead', -1, 'rescore:' || l.id,
         jsonb_build_object('tenant_id', l.tenant_id, 'lead_id', l.id)
    FROM unnest(p_lead_ids) WITH ORDINALITY AS wanted(id, position)
    JOIN public.leads AS l ON l.id = wanted.id AND l.tenant_id = p_tenant_id
   ORDER BY wanted.position
  ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
  GET DIAGNOSTICS queued = ROW_COUNT;
  RETURN queued;
END
$$
"""


def upgrade() -> None:
    op.create_index(
        "ix_leads_rescore_queue",
        "leads",
        ["tenant_id", sa.text("coalesce(latest_analysis_id, 0)"), "id"],
        unique=False,
        postgresql_where=sa.text(ACTIVE_STAGES),
    )
    op.create_index(
        "ix_lead_analyses_tenant_created",
        "lead_analyses",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.execute(DEFER_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {DEFER} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {DEFER} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {DEFER}")
    op.drop_index("ix_lead_analyses_tenant_created", table_name="lead_analyses")
    op.drop_index("ix_leads_rescore_queue", table_name="leads")
