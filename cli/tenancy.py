"""What every command acting inside one tenant does first: migrate, find the tenant by
name, and act for it on the app's own login, as a request would (Row Level Security
applies)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db import migrations
from db.database import Database, app_login_url, open_database
from db.queries import tenants
from db.tenancy import acting_for
from domain.access import Role
from services.scope import Scope
from settings import Settings


class UnknownTenant(Exception):
    """No tenant has the name the command line gave."""


@asynccontextmanager
async def acting_for_tenant(
    database_url: str, settings: Settings, tenant: str, *, actor: str, role: Role | None = None
) -> AsyncIterator[tuple[Database, Scope]]:
    """The app's database and the scope of `actor` in the tenant named `tenant`."""
    owner = open_database(database_url, pool_size=1)
    try:
        await migrations.upgrade(owner.engine)
        async with owner.read() as conn:
            tenant_id = await tenants.id_named(conn, name=tenant)
    finally:
        await owner.dispose()
    if tenant_id is None:
        raise UnknownTenant(f"there is no tenant named {tenant!r}")
    db = open_database(
        settings.app_database_url or app_login_url(database_url), pool_size=2, app_role=True
    )
    try:
        with acting_for(tenant_id):
            yield db, Scope(tenant_id=tenant_id, actor=actor, role=role)
    finally:
        await db.dispose()
