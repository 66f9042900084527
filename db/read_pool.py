"""Raw asyncpg connections for the compiled read path (plans/): one round trip per query.

SQLAlchemy's pool costs a round trip per checkout (the rollback of its reset) and each
transaction another one to name the tenant. Here a connection acts as `crm_app` like
every app connection, so Row Level Security still applies, but the tenant is set for
the session and the connection remembers it: serving the tenant it already serves costs
nothing extra, switching costs one `set_config` first. These connections only ever run
single statements in autocommit, never a transaction, so nothing else outlives a query.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from db.tenancy import APP_ROLE, TENANT_SETTING

APPLICATION_NAME = "crm-reads"
# A request waits this long for a free connection, then the executor answers it instead.
_ACQUIRE_TIMEOUT_SECONDS = 10.0
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
        """`dsn` is libpq's form (postgresql://...) of the app's login."""
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
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=self._size,
            connection_class=TenantConnection,
            server_settings=self._settings,
            reset=_keep_session,
            statement_cache_size=_STATEMENTS_PER_CONNECTION,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @asynccontextmanager
    async def acting_for(self, tenant_id: int) -> AsyncIterator[TenantConnection]:
        """A connection whose session reads as `tenant_id`, for single statements."""
        if self._pool is None:
            raise RuntimeError("the read pool is not started")
        async with self._pool.acquire(timeout=_ACQUIRE_TIMEOUT_SECONDS) as conn:
            await conn.act_for(tenant_id)
            yield conn


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections keep their session (the tenant). asyncpg's default reset would
    cost a round trip per query and forget the tenant; there is nothing else to reset, as
    no transaction, lock, cursor or LISTEN is ever left on these connections."""
    if conn.is_in_transaction():  # not by this module's use; be safe all the same
        await conn.execute("ROLLBACK")
