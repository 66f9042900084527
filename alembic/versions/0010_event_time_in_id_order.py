"""An event's time is taken with its id, under the tenant's journal lock

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

`occurred_at` defaulted to now(), the start of the change's transaction, so a transaction
that began earlier but committed later carried an earlier time than events before it.
The trigger that draws the id under the tenant's lock (0007) now also stamps the time
then: within a tenant, later ids never have earlier times.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS_LOCK = 1163284052  # as in 0007


def _assign_id(stamp: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION public.crm_events_assign_id() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({EVENTS_LOCK}, (NEW.tenant_id % 2147483647)::int);
  NEW.id := nextval('public.events_id_seq');{stamp}
  RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute(_assign_id("\n  NEW.occurred_at := clock_timestamp();"))


def downgrade() -> None:
    op.execute(_assign_id(""))
