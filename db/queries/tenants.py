"""Reads and writes of `tenants` (done as the owner: tenants are made before they act)."""

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Tenant, table

tenants = table(Tenant)


async def id_named(conn: AsyncConnection, *, name: str) -> int | None:
    stmt = select(tenants.c.id).where(tenants.c.name == name).order_by(tenants.c.id).limit(1)
    found: int | None = (await conn.execute(stmt)).scalar_one_or_none()
    return found


async def insert_tenant(conn: AsyncConnection, *, name: str) -> int:
    tenant_id: int = (
        await conn.execute(insert(tenants).values(name=name).returning(tenants.c.id))
    ).scalar_one()
    return tenant_id


async def all_ids(conn: AsyncConnection) -> list[int]:
    """Every tenant's id, for the owner's login (a tenant sees only itself)."""
    return [
        int(tenant_id)
        for tenant_id in await conn.scalars(select(tenants.c.id).order_by(tenants.c.id))
    ]
