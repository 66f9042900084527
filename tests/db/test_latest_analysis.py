"""The latest-analysis pointer only moves forward, whatever order analyses finish in."""

from collections.abc import AsyncIterator

import pytest

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.queries import analyses, leads
from domain.enums import LeadSource
from tests.db.rows import analysis_row


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[Database]:
    database = open_database(migrated, pool_size=1)
    yield database
    await database.dispose()


async def test_an_older_analysis_finishing_late_does_not_replace_the_newer(db: Database) -> None:
    async with db.transaction() as conn:
        # given a lead with two stored analyses, the second one newer
        row = await leads.guarded_insert(
            {"tenant_id": DEFAULT_TENANT_ID, "name": "A", "source": LeadSource.OTHER}
        ).run(conn)
        assert row is not None
        lead = leads.changed_lead(row)
        older = await analyses.insert_analysis(conn, values=analysis_row(lead.id, 0.2))
        newer = await analyses.insert_analysis(conn, values=analysis_row(lead.id, 0.9))
        # when the newer is recorded as latest first, and the older one after it
        first = await leads.set_latest_analysis(
            conn, lead_id=lead.id, analysis_id=newer.id, score=newer.score
        )
        late = await leads.set_latest_analysis(
            conn, lead_id=lead.id, analysis_id=older.id, score=older.score
        )
        current = await leads.get(conn, tenant_id=DEFAULT_TENANT_ID, lead_id=lead.id)
    # then the pointer stays on the newer analysis
    assert first is not None
    assert late is None
    assert current is not None
    assert (current.latest_analysis_id, current.latest_score) == (newer.id, 0.9)
