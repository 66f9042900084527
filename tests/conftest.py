"""Test fixtures: a real PostgreSQL, the real app on a real port, a real HTTP client.

The database is the embedded PostgreSQL (a database of this run's own, dropped at the
end, so two runs never meet) unless TEST_DATABASE_URL points at another server; that
database is wiped at the start.
"""

import asyncio
import dataclasses
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrations
from db.database import Database, app_login_url, create_engine, open_database
from db.embedded import start_embedded_postgres
from db.models import DEFAULT_TENANT_ID
from domain.access import Role
from server import create_app
from services import api_keys, users
from services.scope import Scope
from settings import PROJECT_ROOT, Settings, load_settings
from tests.ai.fake_openai import FakeOpenAI, serving_fake_openai
from tests.databases import drop_database

TEST_DATABASE = f"crm_test_{os.getpid()}"
_TABLES = (
    "audit_log, stage_changes, lead_messages, lead_outcome_analyses, lead_outcomes, sales, "
    "lead_analyses, leads, ai_usage, ai_budgets, scorer_models, tenant_ai_settings, "
    "lead_import_rows, lead_imports"
)
_JOURNAL_TABLES = "events"
# Deliveries, their endpoints and the job queue (the tests start their own workers).
_WEBHOOK_TABLES = "webhook_deliveries, webhooks, procrastinate.procrastinate_jobs"


async def _fresh_database(url: str) -> None:
    """Drop and recreate the public schema, then migrate to head."""
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("DROP SCHEMA IF EXISTS procrastinate CASCADE"))  # job queue
        await conn.execute(text("CREATE SCHEMA public"))
    await migrations.upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    url = start_embedded_postgres(PROJECT_ROOT / ".data", TEST_DATABASE)
    yield url
    for engine in _engines.values():
        await engine.dispose()
    await drop_database(url, TEST_DATABASE)


LEARNED_MIN_OUTCOMES = 10


@pytest.fixture(scope="session")
def settings() -> Settings:
    # The suite sends far more requests with its one admin key than any person would: the
    # rate limiter stays on, out of the way (tests/http/test_abuse_limits.py tests it).
    return dataclasses.replace(
        load_settings(
            {
                "CRM_RUN_WORKER": "off",  # tests run their own workers
                # The fewest closed leads allowed: learned-scorer tests need little history.
                "CRM_AI_LEARNED_MIN_OUTCOMES": str(LEARNED_MIN_OUTCOMES),
                # Every request checks its credential: tests change keys and users from
                # outside the server and count statements per request. The cache of
                # callers has its own tests (tests/api/test_caller_cache.py).
                "CRM_AUTH_CACHE_SECONDS": "0",
            }
        ),
        database_url=None,
        demo_data=False,
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )


TEST_ADMIN_EMAIL = "tests@crm.localhost"


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> str:
    await _fresh_database(database_url)
    return database_url


@pytest.fixture(scope="session")
async def admin_key(migrated: str) -> str:
    """An API key of an admin of the default tenant; every test client sends it."""
    db = open_database(migrated, pool_size=1)
    try:
        return await users.admin_key(db=db, tenant_id=DEFAULT_TENANT_ID, email=TEST_ADMIN_EMAIL)
    finally:
        await db.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class LiveServer:
    """The real app served by uvicorn on a free loopback port."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._sock = sock
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="on",
                http="httptools",
                # The session's clients keep connections open between tests; with
                # uvicorn's 5 s default, a connection closing just as a client reuses it
                # fails that request at random (httpx.ReadError).
                timeout_keep_alive=600,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.services.db.engine
        return engine


def loopback_socket() -> socket.socket:
    # asyncio turns on TCP_NODELAY only for sockets whose proto is IPPROTO_TCP; without it
    # every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_server(settings: Settings, database_url: str) -> LiveServer:
    server = LiveServer(create_app(settings, database_url), loopback_socket())
    await server.start()
    return server


@pytest.fixture(scope="session")
async def live_server(settings: Settings, migrated: str) -> AsyncIterator[LiveServer]:
    server = await start_server(settings, migrated)
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def http(live_server: LiveServer, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the live server, authenticated as the tests' admin."""
    async with httpx.AsyncClient(
        base_url=live_server.url, timeout=30, headers=bearer(admin_key)
    ) as client:
        yield client


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test that touches the database starts with an empty pipeline."""
    yield
    if "migrated" not in request.fixturenames:
        return
    url = request.getfixturevalue("migrated")
    engine = _cleanup_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        # Event ids keep counting: running servers remember the newest id they delivered.
        await conn.execute(text(f"TRUNCATE {_JOURNAL_TABLES}"))
        await conn.execute(text(f"TRUNCATE {_WEBHOOK_TABLES} CASCADE"))


_engines: dict[str, AsyncEngine] = {}


def _cleanup_engine(url: str) -> AsyncEngine:
    if url not in _engines:
        _engines[url] = create_engine(url, pool_size=1)
    return _engines[url]


class GraphQLClient:
    """Posts operations to the live server and returns the decoded JSON."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of an operation that must succeed without any GraphQL error."""
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(http: httpx.AsyncClient, migrated: str) -> GraphQLClient:
    return GraphQLClient(http)


