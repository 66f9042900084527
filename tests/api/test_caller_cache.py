"""The cache of callers in running servers: a credential is checked once, not on every
request, and no change of access is honoured for more than moments.

Servers A and B share the test database, each with its own cache and its own listener,
as two processes would. An admin changes access through GraphQL on A; A must refuse at
once, B within the notification's delay. Whether a request was answered from the cache
shows in the SQL its server sent: none. That the services forget before they return,
without any notification, is shown on a cache with no listener at all.
"""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import event, text

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.records import UserRecord
from domain.access import Role
from domain.global_ids import to_global_id
from services import api_keys, users
from services.api_keys import IssuedKey
from services.caller_cache import CallerCache
from services.scope import Scope
from settings import JWTSettings, Settings, load_settings
from tests.conftest import LiveServer, StatementCounter, bearer, start_server
from tests.realtime.conftest import listener_down

DOMAIN = "caller-cache.test"  # every user made here has an e-mail there
ADMIN = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
NOTICED_WITHIN = 2.0  # seconds B may take to hear of a change (milliseconds, really)
SECRET = "a-shared-secret-of-at-least-32-characters!"
ISSUER, AUDIENCE = "https://idp.example", "crm-api"

TYPENAME = "{ __typename }"
USERS = "{ users { id } }"  # admins only
REVOKE_API_KEY = """
mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { userErrors { code } } }
"""
DEACTIVATE_USER = """
mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { userErrors { code } } }
"""
UPDATE_USER_ROLE = """
mutation($input: UpdateUserRoleInput!) { updateUserRole(input: $input) { userErrors { code } } }
"""


class People:
    """Users and keys made through the services as the tests' admin; removed at the end."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._made = 0

    async def user(self, role: Role = Role.VIEWER) -> UserRecord:
        self._made += 1
        email = f"person{self._made}@{DOMAIN}"
        return await users.create_user(db=self.db, scope=ADMIN, email=email, role=role)

    async def key(self, user: UserRecord, *, expires_at: datetime | None = None) -> str:
        issued: IssuedKey = await api_keys.issue_key(
            db=self.db, scope=ADMIN, name="cache", user_id=user.id, expires_at=expires_at
        )
        return issued.secret

    async def admin_with_key(self) -> tuple[UserRecord, str]:
        """A second admin and a key of theirs (made while a manager: nobody mints keys for
        another admin)."""
        user = await self.user(Role.MANAGER)
        key = await self.key(user)
        await users.update_user_role(db=self.db, scope=ADMIN, user_id=user.id, role=Role.ADMIN)
        return user, key

    async def execute(self, sql: str, **values: Any) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(text(sql), values)

    async def remove_all(self) -> None:
        made = {"made": f"%@{DOMAIN}"}
        async with self.db.transaction() as conn:
            await conn.execute(
                text(
                    "DELETE FROM api_keys WHERE user_id IN "
                    "(SELECT id FROM users WHERE email LIKE :made)"
                ),
                made,
            )
            await conn.execute(text("DELETE FROM users WHERE email LIKE :made"), made)


@pytest.fixture(scope="module")
async def people(migrated: str) -> AsyncIterator[People]:
    db = open_database(migrated, pool_size=2)
    made = People(db)
    yield made
    await made.remove_all()
    await db.dispose()


def caching(settings: Settings, seconds: int = 60) -> Settings:
    jwt_settings = JWTSettings(secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    return dataclasses.replace(settings, auth_cache_seconds=seconds, jwt=jwt_settings)


async def serve(settings: Settings, migrated: str) -> LiveServer:
    """A server whose listener is connected, so its cache may answer."""
    server = await start_server(settings, migrated)
    await asyncio.wait_for(server.app.state.services.live.listener.connected.wait(), 15)
    return server


@pytest.fixture(scope="module")
async def servers(
    settings: Settings, migrated: str
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    a = await serve(caching(settings), migrated)
    b = await serve(caching(settings), migrated)
    yield a, b
    await a.stop()
    await b.stop()


@pytest.fixture
async def admin_on_a(
    servers: tuple[LiveServer, LiveServer], admin_key: str
) -> AsyncIterator[Callable[..., Awaitable[dict[str, Any]]]]:
    """`await admin_on_a(mutation, **input)`: the tests' admin runs it on server A."""
    async with httpx.AsyncClient(base_url=servers[0].url, headers=bearer(admin_key)) as client:

        async def run(mutation: str, **values: Any) -> dict[str, Any]:
            response = await client.post(
                "/graphql", json={"query": mutation, "variables": {"input": values}}
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            [payload] = body["data"].values()
            assert payload["userErrors"] == [], payload
            return body

        yield run


@contextmanager
def statements(server: LiveServer) -> Iterator[StatementCounter]:
    """Counts the SQL statements `server` sends inside the block."""
    counter = StatementCounter()
    engine = server.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


async def outcome(server: LiveServer, credential: str, query: str = TYPENAME) -> str:
    """ "served", "unauthenticated" (HTTP 401) or "forbidden" (a FORBIDDEN field)."""
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(credential)) as client:
        response = await client.post("/graphql", json={"query": query})
    if response.status_code == 401:
        return "unauthenticated"
    assert response.status_code == 200, response.text
    errors = response.json().get("errors", [])
    if any(error["extensions"]["code"] == "FORBIDDEN" for error in errors):
        return "forbidden"
    assert errors == [], errors
    return "served"


