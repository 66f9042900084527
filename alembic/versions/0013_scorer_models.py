"""Learned scorers, each tenant's scorer choice, and what every outcome was decided on

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25

`lead_outcomes.features` keeps the scoring input of the lead as it stood just before the
change that decided it (its stage then: the last one before `lost` or the transfer), so
a learned scorer learns from what could have been known, never from the outcome itself.
`origin` tells outcomes recorded as they happened from those brought in by an import.
Outcomes recorded before this revision take the input of their last linked analysis
(a win's with the stage `qualified`, which every transfer starts from).

`scorer_models` holds each tenant's trained scorers, one row per version, never
rewritten: the parameters are plain numbers (JSON), not a pickled object, so loading a
model runs no code. `tenant_ai_settings` holds the scorer a tenant chose (no row: the
server's configured one). The app role reads and appends models, and reads and writes
its own tenant's choice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
TABLES = {"scorer_models": "SELECT, INSERT", "tenant_ai_settings": "SELECT, INSERT, UPDATE"}


def upgrade() -> None:
    op.add_column(
        "lead_outcomes",
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "lead_outcomes",
        sa.Column(
            "origin",
            sa.Enum(
                "recorded",
                "imported",
                name="outcome_origin",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="recorded",
            nullable=False,
        ),
    )
    op.execute(
        """
        UPDATE lead_outcomes AS o SET features = (
            SELECT CASE WHEN o.result = 'win'
                        THEN jsonb_set(a.input, '{stage}', '"qualified"')
                        ELSE a.input END
              FROM lead_outcome_analyses AS l
            JOIN lead_analyses AS a ON a.id = l.analysis_id
            WHERE l.outcome_id = o.id
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT 1
        )
        """
    )
    op.create_table(
        "scorer_models",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=60), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("held_out", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("trained_by", sa.String(length=254), nullable=True),
        sa.Column(
            "trained_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_scorer_models_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorer_models")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_scorer_models_tenant_id")),
    )
    op.create_table(
        "tenant_ai_settings",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "scorer",
            sa.Enum(
                "heuristic",
                "model",
                "learned",
                "learned_with_model_reasons",
                name="scorer_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_ai_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_ai_settings")),
    )
    for table, grants in TABLES.items():
        op.execute(f"GRANT {grants} ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )


def downgrade() -> None:
    for table in reversed(list(TABLES)):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.drop_table("tenant_ai_settings")
    op.drop_table("scorer_models")
    op.drop_column("lead_outcomes", "origin")
    op.drop_column("lead_outcomes", "features")
