"""The read pool (db/read_pool.py) as the app uses it: raw connections of the app's login,
never more than `size` open, each naming its tenant only when the tenant changes, and
none reused after anything went wrong with it.

Checkouts are held open by tasks (`Holder`) so the tests can decide exactly when each
one ends. A tenant here is only a number the session names: none has to exist.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

import asyncpg
import pytest

from bench.pg_wire import PgWireCounter
from db.database import app_login_url
from db.read_pool import ReadPool, TenantConnection
from db.tenancy import TENANT_SETTING
from worker.runner import libpq_url

TENANT = 1
OTHER_TENANT = 2
# Long enough for a checkout that need not wait to have its connection (a local connect
# takes milliseconds): a checkout still waiting after it is really waiting.
SETTLE_SECONDS = 0.1
# A checkout that should get a connection and has none after this never will.
WAIT_SECONDS = 5.0
# What asyncpg raises on a connection whose backend is gone, by when it notices.
CONNECTION_LOST = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class BlockFailed(Exception):
    """Raised inside a checkout's block, as a failed query would be."""


class Holder:
    """A task that checks out a connection and keeps it until let go."""

    def __init__(self, pool: ReadPool, tenant_id: int) -> None:
        self._entered: asyncio.Future[TenantConnection] = asyncio.get_running_loop().create_future()
        self._let_go = asyncio.Event()
        self._failing = False
        self.task = asyncio.create_task(self._hold(pool, tenant_id))

    async def _hold(self, pool: ReadPool, tenant_id: int) -> None:
        async with pool.acting_for(tenant_id) as conn:
            self._entered.set_result(conn)
            await self._let_go.wait()
            if self._failing:
                raise BlockFailed

    @property
    def entered(self) -> bool:
        return self._entered.done()

    async def connection(self) -> TenantConnection:
        """Its connection, once it has one; what its checkout raised, if it failed."""
        await asyncio.wait(
            (self._entered, self.task), timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if not self._entered.done() and self.task.done():
            self.task.result()
        assert self._entered.done(), "the checkout never got a connection"
        return self._entered.result()

    async def pid(self) -> int:
        return int((await self.connection()).get_server_pid())

    async def let_go(self) -> None:
        self._let_go.set()
        async with asyncio.timeout(WAIT_SECONDS):
            await self.task

    async def fail(self) -> None:
        """Its block raises instead of ending normally."""
        self._failing = True
        with pytest.raises(BlockFailed):
            await self.let_go()


Hold = Callable[[ReadPool], Holder]
Waiter = TypeVar("Waiter")


@pytest.fixture
def dsn(migrated: str) -> str:
    """The app's login, in the form the pool takes."""
    return libpq_url(app_login_url(migrated))


@pytest.fixture
async def hold() -> AsyncIterator[Hold]:
    """`hold(pool)`: a Holder for TENANT; any still holding at the end are cancelled."""
    started: list[Holder] = []

    def start(pool: ReadPool) -> Holder:
        started.append(Holder(pool, TENANT))
        return started[-1]

    yield start
    for holder in started:
        holder.task.cancel()
    await asyncio.gather(*(holder.task for holder in started), return_exceptions=True)


@pytest.fixture
async def owner(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    """The owner's own connection, to act on the pool's backends from outside."""
    conn = await asyncpg.connect(libpq_url(migrated))
    yield conn
    await conn.close()


@asynccontextmanager
async def open_pool(dsn: str, *, size: int) -> AsyncIterator[ReadPool]:
    pool = ReadPool(dsn, size=size, statement_timeout_ms=0)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def next_pid(pool: ReadPool, tenant_id: int = TENANT) -> int:
    """The backend of the next checkout, after a query on it worked."""
    async with asyncio.timeout(WAIT_SECONDS), pool.acting_for(tenant_id) as conn:
        assert await conn.fetchval("SELECT 1") == 1
        return int(conn.get_server_pid())


async def session_tenant(pool: ReadPool, tenant_id: int) -> str:
    """The tenant a checkout for `tenant_id` reads as, as its session says."""
    async with asyncio.timeout(WAIT_SECONDS), pool.acting_for(tenant_id) as conn:
        return str(await conn.fetchval("SELECT current_setting($1)", TENANT_SETTING))


async def terminate(owner: asyncpg.Connection, pid: int) -> None:
    """Ends a backend from the server's side, and waits until it is gone."""
    assert await owner.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)


async def end_block_with_a_waiter(
    pool: ReadPool, start_waiter: Callable[[], Waiter], *, failing: bool
) -> Waiter:
    """Holds a connection of `pool` until `start_waiter()` waits for it, then ends the
    block, normally or failing, and returns the waiter. Nothing else runs in between: the
    waiter has been given its turn, but has not taken it yet."""
    with suppress(BlockFailed):
        async with pool.acting_for(TENANT):
            waiter = start_waiter()
            await asyncio.sleep(SETTLE_SECONDS)
            if failing:
                raise BlockFailed
    return waiter


async def assert_capacity(pool: ReadPool, hold: Hold, size: int) -> None:
    """Exactly `size` checkouts can be held at once; one more waits for one to end, and
    then gets its connection. Lets go of them all."""
    holders = [hold(pool) for _ in range(size)]
    pids = {await holder.pid() for holder in holders}
    one_more = hold(pool)
    await asyncio.sleep(SETTLE_SECONDS)
    assert not one_more.entered
    assert len(pids) == size
    released = await holders[0].pid()
    await holders[0].let_go()
    assert await one_more.pid() == released
    for holder in (*holders[1:], one_more):
        await holder.let_go()


# ------------------------------------------------------------------ at most `size` open


async def test_a_checkout_beyond_size_waits_for_a_connection_and_gets_that_one(
    dsn: str, hold: Hold
) -> None:
    async with open_pool(dsn, size=2) as pool:
        # given: both connections are held
        first, second = hold(pool), hold(pool)
        held = {await first.pid(), await second.pid()}
        # when: a third checkout asks
        third = hold(pool)
        await asyncio.sleep(SETTLE_SECONDS)
        # then: it waits, and gets the first connection let go, not a third one
        assert not third.entered
        await second.let_go()
        assert await third.pid() == await second.pid()
        assert len(held) == 2
        await first.let_go()
        await third.let_go()


async def test_a_slot_freed_by_a_failed_block_is_kept_for_its_waiter(dsn: str) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: a checkout waits for the one connection, whose block then fails (so the
        # waiter may open a new one)
        waiter = await end_block_with_a_waiter(
            pool, lambda: asyncio.create_task(next_pid(pool)), failing=True
        )
        # when: another checkout asks before the waiter has run
        async with asyncio.timeout(WAIT_SECONDS), pool.acting_for(TENANT) as latecomer:
            # then: the latecomer waited its turn and got the waiter's connection
            assert waiter.done()
            assert latecomer.get_server_pid() == waiter.result()


# ------------------------------------------------------------------ failures


async def test_a_failed_block_closes_its_connection_and_frees_its_slot(
    dsn: str, hold: Hold
) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: the one connection is held and a checkout waits for it
        failing, waiter = hold(pool), hold(pool)
        failed = await failing.connection()
        failed_pid = await failing.pid()
        await asyncio.sleep(SETTLE_SECONDS)
        assert not waiter.entered
        # when: the block holding it raises
        await failing.fail()
        # then: its connection is closed, and the waiter goes on with a new one
        assert failed.is_closed()
        assert await waiter.pid() != failed_pid
        await waiter.let_go()
        await assert_capacity(pool, hold, 1)


async def test_a_waiter_cancelled_while_waiting_takes_no_slot_with_it(dsn: str, hold: Hold) -> None:
    async with open_pool(dsn, size=2) as pool:
        # given: both connections are held and a checkout waits
        holders = [hold(pool), hold(pool)]
        for holder in holders:
            await holder.connection()
        waiter = hold(pool)
        await asyncio.sleep(SETTLE_SECONDS)
        # when: the waiter is cancelled, then both let go
        waiter.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter.task
        for holder in holders:
            await holder.let_go()
        # then: two checkouts can still be held at once, and no more
        await assert_capacity(pool, hold, 2)


@pytest.mark.parametrize(
    "block_fails", [False, True], ids=["handed-a-connection", "offered-a-slot"]
)
async def test_a_waiter_cancelled_just_as_its_turn_comes_passes_it_on(
    dsn: str, hold: Hold, block_fails: bool
) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: a checkout waits for the one connection, whose block then ends
        waiter = await end_block_with_a_waiter(pool, lambda: hold(pool), failing=block_fails)
        # when: that gave the waiter its turn, and it is cancelled before it could take it
        waiter.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter.task
        # then: the turn was passed on: one checkout can be held, and no more
        await assert_capacity(pool, hold, 1)


async def test_a_connection_terminated_by_the_server_is_replaced(
    dsn: str, owner: asyncpg.Connection
) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: the pool's idle connection, whose backend the server then ends
        dead = await next_pid(pool)
        await terminate(owner, dead)
        # when: a checkout uses it; then: that checkout fails
        with pytest.raises(CONNECTION_LOST):
            await next_pid(pool)
        # and the next one works, on a new backend
        assert await next_pid(pool) != dead


# ------------------------------------------------------------------ the tenant


async def test_each_checkout_reads_as_its_tenant_on_the_same_session(dsn: str) -> None:
    async with open_pool(dsn, size=1) as pool:
        pid = await next_pid(pool)
        for tenant_id in (TENANT, OTHER_TENANT, OTHER_TENANT, TENANT):
            assert await session_tenant(pool, tenant_id) == str(tenant_id)
        assert await next_pid(pool) == pid


async def test_only_a_change_of_tenant_costs_a_statement(dsn: str) -> None:
    async with PgWireCounter(dsn) as counter, open_pool(counter.url, size=1) as pool:
        # given: the connection is open, acting for TENANT, and both statements prepared
        await session_tenant(pool, OTHER_TENANT)
        await session_tenant(pool, TENANT)
        # when: TENANT asks again, then the other tenant
        before = counter.snapshot()
        await session_tenant(pool, TENANT)
        staying = counter.snapshot() - before
        before = counter.snapshot()
        await session_tenant(pool, OTHER_TENANT)
        switching = counter.snapshot() - before
    # then: staying is the query alone; switching is a set_config and the query
    assert counter.reliable
    assert (staying.statements, staying.round_trips) == (1, 1)
    assert (switching.statements, switching.round_trips) == (2, 2)


async def test_a_failed_set_config_leaves_the_connection_unused(
    dsn: str, owner: asyncpg.Connection
) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: the idle connection acts for TENANT; then its backend ends
        async with pool.acting_for(TENANT) as broken:
            dead = int(broken.get_server_pid())
        await terminate(owner, dead)
        # when: a checkout for another tenant must name it first
        with pytest.raises(CONNECTION_LOST):
            async with pool.acting_for(OTHER_TENANT):
                pytest.fail("the checkout got a connection whose set_config failed")
        # then: that connection is forgotten, and the one slot serves a new one
        assert broken.tenant_id is None
        assert broken.is_closed()
        assert await session_tenant(pool, OTHER_TENANT) == str(OTHER_TENANT)
        assert await next_pid(pool, OTHER_TENANT) != dead


# ------------------------------------------------------------------ close


async def test_close_closes_idle_connections_and_refuses_checkouts(dsn: str, hold: Hold) -> None:
    async with open_pool(dsn, size=2) as pool:
        # given: two connections, both idle
        holders = [hold(pool), hold(pool)]
        idle = [await holder.connection() for holder in holders]
        for holder in holders:
            await holder.let_go()
        # when
        await pool.close()
        # then
        assert all(conn.is_closed() for conn in idle)
        with pytest.raises(RuntimeError, match="closed"):
            await next_pid(pool)


async def test_a_connection_in_use_at_close_is_closed_when_let_go(dsn: str, hold: Hold) -> None:
    async with open_pool(dsn, size=1) as pool:
        # given: the one connection is held, and a checkout waits for it
        holder, waiter = hold(pool), hold(pool)
        in_use = await holder.connection()
        await asyncio.sleep(SETTLE_SECONDS)
        # when: the pool closes
        await pool.close()
        # then: the waiter is refused; the connection serves on until let go, then closes
        with pytest.raises(RuntimeError, match="closed"):
            await waiter.connection()
        assert await in_use.fetchval("SELECT 1") == 1
        await holder.let_go()
        assert in_use.is_closed()
