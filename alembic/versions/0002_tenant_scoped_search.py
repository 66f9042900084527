"""Search index scoped by tenant

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

With many leads in one tenant, a trigram index on the text alone loses to the tenant
index; with tenant_id inside the GIN index (btree_gin) one index answers both.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = "coalesce(name, '') || ' ' || coalesce(company, '') || ' ' || coalesce(email, '')"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.drop_index("ix_leads_search", table_name="leads", postgresql_using="gin")
    op.create_index(
        "ix_leads_search",
        "leads",
        ["tenant_id", sa.literal_column(f"({_TEXT}) gin_trgm_ops")],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_leads_search", table_name="leads", postgresql_using="gin")
    op.create_index(
        "ix_leads_search",
        "leads",
        [sa.literal_column(f"({_TEXT}) gin_trgm_ops")],
        postgresql_using="gin",
    )
