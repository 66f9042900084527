"""Raw asyncpg connections for the compiled read path (plans/): one round trip per query.

SQLAlchemy's pool costs a round trip per checkout (the rollback of its reset) and each
transaction another one to name the tenant. Here a connection acts as `crm_app` like
every app connection, so Row Level Security still applies, but the tenant is set for
the session and the connection remembers it: serving the tenant it already serves costs
nothing extra, switching costs one `set_config` first. These connections only ever run
single statements in autocommit, never a transaction, so nothing else outlives a query.

The pool is a plain stack of idle connections rather than asyncpg's Pool, which starts a
task and a timer for every release: a tenth of a point lookup's time. A connection that
was in use when anything went wrong is closed, not reused; a new one replaces it.
"""

import asyncio
from collections import deque
from types import TracebackType
from typing import Any

import asyncpg

from db.tenancy import APP_ROLE, TENANT_SETTING

APPLICATION_NAME = "crm-reads"
# Prepared statements kept per connection: one per plan shape and page size in use.
_STATEMENTS_PER_CONNECTION = 1000


class TenantConnection(asyncpg.Connection):  # type: ignore[misc]
    """A connection that knows which tenant its session acts for (None: not known)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant_id: int | None = None

    async def act_for(self, tenant_id: int) -> None:
        if self.tenant_id == tenant_id:
            return
        self.tenant_id = None  # unknown until PostgreSQL confirms
        await self.fetchval("SELECT set_config($1, $2, false)", TENANT_SETTING, str(tenant_id))
        self.tenant_id = tenant_id


class ReadPool:
    def __init__(self, dsn: str, *, size: int, statement_timeout_ms: int) -> None:
        """`dsn` is libpq's form (postgresql://...) of the app's login; at most `size`
        connections are open at once."""
        self._dsn = dsn
        self._size = size
        self._settings = {
            "role": APP_ROLE,
            "application_name": APPLICATION_NAME,
            # The plans' statements are prepared once and read through indexes whatever
            # their values; planning them again for each request's values (PostgreSQL's
            # custom plans) cost more than running them.
            "plan_cache_mode": "force_generic_plan",
        }
        if statement_timeout_ms:
            self._settings["statement_timeout"] = str(statement_timeout_ms)
        self._idle: list[TenantConnection] = []
        self._open = 0  # idle, in use and being opened
        self._waiting: deque[asyncio.Future[TenantConnection | None]] = deque()
        self._closed = False

    async def start(self) -> None:
        """Connections open when first needed."""

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the read pool is closed"))

    def acting_for(self, tenant_id: int) -> "_Checkout":
        """`async with pool.acting_for(tenant) as conn`: a connection whose session reads
        as `tenant_id`, for single statements."""
        return _Checkout(self, tenant_id)

    async def _acquire(self) -> TenantConnection:
        if self._closed:
            raise RuntimeError("the read pool is closed")
        if self._idle:
            return self._idle.pop()
        if self._open < self._size:
            self._open += 1
            return await self._connect()
        waiter: asyncio.Future[TenantConnection | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                offered = waiter.result()  # handed over just as we were cancelled: pass it on
                if offered is None:
                    self._open_slot_freed()
                else:
                    self._release(offered)
            raise
        return handed if handed is not None else await self._connect()

    async def _connect(self) -> TenantConnection:
        """Opens a connection in a slot already counted in `_open`."""
        try:
            conn: TenantConnection = await asyncpg.connect(
                self._dsn,
                connection_class=TenantConnection,
                server_settings=self._settings,
                statement_cache_size=_STATEMENTS_PER_CONNECTION,
            )
        except BaseException:
            self._open_slot_freed()
            raise
        return conn

    def _release(self, conn: TenantConnection) -> None:
        if conn.is_closed() or conn.is_in_transaction() or self._closed:
            self._discard(conn)
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _discard(self, conn: TenantConnection) -> None:
        conn.terminate()
        self._open_slot_freed()

    def _open_slot_freed(self) -> None:
        """The first waiter takes the slot over (told by a None) and it stays counted, so
        no checkout arriving before that waiter runs can open one more."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1


class _Checkout:
    """One connection for the length of an `async with`; closed if the block fails."""

    def __init__(self, pool: ReadPool, tenant_id: int) -> None:
        self._pool = pool
        self._tenant_id = tenant_id
        self._conn: TenantConnection | None = None

    async def __aenter__(self) -> TenantConnection:
        conn = await self._pool._acquire()
        try:
            await conn.act_for(self._tenant_id)
        except BaseException:
            self._pool._discard(conn)
            raise
        self._conn = conn
        return conn

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        assert conn is not None
        if kind is None:
            self._pool._release(conn)
        else:
            self._pool._discard(conn)
