"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:58:17.112088
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "tenants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "partner",
                "referral",
                "website",
                "cold_outreach",
                "telegram",
                "event",
                "other",
                name="lead_source",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("business_domain", sa.String(length=100), nullable=True),
        sa.Column(
            "stage",
            sa.Enum(
                "new",
                "contacted",
                "qualified",
                "transferred",
                "lost",
                name="lead_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="new",
            nullable=False,
        ),
        sa.Column("lost_reason", sa.String(length=1000), nullable=True),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("latest_analysis_id", sa.BigInteger(), nullable=True),
        sa.Column("latest_score", sa.Double(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
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
            "(stage = 'lost') = (lost_reason IS NOT NULL)",
            name=op.f("ck_leads_lost_reason_iff_lost"),
        ),
        sa.CheckConstraint("message_count >= 0", name=op.f("ck_leads_message_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_leads_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index(
        "ix_leads_search",
        "leads",
        [
            sa.literal_column(
                "(coalesce(name, '') || ' ' || coalesce(company, '') || ' ' || coalesce(email, '')) gin_trgm_ops"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_leads_tenant_created", "leads", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_leads_tenant_domain",
        "leads",
        ["tenant_id", sa.literal_column("lower(business_domain)")],
        unique=False,
    )
    op.create_index(
        "ix_leads_tenant_message_count", "leads", ["tenant_id", "message_count", "id"], unique=False
    )
    op.create_index(
        "ix_leads_tenant_score",
        "leads",
        ["tenant_id", sa.literal_column("coalesce(latest_score, -1)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_leads_tenant_source_created",
        "leads",
        ["tenant_id", "source", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_leads_tenant_stage_created",
        "leads",
        ["tenant_id", "stage", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_leads_tenant_updated", "leads", ["tenant_id", "updated_at", "id"], unique=False
    )
    op.create_index(
        "uq_leads_tenant_idempotency_key",
        "leads",
        ["tenant_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "lead_analyses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column(
            "recommendation",
            sa.Enum(
                "transfer_to_sales",
                "continue_nurturing",
                "mark_lost",
                name="recommendation",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("input", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scorer", sa.String(length=100), nullable=False),
        sa.Column("prompt_version", sa.String(length=50), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_lead_analyses_score_in_unit_range")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_analyses_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lead_analyses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_analyses")),
    )
    op.create_index(
        "ix_lead_analyses_lead", "lead_analyses", ["lead_id", "created_at", "id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_leads_latest_analysis_id_lead_analyses"),
        "leads",
        "lead_analyses",
        ["latest_analysis_id"],
        ["id"],
    )
    op.create_table(
        "lead_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="message_direction",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_messages_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lead_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_messages")),
    )
    op.create_index(
        "ix_lead_messages_lead", "lead_messages", ["lead_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "sales",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "new",
                "kyc",
                "agreement",
                "paid",
                name="sale_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="new",
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
            "stage <> 'paid' OR amount > 0", name=op.f("ck_sales_paid_needs_amount")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_sales_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sales_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_sales_lead_id")),
    )
    op.create_index(
        "ix_sales_tenant_amount",
        "sales",
        ["tenant_id", sa.literal_column("coalesce(amount, -1)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_sales_tenant_created", "sales", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_sales_tenant_stage_created",
        "sales",
        ["tenant_id", "stage", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_sales_tenant_updated", "sales", ["tenant_id", "updated_at", "id"], unique=False
    )
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("sale_id", sa.BigInteger(), nullable=True),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(lead_id IS NULL) <> (sale_id IS NULL)", name=op.f("ck_stage_changes_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_stage_changes_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_stage_changes_sale_id_sales")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stage_changes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    op.create_index(
        "ix_stage_changes_lead",
        "stage_changes",
        ["lead_id", "id"],
        unique=False,
        postgresql_where=sa.text("lead_id IS NOT NULL"),
    )
    op.create_index(
        "ix_stage_changes_sale",
        "stage_changes",
        ["sale_id", "id"],
        unique=False,
        postgresql_where=sa.text("sale_id IS NOT NULL"),
    )
    op.execute("INSERT INTO tenants (name) VALUES ('Default')")


def downgrade() -> None:
    op.drop_index(
        "ix_stage_changes_sale",
        table_name="stage_changes",
        postgresql_where=sa.text("sale_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_stage_changes_lead",
        table_name="stage_changes",
        postgresql_where=sa.text("lead_id IS NOT NULL"),
    )
    op.drop_table("stage_changes")
    op.drop_index("ix_sales_tenant_updated", table_name="sales")
    op.drop_index("ix_sales_tenant_stage_created", table_name="sales")
    op.drop_index("ix_sales_tenant_created", table_name="sales")
    op.drop_index("ix_sales_tenant_amount", table_name="sales")
    op.drop_table("sales")
    op.drop_index("ix_lead_messages_lead", table_name="lead_messages")
    op.drop_table("lead_messages")
    op.drop_constraint(
        op.f("fk_leads_latest_analysis_id_lead_analyses"), "leads", type_="foreignkey"
    )
    op.drop_index("ix_lead_analyses_lead", table_name="lead_analyses")
    op.drop_table("lead_analyses")
    op.drop_index(
        "uq_leads_tenant_idempotency_key",
        table_name="leads",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index("ix_leads_tenant_updated", table_name="leads")
    op.drop_index("ix_leads_tenant_stage_created", table_name="leads")
    op.drop_index("ix_leads_tenant_source_created", table_name="leads")
    op.drop_index("ix_leads_tenant_score", table_name="leads")
    op.drop_index("ix_leads_tenant_message_count", table_name="leads")
    op.drop_index("ix_leads_tenant_domain", table_name="leads")
    op.drop_index("ix_leads_tenant_created", table_name="leads")
    op.drop_index("ix_leads_search", table_name="leads", postgresql_using="gin")
    op.drop_table("leads")
    op.drop_table("tenants")
