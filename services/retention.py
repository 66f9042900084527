"""Retention of the event journal: events older than the configured days are removed.

Runs as the database owner (the app role cannot delete events), in batches so no
transaction holds many locks. `event_retention` keeps the highest id removed, so a
reader whose cursor is older is told it missed events (EVENTS_EXPIRED).
"""

from datetime import UTC, datetime, timedelta

from db.database import Database
from db.queries import events as event_rows

BATCH = 5_000


async def prune_events(owner: Database, *, keep: timedelta, batch: int = BATCH) -> int:
    """Remove every event older than `keep`; how many were removed."""
    older_than = datetime.now(UTC) - keep
    removed = 0
    while True:
        async with owner.transaction() as conn:
            count = await event_rows.prune(conn, older_than=older_than, batch=batch)
        removed += count
        if count < batch:
            return removed
