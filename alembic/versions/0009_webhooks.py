"""Webhooks: endpoints, their deliveries, and the one way the app role defers a delivery

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26

`webhooks` and `webhook_deliveries` are tenant tables like every other: Row Level
Security with the tenant_isolation policy. The app role may also DELETE them (an admin
deletes an endpoint, and its deliveries go with it).

A delivery's job must commit with the delivery and its event, in the transaction of the
change: the app role calls `crm_defer_webhook_attempts`, which defers one procrastinate
job per delivery on the same connection. It is SECURITY DEFINER, so the app role needs
no rights on the queue schema at all, and it defers only deliveries that are pending,
of the tenant named, and (when a tenant is acting) of the acting tenant. The task and
queue names are the worker's (worker/tasks.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
TABLES = ("webhooks", "webhook_deliveries")
DEFER = "public.crm_defer_webhook_attempts(bigint, bigint[], integer, timestamptz)"

DEFER_FUNCTION = f"""
CREATE FUNCTION public.crm_defer_webhook_attempts(
    p_tenant_id bigint, p_delivery_ids bigint[], p_attempt integer, p_run_at timestamptz
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = procrastinate, pg_catalog, pg_temp AS $$
DECLARE
  deferred bigint[];
BEGIN
  IF {CURRENT_TENANT} IS NOT NULL AND {CURRENT_TENANT} <> p_tenant_id THEN
    RAISE EXCEPTION 'deliveries of tenant % cannot be deferred while acting for another',
      p_tenant_id;
  END IF;
  SELECT procrastinate_defer_jobs_v1(array_agg(
           ROW('webhooks', 'webhooks.deliver', 0, NULL, NULL,
               jsonb_build_object('tenant_id', d.tenant_id, 'delivery_id', d.id,
                                  'attempt', p_attempt),
               p_run_at)::procrastinate_job_to_defer_v1))
    INTO deferred
    FROM public.webhook_deliveries d
   WHERE d.id = ANY(p_delivery_ids) AND d.tenant_id = p_tenant_id AND d.status = 'pending';
  RETURN coalesce(cardinality(deferred), 0);
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("event_types", sa.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cardinality(event_types) > 0", name=op.f("ck_webhooks_some_event_types")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhooks_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(
        "ix_webhooks_tenant_created", "webhooks", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=50), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_deliveries_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_tenant_created",
        "webhook_deliveries",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_deliveries_tenant_webhook",
        "webhook_deliveries",
        ["tenant_id", "webhook_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_deliveries_created_at", "webhook_deliveries", ["created_at"], unique=False
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
    op.execute(DEFER_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {DEFER} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {DEFER} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {DEFER}")
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.drop_index("ix_webhook_deliveries_created_at", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_tenant_webhook", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_tenant_created", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhooks_tenant_created", table_name="webhooks")
    op.drop_table("webhooks")
