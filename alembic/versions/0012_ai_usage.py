"""AI cost: tokens per analysis, usage counters, and per-tenant budgets

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

`lead_analyses` records the tokens a model call used (NULL: no model, or none reported).
`ai_usage` counts, per tenant, UTC day and answering scorer, the scorings made, the
analyses reused from the cache, and tokens: what `aiUsage` sums. `ai_budgets` holds one
row per tenant and UTC day: the calls of the current minute and the day's tokens, checked
and bumped in one statement so every process sees the same budget. The app role reads,
inserts and updates both within its tenant.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
TABLES = ("ai_usage", "ai_budgets")


def _counter(name: str, kind: sa.types.TypeEngine[int]) -> sa.Column[int]:
    return sa.Column(name, kind, server_default="0", nullable=False)


def upgrade() -> None:
    op.add_column("lead_analyses", sa.Column("tokens_in", sa.Integer(), nullable=True))
    op.add_column("lead_analyses", sa.Column("tokens_out", sa.Integer(), nullable=True))
    op.create_table(
        "ai_usage",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scorer", sa.String(length=100), nullable=False),
        _counter("calls", sa.Integer()),
        _counter("cache_hits", sa.Integer()),
        _counter("tokens_in", sa.BigInteger()),
        _counter("tokens_out", sa.BigInteger()),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ai_usage_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "scorer", name=op.f("pk_ai_usage")),
    )
    op.create_table(
        "ai_budgets",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        _counter("minute_calls", sa.Integer()),
        _counter("tokens", sa.BigInteger()),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ai_budgets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_ai_budgets")),
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.drop_table("ai_budgets")
    op.drop_table("ai_usage")
    op.drop_column("lead_analyses", "tokens_out")
    op.drop_column("lead_analyses", "tokens_in")
