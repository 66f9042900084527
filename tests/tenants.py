"""A second company on the test database, for the tests of tenant isolation."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text

from db.database import Database, open_database
from services import users
from tests.databases import delete_tenant


@dataclass(frozen=True)
class SecondTenant:
    tenant_id: int
    admin_key: str
    owner: Database  # the owner's handle on the database, for set-up inside the tenant


@asynccontextmanager
async def second_tenant(database_url: str, name: str) -> AsyncIterator[SecondTenant]:
    """A new tenant called `name` with an admin of its own (admin@<name>.example); it is
    removed afterwards with every row it got meanwhile."""
    owner = open_database(database_url, pool_size=2)
    async with owner.transaction() as conn:
        created = await conn.execute(
            text("INSERT INTO tenants (name) VALUES (:name) RETURNING id"), {"name": name}
        )
        tenant_id = int(created.scalar_one())
    try:
        email = f"admin@{name.lower().replace(' ', '-')}.example"
        key = await users.admin_key(db=owner, tenant_id=tenant_id, email=email)
        yield SecondTenant(tenant_id, key, owner)
    finally:
        async with owner.transaction() as conn:
            await delete_tenant(conn, tenant_id)
        await owner.dispose()
