"""An import waits for the tenant's import under way, even past the statement timeout,
and gives up with a clear refusal once it has waited its bound."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.database import Database, app_login_url, create_engine, open_database
from db.models import DEFAULT_TENANT_ID
from db.queries.imports import IMPORTS_LOCK, lock_tenant_imports
from db.tenancy import acting_for
from domain.access import Role
from domain.errors import DomainError, ErrorCode
from services.imports import ImportLimits, ImportRequest, import_leads
from services.scope import Scope
from settings import Settings
from tests.conftest import GraphQLClient, LiveServer, bearer, start_server
from tests.imports.operations import WRITTEN_TABLES, csv_of, report_of, table_counts

STATEMENT_TIMEOUT_MS = 200
FILE = csv_of(*(f"Lead {n},lead{n}@example.com,,partner,,,," for n in range(5)))
LIMITS = ImportLimits(max_bytes=10_000, max_rows=100)
SCOPE = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)


@pytest.fixture(scope="module")
async def strict_server(settings: Settings, migrated: str) -> AsyncIterator[LiveServer]:
    """The app with a statement timeout far shorter than the other import lasts."""
    strict = dataclasses.replace(settings, statement_timeout_ms=STATEMENT_TIMEOUT_MS)
    server = await start_server(strict, migrated)
    yield server
    await server.stop()


@pytest.fixture
async def strict_gql(strict_server: LiveServer, admin_key: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(
        base_url=strict_server.url, timeout=60, headers=bearer(admin_key)
    ) as client:
        yield GraphQLClient(client)


@pytest.fixture
async def owner(migrated: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def app_db(migrated: str) -> AsyncIterator[Database]:
    """The app's own login, with the short statement timeout."""
    db = open_database(
        app_login_url(migrated), app_role=True, statement_timeout_ms=STATEMENT_TIMEOUT_MS
    )
    yield db
    await db.dispose()


@asynccontextmanager
async def another_import(owner: AsyncEngine) -> AsyncIterator[None]:
    """The tenant's import lock, held as a running import holds it, for the block."""
    async with owner.begin() as conn:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:lock, :tenant)"),
            {"lock": IMPORTS_LOCK, "tenant": DEFAULT_TENANT_ID},
        )
        yield


async def wait_until_an_import_waits(owner: AsyncEngine) -> None:
    for _ in range(1_000):
        async with owner.connect() as conn:
            waiting = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND classid = :lock AND objid = :tenant AND objsubid = 2"
                ),
                {"lock": IMPORTS_LOCK, "tenant": DEFAULT_TENANT_ID},
            )
            if waiting.scalar_one():
                return
        await asyncio.sleep(0.01)
    raise AssertionError("no import came to wait for the lock")


async def test_an_import_waits_past_the_statement_timeout_for_the_one_under_way(
    strict_gql: GraphQLClient, owner: AsyncEngine, migrated: str
) -> None:
    async with another_import(owner):
        # given an import that must wait for another one of the tenant
        waiting = asyncio.create_task(report_of(strict_gql, FILE))
        await wait_until_an_import_waits(owner)
        # when the other one lasts several statement timeouts
        await asyncio.sleep(3 * STATEMENT_TIMEOUT_MS / 1000)
        assert not waiting.done()
    # then, once it ends, the waiting import runs in full
    report = await waiting
    assert (report["created"], report["invalid"]) == (5, 0)
    assert (await table_counts(migrated, "leads"))["leads"] == 5


async def test_the_timeouts_are_the_usual_ones_again_once_the_lock_is_taken(
    app_db: Database, owner: AsyncEngine
) -> None:
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as conn:
            async with another_import(owner):
                lock = lock_tenant_imports(
                    conn, tenant_id=DEFAULT_TENANT_ID, wait=timedelta(minutes=1)
                )
                waiting = asyncio.create_task(lock)
                await wait_until_an_import_waits(owner)
            await waiting
            statement_timeout = await conn.execute(text("SHOW statement_timeout"))
            assert statement_timeout.scalar_one() == f"{STATEMENT_TIMEOUT_MS}ms"
            assert (await conn.execute(text("SHOW lock_timeout"))).scalar_one() == "0"


async def test_an_import_that_waits_too_long_is_refused_clearly(
    app_db: Database, owner: AsyncEngine, migrated: str
) -> None:
    # given an import that would wait longer than the statement timeout, but not forever
    limits = dataclasses.replace(LIMITS, lock_wait=timedelta(seconds=1))
    request = ImportRequest(content=FILE.encode())
    before = await table_counts(migrated, *WRITTEN_TABLES)
    with acting_for(DEFAULT_TENANT_ID):
        async with another_import(owner):
            # when the other import outlasts that, then it gives up with a clear refusal
            with pytest.raises(DomainError) as refused:
                await import_leads(db=app_db, scope=SCOPE, request=request, limits=limits)
        # and writes nothing; and once the other one ended, the import runs
        assert await table_counts(migrated, *WRITTEN_TABLES) == before
        report = await import_leads(db=app_db, scope=SCOPE, request=request, limits=limits)
    (problem,) = refused.value.problems
    assert problem.code is ErrorCode.BUSY
    assert problem.message == (
        "Another import of this tenant is still running; try again when it ends."
    )
    assert report.import_id is not None
