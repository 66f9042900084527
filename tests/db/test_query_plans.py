"""Every order and filter of `leads` can be served by an index, as the server runs it:
as `crm_app`, under Row Level Security, for both ways a page is read (the executor's
SQLAlchemy statement, db/queries/leads.py, and the compiled read path's text,
db/queries/lead_reads.py).

The table gets 20,000 varied leads and fresh statistics, so the planner weighs real
selectivity; sequential scans are switched off for the EXPLAIN, as the question is
whether an index *can* serve the query.
"""

from typing import Any

import pytest
from sqlalchemy import Select, text

from db.database import Database
from db.keyset import PageRequest
from db.models import DEFAULT_TENANT_ID
from db.queries import lead_reads
from db.queries.lead_reads import LEAD, Column, Selection
from db.queries.leads import LeadFilter, count_statement, page_statement
from db.tenancy import acting_for
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

ORDERS = [
    (LeadOrderField.CREATED_AT, "ix_leads_tenant_created"),
    (LeadOrderField.UPDATED_AT, "ix_leads_tenant_updated"),
    (LeadOrderField.SCORE, "ix_leads_tenant_score"),
    (LeadOrderField.MESSAGE_COUNT, "ix_leads_tenant_message_count"),
]

FILTERS = [
    (LeadFilter(stages=[LeadStage.QUALIFIED]), "ix_leads_tenant_stage_created"),
    (LeadFilter(sources=[LeadSource.PARTNER]), "ix_leads_tenant_source_created"),
    (LeadFilter(min_score=0.6), "ix_leads_tenant_score"),
    (LeadFilter(search="acme"), "crm_leads_matching"),
    (LeadFilter(business_domain="Fintech"), "ix_leads_tenant_domain"),
]
FILTER_IDS = ["stage", "source", "min-score", "search", "business-domain"]

_SELECTION = Selection((Column(LEAD, "id"), Column(LEAD, "name")))


@pytest.fixture
async def db(owner: Database, app_db: Database) -> Database:
    async with owner.transaction() as conn:
        await conn.exec_driver_sql(LEADS)
    async with owner.transaction() as conn:
        await conn.exec_driver_sql("ANALYZE leads")
    return app_db


async def _plan(db: Database, sql: str, parameters: tuple[Any, ...] = ()) -> str:
    with acting_for(DEFAULT_TENANT_ID):
        async with db.transaction() as conn:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            rows = await conn.exec_driver_sql(f"EXPLAIN {sql}", parameters)
            return "\n".join(row[0] for row in rows)


async def _statement_plan(db: Database, stmt: Select[Any]) -> str:
    async with db.transaction() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return await _plan(db, sql)


async def _compiled_plan(db: Database, lead_filter: LeadFilter, order: LeadOrderField) -> str:
    sql, parameters = lead_reads.page_sql(
        _SELECTION,
        tenant_id=DEFAULT_TENANT_ID,
        lead_filter=lead_filter,
        order=order,
        descending=True,
        request=PageRequest(limit=50),
    )
    with acting_for(DEFAULT_TENANT_ID):
        async with db.transaction() as conn:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            # asyncpg's own $n parameters, as the read pool sends them
            driver: Any = (await conn.get_raw_connection()).driver_connection
            rows = await driver.fetch(f"EXPLAIN {sql}", *parameters)
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(("order", "index"), ORDERS)
async def test_each_order_reads_its_index(db: Database, order: LeadOrderField, index: str) -> None:
    # given a page of leads in some order; when PostgreSQL plans it, either way
    stmt = page_statement(
        tenant_id=DEFAULT_TENANT_ID,
        lead_filter=LeadFilter(),
        order=order,
        descending=True,
        request=PageRequest(limit=50),
    )
    statement_plan = await _statement_plan(db, stmt)
    compiled_plan = await _compiled_plan(db, LeadFilter(), order)
    # then it walks the index of that order instead of sorting the leads (the compiled
    # statement sorts only the page's rows again, after joining)
    assert index in statement_plan, statement_plan
    assert "Sort" not in statement_plan, statement_plan
    assert index in compiled_plan, compiled_plan
    assert "Sort Key: leads" not in compiled_plan, compiled_plan


@pytest.mark.parametrize(("lead_filter", "index"), FILTERS, ids=FILTER_IDS)
async def test_each_filter_can_use_an_index(
    db: Database, lead_filter: LeadFilter, index: str
) -> None:
    # given a filter; when PostgreSQL plans counting its leads, and a page of them
    count = count_statement(tenant_id=DEFAULT_TENANT_ID, lead_filter=lead_filter)
    count_plan = await _statement_plan(db, count)
    page_plan = await _compiled_plan(db, lead_filter, LeadOrderField.CREATED_AT)
    # then the index made for that filter serves the count, and an index the page (for
    # a filter most leads pass, walking the newest first and skipping a few is cheaper)
    assert index in count_plan, count_plan
    assert "Seq Scan on leads" not in page_plan, page_plan
    assert "Index" in page_plan or "crm_leads_found" in page_plan, page_plan


async def test_the_search_function_reads_the_trigram_index(db: Database, owner: Database) -> None:
    # given the body of crm_leads_matching (it runs as the owner, so RLS does not hide
    # the index from ILIKE); when PostgreSQL plans it
    body = await _plan(
        owner,
        "SELECT id FROM leads WHERE tenant_id = 1 AND "
        "(coalesce(name, '') || ' ' || coalesce(company, '') || ' ' || coalesce(email, ''))"
        " ILIKE '%acme%' ESCAPE '\\'",
    )
    # then the trigram index answers it
    assert "ix_leads_search" in body, body
