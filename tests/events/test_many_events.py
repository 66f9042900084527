"""Many events in one change (an import's): appended in batches that stay within what one
statement may bind, in order, each with its webhook deliveries."""

import pytest
from sqlalchemy import text

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.queries.events import APPEND_BATCH
from db.tenancy import acting_for
from domain.events import EventType
from services import events
from services.scope import Scope

pytestmark = pytest.mark.usefixtures("migrated")


async def test_more_events_than_one_statement_may_bind_are_appended_in_order(
    app_db: Database,
) -> None:
    # given more events than two batches hold (6 parameters each: one statement alone
    # could bind only about 5,460)
    count = APPEND_BATCH * 2 + 7
    new = [events.NewEvent(EventType.LEAD_UPDATED, data={"n": n}) for n in range(count)]
    # when they are recorded in one transaction
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as conn:
            ids = await events.record_many(conn, Scope(tenant_id=DEFAULT_TENANT_ID), new)
            stored = await conn.execute(
                text("SELECT id, (data ->> 'n')::int FROM events ORDER BY id")
            )
            rows = [(int(row[0]), int(row[1])) for row in stored]
    # then every one is there, with ids in the order they were given
    assert len(ids) == count
    assert ids == sorted(ids)
    assert rows == list(zip(ids, range(count), strict=True))
