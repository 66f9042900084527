"""The event journal: every change appends a domain event, in commit order per tenant

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

A BEFORE INSERT trigger takes a per-tenant transaction lock and only then draws the
event's id, so two transactions of one tenant cannot commit their events out of id
order: a reader that has seen event N never later finds a new event below N. Services
append events last in their transaction, so the lock is held only until the commit.
An AFTER INSERT trigger sends "<tenant id>:<event id>" on the `crm_events` channel; the
notification goes out at commit and never for a rolled-back change. The app role may
read and append within its tenant; retention deletes as the owner and records how far
it went in `event_retention`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
EVENTS_LOCK = 1163284052  # the class of the per-tenant advisory locks ("EVNT")

ASSIGN_ID = f"""
CREATE FUNCTION public.crm_events_assign_id() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({EVENTS_LOCK}, (NEW.tenant_id % 2147483647)::int);
  NEW.id := nextval('public.events_id_seq');
  RETURN NEW;
END
$$
"""

NOTIFY = """
CREATE FUNCTION public.crm_events_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('crm_events', NEW.tenant_id::text || ':' || NEW.id::text);
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE events_id_seq AS bigint")
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("sale_id", sa.BigInteger(), nullable=True),
        sa.Column("analysis_id", sa.BigInteger(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY events.id")
    op.create_index("ix_events_tenant_id", "events", ["tenant_id", "id"], unique=False)
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"], unique=False)
    op.execute(ASSIGN_ID)
    op.execute(NOTIFY)
    op.execute(
        "CREATE TRIGGER assign_id BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION public.crm_events_assign_id()"
    )
    op.execute(
        "CREATE TRIGGER notify AFTER INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION public.crm_events_notify()"
    )
    op.execute(f"GRANT SELECT, INSERT ON events TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE events_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE events ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON events "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.create_table(
        "event_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_retention_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_retention")),
    )
    op.execute("INSERT INTO event_retention (id, pruned_through) VALUES (1, 0)")
    op.execute(f"GRANT SELECT ON event_retention TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON event_retention FROM {APP_ROLE}")
    op.drop_table("event_retention")
    op.execute("DROP POLICY tenant_isolation ON events")
    op.execute(f"REVOKE ALL ON events FROM {APP_ROLE}")
    op.execute("DROP TRIGGER notify ON events")
    op.execute("DROP TRIGGER assign_id ON events")
    op.execute("DROP FUNCTION public.crm_events_notify()")
    op.execute("DROP FUNCTION public.crm_events_assign_id()")
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_index("ix_events_tenant_id", table_name="events")
    op.drop_table("events")
