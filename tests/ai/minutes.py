"""Per-minute budgets count calendar minutes; tests of them start well inside one."""

import asyncio
from datetime import UTC, datetime


async def not_at_the_end_of_a_minute() -> None:
    second = datetime.now(UTC).second
    if second >= 50:
        await asyncio.sleep(61 - second)
