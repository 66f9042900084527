"""Migration 0016: a change to a key or a user that alters access sends its tenant's id on
`crm_access` at commit; noting a key's use, a rename, a no-op and a rollback send nothing.

Each change runs in a transaction of its own, then a marker notification follows it: by
the time the marker arrives, whatever the change sent has arrived before it.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import text

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from domain.access import Role
from realtime.listener import ACCESS_CHANNEL, listener_dsn
from services import api_keys, users
from services.scope import Scope
from tests.tenants import second_tenant

ADMIN = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
MARKER = "marker"
DEFAULT = str(DEFAULT_TENANT_ID)


class Heard:
    """What `crm_access` carried, read up to each marker."""

    def __init__(self, owner: Database) -> None:
        self.owner = owner  # the owner's handle: changes as an operator makes them
        self._payloads: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._payloads.put_nowait(payload)

    async def after(self, *statements: str) -> list[str]:
        """Run `statements` in one transaction; what was notified, in order."""
        async with self.owner.transaction() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await self._mark()
        return await self._until_marker()

    async def after_rollback(self, statement: str) -> list[str]:
        async with self.owner.engine.connect() as conn:
            await conn.execute(text(statement))
            await conn.rollback()
        await self._mark()
        return await self._until_marker()

    async def _mark(self) -> None:
        async with self.owner.transaction() as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :marker)"),
                {"channel": ACCESS_CHANNEL, "marker": MARKER},
            )

    async def _until_marker(self) -> list[str]:
        heard: list[str] = []
        while (payload := await asyncio.wait_for(self._payloads.get(), 10)) != MARKER:
            heard.append(payload)
        return heard


@pytest.fixture
async def heard(migrated: str) -> AsyncIterator[Heard]:
    owner = open_database(migrated, pool_size=2)
    listening = Heard(owner)
    conn = await asyncpg.connect(listener_dsn(migrated))
    await conn.add_listener(ACCESS_CHANNEL, listening)
    try:
        yield listening
    finally:
        await conn.close()
        async with owner.transaction() as cleanup:
            made = {"made": "%@notify.test"}
            await cleanup.execute(
                text(
                    "DELETE FROM api_keys WHERE user_id IN "
                    "(SELECT id FROM users WHERE email LIKE :made)"
                ),
                made,
            )
            await cleanup.execute(text("DELETE FROM users WHERE email LIKE :made"), made)
        await owner.dispose()


@pytest.fixture
async def key_id(heard: Heard) -> int:
    """A key (expiring tomorrow) of a manager person@notify.test."""
    db = heard.owner
    user = await users.create_user(db=db, scope=ADMIN, email=EMAIL, role=Role.MANAGER)
    issued = await api_keys.issue_key(
        db=db,
        scope=ADMIN,
        name="notify",
        user_id=user.id,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    return issued.key.id


EMAIL = "person@notify.test"
DELETE_KEY = "DELETE FROM api_keys WHERE name = 'notify'"
DELETE_USER = f"DELETE FROM users WHERE email = '{EMAIL}'"


def update_key(change: str) -> str:
    return f"UPDATE api_keys SET {change} WHERE name = 'notify'"


def update_user(change: str) -> str:
    return f"UPDATE users SET {change} WHERE email = '{EMAIL}'"


@pytest.mark.parametrize(
    ("statement", "announced"),
    [
        (update_key("revoked_at = now()"), True),
        (update_key("expires_at = now()"), True),
        (update_key("expires_at = NULL"), True),
        (DELETE_KEY, True),
        (update_user("active = false"), True),
        (update_user("role = $$viewer$$"), True),
        (update_user("email = $$renamed@notify.test$$"), True),
        (update_key("last_used_at = now()"), False),
        (update_key("name = $$renamed$$"), False),
        (update_user("name = $$Renamed$$"), False),
        (update_user("role = role, active = active"), False),
    ],
    ids=[
        "key revoked",
        "key expiry moved",
        "key expiry removed",
        "key deleted",
        "user deactivated",
        "role changed",
        "e-mail changed",
        "key's use noted",
        "key renamed",
        "user renamed",
        "nothing really changed",
    ],
)
async def test_a_change_that_alters_access_announces_its_tenant(
    heard: Heard, key_id: int, statement: str, announced: bool
) -> None:
    # given a user with a key
    # when the change commits
    notified = await heard.after(statement)
    # then the tenant is announced if (and only if) the change alters access
    assert notified == ([DEFAULT] if announced else [])


async def test_a_key_in_use_announces_nothing(heard: Heard, key_id: int) -> None:
    # given a key
    async with heard.owner.read() as conn:
        prefix, secret_hash = (
            await conn.execute(
                text("SELECT prefix, secret_hash FROM api_keys WHERE id = :id"), {"id": key_id}
            )
        ).one()
    # when it authenticates (which notes its use)
    notified = await heard.after(
        f"SELECT * FROM crm_authenticate_api_key('{prefix}', '{secret_hash}')"
    )
    # then nothing is announced
    assert notified == []


async def test_many_changes_in_one_transaction_announce_the_tenant_once(
    heard: Heard, key_id: int
) -> None:
    # given a user with a key
    # when the key is revoked and the user deactivated together
    notified = await heard.after(
        update_key("revoked_at = now()"),
        update_user("active = false"),
    )
    # then the tenant is announced once
    assert notified == [DEFAULT]


async def test_a_rolled_back_change_announces_nothing(heard: Heard, key_id: int) -> None:
    # when a revocation is rolled back, then nothing is announced
    statement = update_key("revoked_at = now()")
    assert await heard.after_rollback(statement) == []


async def test_a_user_moved_to_another_tenant_announces_both(
    heard: Heard, key_id: int, migrated: str
) -> None:
    # given a second tenant
    async with second_tenant(migrated, "Notify Two") as other:
        # when the user (and their key) move there
        notified = await heard.after(
            update_key(f"tenant_id = {other.tenant_id}"),
            update_user(f"tenant_id = {other.tenant_id}"),
        )
        # then both tenants are announced
        assert sorted(notified) == sorted([DEFAULT, str(other.tenant_id)])
        await heard.after(DELETE_KEY, DELETE_USER)
