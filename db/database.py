"""The engines and the three ways to use them: a read, a transaction, or single
statements in autocommit.

Every unit of work goes through here, so tenant scoping has exactly one place to live:
an app engine acts as the `crm_app` role (no BYPASSRLS, not the owner), and each unit
tells Row Level Security which tenant it acts for (db/tenancy.py). A transaction names
its tenant for itself alone. An autocommit connection names it for its session, and
remembers it, so a change made as a read and one guarded statement (db/change.py) costs
two round trips; those connections have a pool of their own, so no session's tenant can
reach a transaction.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.tenancy import APP_ROLE, TENANT_SETTING, current_tenant


def async_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// forms and select the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+asyncpg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must start with postgresql:// (or postgres://)")


def app_login_url(owner_url: str) -> str:
    """The same server and database, logged in as `crm_app` (no password: local trust,
    or a password an operator set and passes in CRM_APP_DATABASE_URL instead)."""
    url = make_url(async_url(owner_url)).set(username=APP_ROLE, password=None)
    return url.render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    app_role: bool = False,
    statement_timeout_ms: int = 0,
    overflow: bool = True,
) -> AsyncEngine:
    """An engine on `url`. For serving, `url` is the app's own login (`app_login_url`, or
    CRM_APP_DATABASE_URL) and `app_role` makes every connection act as `crm_app`, so Row
    Level Security applies to everything it runs; the session cannot become anything
    else. Without it (the owner: migrations, set-up, tests' own checks) nothing is
    filtered. With `app_role`, `statement_timeout_ms` (0: none) makes PostgreSQL cancel
    any statement that runs longer, so no request holds a connection for long. With
    `overflow`, up to `pool_size` more connections open under a burst."""
    server_settings = {"role": APP_ROLE} if app_role else {}
    if app_role and statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if overflow else 0,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": server_settings},
    )


def open_database(
    url: str, *, pool_size: int = 10, app_role: bool = False, statement_timeout_ms: int = 0
) -> "Database":
    """A Database on `url`: its transactions' engine and its autocommit engine, made
    alike (`create_engine` says what the arguments mean), except that the autocommit
    engine has no overflow: the two open at most three times `pool_size` connections."""
    engines = [
        create_engine(
            url,
            pool_size=pool_size,
            app_role=app_role,
            statement_timeout_ms=statement_timeout_ms,
            overflow=overflow,
        )
        for overflow in (True, False)
    ]
    return Database(engines[0], autocommit=engines[1])


class Database:
    def __init__(self, engine: AsyncEngine, *, autocommit: AsyncEngine) -> None:
        """`autocommit` must be an engine of its own, made like `engine`: its sessions
        keep a tenant between uses, which a transaction must never inherit."""
        self.engine = engine
        self._autocommit = autocommit

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One atomic unit of work: commits on success, rolls back on any exception."""
        async with self.engine.begin() as conn:
            await _act_for_current_tenant(conn)
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A short read-only use of a pooled connection."""
        async with self.engine.connect() as conn:
            await _act_for_current_tenant(conn)
            yield conn

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which each statement is a transaction of its own, acting for
        the current tenant: for a change made in one statement after a plain read."""
        async with self._autocommit.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await _session_acts_for_current_tenant(conn)
            yield conn

    @asynccontextmanager
    async def exclusive(self, lock_id: int) -> AsyncIterator[None]:
        """Hold a PostgreSQL advisory lock for the block: one process at a time, across
        every process on this database (it needs one pooled connection of its own)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self._autocommit.dispose()


async def _act_for_current_tenant(conn: AsyncConnection) -> None:
    """Name the tenant for this transaction only (`is_local`), so a pooled connection
    never carries one request's tenant into the next."""
    tenant = current_tenant()
    if tenant is not None:
        await conn.execute(
            text("SELECT set_config(:setting, :tenant, true)"),
            {"setting": TENANT_SETTING, "tenant": str(tenant)},
        )


_SESSION_TENANT = "crm.session_tenant"  # the key, in the pooled connection's info
_UNKNOWN = object()


async def _session_acts_for_current_tenant(conn: AsyncConnection) -> None:
    """Name the tenant for the session, unless it already is the one: the pooled
    connection's info remembers it (a new connection starts with empty info)."""
    tenant = current_tenant()
    if conn.info.get(_SESSION_TENANT, _UNKNOWN) == tenant:
        return
    conn.info.pop(_SESSION_TENANT, None)  # unknown until PostgreSQL confirms
    await conn.execute(
        text("SELECT set_config(:setting, :tenant, false)"),
        {"setting": TENANT_SETTING, "tenant": "" if tenant is None else str(tenant)},
    )
    conn.info[_SESSION_TENANT] = tenant
