"""Reads and writes of `users` and `api_keys`."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ApiKey, User, table
from db.records import ApiKeyRecord, UserRecord, columns_of
from domain.access import Role

users = table(User)
api_keys = table(ApiKey)
_USER = columns_of(UserRecord, users)
_KEY = columns_of(ApiKeyRecord, api_keys)


async def get_user(
    conn: AsyncConnection, *, tenant_id: int, user_id: int, for_update: bool = False
) -> UserRecord | None:
    stmt = select(*_USER).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else UserRecord.from_row(row)


async def get_users(
    conn: AsyncConnection, *, tenant_id: int, user_ids: Sequence[int]
) -> list[UserRecord]:
    stmt = select(*_USER).where(users.c.tenant_id == tenant_id, users.c.id.in_(user_ids))
    return [UserRecord.from_row(row) for row in await conn.execute(stmt)]


async def list_users(conn: AsyncConnection, *, tenant_id: int) -> list[UserRecord]:
    stmt = select(*_USER).where(users.c.tenant_id == tenant_id).order_by(users.c.id)
    return [UserRecord.from_row(row) for row in await conn.execute(stmt)]


async def count_users(conn: AsyncConnection, *, tenant_id: int) -> int:
    stmt = select(func.count()).select_from(users).where(users.c.tenant_id == tenant_id)
    return int((await conn.execute(stmt)).scalar_one())


async def insert_user(conn: AsyncConnection, *, values: dict[str, Any]) -> UserRecord | None:
    """None when the tenant already has a user with this e-mail (case-insensitive)."""
    stmt = (
        insert(users)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[users.c.tenant_id, text("lower(email)")])
        .returning(*_USER)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else UserRecord.from_row(row)


async def update_user(
    conn: AsyncConnection, *, tenant_id: int, user_id: int, values: dict[str, Any]
) -> UserRecord | None:
    stmt = (
        update(users)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .values(**values)
        .returning(*_USER)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else UserRecord.from_row(row)


async def insert_api_key(conn: AsyncConnection, *, values: dict[str, Any]) -> ApiKeyRecord:
    stmt = insert(api_keys).values(**values).returning(*_KEY)
    return ApiKeyRecord.from_row((await conn.execute(stmt)).one())


async def get_api_keys(
    conn: AsyncConnection, *, tenant_id: int, key_ids: Sequence[int], for_update: bool = False
) -> list[ApiKeyRecord]:
    stmt = select(*_KEY).where(api_keys.c.tenant_id == tenant_id, api_keys.c.id.in_(key_ids))
    if for_update:
        stmt = stmt.with_for_update()
    return [ApiKeyRecord.from_row(row) for row in await conn.execute(stmt)]


async def list_api_keys(conn: AsyncConnection, *, tenant_id: int) -> list[ApiKeyRecord]:
    stmt = select(*_KEY).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.id)
    return [ApiKeyRecord.from_row(row) for row in await conn.execute(stmt)]


async def revoke_api_key(
    conn: AsyncConnection, *, tenant_id: int, key_id: int
) -> ApiKeyRecord | None:
    """Revoke once; revoking again keeps the first revocation time."""
    stmt = (
        update(api_keys)
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
        .values(revoked_at=func.coalesce(api_keys.c.revoked_at, func.now()))
        .returning(*_KEY)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else ApiKeyRecord.from_row(row)


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who a valid API key acts for: all the caller needs to know, nothing more."""

    api_key_id: int
    tenant_id: int
    user_id: int
    email: str
    role: Role


async def authenticate_key(
    conn: AsyncConnection, *, prefix: str, secret_hash: str
) -> KeyHolder | None:
    """The holder of the live key with this prefix and hash, in whatever tenant, its use
    noted (at most once a minute). Runs before any tenant is known, so it goes through
    the SECURITY DEFINER function of migration 0004 instead of reading the tables."""
    stmt = text("SELECT * FROM crm_authenticate_api_key(:prefix, :secret_hash)")
    row = (await conn.execute(stmt, {"prefix": prefix, "secret_hash": secret_hash})).first()
    if row is None:
        return None
    return KeyHolder(
        api_key_id=row.api_key_id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        email=row.email,
        role=Role(row.role),
    )


async def user_by_email(conn: AsyncConnection, *, tenant_id: int, email: str) -> UserRecord | None:
    """The tenant's user with this e-mail (case-insensitive), active or not."""
    stmt = select(*_USER).where(
        users.c.tenant_id == tenant_id,
        func.lower(users.c.email) == email.strip().lower(),
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else UserRecord.from_row(row)
