"""The two contenders of the read benchmark, each a process of its own: our server with
its real configuration, and the floor (bench/read_floor.py). Plus the tenant our
server's mutations write into, so the data set being read keeps exactly its leads.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, text

from bench.service import Floor, Service, running_module, running_service
from db.database import open_database
from db.models import Base
from services.tenants import tenant_named
from services.users import admin_key
from worker.runner import libpq_url

WRITES_TENANT = "Bench writes"
WRITES_ADMIN = "bench-writes@crm.localhost"

# Auth, Row Level Security and the query limits as configured by default. The rate
# limiter stays on so its code runs, at the highest rate the settings allow (a minute's
# million is some 16,000 a second, out of reach here). No worker: nothing in the
# benchmark needs one, and it would add its own queries to the counts.
OUR_SETTINGS = {
    "CRM_RATE_LIMIT_PER_MINUTE": "1000000",
    "CRM_RUN_WORKER": "off",
    "CRM_DEMO_DATA": "false",
}


@contextmanager
def running_ours(database_url: str) -> Iterator[Service]:
    """`python -m server` on the data set's database (the owner's URL)."""
    with running_service(database_url, **OUR_SETTINGS) as service:
        yield service


@contextmanager
def running_read_floor(database_url: str, tenant_id: int, pool: str = "asyncpg") -> Iterator[Floor]:
    """bench/read_floor.py in a process of its own, on the owner's `database_url`, with
    its `pool`: `asyncpg`, or `queue` for the strict floor."""
    with running_module("bench.read_floor", libpq_url(database_url), str(tenant_id), pool) as floor:
        yield floor


async def writes_key(database_url: str) -> str:
    """An admin key of the writes tenant, emptied first: the mutation mix works there,
    and what earlier runs made there does not pile up."""
    db = open_database(database_url, pool_size=1)
    try:
        tenant_id = await tenant_named(db=db, name=WRITES_TENANT)
        async with db.transaction() as conn:
            await conn.execute(
                text("UPDATE leads SET latest_analysis_id = NULL WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
            for table in reversed(Base.metadata.sorted_tables):
                if "tenant_id" in table.c:
                    await conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
        return await admin_key(db=db, tenant_id=tenant_id, email=WRITES_ADMIN)
    finally:
        await db.dispose()
