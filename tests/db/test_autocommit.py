"""Database.autocommit (db/database.py): connections of the app's login whose session acts
for the current tenant, named once and again only when it changes, in a pool of their own
so that no transaction inherits a session's tenant.

A tenant here is only a number the session names: none has to exist.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, nullcontext

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bench.pg_wire import PgWireCounter
from db.database import Database, app_login_url, open_database
from db.tenancy import TENANT_SETTING, acting_for

TENANT = 1
OTHER_TENANT = 2
SESSION_TENANT = text(f"SELECT current_setting('{TENANT_SETTING}', true)")
BACKEND = text("SELECT pg_backend_pid()")


@pytest.fixture
async def app_url(migrated: str) -> str:
    return app_login_url(migrated)


@pytest.fixture
async def one_connection(app_url: str) -> AsyncIterator[Database]:
    """The app's login with a single connection per pool."""
    db = open_database(app_url, pool_size=1, app_role=True)
    yield db
    await db.dispose()


async def _session_tenant(db: Database, tenant_id: int | None) -> str | None:
    acting: AbstractContextManager[None] = (
        nullcontext() if tenant_id is None else acting_for(tenant_id)
    )
    with acting:
        async with db.autocommit() as conn:
            tenant: str | None = (await conn.execute(SESSION_TENANT)).scalar_one()
            return tenant


async def test_each_use_reads_as_its_tenant_on_the_same_session(one_connection: Database) -> None:
    async with one_connection.autocommit() as conn:
        pid = (await conn.execute(BACKEND)).scalar_one()
    for tenant_id in (TENANT, OTHER_TENANT, OTHER_TENANT, None, TENANT):
        expected = "" if tenant_id is None else str(tenant_id)
        assert await _session_tenant(one_connection, tenant_id) == expected
    async with one_connection.autocommit() as conn:
        assert (await conn.execute(BACKEND)).scalar_one() == pid


async def test_only_a_change_of_tenant_costs_a_round_trip(app_url: str) -> None:
    async with PgWireCounter(app_url) as counter:
        db = open_database(counter.url, pool_size=1, app_role=True)
        try:
            # given: the connection is open and acts for TENANT
            await _session_tenant(db, TENANT)
            # when: TENANT asks again, then the other tenant
            before = counter.snapshot()
            await _session_tenant(db, TENANT)
            staying = counter.snapshot() - before
            before = counter.snapshot()
            await _session_tenant(db, OTHER_TENANT)
            switching = counter.snapshot() - before
        finally:
            await db.dispose()
    # then: staying is the query alone, in autocommit (no BEGIN, no COMMIT)
    assert counter.reliable
    assert (staying.statements, staying.round_trips) == (1, 1)
    assert (switching.statements, switching.round_trips) == (2, 2)


async def test_no_transaction_inherits_a_session_tenant(one_connection: Database) -> None:
    # given: the autocommit session acts for TENANT
    assert await _session_tenant(one_connection, TENANT) == str(TENANT)
    # when: a transaction and a read act for no tenant, on the one connection of their pool
    async with one_connection.transaction() as conn:
        in_transaction = (await conn.execute(SESSION_TENANT)).scalar_one()
    async with one_connection.read() as conn:
        in_read = (await conn.execute(SESSION_TENANT)).scalar_one()
    # then: neither sees it (a fresh session has no tenant at all)
    assert in_transaction in (None, "")
    assert in_read in (None, "")


async def test_a_failed_statement_leaves_the_session_acting_for_its_tenant(
    one_connection: Database,
) -> None:
    # given: a statement fails on the session acting for TENANT
    with acting_for(TENANT), pytest.raises(DBAPIError):
        async with one_connection.autocommit() as conn:
            await conn.execute(text("SELECT 1 / 0"))
    # then: the next use is in no transaction and still reads as its tenant
    assert await _session_tenant(one_connection, TENANT) == str(TENANT)
    assert await _session_tenant(one_connection, OTHER_TENANT) == str(OTHER_TENANT)
