"""Alembic environment: runs on a connection handed in by `db.migrations`, or on its own.

Standalone (`alembic upgrade head`), the URL comes from DATABASE_URL.
"""

import asyncio

from sqlalchemy import Connection

from alembic import context
from db.database import create_engine
from db.models import Base
from settings import load_settings

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    url = load_settings().database_url
    if url is None:
        raise SystemExit("Set DATABASE_URL, or use `make run`, which starts the embedded database.")
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as conn:
        await conn.run_sync(run_on)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported.")

connection = context.config.attributes.get("connection")
if connection is None:
    asyncio.run(run_standalone())
else:
    run_on(connection)
