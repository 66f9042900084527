"""Databases made and dropped by the tests themselves, on the test database's server."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import delete, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import create_engine
from db.models import Base


def url_of(database_url: str, database: str) -> str:
    """The same server and credentials, another database."""
    return make_url(database_url).set(database=database).render_as_string(hide_password=False)


async def run_on_server(database_url: str, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run in a transaction: autocommit on the `postgres` db."""
    admin = create_engine(url_of(database_url, "postgres"), pool_size=1)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def drop_database(database_url: str, name: str) -> None:
    await run_on_server(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def throwaway_database(database_url: str, name: str) -> AsyncIterator[str]:
    """A brand-new empty database for the block; its URL is yielded, then it is dropped."""
    await drop_database(database_url, name)
    await run_on_server(database_url, f'CREATE DATABASE "{name}"')
    try:
        yield url_of(database_url, name)
    finally:
        await drop_database(database_url, name)


async def delete_tenant(conn: AsyncConnection, tenant_id: int) -> None:
    """Remove a tenant and every row of it, children before parents (as the owner)."""
    # Leads and their analyses point at each other; the latest-analysis link goes first.
    await conn.execute(
        text("UPDATE leads SET latest_analysis_id = NULL WHERE tenant_id = :t"), {"t": tenant_id}
    )
    for table in reversed(Base.metadata.sorted_tables):
        if "tenant_id" in table.c:
            await conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
    await conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tenant_id})