async def served_from_cache(server: LiveServer, credential: str) -> None:
    """The credential is served, the second time without asking the database."""
    assert await outcome(server, credential) == "served"
    with statements(server) as sent:
        assert await outcome(server, credential) == "served"
    assert sent.count == 0


async def becomes(server: LiveServer, credential: str, query: str, expected: str) -> None:
    """The server answers `expected` within NOTICED_WITHIN seconds."""
    deadline = time.monotonic() + NOTICED_WITHIN
    while (answer := await outcome(server, credential, query)) != expected:
        assert time.monotonic() < deadline, f"still {answer} after {NOTICED_WITHIN} s"
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- checked once


async def test_a_second_request_with_the_same_key_sends_no_statement(
    servers: tuple[LiveServer, LiveServer], people: People
) -> None:
    # given a key never used on server A
    a, _ = servers
    key = await people.key(await people.user())
    # when it is used twice
    with statements(a) as first:
        assert await outcome(a, key) == "served"
    with statements(a) as second:
        assert await outcome(a, key) == "served"
    # then only the first request checked it in the database
    assert first.count > 0
    assert second.count == 0


async def test_a_refused_key_is_checked_every_time(
    servers: tuple[LiveServer, LiveServer], people: People
) -> None:
    # given a well-formed key nobody issued
    a, _ = servers
    unknown = f"crm_{'0' * 12}_{'A' * 43}"
    # when it is sent twice, then it is refused and checked both times
    for _ in range(2):
        with statements(a) as sent:
            assert await outcome(a, unknown) == "unauthenticated"
        assert sent.count > 0


# ---------------------------------------------------------------- changes of access


async def test_a_revoked_key_is_refused_at_once_there_and_within_moments_elsewhere(
    servers: tuple[LiveServer, LiveServer], people: People, admin_on_a: Any
) -> None:
    # given a key both servers remember
    a, b = servers
    user = await people.user()
    key = await people.key(user)
    await served_from_cache(a, key)
    await served_from_cache(b, key)
    key_id = (await _key_ids(people, user))[0]
    # when the admin revokes it on A
    await admin_on_a(REVOKE_API_KEY, apiKeyId=to_global_id("ApiKey", key_id))
    # then A refuses it at once, and B as soon as it hears of it
    assert await outcome(a, key) == "unauthenticated"
    await becomes(b, key, TYPENAME, "unauthenticated")


async def test_a_deactivated_users_keys_are_refused_at_once_there_and_soon_elsewhere(
    servers: tuple[LiveServer, LiveServer], people: People, admin_on_a: Any
) -> None:
    # given a manager's key both servers remember
    a, b = servers
    manager = await people.user(Role.MANAGER)
    key = await people.key(manager)
    await served_from_cache(a, key)
    await served_from_cache(b, key)
    # when the admin deactivates the manager on A
    await admin_on_a(DEACTIVATE_USER, userId=to_global_id("User", manager.id))
    # then A refuses the key at once, and B as soon as it hears of it
    assert await outcome(a, key) == "unauthenticated"
    await becomes(b, key, TYPENAME, "unauthenticated")


async def test_a_demoted_admin_loses_the_role_at_once_there_and_soon_elsewhere(
    servers: tuple[LiveServer, LiveServer], people: People, admin_on_a: Any
) -> None:
    # given another admin, whose key lists users on both servers (and is remembered)
    a, b = servers
    admin, key = await people.admin_with_key()
    for server in servers:
        await served_from_cache(server, key)
        assert await outcome(server, key, USERS) == "served"
    # when the tests' admin makes them a manager on A
    await admin_on_a(UPDATE_USER_ROLE, userId=to_global_id("User", admin.id), role="MANAGER")
    # then listing users is forbidden to them at once on A, and soon on B
    assert await outcome(a, key, USERS) == "forbidden"
    await becomes(b, key, USERS, "forbidden")


async def test_a_change_made_outside_any_server_is_heard_by_all(
    servers: tuple[LiveServer, LiveServer], people: People
) -> None:
    # given a key both servers remember
    a, b = servers
    user = await people.user()
    key = await people.key(user)
    await served_from_cache(a, key)
    await served_from_cache(b, key)
    # when an operator revokes it in SQL
    await people.execute("UPDATE api_keys SET revoked_at = now() WHERE user_id = :id", id=user.id)
    # then both servers refuse it as soon as they hear of it
    await becomes(a, key, TYPENAME, "unauthenticated")
    await becomes(b, key, TYPENAME, "unauthenticated")


ChangeThroughService = Callable[[People, UserRecord, CallerCache], Awaitable[object]]


async def _revoke(people: People, user: UserRecord, callers: CallerCache) -> object:
    [key_id] = await _key_ids(people, user)
    return await api_keys.revoke_key(db=people.db, scope=ADMIN, key_id=key_id, callers=callers)


