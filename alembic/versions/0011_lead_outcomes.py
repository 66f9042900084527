"""Lead outcomes: a WIN when a lead's sale is paid, a LOSS when the lead is lost

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

An outcome is written in the transaction of the change that decides it, at most one per
lead. `lead_outcome_analyses` links it to every analysis of the lead visible when it
was recorded: a fixed set, taken under the change's row lock, rather than a comparison
of timestamps (`now()` is when a transaction began, not when it committed, so times of
concurrent transactions do not tell which came first). The app role may read and append
within its tenant, never rewrite.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
TABLES = ("lead_outcomes", "lead_outcome_analyses")


def upgrade() -> None:
    op.create_table(
        "lead_outcomes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("sale_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "win",
                "loss",
                name="outcome_result",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_outcomes_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_lead_outcomes_sale_id_sales")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lead_outcomes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_outcomes")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_lead_outcomes_lead_id")),
    )
    op.create_index(
        "ix_lead_outcomes_tenant_occurred",
        "lead_outcomes",
        ["tenant_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_table(
        "lead_outcome_analyses",
        sa.Column("outcome_id", sa.BigInteger(), nullable=False),
        sa.Column("analysis_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["lead_outcomes.id"],
            name=op.f("fk_lead_outcome_analyses_outcome_id_lead_outcomes"),
        ),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["lead_analyses.id"],
            name=op.f("fk_lead_outcome_analyses_analysis_id_lead_analyses"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_lead_outcome_analyses_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("outcome_id", "analysis_id", name=op.f("pk_lead_outcome_analyses")),
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.drop_table("lead_outcome_analyses")
    op.drop_index("ix_lead_outcomes_tenant_occurred", table_name="lead_outcomes")
    op.drop_table("lead_outcomes")