UserClient = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
async def gql_as(live_server: LiveServer, migrated: str) -> AsyncIterator[UserClient]:
    """`await gql_as(email, role)`: a client acting as a new user of the default tenant."""
    db = open_database(migrated, pool_size=1)
    clients: list[httpx.AsyncClient] = []

    async def client_for(email: str, role: Role = Role.MANAGER) -> GraphQLClient:
        admin = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
        user = await users.create_user(db=db, scope=admin, email=email, role=role)
        owner = Scope(tenant_id=DEFAULT_TENANT_ID, actor=email, user_id=user.id, role=role)
        issued = await api_keys.issue_key(db=db, scope=owner, name="test")
        client = httpx.AsyncClient(
            base_url=live_server.url, timeout=30, headers=bearer(issued.secret)
        )
        clients.append(client)
        return GraphQLClient(client)

    yield client_for
    for client in clients:
        await client.aclose()
    async with db.transaction() as conn:
        await conn.execute(
            text(
                "DELETE FROM api_keys WHERE user_id IN (SELECT id FROM users WHERE email <> :admin)"
            ),
            {"admin": TEST_ADMIN_EMAIL},
        )
        await conn.execute(
            text("DELETE FROM users WHERE email <> :admin"), {"admin": TEST_ADMIN_EMAIL}
        )
    await db.dispose()


# Checking the caller's API key is one statement per request (api_keys.authenticate).
AUTHENTICATION_STATEMENTS = 1
# Every transaction first names its tenant for Row Level Security (db/database.py).
TENANT_STATEMENTS = 1


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
def count_statements(live_server: LiveServer) -> Iterator[StatementCounter]:
    """Counts SQL statements the live server sends from now until the test ends."""
    counter = StatementCounter()
    sync_engine = live_server.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(sync_engine, "before_cursor_execute", counter)


__all__ = ["GraphQLClient", "LiveServer", "Path", "start_server"]


# ---------------------------------------------------------------- a fake language model


@pytest.fixture(scope="session")
async def fake_openai_server() -> AsyncIterator[FakeOpenAI]:
    """An OpenAI-compatible server on loopback (tests/ai/fake_openai.py), started when a
    test first asks for it."""
    async with serving_fake_openai() as fake:
        yield fake


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The shared fake, with no requests recorded and the default reply."""
    fake_openai_server.reset()
    return fake_openai_server


# ---------------------------------------------------------------- direct database handles


@pytest.fixture
async def owner(migrated: str) -> AsyncIterator[Database]:
    """The owner's login: every tenant's rows, no Row Level Security (set-up, checks)."""
    database = open_database(migrated, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def app_db(migrated: str) -> AsyncIterator[Database]:
    """The database as the served app and the worker use it: the `crm_app` login, under
    Row Level Security (act for a tenant with db.tenancy.acting_for)."""
    database = open_database(app_login_url(migrated), pool_size=4, app_role=True)
    yield database
    await database.dispose()
