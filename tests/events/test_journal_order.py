"""The journal's guarantees in the database itself: within a tenant, event ids follow
commit order; a notification goes out at commit and never for a rolled-back change; the
app role may append and read, never rewrite."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from domain.events import EVENTS_CHANNEL
from tests.tenants import second_tenant

pytestmark = pytest.mark.usefixtures("migrated")

APPEND = "INSERT INTO events (tenant_id, type, data) VALUES (:t, 'lead.created', '{}') RETURNING id"


@pytest.fixture
async def other_tenant(migrated: str) -> AsyncIterator[int]:
    async with second_tenant(migrated, "Initech") as other:
        yield other.tenant_id


async def _append(conn: AsyncConnection, tenant_id: int) -> int:
    return int((await conn.execute(text(APPEND), {"t": tenant_id})).scalar_one())


async def _append_in_own_transaction(db: Database, tenant_id: int) -> int:
    with acting_for(tenant_id):
        async with db.transaction() as conn:
            return await _append(conn, tenant_id)


async def test_a_later_writer_of_the_tenant_waits_and_gets_a_higher_id(app_db: Database) -> None:
    # given a transaction that appended an event and has not committed
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as first:
            first_id = await _append(first, DEFAULT_TENANT_ID)
            # when another transaction of the same tenant appends one
            second = asyncio.create_task(_append_in_own_transaction(app_db, DEFAULT_TENANT_ID))
            await asyncio.sleep(0.3)
            # then it waits for the first to commit
            assert not second.done()
    # and once the first has committed, it gets a higher id: id order is commit order
    assert await asyncio.wait_for(second, 10) > first_id


async def test_writers_of_different_tenants_do_not_wait_for_each_other(
    app_db: Database, other_tenant: int
) -> None:
    # given a transaction of one tenant that appended an event and has not committed
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as first:
            await _append(first, DEFAULT_TENANT_ID)
            # when another tenant appends one, then it commits without waiting
            await asyncio.wait_for(_append_in_own_transaction(app_db, other_tenant), 10)


async def test_an_event_is_announced_at_commit_and_never_for_a_rollback(
    app_db: Database, migrated: str
) -> None:
    # given a listener on the events channel
    received: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(migrated.replace("postgresql+asyncpg://", "postgresql://"))
    await listener.add_listener(EVENTS_CHANNEL, lambda *args: received.put_nowait(args[3]))
    try:
        # when one change rolls back and another commits
        with acting_for(DEFAULT_TENANT_ID):
            async with app_db.transaction() as conn:
                await _append(conn, DEFAULT_TENANT_ID)
                await conn.rollback()
        committed = await _append_in_own_transaction(app_db, DEFAULT_TENANT_ID)
        # then only the committed one is announced, as "<tenant>:<event id>"
        assert await asyncio.wait_for(received.get(), 10) == f"{DEFAULT_TENANT_ID}:{committed}"
        await asyncio.sleep(0.2)
        assert received.empty()
    finally:
        await listener.close()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'lead.forged'", "DELETE FROM events", "TRUNCATE events"],
)
async def test_the_app_role_cannot_rewrite_the_journal(app_db: Database, statement: str) -> None:
    await _append_in_own_transaction(app_db, DEFAULT_TENANT_ID)
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction() as conn:
            await conn.execute(text(statement))


async def test_the_app_role_sees_only_its_tenants_events(
    app_db: Database, other_tenant: int
) -> None:
    ours = await _append_in_own_transaction(app_db, DEFAULT_TENANT_ID)
    await _append_in_own_transaction(app_db, other_tenant)
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.read() as conn:
            visible = (await conn.execute(text("SELECT id FROM events"))).scalars().all()
    assert visible == [ours]


async def test_a_later_event_never_has_an_earlier_time(app_db: Database) -> None:
    # given a transaction that began first but appends its event last
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as early:
            await asyncio.sleep(0.05)
            middle = await _append_in_own_transaction(app_db, DEFAULT_TENANT_ID)
            late = await _append(early, DEFAULT_TENANT_ID)
    # when both have committed, then the event with the higher id has the later time
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.read() as conn:
            rows = await conn.execute(
                text("SELECT id, occurred_at FROM events WHERE id IN (:a, :b) ORDER BY id"),
                {"a": middle, "b": late},
            )
            (first_id, first_at), (second_id, second_at) = rows.all()
    assert (first_id, second_id) == (middle, late)
    assert first_at <= second_at
