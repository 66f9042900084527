"""Every order and filter of `leads` can be served by an index.

The table gets 20,000 varied leads and fresh statistics, so the planner weighs real
selectivity; sequential scans are switched off for the EXPLAIN, as the question is
whether an index *can* serve the query.
"""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Select, text

from db.database import Database, create_engine
from db.keyset import PageRequest
from db.models import DEFAULT_TENANT_ID
from db.queries.leads import LeadFilter, count_statement, page_statement
from domain.enums import LeadOrderField, LeadSource, LeadStage

LEADS = """
INSERT INTO leads (tenant_id, name, company, email, source, stage, business_domain,
                   latest_score, message_count)
SELECT 1, 'Lead ' || g, 'Company ' || g, 'lead' || g || '@example.com',
       (ARRAY['partner', 'referral', 'website', 'cold_outreach', 'telegram', 'event',
              'other'])[1 + g % 7],
       (ARRAY['new','contacted','qualified'])[1 + g % 3],
       CASE WHEN g % 2 = 0 THEN 'domain' || (g % 50) END,
       CASE WHEN g % 3 = 0 THEN (g % 100) / 100.0 END,
       g % 20
FROM generate_series(1, 20000) AS g
"""


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[Database]:
    database = Database(create_engine(migrated, pool_size=1))
    async with database.transaction() as conn:
        await conn.exec_driver_sql(LEADS)
    async with database.transaction() as conn:
        await conn.exec_driver_sql("ANALYZE leads")
    yield database
    await database.dispose()


async def _plan(db: Database, stmt: Select[object]) -> str:
    async with db.transaction() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await conn.exec_driver_sql(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("order", "index"),
    [
        (LeadOrderField.CREATED_AT, "ix_leads_tenant_created"),
        (LeadOrderField.UPDATED_AT, "ix_leads_tenant_updated"),
        (LeadOrderField.SCORE, "ix_leads_tenant_score"),
        (LeadOrderField.MESSAGE_COUNT, "ix_leads_tenant_message_count"),
    ],
)
async def test_each_order_reads_its_index(db: Database, order: LeadOrderField, index: str) -> None:
    # given a page of leads in some order; when PostgreSQL plans it
    stmt = page_statement(
        tenant_id=DEFAULT_TENANT_ID,
        lead_filter=LeadFilter(),
        order=order,
        descending=True,
        request=PageRequest(limit=50),
    )
    plan = await _plan(db, stmt)
    # then it walks the index of that order instead of sorting
    assert index in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize(
    ("lead_filter", "index"),
    [
        (LeadFilter(stages=[LeadStage.QUALIFIED]), "ix_leads_tenant_stage_created"),
        (LeadFilter(sources=[LeadSource.PARTNER]), "ix_leads_tenant_source_created"),
        (LeadFilter(min_score=0.6), "ix_leads_tenant_score"),
        (LeadFilter(search="acme"), "ix_leads_search"),
        (LeadFilter(business_domain="Fintech"), "ix_leads_tenant_domain"),
    ],
    ids=["stage", "source", "min-score", "search", "business-domain"],
)
async def test_each_filter_can_use_an_index(
    db: Database, lead_filter: LeadFilter, index: str
) -> None:
    # given a filter; when PostgreSQL plans counting its leads
    plan = await _plan(db, count_statement(tenant_id=DEFAULT_TENANT_ID, lead_filter=lead_filter))
    # then the index made for that filter serves it
    assert index in plan, plan
