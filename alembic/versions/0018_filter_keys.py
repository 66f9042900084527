"""Score and domain filters as plain columns, so indexes serve them under RLS

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26

Under Row Level Security PostgreSQL applies a policy's condition before any condition
it cannot prove leakproof, and it proves none that contains COALESCE or lower(): as
`crm_app`, `coalesce(latest_score, -1) >= 0.6` and `lower(business_domain) = 'fintech'`
were filters on every lead of the tenant, not index conditions. Stored generated columns
hold those expressions; comparing a column uses leakproof operators, so the indexes on
them serve the filters (and the score order) for the app as they do for the owner.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE leads"
        " ADD COLUMN score_key double precision"
        " GENERATED ALWAYS AS (coalesce(latest_score, -1)) STORED,"
        " ADD COLUMN domain_key varchar(100)"
        " GENERATED ALWAYS AS (lower(business_domain)) STORED"
    )
    op.execute("DROP INDEX ix_leads_tenant_score")
    op.execute("CREATE INDEX ix_leads_tenant_score ON leads (tenant_id, score_key, id)")
    op.execute("DROP INDEX ix_leads_tenant_domain")
    op.execute("CREATE INDEX ix_leads_tenant_domain ON leads (tenant_id, domain_key)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_leads_tenant_domain")
    op.execute("DROP INDEX ix_leads_tenant_score")
    op.execute("ALTER TABLE leads DROP COLUMN domain_key, DROP COLUMN score_key")
    op.execute(
        "CREATE INDEX ix_leads_tenant_score ON leads (tenant_id, coalesce(latest_score, -1), id)"
    )
    op.execute("CREATE INDEX ix_leads_tenant_domain ON leads (tenant_id, lower(business_domain))")
