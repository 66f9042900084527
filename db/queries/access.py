"""Reads and writes of `users` and `api_keys`."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ApiKey, User, table
from db.records import ApiKeyRecord, UserRecord, columns_of

users = table(User)
api_keys = table(ApiKey)
_USER = columns_of(UserRecord, users)
_KEY = columns_of(ApiKeyRecord, api_keys)


async def get_user(conn: AsyncConnection, *, tenant_id: int, user_id: int) -> UserRecord | None:
    stmt = select(*_USER).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
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
    conn: AsyncConnection, *, tenant_id: int, key_ids: Sequence[int]
) -> list[ApiKeyRecord]:
    stmt = select(*_KEY).where(api_keys.c.tenant_id == tenant_id, api_keys.c.id.in_(key_ids))
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


async def authenticate_key(
    conn: AsyncConnection, *, prefix: str, secret_hash: str
) -> tuple[ApiKeyRecord, UserRecord] | None:
    """The live key with this prefix and hash, and its active user, in whatever tenant;
    notes its use (at most once a minute), all in one statement."""
    found = (
        select(*_KEY, *_USER)
        .select_from(api_keys.join(users, users.c.id == api_keys.c.user_id))
        .where(
            api_keys.c.prefix == prefix,
            api_keys.c.secret_hash == secret_hash,
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > func.now()),
            users.c.active.is_(True),
        )
        .cte("found")
    )
    touch = (
        update(api_keys)
        .where(
            api_keys.c.id.in_(select(found.c.id)),
            or_(
                api_keys.c.last_used_at.is_(None),
                api_keys.c.last_used_at < func.now() - text("interval '1 minute'"),
            ),
        )
        .values(last_used_at=func.now())
        .cte("touch")
    )
    stmt = select(found).add_cte(touch)
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    split = len(_KEY)
    return ApiKeyRecord.from_row(row[:split]), UserRecord.from_row(row[split:])


async def active_user_by_email(
    conn: AsyncConnection, *, tenant_id: int, email: str
) -> UserRecord | None:
    stmt = select(*_USER).where(
        users.c.tenant_id == tenant_id,
        func.lower(users.c.email) == email.lower(),
        users.c.active.is_(True),
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else UserRecord.from_row(row)
