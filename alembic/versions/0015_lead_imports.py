"""Lead imports from CSV

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25

`lead_imports` keeps each real import run (dry runs write nothing): who, which file (its
SHA-256) and the counts of its report, so the audit entry can name it. `lead_import_rows`
keeps the fingerprint of every row an import brought in, unique per tenant: running the
same file again finds its rows there and creates nothing. The app role may read and
append within its tenant, never rewrite.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
TABLES = ("lead_imports", "lead_import_rows")
COUNTS = ("rows_read", "created", "updated", "unchanged", "skipped", "duplicates", "invalid")


def upgrade() -> None:
    op.create_table(
        "lead_imports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lead_imports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_imports")),
    )
    op.create_index(
        "ix_lead_imports_tenant_created",
        "lead_imports",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "lead_import_rows",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lead_import_rows_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_import_rows_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["lead_imports.id"],
            name=op.f("fk_lead_import_rows_import_id_lead_imports"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "fingerprint", name=op.f("pk_lead_import_rows")),
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
    op.drop_table("lead_import_rows")
    op.drop_index("ix_lead_imports_tenant_created", table_name="lead_imports")
    op.drop_table("lead_imports")
