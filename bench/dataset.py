"""The read benchmark's data: a tenant with many leads (1,000,000 by default), about two
analyses each and a paid-or-open sale for about one in ten, made in a few SQL statements
(generate_series) and kept between runs.

    .venv/bin/python -m bench.dataset --leads 1000000     # builds once, then reuses

It lives in its own database (`crm_bench_reads`) on the embedded PostgreSQL, or on
BENCH_DATABASE_URL's server. A database that already holds the asked-for number of leads
is reused as it is; any other is built again from empty.
"""

import argparse
import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.service import kept_database
from db import migrations
from db.database import Database, open_database
from services.users import admin_key

READS_DATABASE = "crm_bench_reads"
BENCH_TENANT = "Bench"
BENCH_ADMIN = "bench-reads@crm.localhost"

_EMPTY = (
    "UPDATE leads SET latest_analysis_id = NULL WHERE tenant_id = :tenant",
    "DELETE FROM sales WHERE tenant_id = :tenant",
    "DELETE FROM lead_analyses WHERE tenant_id = :tenant",
    "DELETE FROM leads WHERE tenant_id = :tenant",
)

# Everything below is derived from the lead's number n, so a build is repeatable.
_LEADS = """
INSERT INTO leads (tenant_id, name, company, email, source, business_domain, stage,
                   lost_reason, message_count, created_at, updated_at)
SELECT :tenant,
       'Lead ' || n,
       CASE WHEN n % 3 = 0 THEN 'Company ' || (n % 5000) END,
       CASE WHEN n % 2 = 0 THEN 'lead' || n || '@example.com' END,
       (ARRAY['partner','referral','website','cold_outreach','telegram','event','other'])
           [1 + n % 7],
       CASE WHEN n % 4 <> 0 THEN (ARRAY['fintech','retail','logistics','health'])[1 + n % 4] END,
       CASE WHEN n % 10 = 0 THEN 'transferred'
            WHEN n % 10 = 1 THEN 'lost'
            ELSE (ARRAY['new','contacted','qualified'])[1 + n % 3] END,
       CASE WHEN n % 10 = 1 THEN 'No budget' END,
       n % 23,
       timestamptz '2024-01-01 00:00:00+00' + n * interval '37 seconds',
       timestamptz '2024-01-01 00:00:00+00' + n * interval '37 seconds'
  FROM generate_series(1, :count) AS n
"""

# Two analyses per lead for two leads in three, one for the rest.
_ANALYSES = """
INSERT INTO lead_analyses (tenant_id, lead_id, score, recommendation, reason, factors,
                           input, scorer, latency_ms, created_at)
SELECT l.tenant_id, l.id,
       round(((l.id * 7919 + k * 104729) % 1000) / 1000.0, 3),
       (ARRAY['transfer_to_sales','continue_nurturing','mark_lost'])[1 + (l.id + k) % 3],
       'Benchmark analysis', '[]'::jsonb, '{}'::jsonb, 'heuristic', 1,
       l.created_at + k * interval '1 hour'
  FROM leads AS l
  CROSS JOIN generate_series(1, 2) AS k
 WHERE l.tenant_id = :tenant AND (k = 1 OR l.id % 3 <> 0)
"""

_LATEST = """
UPDATE leads AS l SET latest_analysis_id = a.id, latest_score = a.score
  FROM (SELECT DISTINCT ON (lead_id) lead_id, id, score FROM lead_analyses
         WHERE tenant_id = :tenant ORDER BY lead_id, created_at DESC, id DESC) AS a
 WHERE l.id = a.lead_id
"""

# The transferred leads' sales, at every stage in turn; paid ones with an amount.
_SALES = """
INSERT INTO sales (tenant_id, lead_id, stage, amount, currency, created_at, updated_at)
SELECT tenant_id, id,
       (ARRAY['new','kyc','agreement','paid'])[1 + k % 4],
       CASE WHEN k % 4 = 3 THEN 1000 + id % 9000 END,
       CASE WHEN k % 4 = 3 THEN 'EUR' END,
       created_at + interval '2 days', created_at + interval '2 days'
  FROM (SELECT tenant_id, id, created_at, row_number() OVER (ORDER BY id) AS k
          FROM leads WHERE tenant_id = :tenant AND stage = 'transferred') AS transferred
"""


@dataclass(frozen=True)
class Dataset:
    database_url: str  # the owner's
    tenant_id: int
    leads: int
    admin_key: str


async def ensure_dataset(database_url: str, *, leads: int) -> Dataset:
    """The data set on `database_url` (migrated), built unless it holds `leads` leads."""
    db = open_database(database_url, pool_size=1)
    try:
        await migrations.upgrade(db.engine)
        async with db.transaction() as conn:
            tenant_id = await _bench_tenant(conn)
            held = await _lead_count(conn, tenant_id)
        if held != leads:
            await _build(db, tenant_id, leads)
        key = await admin_key(db=db, tenant_id=tenant_id, email=BENCH_ADMIN)
    finally:
        await db.dispose()
    return Dataset(database_url=database_url, tenant_id=tenant_id, leads=leads, admin_key=key)


async def _bench_tenant(conn: AsyncConnection) -> int:
    found = await conn.scalar(text("SELECT id FROM tenants WHERE name = :n"), {"n": BENCH_TENANT})
    if found is not None:
        return int(found)
    made = await conn.scalar(
        text("INSERT INTO tenants (name) VALUES (:n) RETURNING id"), {"n": BENCH_TENANT}
    )
    return int(made)


async def _lead_count(conn: AsyncConnection, tenant_id: int) -> int:
    counted = await conn.scalar(
        text("SELECT count(*) FROM leads WHERE tenant_id = :t"), {"t": tenant_id}
    )
    return int(counted or 0)


async def _build(db: Database, tenant_id: int, leads: int) -> None:
    """From empty, in one transaction; then VACUUM ANALYZE, so plans see the real sizes."""
    params = {"tenant": tenant_id, "count": leads}
    async with db.transaction() as conn:
        for step in (*_EMPTY, _LEADS, _ANALYSES, _LATEST, _SALES):
            await conn.execute(text(step), params)
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE leads, lead_analyses, sales"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    arguments = parser.parse_args()
    started = time.perf_counter()
    dataset = asyncio.run(ensure_dataset(kept_database(READS_DATABASE), leads=arguments.leads))
    print(f"{dataset.leads} leads ready in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
