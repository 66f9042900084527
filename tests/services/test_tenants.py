"""Tenants are found by name, and made once."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from db.database import Database, open_database
from domain.errors import DomainError
from services.tenants import tenant_named


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[Database]:
    database = open_database(migrated, pool_size=2)
    yield database
    async with database.transaction() as conn:
        await conn.execute(text("DELETE FROM tenants WHERE name = 'Globex'"))
    await database.dispose()


async def test_a_tenant_is_made_once_and_then_found_by_name(db: Database) -> None:
    first = await tenant_named(db=db, name="Globex")
    again = await tenant_named(db=db, name="  Globex ")
    assert first == again
    assert first != 1  # not the default tenant


async def test_a_tenant_needs_a_name(db: Database) -> None:
    with pytest.raises(DomainError, match="empty"):
        await tenant_named(db=db, name="   ")
