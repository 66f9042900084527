"""The migrations build exactly the schema db/models.py describes, and take it down again.

Each test here runs on its own throwaway database, created on the same server as the
test database and dropped afterwards, so the shared test database is never touched.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrations
from db.database import create_engine
from db.models import Base
from tests.databases import throwaway_database

MODEL_TABLES = set(Base.metadata.tables)
# The tenants table is the tenant itself, and event_retention one number about the whole
# journal (how far retention went): every other table points at a tenant.
TENANT_SCOPED_TABLES = MODEL_TABLES - {"tenants", "event_retention"}


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a brand-new, empty database; the database is dropped afterwards."""
    async with throwaway_database(database_url, f"crm_migrations_test_{os.getpid()}") as url:
        engine = create_engine(url, pool_size=1)
        try:
            yield engine
        finally:
            await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


_SEARCH_INDEX = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_leads_search'"


def _differences(sync: Connection) -> list[Any]:
    context = MigrationContext.configure(
        sync, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade_builds_and_removes_every_table(
    empty_database: AsyncEngine,
) -> None:
    # given an empty database
    assert await _tables(empty_database) == set()
    # when it is migrated to head, then every model table exists
    await migrations.upgrade(empty_database)
    assert await _tables(empty_database) == MODEL_TABLES
    # when it is taken down to base, then every table is gone
    await migrations.downgrade(empty_database)
    assert await _tables(empty_database) == set()
    # when it is migrated again, then the downgrade left nothing in the way
    await migrations.upgrade(empty_database)
    assert await _tables(empty_database) == MODEL_TABLES


# Alembic cannot compare an expression index that names an operator class, so the
# trigram search index is checked by its definition instead.
@pytest.mark.filterwarnings("ignore:.*ix_leads_search.*operator clause:UserWarning")
async def test_the_migrated_database_matches_the_models(empty_database: AsyncEngine) -> None:
    # given a database built by the migrations
    await migrations.upgrade(empty_database)
    # when alembic autogenerate compares it with the models
    async with empty_database.connect() as conn:
        differences = await conn.run_sync(_differences)
        search_index = (await conn.execute(text(_SEARCH_INDEX))).scalar_one()
    # then there is nothing left to generate
    assert differences == [], "models and migrations disagree; add a migration:\n" + "\n".join(
        map(str, differences)
    )
    assert "USING gin (tenant_id," in search_index
    assert "gin_trgm_ops" in search_index


@pytest.mark.parametrize("table", sorted(TENANT_SCOPED_TABLES))
def test_every_table_belongs_to_a_tenant(table: str) -> None:
    # given a table of the models (other than tenants itself)
    columns = Base.metadata.tables[table].columns
    # then it has a required tenant_id pointing at tenants
    assert "tenant_id" in columns, f"{table} has no tenant_id"
    tenant_id = columns["tenant_id"]
    assert not tenant_id.nullable
    assert {fk.target_fullname for fk in tenant_id.foreign_keys} == {"tenants.id"}


async def test_processes_starting_together_migrate_one_at_a_time(
    empty_database: AsyncEngine,
) -> None:
    # given two more engines on the same empty database, as if three processes started
    others = [
        create_engine(empty_database.url.render_as_string(hide_password=False), pool_size=1)
        for _ in range(2)
    ]
    try:
        # when all three upgrade at once
        upgrades = (migrations.upgrade(engine) for engine in [empty_database, *others])
        await asyncio.wait_for(asyncio.gather(*upgrades), 60)
    finally:
        for engine in others:
            await engine.dispose()
    # then none failed, and the schema is whole
    assert await _tables(empty_database) >= MODEL_TABLES