async def _deactivate(people: People, user: UserRecord, callers: CallerCache) -> object:
    return await users.deactivate_user(db=people.db, scope=ADMIN, user_id=user.id, callers=callers)


async def _demote(people: People, user: UserRecord, callers: CallerCache) -> object:
    return await users.update_user_role(
        db=people.db, scope=ADMIN, user_id=user.id, role=Role.VIEWER, callers=callers
    )


@pytest.mark.parametrize(
    "change", [_revoke, _deactivate, _demote], ids=["revoke", "deactivate", "demote"]
)
async def test_the_service_that_changes_access_forgets_its_processs_callers_before_returning(
    people: People, change: ChangeThroughService
) -> None:
    # given a process's cache that remembers an admin, and hears nothing from PostgreSQL
    # (it has no listener: only the service can tell it)
    admin, key = await people.admin_with_key()
    callers = CallerCache(seconds=60)
    callers.listening()
    ticket = callers.ticket()
    assert ticket is not None
    scope = Scope(tenant_id=admin.tenant_id, actor=admin.email, user_id=admin.id, role=admin.role)
    callers.remember(key, scope, expires_at=None, ticket=ticket)
    # when the change is made through the service with that cache, as resolvers do
    await change(people, admin, callers)
    # then the admin is forgotten by the time it returns
    assert callers.recall(key) is None


async def test_an_expired_key_is_refused_though_remembered(
    servers: tuple[LiveServer, LiveServer], people: People
) -> None:
    # given a key that expires in two seconds, remembered by server A
    a, _ = servers
    expires_at = datetime.now(UTC) + timedelta(seconds=2)
    key = await people.key(await people.user(), expires_at=expires_at)
    await served_from_cache(a, key)
    # when its expiry passes (nothing else changes)
    await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds() + 0.05)
    # then it is refused
    assert await outcome(a, key) == "unauthenticated"


# ---------------------------------------------------------------- the listener


async def test_while_the_listener_is_down_every_credential_is_checked(
    servers: tuple[LiveServer, LiveServer], people: People, migrated: str
) -> None:
    # given two keys server A remembers
    a, _ = servers
    user = await people.user()
    kept, revoked = await people.key(user), await people.key(user)
    await served_from_cache(a, kept)
    await served_from_cache(a, revoked)
    # when A's listener loses its connection (and is held from reconnecting)
    async with listener_down(a, migrated):
        # then every request is checked in the database, none remembered
        for _ in range(2):
            with statements(a) as sent:
                assert await outcome(a, kept) == "served"
            assert sent.count > 0
        # and a change nobody announces to A is seen at once
        await people.execute(
            "UPDATE api_keys SET revoked_at = now() "
            "WHERE secret_hash = encode(sha256(:key), 'hex')",
            key=revoked.encode(),
        )
        assert await outcome(a, revoked) == "unauthenticated"
    # when it is connected again, then callers are remembered again
    await served_from_cache(a, kept)
    assert await outcome(a, revoked) == "unauthenticated"


# ---------------------------------------------------------------- sign-in tokens


def _token(email: str, expires_in: int = 300) -> str:
    now = int(time.time())
    claims = {"email": email, "tenant_id": DEFAULT_TENANT_ID, "iss": ISSUER, "aud": AUDIENCE}
    return jwt.encode({**claims, "iat": now, "exp": now + expires_in}, SECRET, algorithm="HS256")


async def test_a_signed_in_user_is_remembered_until_deactivated(
    servers: tuple[LiveServer, LiveServer], people: People, admin_on_a: Any
) -> None:
    # given a signed-in user both servers remember
    a, b = servers
    user = await people.user()
    token = _token(user.email)
    await served_from_cache(a, token)
    await served_from_cache(b, token)
    # when the admin deactivates them on A
    await admin_on_a(DEACTIVATE_USER, userId=to_global_id("User", user.id))
    # then A refuses the token at once, and B as soon as it hears of it
    assert await outcome(a, token) == "unauthenticated"
    await becomes(b, token, TYPENAME, "unauthenticated")


# ---------------------------------------------------------------- the setting


async def test_zero_seconds_turns_the_cache_off(
    settings: Settings, migrated: str, people: People
) -> None:
    # given a server with CRM_AUTH_CACHE_SECONDS=0
    server = await serve(caching(settings, seconds=0), migrated)
    try:
        key = await people.key(await people.user())
        # when a key is used twice, then both requests check it
        for _ in range(2):
            with statements(server) as sent:
                assert await outcome(server, key) == "served"
            assert sent.count > 0
    finally:
        await server.stop()


def test_the_cache_lasts_a_minute_unless_configured() -> None:
    assert load_settings({}).auth_cache_seconds == 60
    assert load_settings({"CRM_AUTH_CACHE_SECONDS": "0"}).auth_cache_seconds == 0


async def _key_ids(people: People, user: UserRecord) -> list[int]:
    async with people.db.read() as conn:
        rows = await conn.execute(
            text("SELECT id FROM api_keys WHERE user_id = :id ORDER BY id"), {"id": user.id}
        )
        return [row.id for row in rows]
