"""A worker in this process, for tests that need jobs run (webhook deliveries, scoring)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from settings import Settings
from worker.runner import Worker


@contextlib.asynccontextmanager
async def worker_running(settings: Settings, database_url: str) -> AsyncIterator[None]:
    """The worker runs for the block, then is cancelled as a shutdown would stop it."""
    task = asyncio.create_task(Worker(settings, database_url).run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
